"""How the samples harness reads samples/rust: the modules of its Makefile (one object, or several
with `name-y :=`), a sample's C test program from its doc comment, and the kernels a sample is
built for (those that have what it needs)."""

from pathlib import Path

import pytest

import upstream_samples


def samples_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "samples" / "rust"
    directory.mkdir(parents=True)
    (directory / "Makefile").write_text(
        "ccflags-y += -I$(src)\n"
        "obj-$(CONFIG_SAMPLE_RUST_MINIMAL)\t\t+= rust_minimal.o\n"
        "obj-$(CONFIG_SAMPLE_RUST_PRINT)\t\t\t+= rust_print.o\n"
        "obj-$(CONFIG_SAMPLE_RUST_GONE)\t\t+= rust_gone.o\n"
        "rust_print-y := rust_print_main.o rust_print_events.o\n"
        "subdir-$(CONFIG_SAMPLE_RUST_HOSTPROGS)\t\t+= hostprogs\n")
    for name in ("rust_minimal.rs", "rust_print_main.rs", "rust_print_events.c"):
        (directory / name).write_text("// a sample\n")
    return directory


def test_each_module_of_the_makefile_with_its_rust_and_c_files(tmp_path):
    samples = upstream_samples.read_samples(samples_dir(tmp_path))
    assert samples == [upstream_samples.Sample("rust_minimal", "rust_minimal.rs"),
                       upstream_samples.Sample("rust_print", "rust_print_main.rs", ("rust_print_events.c",))]


def test_the_c_program_of_a_doc_comment_is_taken_as_written():
    text = "//! Sample.\n//!\n//! ```c\n//! #include <stdio.h>\n//!\n//! int main() {\n//!   return 0;\n//! }\n//! ```\nuse x;\n"
    assert upstream_samples.c_program(text) == "#include <stdio.h>\n\nint main() {\n  return 0;\n}\n"
    with pytest.raises(ValueError):
        upstream_samples.c_program("//! no program\n")


def test_a_sample_is_built_only_for_kernels_that_have_its_subsystem(tmp_path):
    directory = samples_dir(tmp_path)
    boots = {"rust_print": upstream_samples.Boot(("x",), since="6.13"),
             "rust_minimal": upstream_samples.Boot(("y",), devices=("pci-testdev",))}
    project = upstream_samples.write_project(tmp_path / "project", directory, upstream_samples.read_samples(directory),
                                             ("5.10", "6.12-trixie-riscv64", "7.2", "7.3-arm64"), boots)
    wanted = {sample.module: kernels for sample, kernels in project.modules}
    assert wanted == {"rust_minimal": ("5.10", "6.12-trixie-riscv64", "7.2", "7.3-arm64"), "rust_print": ("7.2", "7.3-arm64")}
    text = (project.directory / "SConstruct").read_text()
    assert "KERNELS='7.2,7.3-arm64'" in text and "sources=['rust_print_events.c']" in text
    assert text.count("qemu_devices=['pci-testdev']") == 1          # the driver's boot only
    assert upstream_samples.unchanged(project, directory)
    (project.directory / "rust_minimal.rs").write_text("// edited\n")
    assert not upstream_samples.unchanged(project, directory)


def test_a_drivers_firmware_is_written_beside_it_and_kernels_lacking_its_bus_are_left_out(tmp_path):
    """A device tree and an ACPI table given as text, or the ACPI table of the sample's own doc
    comment (```dsl), are written beside the sample and named in its RustKernelModule; a kernel
    the Boot says lacks what it needs gets no module."""
    directory = samples_dir(tmp_path)
    (directory / "rust_minimal.rs").write_text("//! ```dsl\n//! DefinitionBlock (\"\", \"SSDT\", 2, \"T\", \"T\", 1) {}\n"
                                               "//! ```\n")
    boots = {"rust_minimal": upstream_samples.Boot(("y",), acpi_table=upstream_samples.DOC, lacking=("7.3-arm64",)),
             "rust_print": upstream_samples.Boot(("x",), device_tree="/ { };\n", acpi_table="DefinitionBlock")}
    project = upstream_samples.write_project(tmp_path / "project", directory, upstream_samples.read_samples(directory),
                                             ("7.3", "7.3-arm64"), boots)
    assert dict(project.modules)[upstream_samples.Sample("rust_minimal", "rust_minimal.rs")] == ("7.3",)
    assert (project.directory / "rust_minimal.asl").read_text() == 'DefinitionBlock ("", "SSDT", 2, "T", "T", 1) {}\n'
    assert (project.directory / "rust_print.dts").read_text() == "/ { };\n"
    text = (project.directory / "SConstruct").read_text()
    assert "acpi_tables=['rust_minimal.asl']" in text
    assert "device_tree='rust_print.dts', acpi_tables=['rust_print.asl']" in text
