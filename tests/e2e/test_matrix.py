"""One build, many kernels: 5.10, 6.1 and 6.12 on x86_64, 6.1 on arm64 and on 32-bit arm (armhf) and x86 (686),
each built, verified and booted in QEMU, from one `scons` run, in parallel.

The kernels are Debian's own, fetched once into the user's cache (~/.cache/rustkmod) by
`python -m rustkmod fetch-kernel`: a cache shared between runs of the suite, never between tests.
"""

import re
import subprocess

import pytest

from helpers import copy_project, fetch_kernels, kernel_summary, scons

pytestmark = pytest.mark.e2e

MATRIX = ["5.10", "6.1", "6.12", "6.1-arm64", "6.1-armhf", "6.1-i386"]
KERNELS = "KERNELS=" + ",".join(MATRIX)


@pytest.fixture(scope="module")
def fetched():
    return fetch_kernels(*MATRIX)


@pytest.fixture(scope="module")
def matrix_project(tmp_path_factory, fetched):
    return copy_project(tmp_path_factory.mktemp("matrix") / "project")


summary = kernel_summary


def test_every_kernel_is_built_verified_and_booted(matrix_project, fetched):
    run = scons(matrix_project, "-j2", "check", KERNELS, timeout=1800)
    assert run.returncode == 0, run.output
    states = summary(run)
    assert len(states) == 6 and set(states.values()) == {"built, verified, booted"}, states
    # each build directory is named by the release Debian served (with the arch where the release lacks it)
    assert sorted(states) == sorted(next(k for k in states if k.startswith(found.release)) for found in fetched.values())
    assert any(k.endswith("-arm64") for k in states) and any(k.endswith("-armmp") for k in states)
    # One staticlib per distinct (target, flags): the kernels' hardening differs (5.10 has no SLS,
    # 6.12 adds IBT and call padding), so each x86_64 kernel has its own profile here.
    profiles = {p.name for p in matrix_project.glob("build/rust/*-kernel-*")}
    assert run.steps().count("CARGO") == len(profiles) == 6 and run.steps().count("KBUILD") == 6
    assert run.stdout.count("hello: loaded, printed 'hello world', unloaded") == 6
    assert "Linux 5.10.0-" in run.stdout and "was built with gcc-10, which is not installed" in run.stdout
    arm64 = next(matrix_project.glob("build/*-arm64/hello/hello.ko"))
    assert "AArch64" in subprocess.run(["readelf", "-h", str(arm64)], capture_output=True, text=True).stdout
    armhf = next(matrix_project.glob("build/*-armmp/hello/hello.ko"))
    header = subprocess.run(["readelf", "-h", str(armhf)], capture_output=True, text=True).stdout
    assert "ELF32" in header and re.search(r"Machine:\s+ARM$", header, re.M) and "Version5 EABI" in header
    i386 = next(matrix_project.glob("build/*-686-i386/hello/hello.ko"))
    header = subprocess.run(["readelf", "-h", str(i386)], capture_output=True, text=True).stdout
    assert "ELF32" in header and re.search(r"Machine:\s+Intel 80386$", header, re.M)


def test_noop_runs_nothing_for_any_kernel(matrix_project):
    assert scons(matrix_project, "-q", "check", KERNELS).returncode == 0
    assert scons(matrix_project, "check", KERNELS).steps() == []


def test_one_rust_edit_rebuilds_each_staticlib_once_and_kbuild_per_kernel(matrix_project):
    """Kernels sharing a profile would share the staticlib: see test_kernels_with_one_profile_share."""
    greeting = matrix_project / "hello/src/greeting.rs"
    greeting.write_text(greeting.read_text().replace('"hello {}"', '"hello, {}"'))
    run = scons(matrix_project, "-j2", KERNELS)
    assert run.returncode == 0, run.output
    assert run.steps().count("CARGO") == 6            # once per profile
    assert run.steps().count("KBUILD") == 6 and run.steps().count("VERIFY") == 6


def test_an_unusable_kernel_is_named_and_the_others_still_build(matrix_project, tmp_path):
    not_a_tree = tmp_path / "empty"
    not_a_tree.mkdir()
    run = scons(matrix_project, f"KERNELS=6.12,{not_a_tree},9.9")
    assert run.returncode != 0 and "Traceback" not in run.output
    states = summary(run)
    assert states[next(k for k in states if k.startswith("6.12"))].startswith("built, verified")
    assert states[str(not_a_tree)] == f"FAILED: KDIR={not_a_tree} is not a kernel tree (no Makefile); " \
                                     "pass KDIR=<a kernel source tree or /usr/src/linux-headers-...>"
    assert states["9.9"].startswith("FAILED: kernel '9.9' is not one rustkmod can fetch")


def test_kernels_with_one_profile_share_the_staticlib(matrix_project, tmp_path):
    import shutil
    from helpers import default_kdir
    twin = tmp_path / "twin-of-6.1"
    shutil.copytree(default_kdir(), twin)          # same release and config, another tree
    run = scons(matrix_project, f"KERNELS={default_kdir()},{twin}")
    assert run.returncode == 0, run.output
    assert run.steps().count("CARGO") <= 1 and run.steps().count("KBUILD") == 2
