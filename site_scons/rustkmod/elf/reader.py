"""An ELF object's section headers, symbols and relocation entries, decoded in bulk.

pyelftools supplies the constants. The header is read with `struct` and the tables as numpy
record arrays over the file's bytes, a whole table at a time: pyelftools builds one parsed object
per section header and per symbol (about 100 us each), and a partial link of `core` has thousands
of sections, tens of thousands of symbols and relocations, checked on every build.
"""

from __future__ import annotations

import bisect
import functools
import mmap
import struct
from contextlib import contextmanager
from typing import NamedTuple

import numpy
from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.enums import (ENUM_E_MACHINE, ENUM_E_TYPE, ENUM_SH_TYPE_BASE, ENUM_ST_INFO_BIND, ENUM_ST_INFO_TYPE,
                                ENUM_ST_SHNDX)

from rustkmod.errors import RustkmodError

SHT_PROGBITS = ENUM_SH_TYPE_BASE["SHT_PROGBITS"]
SHT_SYMTAB = ENUM_SH_TYPE_BASE["SHT_SYMTAB"]
SHT_REL = ENUM_SH_TYPE_BASE["SHT_REL"]
SHT_NULL = ENUM_SH_TYPE_BASE["SHT_NULL"]
SHT_NOBITS = ENUM_SH_TYPE_BASE["SHT_NOBITS"]
SHT_RELA = ENUM_SH_TYPE_BASE["SHT_RELA"]
SHN_UNDEF = ENUM_ST_SHNDX["SHN_UNDEF"]
SHN_ABS = ENUM_ST_SHNDX["SHN_ABS"]
SHN_COMMON = ENUM_ST_SHNDX["SHN_COMMON"]
SHN_LORESERVE = 0xFF00                # ELF gABI; pyelftools names no section index range
STT_FUNC = ENUM_ST_INFO_TYPE["STT_FUNC"]
STT_SECTION = ENUM_ST_INFO_TYPE["STT_SECTION"]
STB_GLOBAL = ENUM_ST_INFO_BIND["STB_GLOBAL"]

# Elf{32,64}_Ehdr after e_ident (type, machine, version, entry, phoff, shoff, flags, ehsize,
# phentsize, phnum, shentsize, shnum, shstrndx), Elf{32,64}_Shdr (name, type, flags, addr, offset,
# size, link, info, addralign, entsize) and Elf{32,64}_Sym field layouts (ELF gABI), by class.
EHDR_LAYOUT = {64: "HHIQQQIHHHHHH", 32: "HHIIIIIHHHHHH"}
SHDR_LAYOUT = {64: "IIQQQQIIQQ", 32: "IIIIIIIIII"}
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


class Section(NamedTuple):
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


class RelocationTable(NamedTuple):
    """One SHT_REL/SHT_RELA section whose target section the loader relocates (SHF_ALLOC)."""

    name: str              # e.g. ".rela.text.hello"
    target_index: int      # section index the entries patch
    is_rela: bool
    offsets: "numpy.ndarray"  # r_offset of each entry (int64)
    types: "numpy.ndarray"    # relocation type of each entry (int64)
    symbols: "numpy.ndarray"  # symbol table index of each entry (int64)
    addends: "numpy.ndarray | None"  # r_addend (RELA only, int64)
    file_offset: int       # where the entries start in the file
    entry_size: int


class Relocations(NamedTuple):
    """Every entry of several relocation sections of one format, as one set of arrays: a partial
    link has thousands of small tables, and numpy's cost per call would dominate table by table."""

    sections: list          # the relocation sections (Section), in file order
    table: "numpy.ndarray"    # per entry: its section's position in `sections`
    targets: "numpy.ndarray"  # per entry: the section index it patches
    offsets: "numpy.ndarray"  # r_offset
    types: "numpy.ndarray"
    symbols: "numpy.ndarray"


class ElfHeader:
    """The ELF header fields the tables need, read with struct in the file's own class and byte
    order. (pyelftools' ELFFile read these six fields here and cost 8 ms to import, a twentieth
    of `rustkmod check` on a large object.)"""

    _NAMES = ("e_type", "e_machine", "e_version", "e_entry", "e_phoff", "e_shoff", "e_flags", "e_ehsize",
              "e_phentsize", "e_phnum", "e_shentsize", "e_shnum", "e_shstrndx")

    def __init__(self, data):
        ident = bytes(data[:16])
        if len(ident) < 16 or ident[:4] != b"\x7fELF":
            raise ValueError("Magic number does not match")
        if ident[4] not in (1, 2) or ident[5] not in (1, 2):
            raise ValueError(f"unknown ELF class {ident[4]} or data encoding {ident[5]}")
        self.elfclass = 32 if ident[4] == 1 else 64
        self.little_endian = ident[5] == 1
        layout = struct.Struct(("<" if self.little_endian else ">") + EHDR_LAYOUT[self.elfclass])
        if len(data) < 16 + layout.size:
            raise ValueError("the ELF header is cut short")
        self._fields = dict(zip(self._NAMES, layout.unpack_from(data, 16)))
        self._fields["e_machine"] = _MACHINE_NAMES.get(self._fields["e_machine"], self._fields["e_machine"])
        self._fields["e_type"] = _TYPE_NAMES.get(self._fields["e_type"], self._fields["e_type"])
        self._data = data

    def __getitem__(self, name: str):
        return self._fields[name]

    def num_sections(self) -> int:
        """e_shnum, or with extended numbering (e_shnum 0) section 0's sh_size."""
        count, offset = self["e_shnum"], self["e_shoff"]
        if count or not offset:
            return count
        entry = struct.Struct(("<" if self.little_endian else ">") + SHDR_LAYOUT[self.elfclass])
        return entry.unpack_from(self._data, offset)[5] if offset + entry.size <= len(self._data) else 0


_MACHINE_NAMES = {number: name for name, number in ENUM_E_MACHINE.items() if isinstance(number, int)}
_TYPE_NAMES = {number: name for name, number in ENUM_E_TYPE.items() if isinstance(number, int)}


class ElfTables:
    """One object file's tables, each decoded once, on first use.

    `source` is the file's contents (bytes or an mmap, read in place) or a stream to read them from.
    """

    def __init__(self, source, path: str):
        self.path = path
        if hasattr(source, "read") and not isinstance(source, mmap.mmap):
            source.seek(0)
            source = source.read()
        self.data = source
        try:
            self.elf = ElfHeader(source)
        except (ValueError, struct.error) as err:
            raise RustkmodError(f"{path}: not an ELF object ({err})",
                                "check the file is a .o or .ko, and rebuild it if it was truncated") from None
        self.bits = self.elf.elfclass
        self.endian = "<" if self.elf.little_endian else ">"
        self.file_size = len(source)
        self.sections = self._read_sections()
        self._symbols = None

    def read(self, section: Section) -> bytes:
        """A section's contents, refusing sizes that run past the end of the file."""
        self._inside(section)
        return self.data[section.offset:section.offset + section.size]

    def _inside(self, section: Section) -> None:
        if section.offset + section.size > self.file_size:
            raise RustkmodError(f"{self.path}: section {section.name or section.index} runs past the end "
                                "of the file", "the file is truncated: rebuild it")

    def bytes_view(self) -> "numpy.ndarray":
        """The whole file as a uint8 array, without a copy."""
        return numpy.frombuffer(self.data, dtype=numpy.uint8)

    def _read_sections(self) -> list[Section]:
        count, entry = self.elf.num_sections(), self.elf["e_shentsize"]
        layout = SHDR_LAYOUT[self.bits]
        if count == 0:
            return []
        if entry < struct.calcsize(self.endian + layout):
            raise RustkmodError(f"{self.path}: section headers of {entry} bytes are too small",
                                "the file is damaged: rebuild it")
        start = self.elf["e_shoff"]
        if start + count * entry > self.file_size:
            raise RustkmodError(f"{self.path}: section headers run past the end of the file",
                                "the file is truncated: rebuild it")
        raw = numpy.frombuffer(self.data, record_type(self.endian, layout, entry), count, start)
        fields = [raw[f"f{i}"].tolist() for i in (0, 1, 2, 4, 5, 6, 7, 9)]
        # e_shstrndx, or with extended numbering (SHN_XINDEX) section 0's sh_link.
        index = self.elf["e_shstrndx"] if self.elf["e_shstrndx"] != 0xFFFF else fields[5][0]
        if 0 < index < count:
            names = self.read(Section(index, "", *(column[index] for column in fields[1:])))
        else:
            names = b""
        sections = list(map(Section._make, zip(range(count), _strings_at(names, fields[0]), *fields[1:])))
        self._check_no_overlap(sections)
        return sections

    def _check_no_overlap(self, sections: list[Section]) -> None:
        """Linkers and assemblers lay sections end to end: their contents add up to at most the
        file. More means sections share bytes, and every per-section read or decode would cost
        the shared bytes again (60,000 relocation sections over one MiB: 60 GB); such a file is
        refused, so the verifier's memory and time stay a small multiple of the file's size."""
        total = sum(s.size for s in sections if s.type not in (SHT_NULL, SHT_NOBITS))
        if total > self.file_size:
            raise RustkmodError(f"{self.path}: its sections hold {total} bytes in a file of {self.file_size}: they "
                                "overlap, which no linker makes", "the file is damaged or crafted: rebuild it")

    # -- symbols ---------------------------------------------------------------------------

    @property
    def symbols(self) -> "Symbols | None":
        if self._symbols is None:
            table = next((s for s in self.sections if s.type == SHT_SYMTAB), None)
            self._symbols = Symbols(self, table) if table else False
        return self._symbols or None

    # -- relocations -----------------------------------------------------------------------

    def applied_relocation_sections(self) -> list[Section]:
        """Every relocation section the loader applies: sections patching non-allocated sections
        (.debug_*, .comment) are skipped, as the loader skips them (apply_relocations())."""
        applied = []
        for section in self.sections:
            if section.type not in (SHT_REL, SHT_RELA):
                continue
            if not 0 < section.info < len(self.sections):
                raise RustkmodError(f"{self.path}: relocation section {section.name} patches section "
                                    f"{section.info}, which does not exist", "the file is damaged: rebuild it")
            if self.sections[section.info].allocated:
                applied.append(section)
        return applied

    def relocation_tables(self):
        """Yields the RelocationTable of every relocation section the loader applies."""
        for section in self.applied_relocation_sections():
            yield self.decode(section)

    def relocations(self, sections: list[Section]) -> Relocations:
        """The entries of `sections` (all REL or all RELA) as one Relocations."""
        record = self._entryrecord_type(sections[0] if sections else None)
        for section in sections:
            self._check_entries(section, record.itemsize)
        if len(sections) == 1:
            entries = self._entries(sections[0])          # read in place
        else:
            data = self.data
            entries = numpy.frombuffer(b"".join([data[s.offset:s.offset + s.size] for s in sections]), record)
        types, symbols = self._split_info(entries["f1"])
        table = numpy.repeat(numpy.arange(len(sections)), [s.size // record.itemsize for s in sections])
        targets = numpy.array([s.info for s in sections], dtype=numpy.int64)[table]
        return Relocations(sections, table, targets, entries["f0"].astype(numpy.int64), types, symbols)

    def decode(self, section: Section) -> RelocationTable:
        entries = self._entries(section)
        types, symbols = self._split_info(entries["f1"])
        is_rela = section.type == SHT_RELA
        return RelocationTable(section.name, section.info, is_rela, entries["f0"].astype(numpy.int64),
                               types, symbols, entries["f2"].astype(numpy.int64) if is_rela else None,
                               section.offset, entries.dtype.itemsize)

    def _entries(self, section: Section) -> "numpy.ndarray":
        """A relocation section's entries as a record array: f0 r_offset, f1 r_info, f2 r_addend."""
        record = self._entryrecord_type(section)
        self._check_entries(section, record.itemsize)
        return numpy.frombuffer(self.data, record, section.size // record.itemsize, section.offset)

    def _entryrecord_type(self, section: Section | None) -> "numpy.dtype":
        fields = "QQQ" if section is None or section.type == SHT_RELA else "QQ"
        return record_type(self.endian, fields if self.bits == 64 else fields.replace("Q", "I"), 0)

    def _check_entries(self, section: Section, entry_size: int) -> None:
        if section.entsize not in (0, entry_size):
            raise RustkmodError(f"{self.path}: section {section.name} has entries of {section.entsize} bytes, "
                                f"expected {entry_size}", "the file is damaged: rebuild it")
        if section.size % entry_size:
            raise RustkmodError(f"{self.path}: section {section.name} is {section.size} bytes, not a whole "
                                f"number of {entry_size}-byte entries", "the file is damaged: rebuild it")
        self._inside(section)

    def _split_info(self, infos) -> tuple:
        """(types, symbol indexes) of r_info values, as int64 arrays: ELF64 packs them 32/32, ELF32 24/8."""
        shift = 32 if self.bits == 64 else 8
        mask = infos.dtype.type((1 << shift) - 1)
        return _signed(infos & mask), _signed(infos >> infos.dtype.type(shift))


class Symbols:
    """The symbol table as parallel columns; a column becomes a list on first use, and names are
    read from the string table on demand (a large object has hundreds of thousands of symbols)."""

    def __init__(self, tables: ElfTables, section: Section):
        layout, self._order = _SYM[tables.bits]
        record = record_type(tables.endian, layout, 0)
        tables._inside(section)
        self.table = numpy.frombuffer(tables.data, record, section.size // record.itemsize, section.offset)
        if not 0 < section.link < len(tables.sections):
            raise RustkmodError(f"{tables.path}: the symbol table names no string table",
                                "the file is damaged: rebuild it")
        self.strings = tables.read(tables.sections[section.link])
        self.tables = tables
        self._functions = None

    def column(self, field: int) -> "numpy.ndarray":
        """st_name, st_info, st_shndx, st_value, st_size (0-4) of every symbol, as an array."""
        return self.table[f"f{self._order[field]}"]

    name_offsets = functools.cached_property(lambda self: self.column(0).tolist())
    infos = functools.cached_property(lambda self: self.column(1).tolist())
    shndx = functools.cached_property(lambda self: self.column(2).tolist())
    values = functools.cached_property(lambda self: self.column(3).tolist())
    sizes = functools.cached_property(lambda self: self.column(4).tolist())

    def __len__(self) -> int:
        return len(self.table)

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


def _signed(values) -> "numpy.ndarray":
    """A new unsigned array of values below 2**31 as int64, the type every index and type is kept in."""
    return values.view(numpy.int64) if values.dtype.itemsize == 8 else values.astype(numpy.int64)


@functools.lru_cache(maxsize=None)
def record_type(endian: str, layout: str, size: int) -> "numpy.dtype":
    """A numpy record type of struct format codes `layout` (fields f0, f1, ...), unaligned, of
    `size` bytes if that is larger than the fields (an e_shentsize larger than the gABI's)."""
    formats = [endian + _NUMPY_CODES[code] for code in layout]
    offsets = [struct.calcsize("<" + layout[:i]) for i in range(len(layout))]
    size = max(size, struct.calcsize("<" + layout))
    return numpy.dtype({"names": [f"f{i}" for i in range(len(layout))], "formats": formats,
                        "offsets": offsets, "itemsize": size})


def _strings_at(table: bytes, offsets: list) -> list:
    """The NUL-terminated strings at `offsets` of a string table, as printable text: decoded and
    checked once for the whole table when it is printable ASCII, as a compiler writes it."""
    table = bytes(table)
    if table.endswith(b"\0") and not table.translate(None, _PRINTABLE_ASCII):
        text = table.decode("ascii")
        return [text[offset:text.find("\0", offset)] for offset in offsets]
    return [_string_at(table, offset) for offset in offsets]


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\0"


def _string_at(table: bytes, offset: int) -> str:
    if offset >= len(table):
        return ""
    end = table.find(b"\0", offset)
    name = table[offset:end if end >= 0 else len(table)].decode("utf-8", errors="replace")
    # A damaged table can hold any byte: a name never brings a newline into a one-line message.
    return name if name.isprintable() else "".join(c if c.isprintable() else "?" for c in name)
