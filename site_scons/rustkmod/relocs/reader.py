"""Relocation entries of the sections a module loader applies, decoded in bulk.

pyelftools reads the headers and sections; the entry arrays are decoded at once with `array`
(one Python int per field, no object per entry), because a partial link of `core` carries tens
of thousands of them and this runs on every build.
"""

from __future__ import annotations

import struct
import sys
from array import array
from contextlib import contextmanager
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from ..errors import RustkmodError


@dataclass
class RelocationTable:
    """One SHT_REL/SHT_RELA section whose target section the loader relocates (SHF_ALLOC)."""

    name: str              # e.g. ".rela.text.hello"
    target_index: int      # section index the entries patch
    is_rela: bool
    offsets: array         # r_offset of each entry
    types: list            # relocation type of each entry
    symbols: list          # symbol table index of each entry
    addends: array | None  # r_addend (RELA only)
    file_offset: int = 0   # where the entries start in the file
    entry_size: int = 0


@contextmanager
def damaged_elf_errors(path: str):
    """Turns what pyelftools raises deep inside its parsers on a damaged file into one line."""
    try:
        yield
    except OSError as err:
        raise RustkmodError(f"{path}: cannot read it ({err.strerror})", "check the path") from None
    except (ELFError, ValueError, KeyError, IndexError, EOFError, AssertionError, OverflowError,
            MemoryError, UnicodeDecodeError, TypeError, AttributeError, struct.error) as err:
        raise RustkmodError(f"{path}: damaged ELF file ({type(err).__name__}: {err})",
                            "rebuild it; a truncated or corrupted object cannot be verified") from None


def section_bytes(elf: ELFFile, header, path: str, name: str) -> bytes:
    """A section's contents, refusing sizes that run past the end of the file."""
    size = header["sh_size"]
    if header["sh_offset"] + size > elf.stream.seek(0, 2):
        raise RustkmodError(f"{path}: section {name} runs past the end of the file",
                            "the file is truncated: rebuild it")
    elf.stream.seek(header["sh_offset"])
    return elf.stream.read(size)


def open_elf(stream, path: str) -> ELFFile:
    try:
        return ELFFile(stream)
    except (ELFError, ValueError, EOFError) as err:
        raise RustkmodError(f"{path}: not an ELF object ({err})",
                            "check the file is a .o or .ko, and rebuild it if it was truncated") from None


def relocation_tables(elf: ELFFile, path: str):
    """Yields the RelocationTable of every relocation section the loader applies.

    Sections patching non-allocated sections (.debug_*, .comment) are skipped, as the loader
    skips them (kernel/module/main.c, apply_relocations()).
    """
    count = elf.num_sections()
    for index in range(count):
        header = elf._get_section_header(index)
        if header["sh_type"] not in ("SHT_REL", "SHT_RELA"):
            continue
        target = header["sh_info"]
        if not 0 < target < count:
            raise RustkmodError(f"{path}: relocation section {index} patches section {target}, "
                                "which does not exist", "the file is damaged: rebuild it")
        if not elf._get_section_header(target)["sh_flags"] & SH_FLAGS.SHF_ALLOC:
            continue
        yield _decode(elf, index, header, target, path)


def _decode(elf: ELFFile, index: int, header, target: int, path: str) -> RelocationTable:
    is_rela = header["sh_type"] == "SHT_RELA"
    wide = elf.elfclass == 64
    fields = 3 if is_rela else 2
    word = 8 if wide else 4
    entry_size = fields * word
    name = elf._get_section_name(header)
    size = header["sh_size"]
    if header["sh_entsize"] not in (0, entry_size) or size % entry_size:
        raise RustkmodError(f"{path}: section {name} has entries of {header['sh_entsize']} bytes, "
                            f"expected {entry_size}", "the file is damaged: rebuild it")
    data = section_bytes(elf, header, path, name)
    words = array("Q" if wide else "L")
    if words.itemsize != word:  # 'L' is 8 bytes on LP64 hosts; 'I' is 4 everywhere we run
        words = array("I")
    words.frombytes(data)
    if (sys.byteorder == "little") != elf.little_endian:
        words.byteswap()
    infos = words[1::fields]
    if wide:
        types = [info & 0xFFFFFFFF for info in infos]
        symbols = [info >> 32 for info in infos]
    else:
        types = [info & 0xFF for info in infos]
        symbols = [info >> 8 for info in infos]
    addends = words[2::fields] if is_rela else None
    return RelocationTable(name, target, is_rela, words[0::fields], types, symbols, addends,
                           header["sh_offset"], entry_size)
