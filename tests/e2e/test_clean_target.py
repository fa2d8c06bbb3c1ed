"""Shipping to a machine that never saw the project: a Debian 12 root made with mmdebstrap gets
rustkmod's package (made from this checkout, as `scons rustkmod-deb` makes it) and a scaffolded
module's `<module>-dkms` package (`scons dkms-deb`), then a kernel's headers, all with apt. DKMS
builds, signs (its own MOK) and installs the module for that kernel, builds it again when a
second kernel's headers arrive, and the module built in the root boots in QEMU.

Nothing of the build machine is visible in the root: no checkout, no venv, no bind mount but
/dev, /proc and /sys; the two packages are copied in. The root starts as Debian's minbase plus
what rustkmod's package and DKMS depend on (kept in the kernel cache between runs, remade when
that list changes); apt installs the rest as on any machine.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT, SCONS
from rustkmod import __version__, tool_deb
from rustkmod.kernel import boot, debian, suite_roots

pytestmark = pytest.mark.e2e

SOURCES = ("deb http://deb.debian.org/debian bookworm main",
           "deb http://deb.debian.org/debian bookworm-updates main",
           "deb http://deb.debian.org/debian-security bookworm-security main")
# What rustkmod's package depends on (each first alternative), and DKMS with the openssl it signs
# with, as the machine has them before our packages arrive.
INCLUDE = sorted({d.split()[0] for d in tool_deb.DEPENDS} | {"dkms", "openssl"})
MODULE = "shipmod"
CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
             "DEBIAN_FRONTEND": "noninteractive"}


def base_root() -> Path:
    """Debian 12 minbase with INCLUDE, made once per machine (and list) in the kernel cache."""
    key = hashlib.sha256("\n".join(SOURCES + tuple(INCLUDE)).encode()).hexdigest()[:12]
    root = Path(debian.default_cache()) / "roots" / f"target-bookworm-{key}"
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{root}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = Path(f"{root}.done")             # beside it: nothing in the root says it was made here
        if not done.is_file():
            shutil.rmtree(root, ignore_errors=True)
            made = subprocess.run(["mmdebstrap", "--mode=root", "--variant=minbase", "--quiet",
                                   f"--include={','.join(INCLUDE)}", "bookworm", str(root), *SOURCES],
                                  capture_output=True, text=True, timeout=2400)
            assert made.returncode == 0, made.stderr[-3000:]
            done.write_text("bookworm\n")
    return root


def inside(root: Path, *command: str, timeout: int = 2400) -> subprocess.CompletedProcess:
    """`command` run as root inside `root`, in a clean environment: nothing of the host but
    /dev, /proc and /sys."""
    return subprocess.run(suite_roots.command(str(root), list(command), "/", []), capture_output=True, text=True,
                          env=CLEAN_ENV, timeout=timeout)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    return result.stdout


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict:
    """{"rustkmod": .deb, "module": .deb}: rustkmod from this checkout, a scaffolded module's -dkms."""
    base = tmp_path_factory.mktemp("shipping")
    tool = base / f"rustkmod_{__version__}_all.deb"
    tool_deb.build(str(ROOT), str(tool), 1700000000)
    new = subprocess.run([str(ROOT / "rustkmod"), "new", MODULE], cwd=base, capture_output=True, text=True)
    assert new.returncode == 0, new.stderr
    project = base / MODULE
    (project / ".env").write_text("API_TOKEN=secret\n")              # what a packager must never ship
    (project / "certs").mkdir()
    subprocess.run(["openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=dev/",
                    "-keyout", str(project / "certs" / "signing_key.pem"), "-out", str(project / "certs" / "dev.x509"),
                    "-days", "2"], check=True, capture_output=True)
    run = subprocess.run([SCONS, "-Q", "dkms-deb"], cwd=project, capture_output=True, text=True, timeout=1200,
                         env=dict(os.environ, RUSTKMOD=str(ROOT)))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "left out .env" in run.stdout and "left out certs/signing_key.pem" in run.stdout, run.stdout
    return {"rustkmod": tool, "module": project / "build" / "deb" / f"{MODULE}-dkms_0.1.0_all.deb"}


def test_the_packages_pass_lintian_and_ship_no_secret(packages):
    for deb in packages.values():
        result = subprocess.run(["lintian", "--fail-on", "error,warning", str(deb)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    listed = subprocess.run(["dpkg-deb", "--contents", str(packages["module"])], capture_output=True, text=True).stdout
    assert f"./usr/src/{MODULE}-0.1.0/SConstruct" in listed and f"./usr/src/{MODULE}-0.1.0/dkms.conf" in listed
    assert ".env" not in listed and "signing_key.pem" not in listed, listed


@pytest.fixture(scope="module")
def target(packages, tmp_path_factory) -> Path:
    """A copy of the base root with the packages installed by apt, after a kernel's headers."""
    root = tmp_path_factory.mktemp("target") / "root"
    subprocess.run(["cp", "-a", str(base_root()), str(root)], check=True)
    drop = root / "tmp" / "packages"
    drop.mkdir(parents=True)
    for deb in packages.values():
        shutil.copy2(deb, drop / deb.name)
    ok(inside(root, "apt-get", "-q", "update"))
    ok(inside(root, "apt-get", "-q", "install", "-y", "--no-install-recommends", "linux-headers-amd64"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def releases(root: Path, flavour: str) -> list[str]:
    """The kernel releases of one flavour (amd64, cloud-amd64) the root has modules directories for."""
    return sorted(p.name for p in (root / "lib" / "modules").iterdir()
                  if re.fullmatch(rf"[0-9.]+-[0-9]+-{flavour}", p.name))


def dkms_module(root: Path, release: str) -> Path:
    return root / "lib" / "modules" / release / "updates" / "dkms" / f"{MODULE}.ko"


def assert_built_signed_installed(root: Path, release: str) -> None:
    status = ok(inside(root, "dkms", "status", "-m", MODULE, "-v", "0.1.0", "-k", release))
    assert re.search(rf"{MODULE}/0\.1\.0, {re.escape(release)}, x86_64: installed", status), status
    log = (root / "var" / "lib" / "dkms" / MODULE / "0.1.0" / release / "x86_64" / "log" / "make.log").read_text()
    assert f"loadable by Linux {release}" in log, log[-3000:]      # rustkmod's verifier ran inside DKMS's build
    module = dkms_module(root, release).read_bytes()
    assert module.endswith(b"~Module signature appended~\n"), release
    signer = ok(inside(root, "modinfo", "-F", "signer", f"/lib/modules/{release}/updates/dkms/{MODULE}.ko"))
    assert "DKMS module signing key" in signer, signer
    assert b"/tmp/" not in module and str(ROOT).encode() not in module     # no path of the build machine


def test_apt_installs_both_and_dkms_builds_signs_and_installs_the_module(packages, target):
    names = [f"/tmp/packages/{deb.name}" for deb in packages.values()]
    installed = inside(target, "apt-get", "-q", "install", "-y", "--no-install-recommends", *names)
    ok(installed)
    (release,) = releases(target, "amd64")
    assert_built_signed_installed(target, release)
    assert not (target / "usr" / "src" / f"{MODULE}-0.1.0" / ".env").exists()
    assert not list((target / "usr" / "src" / f"{MODULE}-0.1.0").rglob("*.pem"))


def test_a_second_kernels_headers_get_the_module_built_by_dkmss_hook(target):
    ok(inside(target, "apt-get", "-q", "install", "-y", "--no-install-recommends", "linux-headers-cloud-amd64"))
    (release,) = releases(target, "cloud-amd64")
    assert_built_signed_installed(target, release)


def test_the_module_built_in_the_root_boots(target, tmp_path):
    (release,) = releases(target, "amd64")
    ok(inside(target, "sh", "-c", f"cd /tmp && apt-get download linux-image-{release}"))
    image_deb = next((target / "tmp").glob(f"linux-image-{release}_*.deb"))
    unpacked = tmp_path / "image"
    subprocess.run(["dpkg-deb", "-x", str(image_deb), str(unpacked)], check=True)
    module = tmp_path / f"{MODULE}.ko"
    shutil.copy2(dkms_module(target, release), module)
    result = boot.boot_modules("x86_64", str(unpacked / "boot" / f"vmlinuz-{release}"), [str(module)],
                               str(tmp_path / "boot"))
    # signed by DKMS's own key, which this kernel's keyring does not hold (a machine enrols it with
    # mokutil): the kernel says so and taints E, which judge counts as harmless
    assert boot.judge(result, MODULE, [f"{MODULE}: hello from Rust", f"{MODULE}: goodbye"]) == []
