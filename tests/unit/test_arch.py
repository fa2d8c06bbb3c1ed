"""One record per architecture (rustkmod/kernel/arch.py): every per-architecture table is made from
it, and nothing else in the code names an architecture's own spelling."""

import re
from pathlib import Path

from rustkmod.kernel import arch, boot, deb, debian, kbuild, tree
from rustkmod.rust import bindgen, profiles
from rustkmod.verify import header, names
from rustkmod.verify.policy import POLICIES

SITE = Path(__file__).resolve().parents[2] / "site_scons"


def test_every_table_has_every_architecture_and_nothing_else():
    names_ = {a.name for a in arch.ARCHES}
    for table in (tree.KBUILD_ARCH, tree.BOOT_IMAGES, boot.QEMU_FOR_ARCH, kbuild.CROSS_PREFIXES, deb.DEBIAN_ARCH,
                  profiles.KERNEL_TARGETS, bindgen.CLANG_TARGETS, header.NATIVE, names.TYPE_NAMES, POLICIES):
        assert set(table) == names_
    assert set(debian.ARCHES.values()) == names_ and set(debian.FLAVOURS) == set(debian.ARCHES)
    assert set(boot.DEVICE_TREE_ARCHES) | set(boot.ACPI_ARCHES) == names_


def test_names_lead_to_one_record_each():
    assert tree.normalize_arch("aarch64") == "arm64" and tree.normalize_arch("amd64") == "x86_64"
    assert tree.normalize_arch("riscv") == "riscv64" and tree.normalize_arch("i686") == "i386"
    aliases = [alias for a in arch.ARCHES for alias in (a.name, *a.aliases)]
    assert len(aliases) == len(set(aliases))
    assert [arch.BY_DEBIAN[a.debian] for a in arch.ARCHES] == list(arch.ARCHES)


def test_each_rust_target_is_rustcs_own_or_shipped_and_its_relocations_are_named():
    shipped = {p.stem for p in (SITE / "rustkmod" / "rust" / "targets").glob("*.json")}
    for record in arch.ARCHES:
        assert record.rust_target in shipped or "-none" in record.rust_target, record.name
        assert names.TYPE_NAMES[record.name][0].endswith("_NONE"), record.name     # its relocation names are known


def test_no_code_outside_the_record_and_the_loader_tables_spells_an_architecture():
    allowed = {SITE / "rustkmod" / "kernel" / "arch.py", SITE / "rustkmod" / "verify" / "policy.py"}
    found = [f"{path.relative_to(SITE)}:{number}" for path in SITE.rglob("*.py") if path not in allowed
             for number, line in enumerate(path.read_text().splitlines(), 1) if re.search(r"aarch64|riscv64", line)]
    assert found == []
