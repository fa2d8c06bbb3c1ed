"""Drivers in safe Rust, in the in-tree crate's shape: tests/projects/kpci (a PCI driver for QEMU's
pci-testdev), tests/projects/kplat (a platform driver whose device a device tree describes on
arm64 and an ACPI table on x86, each with its properties) and examples/edu (a driver for QEMU's edu device: its factorial unit by interrupt, a
DMA round trip through a coherent buffer), each built, verified and booted with the device
(`qemu_devices=`) on kernels of five architectures between them and on the debug kernel (KASAN,
lockdep, DEBUG_OBJECTS): probed, unbound and bound again through sysfs, unbound by rmmod; and on
one kernel each, installed and loaded by modprobe of the device's modalias, as udev would.
kpci's and kplat's MODULE_ALIAS lines are modpost's own for the same id tables (PCI, OF, ACPI), and an I/O offset the compiler cannot
prove in bounds is refused at build time."""

import os
import subprocess

import pytest

from helpers import ROOT, copy_project, fetch_kernels, kbuild_modules, kernel_summary, outside_project, scons
from rustkmod.kernel.tree import Kernel

pytestmark = pytest.mark.e2e

NAMES = ("5.10", "7.3", "7.3-arm64", "6.1-armhf", "6.12-trixie-riscv64")
EDU = ("6.12", "6.1-arm64", "6.1-i386", "6.1-signing")
PLATFORM = ("5.10", "7.3-arm64", "6.1-signing")  # ACPI on x86 (the oldest and the debug kernel), a device tree on arm64
# the kernels each is also installed and modprobe'd on
BY_MODALIAS = {"kpci": ("7.3",), "edu": ("6.12",), "kplat": ("5.10", "7.3-arm64")}


def boots(run, module: str, release: str) -> list:
    """The module's boot summaries on `release` (insmod's; modprobe's by the modalias)."""
    return [line for line in run.stdout.splitlines() if line.strip().startswith(f"{module}: loaded")
            and f"unloaded on Linux {release} " in line]


def checked_and_installed(project, env, module: str, names) -> "Run":
    """`scons check` on every kernel, then `scons check-installed` on the module's one: both runs'
    output."""
    run = scons(project, "-j2", "check", "KERNELS=" + ",".join(names), env=env, timeout=2400)
    assert run.returncode == 0, run.output
    installed = scons(project, "-j2", "check-installed", "KERNELS=" + ",".join(BY_MODALIAS[module]), env=env,
                      timeout=1200)
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
        assert len(booted) == (2 if name in BY_MODALIAS["kpci"] else 1), (name, run.output)
        assert all("'drops: 2'" in line and "'kpci: data-match count: 1'" in line for line in booted)
    assert "(modprobe by the devices' modaliases from" in boots(run, "kpci", fetched["7.3"].release)[-1]
    assert "forbid(unsafe_code)" in (project / "kpci.rs").read_text()


def modpost_aliases(c_text: str, kernel, directory) -> list:
    """The MODULE_ALIAS lines modpost makes for the C module `c_text` built by Kbuild for `kernel`."""
    directory.mkdir()
    (directory / "cmod.c").write_text('#include <linux/module.h>\n' + c_text + 'MODULE_LICENSE("GPL");\n')
    (directory / "Kbuild").write_text("obj-m := cmod.o\n")
    kbuild_modules(Kernel.from_kdir(kernel.kdir), directory)
    return aliases(directory / "cmod.ko")


def aliases(ko) -> list:
    return sorted(subprocess.run(["/sbin/modinfo", "-F", "alias", str(ko)], capture_output=True, text=True).stdout.split())


def test_the_modalias_is_the_one_modpost_makes_for_the_same_table(kpci, tmp_path):
    """A C driver with the same id (PCI_DEVICE(0x1b36, 0x0005)), built by Kbuild: modpost's
    alias, read back by modinfo, is the one kpci wrote at compile time."""
    project, fetched, _ = kpci
    table = ('#include <linux/pci.h>\nstatic const struct pci_device_id ids[] = { { PCI_DEVICE(0x1b36, 0x0005) }, { } };\n'
             'MODULE_DEVICE_TABLE(pci, ids);\n')
    for name in ("5.10", "7.3"):
        kernel = fetched[name]
        ours = aliases(next(project.glob(f"build/{kernel.release}/kpci/kpci.ko")))
        assert ours == modpost_aliases(table, kernel, tmp_path / name) == ["pci:v00001B36d00000005sv*sd*bc*sc*i*"]


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
        assert len(booted) == (2 if name in BY_MODALIAS["edu"] else 1), (name, run.output)
        assert all("'edu: 10! = 3628800 (by interrupt)'" in line and "512 of 512 words back, 3 interrupts" in line
                   and "'releases: 2'" in line for line in booted)
    assert "forbid(unsafe_code)" in (project / "edu.rs").read_text()


@pytest.fixture(scope="module")
def kplat(tmp_path_factory):
    fetched = fetch_kernels(*PLATFORM)
    project, env = outside_project("kplat", tmp_path_factory.mktemp("kplat"))
    return project, fetched, checked_and_installed(project, env, "kplat", PLATFORM)


def test_the_platform_driver_probes_from_a_device_tree_or_acpi_and_reads_the_same_properties(kplat):
    """Bound by the device-tree node on arm64 and by the ACPI device on x86 (its table entry's
    info says which), the properties read alike from both; on arm64 the node's registers (the
    PL031 clock's) mapped and read and its interrupt taken; unbound and bound again through sysfs,
    then by rmmod; on the debug kernel with no report; loaded by modalias on both firmwares."""
    project, fetched, run = kplat
    assert set(kernel_summary(run, "kplat").values()) == {"built, verified, booted"}, run.output
    for name in PLATFORM:
        release = fetched[name].release
        booted = boots(run, "kplat", release)
        assert len(booted) == (2 if name in BY_MODALIAS["kplat"] else 1), (name, run.output)
        assert all("'kplat: label \"kplat-board\", channels [3, 5, 7], absent 7'" in line and "'drops: 2'" in line
                   for line in booted)
        log = (project / "build" / release / "kplat" / "kplat.ko.booted.log").read_text()
        firmware, device, alias = (("device tree", "9010000.kplat", "of:NkplatT(null)Crustkmod,kplat")
                                   if name.endswith("arm64") else ("ACPI", "RKMD0001:00", "acpi:RKMD0001:"))
        assert f"kplat {device}: kplat: probed from {firmware}" in log and f"modalias: {alias}" in log, log
        # the device tree gives it arm64's PL031 clock: its registers read, its interrupt taken
        clock = ("kplat: PrimeCell 0xb105f00d, part 0x031", "kplat: clock interrupts taken: 1") \
            if firmware == "device tree" else ("kplat: no registers",)
        assert all(f"kplat {device}: {line}" in log for line in clock), log
    for name in BY_MODALIAS["kplat"]:
        assert "(modprobe by the devices' modaliases from" in boots(run, "kplat", fetched[name].release)[-1]
    assert "forbid(unsafe_code)" in (project / "kplat.rs").read_text()


def test_the_of_and_acpi_aliases_are_the_ones_modpost_makes_for_the_same_tables(kplat, tmp_path):
    project, fetched, _ = kplat
    tables = ('#include <linux/mod_devicetable.h>\n'
              'static const struct of_device_id of_ids[] = { { .compatible = "rustkmod,kplat" }, { } };\n'
              'MODULE_DEVICE_TABLE(of, of_ids);\n'
              'static const struct acpi_device_id acpi_ids[] = { { "RKMD0001", 0 }, { } };\n'
              'MODULE_DEVICE_TABLE(acpi, acpi_ids);\n')
    for name in ("5.10", "7.3-arm64"):
        kernel = fetched[name]
        ours = aliases(project / "build" / kernel.release / "kplat" / "kplat.ko")
        assert ours == modpost_aliases(tables, kernel, tmp_path / name) == \
            ["acpi*:RKMD0001:*", "of:N*T*Crustkmod,kplat", "of:N*T*Crustkmod,kplatC*"]
