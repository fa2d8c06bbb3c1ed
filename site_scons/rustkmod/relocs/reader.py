"""An ELF object's section headers, symbols and relocation entries, decoded in bulk.

pyelftools parses the ELF header (class, byte order, machine, section count, including extended
numbering) and supplies the constants. The tables themselves are decoded here with `struct` and
`array`, a whole table at a time: pyelftools builds one parsed object per section header and per
symbol (about 100 us each), and a partial link of `core` has thousands of sections, tens of
thousands of symbols and relocations, checked on every build.
"""

from __future__ import annotations

import bisect
import struct
import sys
from array import array
from contextlib import contextmanager
from dataclasses import dataclass

import numpy
from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.enums import ENUM_E_MACHINE, ENUM_E_TYPE, ENUM_SH_TYPE_BASE, ENUM_ST_SHNDX

from ..errors import RustkmodError

SHT_PROGBITS = ENUM_SH_TYPE_BASE["SHT_PROGBITS"]
SHT_SYMTAB = ENUM_SH_TYPE_BASE["SHT_SYMTAB"]
SHT_REL = ENUM_SH_TYPE_BASE["SHT_REL"]
SHT_RELA = ENUM_SH_TYPE_BASE["SHT_RELA"]
SHN_UNDEF = ENUM_ST_SHNDX["SHN_UNDEF"]
SHN_ABS = ENUM_ST_SHNDX["SHN_ABS"]
SHN_COMMON = ENUM_ST_SHNDX["SHN_COMMON"]
SHN_LORESERVE = 0xFF00
STT_FUNC, STT_SECTION = 2, 3          # ELF gABI symbol types
STB_GLOBAL = 1

# Elf{32,64}_Shdr and Elf{32,64}_Sym field layouts (ELF gABI), in the order we unpack them.
_SHDR = {64: "IIQQQQIIQQ", 32: "IIIIIIIIII"}
_SYM = {64: ("IBBHQQ", (0, 1, 3, 4, 5)), 32: ("IIIBBH", (0, 3, 5, 1, 2))}   # name, info, shndx, value, size


@contextmanager
def damaged_elf_errors(path: str):
    """Turns what the parsers raise on a damaged file into one line naming the file."""
    try:
        yield
    except OSError as err:
        raise RustkmodError(f"{path}: cannot read it ({err.strerror})", "check the path") from None
    except (ELFError, ValueError, KeyError, IndexError, EOFError, AssertionError, OverflowError,
            MemoryError, UnicodeDecodeError, TypeError, AttributeError, struct.error) as err:
        raise RustkmodError(f"{path}: damaged ELF file ({type(err).__name__}: {err})",
                            "rebuild it; a truncated or corrupted object cannot be verified") from None


@dataclass(frozen=True)
class Section:
    index: int
    name: str
    type: int
    flags: int
    offset: int
    size: int
    link: int
    info: int
    entsize: int

    @property
    def allocated(self) -> bool:
        return bool(self.flags & SH_FLAGS.SHF_ALLOC)


@dataclass
class RelocationTable:
    """One SHT_REL/SHT_RELA section whose target section the loader relocates (SHF_ALLOC)."""

    name: str              # e.g. ".rela.text.hello"
    target_index: int      # section index the entries patch
    is_rela: bool
    offsets: array         # r_offset of each entry
    types: "numpy.ndarray"    # relocation type of each entry (int64)
    symbols: "numpy.ndarray"  # symbol table index of each entry (int64)
    addends: array | None  # r_addend (RELA only)
    file_offset: int       # where the entries start in the file
    entry_size: int


def _section_fields(raw: tuple) -> tuple:
    """Section's fields after index and name, from an unpacked Elf_Shdr."""
    return raw[1], raw[2], raw[4], raw[5], raw[6], raw[7], raw[9]


class ElfHeader:
    """The ELF header fields the tables need, read with struct in the file's own class and byte
    order. (pyelftools' ELFFile read these six fields here and cost 8 ms to import, a twentieth
    of `rustkmod check` on a large object.)"""

    _LAYOUT = {1: "HHIIIIIHHHHHH", 2: "HHIQQQIHHHHHH"}     # Elf32/64_Ehdr after e_ident
    _NAMES = ("e_type", "e_machine", "e_version", "e_entry", "e_phoff", "e_shoff", "e_flags", "e_ehsize",
              "e_phentsize", "e_phnum", "e_shentsize", "e_shnum", "e_shstrndx")

    def __init__(self, stream):
        stream.seek(0)
        ident = stream.read(16)
        if len(ident) < 16 or ident[:4] != b"\x7fELF":
            raise ValueError("Magic number does not match")
        if ident[4] not in self._LAYOUT or ident[5] not in (1, 2):
            raise ValueError(f"unknown ELF class {ident[4]} or data encoding {ident[5]}")
        self.elfclass = 32 if ident[4] == 1 else 64
        self.little_endian = ident[5] == 1
        layout = struct.Struct(("<" if self.little_endian else ">") + self._LAYOUT[ident[4]])
        raw = stream.read(layout.size)
        if len(raw) < layout.size:
            raise ValueError("the ELF header is cut short")
        self._fields = dict(zip(self._NAMES, layout.unpack(raw)))
        self._fields["e_machine"] = _MACHINE_NAMES.get(self._fields["e_machine"], self._fields["e_machine"])
        self._fields["e_type"] = _TYPE_NAMES.get(self._fields["e_type"], self._fields["e_type"])
        self._stream = stream

    def __getitem__(self, name: str):
        return self._fields[name]

    def num_sections(self) -> int:
        """e_shnum, or with extended numbering (e_shnum 0) section 0's sh_size."""
        count, offset = self["e_shnum"], self["e_shoff"]
        if count or not offset:
            return count
        entry = struct.Struct(("<" if self.little_endian else ">") + _SHDR[self.elfclass])
        self._stream.seek(offset)
        raw = self._stream.read(entry.size)
        return entry.unpack(raw)[5] if len(raw) == entry.size else 0


_MACHINE_NAMES = {number: name for name, number in ENUM_E_MACHINE.items() if isinstance(number, int)}
_TYPE_NAMES = {number: name for name, number in ENUM_E_TYPE.items() if isinstance(number, int)}


class ElfTables:
    """One object file's tables, each decoded once, on first use."""

    def __init__(self, stream, path: str):
        self.path = path
        try:
            self.elf = ElfHeader(stream)
        except (ValueError, struct.error) as err:
            raise RustkmodError(f"{path}: not an ELF object ({err})",
                                "check the file is a .o or .ko, and rebuild it if it was truncated") from None
        self.stream = stream
        self.bits = self.elf.elfclass
        self.endian = "<" if self.elf.little_endian else ">"
        stream.seek(0, 2)
        self.file_size = stream.tell()            # an mmap's seek() returns None
        self.sections = self._read_sections()
        self._symbols = None

    def read(self, section: Section) -> bytes:
        """A section's contents, refusing sizes that run past the end of the file."""
        if section.offset + section.size > self.file_size:
            raise RustkmodError(f"{self.path}: section {section.name or section.index} runs past the end "
                                "of the file", "the file is truncated: rebuild it")
        self.stream.seek(section.offset)
        return self.stream.read(section.size)

    def _read_sections(self) -> list[Section]:
        count, entry = self.elf.num_sections(), self.elf["e_shentsize"]
        layout = self.endian + _SHDR[self.bits]
        if count == 0:
            return []
        if entry < struct.calcsize(layout):
            raise RustkmodError(f"{self.path}: section headers of {entry} bytes are too small",
                                "the file is damaged: rebuild it")
        start, total = self.elf["e_shoff"], count * entry
        if start + total > self.file_size:
            raise RustkmodError(f"{self.path}: section headers run past the end of the file",
                                "the file is truncated: rebuild it")
        self.stream.seek(start)
        table = self.stream.read(total)
        raw = [struct.unpack_from(layout, table, i * entry) for i in range(count)]
        # e_shstrndx, or with extended numbering (SHN_XINDEX) section 0's sh_link.
        index = self.elf["e_shstrndx"] if self.elf["e_shstrndx"] != 0xFFFF else raw[0][6]
        names = self.read(Section(index, "", *_section_fields(raw[index]))) if 0 < index < count else b""
        return [Section(i, _string_at(names, r[0]), *_section_fields(r)) for i, r in enumerate(raw)]

    # -- symbols ---------------------------------------------------------------------------

    @property
    def symbols(self) -> "Symbols | None":
        if self._symbols is None:
            table = next((s for s in self.sections if s.type == SHT_SYMTAB), None)
            self._symbols = Symbols(self, table) if table else False
        return self._symbols or None

    # -- relocations -----------------------------------------------------------------------

    def relocation_tables(self):
        """Yields the RelocationTable of every relocation section the loader applies.

        Sections patching non-allocated sections (.debug_*, .comment) are skipped, as the loader
        skips them (kernel/module/main.c, apply_relocations()).
        """
        for section in self.sections:
            if section.type not in (SHT_REL, SHT_RELA):
                continue
            if not 0 < section.info < len(self.sections):
                raise RustkmodError(f"{self.path}: relocation section {section.name} patches section "
                                    f"{section.info}, which does not exist", "the file is damaged: rebuild it")
            if self.sections[section.info].allocated:
                yield self._decode(section)

    def _decode(self, section: Section) -> RelocationTable:
        is_rela = section.type == SHT_RELA
        wide = self.bits == 64
        fields = 3 if is_rela else 2
        word = 8 if wide else 4
        entry_size = fields * word
        if section.entsize not in (0, entry_size):
            raise RustkmodError(f"{self.path}: section {section.name} has entries of {section.entsize} bytes, "
                                f"expected {entry_size}", "the file is damaged: rebuild it")
        if section.size % entry_size:
            raise RustkmodError(f"{self.path}: section {section.name} is {section.size} bytes, not a whole "
                                f"number of {entry_size}-byte entries", "the file is damaged: rebuild it")
        words = _words(self.read(section), wide, self.endian)
        infos = numpy.frombuffer(words, dtype=numpy.uint64 if wide else numpy.uint32)[1::fields]
        shift = 32 if wide else 8
        types = (infos & ((1 << shift) - 1)).astype(numpy.int64)      # numpy arrays: checked in bulk
        symbols = (infos >> shift).astype(numpy.int64)
        addends = words[2::fields] if is_rela else None
        return RelocationTable(section.name, section.info, is_rela, words[0::fields], types, symbols, addends,
                               section.offset, entry_size)


class Symbols:
    """The symbol table as parallel lists; names are read from the string table on demand."""

    def __init__(self, tables: ElfTables, section: Section):
        layout, order = _SYM[tables.bits]
        record = numpy.dtype([(f"f{i}", tables.endian + _NUMPY_CODES[code]) for i, code in enumerate(layout)])
        data = tables.read(section)
        table = numpy.frombuffer(data[:len(data) - len(data) % record.itemsize], dtype=record)
        fields = [table[f"f{i}"].tolist() for i in range(len(layout))]
        self.name_offsets, self.infos, self.shndx, self.values, self.sizes = (fields[i] for i in order)
        if not 0 < section.link < len(tables.sections):
            raise RustkmodError(f"{tables.path}: the symbol table names no string table",
                                "the file is damaged: rebuild it")
        self.strings = tables.read(tables.sections[section.link])
        self.tables = tables
        self._functions = None

    def __len__(self) -> int:
        return len(self.infos)

    def name(self, index: int) -> str:
        return _string_at(self.strings, self.name_offsets[index])

    def type(self, index: int) -> int:
        return self.infos[index] & 0xF

    def binding(self, index: int) -> int:
        return self.infos[index] >> 4

    def display_name(self, index: int) -> str:
        """The symbol's name, or for a section symbol the section's name."""
        name = self.name(index)
        if name:
            return name
        shndx = self.shndx[index]
        if self.type(index) == STT_SECTION and shndx < len(self.tables.sections):
            return self.tables.sections[shndx].name
        return "?"

    def function_at(self, section_index: int, offset: int) -> str:
        """The function symbol whose range holds `offset` in the section, or '?'."""
        if self._functions is None:
            self._functions = {}
            for i in range(len(self)):
                if self.infos[i] & 0xF == STT_FUNC and 0 < self.shndx[i] < SHN_LORESERVE:
                    self._functions.setdefault(self.shndx[i], []).append(
                        (self.values[i], self.values[i] + max(self.sizes[i], 1), i))
            for functions in self._functions.values():
                functions.sort()
        functions = self._functions.get(section_index, [])
        i = bisect.bisect_right(functions, (offset, float("inf"), 0)) - 1
        if i >= 0 and functions[i][0] <= offset < functions[i][1]:
            return self.name(functions[i][2])
        return "?"


# struct format codes of the symbol table's fields, as numpy types.
_NUMPY_CODES = {"I": "u4", "Q": "u8", "B": "u1", "H": "u2"}


def _words(data: bytes, wide: bool, endian: str) -> array:
    words = array("Q" if wide else "I")
    words.frombytes(data)
    if (sys.byteorder == "little") != (endian == "<"):
        words.byteswap()
    return words


def _string_at(table: bytes, offset: int) -> str:
    if offset >= len(table):
        return ""
    end = table.find(b"\0", offset)
    name = table[offset:end if end >= 0 else len(table)].decode("utf-8", errors="replace")
    # A damaged table can hold any byte: a name never brings a newline into a one-line message.
    return name if name.isprintable() else "".join(c if c.isprintable() else "?" for c in name)
