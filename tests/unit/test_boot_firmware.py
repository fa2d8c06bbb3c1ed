"""The firmware descriptions a platform driver's boot test gives QEMU (boot.firmware_arguments),
with the real tools: QEMU's own device tree (dumpdtb), dtc and iasl."""

import subprocess

import pytest

from rustkmod.errors import RustkmodError
from rustkmod.kernel import boot

ARM64 = [*boot.QEMU_FOR_ARCH["arm64"][0], "-m", "512", "-nographic"]
NODES = '/ {\n\tmydev {\n\t\tcompatible = "acme,mydev";\n\t\tacme,value = <7>;\n\t};\n};\n'
SSDT = 'DefinitionBlock ("", "SSDT", 2, "ACME", "MYDEV", 1)\n{\n    Scope (\\_SB)\n    {\n' \
       '        Device (MYDV) { Name (_HID, "ACME0001") }\n    }\n}\n'


def test_the_nodes_are_merged_into_the_machines_own_tree(tmp_path):
    (tmp_path / "nodes.dts").write_text(NODES)
    arguments = boot.firmware_arguments("arm64", ARM64, str(tmp_path), str(tmp_path / "nodes.dts"))
    assert arguments[0] == "-dtb"
    tree = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", arguments[1]], capture_output=True, text=True).stdout
    assert 'compatible = "acme,mydev";' in tree
    assert "pl011@9000000" in tree                 # the machine's own devices are still there


def test_a_mistake_in_the_nodes_names_the_file_and_line(tmp_path):
    (tmp_path / "nodes.dts").write_text(NODES.replace("<7>;", "<7>"))
    with pytest.raises(RustkmodError) as caught:
        boot.firmware_arguments("arm64", ARM64, str(tmp_path), str(tmp_path / "nodes.dts"))
    assert f"{tmp_path / 'nodes.dts'}:5" in str(caught.value) and "dtc on" in str(caught.value)


def test_acpi_tables_are_compiled_and_added_on_x86_only(tmp_path):
    (tmp_path / "ssdt.asl").write_text(SSDT)
    arguments = boot.firmware_arguments("x86_64", [], str(tmp_path), acpi_tables=[str(tmp_path / "ssdt.asl")])
    assert arguments == ["-acpitable", f"file={tmp_path / 'acpi-table-0'}.aml"]
    assert (tmp_path / "acpi-table-0.aml").read_bytes()[:4] == b"SSDT"
    assert boot.firmware_arguments("arm64", ARM64, str(tmp_path), acpi_tables=[str(tmp_path / "ssdt.asl")]) == []
    assert boot.firmware_arguments("x86_64", [], str(tmp_path), device_tree=str(tmp_path / "none.dts")) == []
    assert boot.described("x86_64", acpi_tables=["t.asl"]) and not boot.described("x86_64", device_tree="n.dts")


def test_a_mistake_in_an_acpi_table_names_iasl_and_the_file(tmp_path):
    (tmp_path / "ssdt.asl").write_text(SSDT.replace("Name (_HID", "Nme (_HID"))
    with pytest.raises(RustkmodError) as caught:
        boot.firmware_arguments("i386", [], str(tmp_path), acpi_tables=[str(tmp_path / "ssdt.asl")])
    assert f"iasl on {tmp_path / 'ssdt.asl'} failed: line 5: Object does not exist" in str(caught.value)
