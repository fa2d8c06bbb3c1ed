"""The bulk ELF reader against pyelftools' own parse of the same files: sections, symbols and
relocation entries of 64- and 32-bit objects, REL and RELA, and the tables the loader skips."""

from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import ENUM_SH_TYPE_BASE
from elftools.elf.relocation import RelocationSection

from helpers import assemble_for
from rustkmod import RustkmodError
from rustkmod.elf.reader import SHT_RELA, STB_GLOBAL, STT_FUNC, ElfTables

SOURCE = """\
.text
.globl f
.type f, %function
f:
  {call}
.size f, .-f
.data
.globl table
table:
  {slot}
.section .debug_info,"",%progbits
  {slot}
"""
PER_ARCH = {"x86_64": ("call g", ".quad f"), "i386": ("call g", ".long f"), "arm64": ("bl g", ".quad f"),
            "arm": ("bl g", ".long f"), "riscv64": ("call g", ".quad f")}


def built(tmp_path: Path, arch: str) -> Path:
    call, slot = PER_ARCH[arch]
    return assemble_for(arch, SOURCE.format(call=call, slot=slot), tmp_path / f"{arch}.o")


@pytest.mark.parametrize("arch", sorted(PER_ARCH))
def test_sections_symbols_and_relocations_are_pyelftools_own(tmp_path, arch):
    path = built(tmp_path, arch)
    tables = ElfTables(path.read_bytes(), str(path))
    with open(path, "rb") as handle:
        elf = ELFFile(handle)
        assert tables.bits == elf.elfclass
        assert [(s.name, s.flags, s.offset, s.size) for s in tables.sections] == \
            [(s.name, s["sh_flags"], s["sh_offset"], s["sh_size"]) for s in elf.iter_sections()]
        assert [ENUM_SH_TYPE_BASE.get(s["sh_type"]) for s in elf.iter_sections()] == \
            [s.type if s.type in ENUM_SH_TYPE_BASE.values() else None for s in tables.sections]
        theirs = {s.name: s for s in elf.get_section_by_name(".symtab").iter_symbols()}
        symbols = tables.symbols
        f = next(i for i in range(len(symbols)) if symbols.name(i) == "f")
        assert symbols.type(f) == STT_FUNC and symbols.binding(f) == STB_GLOBAL
        assert symbols.values[f] == theirs["f"]["st_value"] and symbols.sizes[f] == theirs["f"]["st_size"]
        # Every relocation the loader applies, entry for entry; .debug_info's are skipped.
        applied = {s.name for s in tables.applied_relocation_sections()}
        assert not any("debug" in name for name in applied) and any("debug" in s.name for s in elf.iter_sections()
                                                                     if isinstance(s, RelocationSection))
        for table in tables.relocation_tables():
            section = elf.get_section_by_name(table.name)
            expected = [(r["r_offset"], r["r_info_type"], r["r_info_sym"]) for r in section.iter_relocations()]
            assert list(zip(table.offsets.tolist(), table.types.tolist(), table.symbols.tolist())) == expected
            assert table.is_rela == (section["sh_type"] == "SHT_RELA")
            if table.is_rela:
                assert table.addends.tolist() == [r["r_addend"] for r in section.iter_relocations()]
        assert all((s.type == SHT_RELA) == (arch not in ("i386", "arm")) for s in tables.applied_relocation_sections())


def test_a_relocation_section_of_a_section_that_does_not_exist_is_damage(tmp_path):
    path = built(tmp_path, "x86_64")
    data = bytearray(path.read_bytes())
    tables = ElfTables(bytes(data), str(path))
    rela = next(s for s in tables.sections if s.name == ".rela.text")
    header = tables.elf["e_shoff"] + rela.index * tables.elf["e_shentsize"]
    data[header + 44:header + 48] = (999).to_bytes(4, "little")          # sh_info of Elf64_Shdr
    with pytest.raises(RustkmodError, match=r"\.rela\.text patches section 999, which does not exist"):
        ElfTables(bytes(data), str(path)).applied_relocation_sections()


def test_what_is_not_elf_is_named():
    with pytest.raises(RustkmodError, match=r"x\.o: not an ELF object"):
        ElfTables(b"!<arch>\n" + bytes(100), "x.o")
