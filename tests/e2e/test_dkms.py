"""`scons dkms` with the build machine's own dkms: the tree added, built by rustkmod for 7.2 (a
kernel whose Kbuild runs in a build root of its suite; its tree from fetch-kernel), the result
booted; a module the loader would refuse fails `dkms build` with rustkmod's line in DKMS's
make.log. Debian 12's own kernels, through apt on a machine that never saw the project, are
test_clean_target.py's."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT, SCONS, copy_project, fetch_kernels, scons
from rustkmod.kernel import boot
from rustkmod.kernel.tree import Kernel

pytestmark = pytest.mark.e2e

KERNELS = ("7.2",)
DKMS_ENV = dict(os.environ, PATH=f"{Path(SCONS).parent}:{os.environ['PATH']}")    # scons for dkms.conf's MAKE


def dkms(*args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(["dkms", *args], capture_output=True, text=True, env=DKMS_ENV, timeout=1800)
    assert not check or result.returncode == 0, result.stdout + result.stderr
    return result


def dkms_tree(base: Path, package: str, profile: str = "") -> Path:
    """The checkout's hello as a DKMS tree named `package` (with RUST_PROFILE=`profile`, if given)."""
    project = copy_project(base / package)
    sconstruct = project / "SConstruct"
    text = sconstruct.read_text().replace('RustModulesDkms(hello, package="hello"', f'RustModulesDkms(hello, package="{package}"')
    if profile:
        text = text.replace('tools=["rustkmod_scons"]', f'tools=["rustkmod_scons"], RUST_PROFILE="{profile}"')
    sconstruct.write_text(text)
    run = scons(project, "dkms")
    assert run.returncode == 0, run.output
    return project / "build" / "dkms" / f"{package}-1.0.0"


@pytest.fixture
def added(tmp_path):
    """dkms add of trees named for this test; removed from DKMS afterwards."""
    names = []

    def add(package, profile=""):
        tree = dkms_tree(tmp_path, package, profile)
        assert (tree / "dkms.conf").is_file() and (tree / "hello" / "Cargo.toml").is_file()
        dkms("add", str(tree))
        names.append(package)
        return tree
    yield add
    for package in names:
        dkms("remove", f"{package}/1.0.0", "--all", check=False)
        subprocess.run(["rm", "-rf", f"/usr/src/{package}-1.0.0", f"/var/lib/dkms/{package}"])


def test_dkms_builds_verifies_and_the_kernel_loads_it(added, tmp_path):
    fetched = fetch_kernels(*KERNELS)
    package = f"rkdkms{os.getpid()}"
    added(package)
    for name in KERNELS:
        kernel = fetched[name]
        release = Kernel.from_kdir(kernel.kdir).release
        dkms("build", "-m", package, "-v", "1.0.0", "-k", release, "--kernelsourcedir", kernel.kdir)
        built = next(Path(f"/var/lib/dkms/{package}/1.0.0/{release}").glob("*/module/hello.ko*"))
        log = next(Path(f"/var/lib/dkms/{package}/1.0.0/{release}").glob("*/log/make.log")).read_text()
        assert "loadable by Linux" in log, log          # rustkmod's verifier ran in DKMS's build
        result = boot.boot_modules("x86_64", kernel.image, [str(built)], str(tmp_path / name), busybox=kernel.busybox)
        assert boot.judge(result, "hello", ["hello world"]) == [], name


def test_a_module_the_loader_refuses_fails_dkms_build_with_rustkmods_line(added):
    kernel = fetch_kernels("6.1")["6.1"]
    release = Kernel.from_kdir(kernel.kdir).release
    package = f"rkrefused{os.getpid()}"
    added(package, profile="pic")
    result = dkms("build", "-m", package, "-v", "1.0.0", "-k", release, "--kernelsourcedir", kernel.kdir, check=False)
    assert result.returncode != 0
    log = next(Path(f"/var/lib/dkms/{package}/1.0.0/build").glob("make.log")).read_text()
    assert "R_X86_64_GOTPCREL (9): refused by the loader" in log and "scons: *** " in log, log[-3000:]
    assert not list(Path(f"/var/lib/dkms/{package}/1.0.0").glob(f"{release}/*/module/hello.ko*"))


def test_a_tree_is_made_where_no_kernel_of_the_project_can_be_built(tmp_path):
    """A packager's machine need not have the kernels: the tree is what the SConstruct names."""
    new = subprocess.run([str(ROOT / "rustkmod"), "new", "nokmod"], cwd=tmp_path, capture_output=True, text=True)
    assert new.returncode == 0, new.stderr
    project = tmp_path / "nokmod"
    run = scons(project, "dkms", "KERNELS=no-such-kernel", env=dict(os.environ, RUSTKMOD=str(ROOT)))
    assert run.returncode == 0, run.output
    tree = project / "build" / "dkms" / "nokmod-0.1.0"
    assert sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()) == [
        "Cargo.toml", "README.md", "SConstruct", "dkms.conf", "src/lib.rs"]
