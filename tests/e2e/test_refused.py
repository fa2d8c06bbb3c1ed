"""The verifier agrees with the real loader: a host-default build fails verification naming
R_X86_64_GOTPCREL, the function and the symbol, and the real kernel refuses that very .ko; on
32-bit arm and x86, a position-independent build the same way with R_ARM_GOT_PREL and R_386_GOTPC."""

import pytest

from helpers import copy_project, default_kdir, fetch_kernels, scons
from rustkmod.kernel import boot
from rustkmod.kernel.tree import Kernel

pytestmark = pytest.mark.e2e


def test_position_independent_build_is_refused_by_verifier_and_kernel(tmp_path):
    project = copy_project(tmp_path / "project")
    kernel = Kernel.from_kdir(default_kdir())
    # OBJTOOL=off: the kernel's objtool refuses this object too (before Kbuild); here the
    # relocation verifier is the one under test.
    run = scons(project, "RUST_PROFILE=host-default", "OBJTOOL=off")
    assert run.returncode != 0
    report = run.stderr
    assert "R_X86_64_GOTPCREL (9): refused by the loader" in report
    assert "the kernel says: module: hello: Unknown rela relocation: 9" in report
    # The crate's own sites come first, with the function and the symbol it calls through the GOT.
    first_site = report.split("accepted by: no x86_64 kernel\n", 1)[1].splitlines()[0]
    assert "(crate hello) -> rustkmod_bug" in first_site and "in hello::kernel::bug" in first_site
    assert "accepted by: no x86_64 kernel" in report
    assert "-Crelocation-model=static -Zplt=yes" in report
    assert "Traceback" not in run.output

    module_dir = project / "build" / kernel.name / "hello"
    assert not (module_dir / "hello.ko.verified").exists()
    assert scons(project, "RUST_PROFILE=host-default", "OBJTOOL=off", "-q").returncode != 0   # never up to date

    ko = module_dir / "hello.ko"        # Kbuild's output is still there: boot it anyway
    result = boot.boot_modules("x86_64", f"/boot/vmlinuz-{kernel.release}", [str(ko)], str(tmp_path / "boot"))
    assert result.module("hello").insmod_rc != 0
    assert result.log_has("hello: Unknown rela relocation: 9")
    assert not result.log_has("hello world")


@pytest.mark.parametrize("entry, arch, first_type, says, accepted", [
    ("6.1-armhf", "arm", "R_ARM_GOT_PREL (96)", "hello: unknown relocation: 96", "no arm kernel"),
    ("6.1-i386", "i386", "R_386_GOTPC (10)", "module: hello: Unknown relocation: 10", "no i386 kernel"),
    # riscv64 knows GOT_HI20, but Debian 13's kernel has no module GOT (CONFIG_MODULE_SECTIONS off)
    ("6.12-trixie-riscv64", "riscv64", "R_RISCV_GOT_HI20 (20)", "hello: can not generate the GOT entry for symbol",
     "Linux 4.17 and later"),
])
def test_position_independent_build_is_refused_by_verifier_and_kernel_per_new_architecture(
        tmp_path, entry, arch, first_type, says, accepted):
    """32-bit arm (armmp) and x86 (686) 6.1, and riscv64 6.12: the kernel's target built
    position-independent makes GOT relocations; the verifier and the booted kernel refuse the
    same type."""
    found = fetch_kernels(entry)[entry]
    kernel = Kernel.from_kdir(found.kdir)
    project = copy_project(tmp_path / "project")
    run = scons(project, f"KERNELS={entry}", "RUST_PROFILE=pic")
    assert run.returncode != 0
    assert f"{first_type}: refused by the loader" in run.stderr
    assert f"the kernel says: {says}" in run.stderr
    assert f"accepted by: {accepted}" in run.stderr and "Traceback" not in run.output

    ko = project / "build" / kernel.name / "hello" / "hello.ko"
    result = boot.boot_modules(arch, found.image, [str(ko)], str(tmp_path / "boot"), busybox=found.busybox)
    assert result.booted, result.console[-2000:]
    assert result.module("hello").insmod_rc != 0
    assert result.log_has(says)
    assert not result.log_has("hello world")
