"""Drivers in safe Rust, in the in-tree crate's shape: tests/projects/kpci (a PCI driver for QEMU's
pci-testdev) and examples/edu (a driver for QEMU's edu device: its factorial unit by interrupt, a
DMA round trip through a coherent buffer), each built, verified and booted with the device
(`qemu_devices=`) on kernels of five architectures between them and on the debug kernel (KASAN,
lockdep, DEBUG_OBJECTS): probed, unbound and bound again through sysfs, unbound by rmmod; and on
one kernel each, installed and loaded by modprobe of the device's modalias, as udev would.
kpci's MODULE_ALIAS is modpost's own for the same id table, and an I/O offset the compiler cannot
prove in bounds is refused at build time."""

import os
import subprocess

import pytest

from helpers import ROOT, copy_project, fetch_kernels, kbuild_modules, kernel_summary, outside_project, scons
from rustkmod.kernel.tree import Kernel

pytestmark = pytest.mark.e2e

NAMES = ("5.10", "7.3", "7.3-arm64", "6.1-armhf", "6.12-trixie-riscv64")
EDU = ("6.12", "6.1-arm64", "6.1-i386", "6.1-signing")
BY_MODALIAS = {"kpci": "7.3", "edu": "6.12"}     # the kernel each is also installed and modprobe'd on


def boots(run, module: str, release: str) -> list:
    """The module's boot summaries on `release` (insmod's; modprobe's by the modalias)."""
    return [line for line in run.stdout.splitlines() if line.strip().startswith(f"{module}: loaded")
            and f"unloaded on Linux {release} " in line]


def checked_and_installed(project, env, module: str, names) -> "Run":
    """`scons check` on every kernel, then `scons check-installed` on the module's one: both runs'
    output."""
    run = scons(project, "-j2", "check", "KERNELS=" + ",".join(names), env=env, timeout=2400)
    assert run.returncode == 0, run.output
    installed = scons(project, "-j2", "check-installed", f"KERNELS={BY_MODALIAS[module]}", env=env, timeout=1200)
    assert installed.returncode == 0, installed.output
    run.stdout += installed.stdout
    return run


@pytest.fixture(scope="module")
def kpci(tmp_path_factory):
    fetched = fetch_kernels(*NAMES)
    project, env = outside_project("kpci", tmp_path_factory.mktemp("kpci"))
    return project, fetched, checked_and_installed(project, env, "kpci", NAMES)


def test_the_driver_probes_unbinds_and_binds_again_on_every_kernel(kpci):
    project, fetched, run = kpci
    assert set(kernel_summary(run, "kpci").values()) == {"built, verified, booted"}, run.output
    for name in NAMES:
        booted = boots(run, "kpci", fetched[name].release)
        assert len(booted) == (2 if name == BY_MODALIAS["kpci"] else 1), (name, run.output)
        assert all("'drops: 2'" in line and "'kpci: data-match count: 1'" in line for line in booted)
    assert "(modprobe by the devices' modaliases from" in boots(run, "kpci", fetched["7.3"].release)[-1]
    assert "forbid(unsafe_code)" in (project / "kpci.rs").read_text()


def test_the_modalias_is_the_one_modpost_makes_for_the_same_table(kpci, tmp_path):
    """A C driver with the same id (PCI_DEVICE(0x1b36, 0x0005)), built by Kbuild: modpost's
    alias, read back by modinfo, is the one kpci wrote at compile time."""
    project, fetched, _ = kpci
    c_module = tmp_path / "cpci"
    c_module.mkdir()
    (c_module / "cpci.c").write_text(
        '#include <linux/module.h>\n#include <linux/pci.h>\n'
        'static const struct pci_device_id ids[] = { { PCI_DEVICE(0x1b36, 0x0005) }, { } };\n'
        'MODULE_DEVICE_TABLE(pci, ids);\nMODULE_LICENSE("GPL");\n')
    (c_module / "Kbuild").write_text("obj-m := cpci.o\n")
    for name in ("5.10", "7.3"):
        kernel = fetched[name]
        built = c_module / name
        built.mkdir()
        for file in ("cpci.c", "Kbuild"):
            (built / file).write_text((c_module / file).read_text())
        kbuild_modules(Kernel.from_kdir(kernel.kdir), built)

        def aliases(ko):
            info = subprocess.run(["/sbin/modinfo", "-F", "alias", str(ko)], capture_output=True, text=True)
            return info.stdout.split()

        ours = aliases(next(project.glob(f"build/{kernel.release}/kpci/kpci.ko")))
        assert ours == aliases(built / "cpci.ko") == ["pci:v00001B36d00000005sv*sd*bc*sc*i*"]


def test_an_io_offset_not_proven_in_bounds_is_refused_at_build_time(tmp_path):
    """read32 at an offset only known when it runs (the device id) cannot be checked against the
    BAR's size when the module is built: the module is refused, naming the symbol that says so."""
    project, env = outside_project("kpci", tmp_path)
    source = project / "kpci.rs"
    text = source.read_text()
    source.write_text(text.replace("bar.read32(OFFSET)", "bar.read32(pdev_offset(bar))").replace(
        "impl KpciData<'_> {", "fn pdev_offset(bar: &Bar0<'_>) -> usize {\n    bar.read8(DATA) as usize\n}\n\n"
                               "impl KpciData<'_> {", 1))
    run = scons(project, "KERNELS=7.3", env=env)
    assert run.returncode != 0
    assert "rustkmod_io_offset_not_proven_in_bounds" in run.output
    assert not list(project.glob("build/**/kpci.ko.verified"))


@pytest.fixture(scope="module")
def edu(tmp_path_factory):
    fetched = fetch_kernels(*EDU)
    project = copy_project(tmp_path_factory.mktemp("edu") / "checkout") / "examples" / "edu"
    run = checked_and_installed(project, dict(os.environ, RUSTKMOD=str(ROOT)), "edu", EDU)
    return project, fetched, run


def test_the_edu_driver_takes_interrupts_and_does_dma_on_every_kernel(edu):
    """The factorial's interrupt and two DMA transfers' (3), the 512 words back, unbound twice
    (sysfs, rmmod) with everything released; on the debug kernel with no report."""
    project, fetched, run = edu
    assert set(kernel_summary(run, "edu").values()) == {"built, verified, booted"}, run.output
    for name in EDU:
        booted = boots(run, "edu", fetched[name].release)
        assert len(booted) == (2 if name == BY_MODALIAS["edu"] else 1), (name, run.output)
        assert all("'edu: 10! = 3628800 (by interrupt)'" in line and "512 of 512 words back, 3 interrupts" in line
                   and "'releases: 2'" in line for line in booted)
    assert "forbid(unsafe_code)" in (project / "edu.rs").read_text()
