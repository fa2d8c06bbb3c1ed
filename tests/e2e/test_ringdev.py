"""examples/ringdev: a misc character device with no C, on the kernel crate (module!, a module
parameter, MiscDevice with read, write and ioctl, UserSlice, Arc and Mutex), built, verified and
booted on every kernel of the matrix and on the lockdep kernel in one `scons check`: device I/O and its counters, the
parameter given at insmod and read from sysfs, ioctls from a user program built static for each
kernel's architecture, the node gone after rmmod. Its logic and file operations tested on the
host."""

import re

import pytest
from elftools.elf.elffile import ELFFile

from helpers import copy_project, fetch_kernels, kernel_summary, scons

pytestmark = pytest.mark.e2e

# the matrix, and the 6.1 kernel built here with lockdep (the device's mutex checked)
MATRIX = ["5.10", "6.1", "6.12", "6.12-trixie", "7.2", "7.3", "6.1-arm64", "6.1-armhf", "6.1-i386",
          "6.12-trixie-riscv64", "6.1-signing"]
SEEN = ("ringdev: loaded, printed 'misc ringdev: ready, 32 bytes', 'ring_size=32', 'hello, ring', "
        "'opens=3 writes=2 reads=2 written=11 read=11 dropped=0 commands=1', 'ioctl value: 1234', "
        "'ioctl unknown: ENOTTY', 'ringdev gone', "
        "'ringdev: done: opens=5 writes=2 reads=4 written=11 read=11 dropped=0 commands=1', unloaded")


@pytest.fixture(scope="module")
def ringdev(tmp_path_factory):
    fetch_kernels(*MATRIX)
    return copy_project(tmp_path_factory.mktemp("ringdev") / "checkout") / "examples" / "ringdev"


def test_the_device_works_on_every_kernel(ringdev):
    run = scons(ringdev, "-j2", "check", f"KERNELS={','.join(MATRIX)}", timeout=2400)
    assert run.returncode == 0, run.output
    assert set(kernel_summary(run, "ringdev").values()) == {"built, verified, booted"}
    assert len(kernel_summary(run, "ringdev")) == len(MATRIX)
    assert run.stdout.count(SEEN) == len(MATRIX)
    # the ioctl client, one static program per architecture
    programs = {p.parent.parent.parent.name: p for p in ringdev.glob("build/*/ringdev/bin/ringdev_ioctl")}
    assert len(programs) == len(MATRIX)
    machines = set()
    for program in programs.values():
        with open(program, "rb") as handle:
            elf = ELFFile(handle)
            assert not any(s["p_type"] == "PT_INTERP" for s in elf.iter_segments())      # static
            machines.add(elf["e_machine"])
    assert machines == {"EM_X86_64", "EM_AARCH64", "EM_ARM", "EM_386", "EM_RISCV"}
    # No C of the module's own: the one C file is the user program the boot test runs.
    sources = [p for p in ringdev.rglob("*.c") if "build" not in p.relative_to(ringdev).parts]
    assert sources == [ringdev / "tools" / "ringdev_ioctl.c"]
    assert "forbid(unsafe_code)" in (ringdev / "src" / "lib.rs").read_text()


def test_a_second_run_of_every_kernel_is_a_no_op(ringdev):
    """Each kernel's staticlib depends on its own bindings.rs only, not on the other kernels' in
    the build directory under the crate (they once made every run rebuild)."""
    run = scons(ringdev, "-q", f"KERNELS={','.join(MATRIX)}")
    if run.returncode != 0:
        explained = scons(ringdev, "-n", "--debug=explain", f"KERNELS={','.join(MATRIX)}")
        pytest.fail(f"not up to date:\n{explained.output}")


def test_the_logic_and_file_operations_on_the_host(ringdev):
    run = scons(ringdev, "test-host")
    assert run.returncode == 0, run.output
    assert re.search(r"test result: ok\. 6 passed; 0 failed", run.stdout), run.stdout

