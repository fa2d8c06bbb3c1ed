"""The kernels users move to: Debian 13's own 6.12 (x86_64, arm64 and riscv64), 7.2 (sid) and 7.3
(trixie-backports) on x86_64 and arm64. Their Kbuild tools need a newer C library than Debian 12's, so Kbuild,
modpost and objtool run in a build root of their suite (made once with mmdebstrap, cached in
the kernel cache); Rust is built on the host as for every kernel. Each is built, verified and
booted in QEMU, and the 7.x loader sources are read against the verifier's tables."""

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, copy_project, fetch_kernels, kernel_summary, scons
from rustkmod.kernel import suite_roots, debian
from rustkmod.verify.loader_source import read_accepted_types
from rustkmod.verify.policy import NEWEST_KNOWN, POLICIES

pytestmark = pytest.mark.e2e

NEW = ["6.12-trixie", "6.12-trixie-arm64", "6.12-trixie-riscv64", "7.2", "7.2-arm64", "7.3", "7.3-arm64"]


@pytest.fixture(scope="module")
def fetched():
    return fetch_kernels(*NEW)


@pytest.fixture(scope="module")
def project(tmp_path_factory, fetched):
    return copy_project(tmp_path_factory.mktemp("new-kernels") / "project")


def test_each_new_kernel_is_built_in_its_root_verified_and_booted(project, fetched):
    run = scons(project, "-j2", "check", "KERNELS=" + ",".join(NEW), timeout=1800)
    assert run.returncode == 0, run.output
    states = kernel_summary(run)
    assert set(states) == {fetched[name].release for name in NEW}, states
    assert set(states.values()) == {"built, verified, booted"}, states
    assert run.stdout.count("hello: loaded, printed 'hello world', unloaded") == 7
    # Kbuild ran in the roots, with each kernel's own compiler (the host has gcc-12 only).
    for name, compiler in (("6.12-trixie", "gcc-14"), ("7.2", "gcc-16"), ("7.2-arm64", "aarch64-linux-gnu-gcc-16"),
                           ("7.3", "gcc-14"), ("6.12-trixie-riscv64", "riscv64-linux-gnu-gcc-14"),
                           ("6.12-trixie-arm64", "aarch64-linux-gnu-gcc-14"), ("7.3-arm64", "aarch64-linux-gnu-gcc-14")):
        release = fetched[name].release
        assert compiler in (project / "build" / release / "hello" / ".module.o.cmd").read_text(), release
        assert suite_roots.root_of(fetched[name].kdir)
    assert "/roots/" not in Path("/proc/mounts").read_text()      # every mount went with its process
    # 7.x has CONFIG_MODVERSIONS off: no symbol versions in the module
    sections = subprocess.run(["readelf", "-SW", str(project / "build" / fetched["7.2"].release / "hello/hello.ko")],
                              capture_output=True, text=True).stdout
    assert "__versions" not in sections and ".modinfo" in sections


def test_nothing_reruns_for_the_new_kernels(project):
    assert scons(project, "-q", "check", "KERNELS=" + ",".join(NEW)).returncode == 0
    assert scons(project, "check", "KERNELS=" + ",".join(NEW)).steps() == []


def test_a_root_is_used_only_where_the_kernels_tools_need_one(fetched):
    """Decided from the kbuild tools' C library, not from the host's name: bookworm-backports'
    6.12 runs on this Debian 12 host as it is, trixie's 6.12 does not."""
    fetch_kernels("6.12")
    cache = debian.default_cache()
    backports = debian.lookup(debian.KernelSpec.parse("6.12"), cache)
    assert not suite_roots.root_of(backports.kdir)
    trixie = fetched["6.12-trixie"]
    assert suite_roots.root_of(trixie.kdir) == str(Path(cache) / "roots" / "trixie")
    abi = trixie.release.rsplit("-", 1)[0]                 # 6.12.N+deb13: the kbuild package's version
    tools = Path(suite_roots.root_of(trixie.kdir)) / f"usr/lib/linux-kbuild-{abi}"
    assert suite_roots.needed_glibc(str(tools / "scripts/mod/modpost.real-lsb-64")) > suite_roots.host_glibc()


@pytest.mark.parametrize("configured", ["x86_64", "i386", "arm64", "riscv64", "arm", "arm-thumb2"])
def test_the_7_2_loader_sources_agree_with_the_tables(configured):
    """Debian's linux-source-7.2, read as for 6.1 (tests/unit/test_loader_source.py)."""
    result = subprocess.run([sys.executable, "-m", "rustkmod", "fetch-source", "7.2"], cwd=ROOT / "site_scons",
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    tree = result.stdout.split("KERNEL_SRC=", 1)[1].strip()
    config = {"x86_64": {"CONFIG_X86_64": "y"}, "i386": {"CONFIG_X86_32": "y"}, "arm64": {"CONFIG_ARM64": "y"},
              "riscv64": {"CONFIG_RISCV": "y"}, "arm": {"CONFIG_ARM": "y", "CONFIG_ARM_HAS_GROUP_RELOCS": "y"},
              "arm-thumb2": {"CONFIG_ARM": "y", "CONFIG_ARM_HAS_GROUP_RELOCS": "y",
                             "CONFIG_THUMB2_KERNEL": "y"}}[configured]
    arch = configured.split("-")[0]
    makefile = (Path(tree) / "Makefile").read_text()
    version = tuple(int(line.split("=")[1]) for line in makefile.splitlines()[:4]
                    if line.startswith(("VERSION", "PATCHLEVEL", "SUBLEVEL")))
    assert version[:2] == (7, 2) and version[:2] <= NEWEST_KNOWN
    from_source, path = read_accepted_types(tree, arch, config)
    policy = POLICIES[arch]
    from_table = {name for number, name in policy.type_names.items()
                  if policy.acceptance(number).accepts(version, config) and name not in policy.always_refused}
    assert from_source == from_table, path
