"""The kernel's own Rust samples build unchanged on distribution kernels: samples/rust of Debian's
linux-source of the newest series rustkmod builds for (read at test time, never copied into the
repository), each sample the kernel crate covers built as a one-file module for every kernel of
the matrix that has its subsystem, verified and booted; its lines seen in the log (the misc
device's own C test program run in the boot). bench/samples.py counts how many of all the samples
build unchanged."""

import pytest

import upstream_samples
from helpers import ROOT, fetch_kernels, scons

pytestmark = pytest.mark.e2e

# every architecture, the oldest and newest series and Debian 12's own, and the debug kernel (KASAN,
# UBSAN, lockdep, DEBUG_OBJECTS, debugfs); the other kernels of the matrix run the same crate code
MATRIX = ("5.10", "6.1", "6.12", "7.3", "7.3-arm64", "6.1-armhf", "6.1-i386", "6.12-trixie-riscv64", "6.1-signing")


@pytest.fixture(scope="module")
def booted(tmp_path_factory):
    samples_dir, version = upstream_samples.fetch()
    fetched = fetch_kernels(*MATRIX, timeout=3600)
    covered = [s for s in upstream_samples.read_samples(samples_dir) if s.module in upstream_samples.COVERED]
    project = upstream_samples.write_project(tmp_path_factory.mktemp("samples") / "samples", samples_dir, covered,
                                             MATRIX, upstream_samples.COVERED)
    run = scons(project.directory, "-j2", "check", env=dict(__import__("os").environ, RUSTKMOD=str(ROOT)),
                timeout=2400)
    return samples_dir, version, fetched, project, run


def test_every_covered_sample_is_in_the_fetched_source(booted):
    samples_dir, version, _, project, _ = booted
    built = {sample.module for sample, _ in project.modules}
    assert built == set(upstream_samples.COVERED), (version, sorted(p.name for p in samples_dir.iterdir()))


def test_the_covered_samples_build_unchanged_and_boot_on_every_kernel_that_has_their_subsystem(booted):
    samples_dir, version, fetched, project, run = booted
    assert run.returncode == 0, run.output
    assert upstream_samples.unchanged(project, samples_dir)
    for sample, kernels in project.modules:
        boot = upstream_samples.COVERED[sample.module]
        for name in kernels:
            release = fetched[name].release
            summary = f"{sample.module}: loaded, printed " + ", ".join(f"'{line}'" for line in boot.expect)
            assert f"{summary}, unloaded on Linux {release}" in run.stdout, (sample.module, name, run.output)


def test_the_platform_sample_reads_its_device_tree_node_or_is_bound_by_its_acpi_id(booted):
    """rust_driver_platform, given a device-tree node (arm64, arm, riscv64): bound by its
    compatible (info 42), every property of the node read and printed as the sample prints it;
    given an ACPI device (x86): bound by its hardware id (info 0), with no device tree to read."""
    _, _, fetched, project, _ = booted
    device_tree = ("rust-device: Probed with info: '42'.", "rust-device: matched compatible string idx = 0",
                   "'compatible'='\"test,rust-device\"'", "'test,bool-prop'='true'",
                   "'test,u32-optional-prop'='0x12' (default = 0x12)",
                   "/rust-device: property 'test,u32-required-prop' is missing", "'test,u32-prop'='0xdeadbeef'",
                   "'test,i16-array' length is 4", "'test,i16-array'='[1, 2, -3, -4]' (KVec)",
                   "'test,ref-arg'='[1, 2]'", "'test,ref-arg'='[3, 4]'")
    kernels = dict((sample.module, wanted) for sample, wanted in project.modules)["rust_driver_platform"]
    assert {"7.3-arm64", "6.1-armhf", "6.12-trixie-riscv64", "5.10"} <= set(kernels)
    for name in kernels:
        log = booted_log(project, fetched[name], "rust_driver_platform")
        wanted = device_tree if any(arch in name for arch in ("arm64", "armhf", "riscv64")) else \
            ("LNUXBEEF:00: Probed with info: '0'.",)
        assert all(line in log for line in wanted), (name, [line for line in wanted if line not in log])


def booted_log(project, kernel, module: str) -> str:
    """The console log of `module`'s boot on `kernel` (its build directory is named for the
    kernel's release, or for the release and the architecture where Debian's release does not
    say it: 6.1.0-NN-686-i386)."""
    logs = [log for log in project.directory.glob(f"build/*/{module}/{module}.ko.booted.log")
            if log.parent.parent.name == kernel.release or log.parent.parent.name.startswith(kernel.release + "-")]
    assert len(logs) == 1, (kernel.release, logs)
    return logs[0].read_text()


def test_a_sample_whose_subsystem_a_kernel_lacks_is_not_built_for_it(booted):
    _, _, _, project, _ = booted
    kernels = dict((sample.module, wanted) for sample, wanted in project.modules)
    assert "7.3" in kernels["rust_print"] and "6.1" not in kernels["rust_print"]
    assert kernels["rust_driver_faux"] == ("7.3", "7.3-arm64")
    assert "5.10" not in kernels["rust_driver_auxiliary"] and "6.1-signing" not in kernels["rust_driver_auxiliary"]
    assert kernels["rust_minimal"] == MATRIX


def test_the_sample_files_are_read_from_the_fetched_source_not_the_repository(booted):
    samples_dir, _, _, _, _ = booted
    assert ROOT not in samples_dir.parents
    assert not list(ROOT.glob("**/rust_misc_device.rs")), "an upstream sample was copied into the repository"


@pytest.mark.parametrize("module, kernel, error", [
    ("rust_driver_faux", "6.12", "error[E0277]: kernel::faux needs Linux 6.14 or later (the faux bus)"),
    ("rust_driver_auxiliary", "5.10", "error[E0277]: kernel::auxiliary needs a kernel with the auxiliary bus "
                                      "(CONFIG_AUXILIARY_BUS, Linux 5.11 on)"),
])
def test_a_sample_built_for_a_kernel_without_its_bus_fails_naming_what_it_needs(booted, tmp_path, module, kernel,
                                                                               error):
    """The faux sample, unchanged, built for 6.12 (no faux bus): the compiler's error names 6.14;
    the auxiliary sample built for 5.10 (no auxiliary bus): its errors name the option. Every
    error is that one line, and no module is left verified."""
    samples_dir, _, _, _, _ = booted
    sample = [s for s in upstream_samples.read_samples(samples_dir) if s.module == module]
    project = upstream_samples.write_project(tmp_path / module, samples_dir, sample, (kernel,), {})
    run = scons(project.directory, env=dict(__import__("os").environ, RUSTKMOD=str(ROOT)))
    assert run.returncode != 0
    assert error in run.output
    errors = [line for line in run.output.splitlines() if line.startswith("error[")]
    assert errors and all(line.startswith(error) for line in errors), errors
    assert not list(project.directory.glob("build/**/*.ko.verified"))
