"""The loader's checks on the ELF header and section table, before it relocates anything.

The kernel reads every module as its own ELF class and byte order (Elf64_Ehdr, little-endian on
x86_64), whatever the file's e_ident says, so a 32-bit or big-endian file is judged by what those
bytes then mean: a wrong e_type, machine or e_shentsize. The checks and their messages are
`elf_validity_check()` in kernel/module/main.c (6.1). Older kernels make the same checks in the
same order (the differential test boots Debian's 5.10.255 and sees each of them refused) but
log less: nothing for the header checks, "Module has invalid ELF structures" for the section
table ones; the specific messages are taken from 6.0 on (seen in 6.1 and 6.12).
"""

from __future__ import annotations

import struct

import numpy

from elftools.elf.constants import SH_FLAGS
from elftools.elf.enums import ENUM_E_MACHINE, ENUM_E_TYPE, ENUM_SH_TYPE_BASE

from rustkmod.elf.reader import EHDR_LAYOUT, SHDR_LAYOUT, record_type
from rustkmod.kernel.arch import ARCHES

# Per architecture: the kernel's ELF class and byte order, and the e_machine values it takes.
NATIVE = {arch.name: (arch.elf_class, arch.elf_byte_order,
                      {ENUM_E_MACHINE[m] if isinstance(m, str) else m for m in arch.elf_machines}) for arch in ARCHES}
SPECIFIC_MESSAGES_SINCE = (6, 0)

_ET_REL = ENUM_E_TYPE["ET_REL"]
_SHT_NULL, _SHT_SYMTAB, _SHT_NOBITS = (ENUM_SH_TYPE_BASE[name] for name in ("SHT_NULL", "SHT_SYMTAB", "SHT_NOBITS"))
_SHF_ALLOC = SH_FLAGS.SHF_ALLOC


class Refusal(Exception):
    """The loader stops here: `title` for the report, `message` as the kernel logs it."""

    def __init__(self, title: str, message: str):
        super().__init__(message)
        self.title = title
        self.message = message


def check(data: bytes, arch: str, version: tuple, is_module: bool) -> None:
    """Raises Refusal at the first check the loader of `arch` `version` fails on `data`."""
    bits, endian, machines = NATIVE[arch]
    specific = tuple(version) >= SPECIFIC_MESSAGES_SINCE
    say = (lambda text: text) if specific else (lambda text: "(no message) insmod: Invalid module format")
    said = (lambda text: text) if specific else (lambda text: "Module has invalid ELF structures")
    ehdr = struct.Struct(endian + "16s" + EHDR_LAYOUT[bits])
    shdr = struct.Struct(endian + SHDR_LAYOUT[bits])
    if len(data) < ehdr.size:
        raise Refusal("file shorter than an ELF header", say(f"Invalid ELF header len {len(data)}"))
    (ident, e_type, machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, shstrndx) = ehdr.unpack_from(data)
    if ident[:4] != b"\x7fELF":
        raise Refusal("not an ELF file", say("Invalid ELF header magic: != \\177ELF"))
    if e_type != _ET_REL:
        raise Refusal(f"ELF type {e_type} as this kernel reads it (it wants ET_REL, 1)",
                      say(f"Invalid ELF header type: {e_type} != {_ET_REL}"))
    if machine not in machines:
        from elftools.elf.enums import ENUM_E_MACHINE
        names = {number: name for name, number in ENUM_E_MACHINE.items() if isinstance(number, int)}
        raise Refusal(f"built for {names.get(machine, f'machine {machine}')}, not for this {arch} kernel",
                      say(f"Invalid architecture in ELF header: {machine}"))
    if shentsize != shdr.size:
        raise Refusal(f"section headers of {shentsize} bytes (this kernel's are {shdr.size})",
                      say("Invalid ELF section header size"))
    if shoff >= len(data) or shnum * shdr.size > len(data) - shoff:
        raise Refusal("section header table past the end of the file", say("Invalid ELF section header overflow"))
    if shstrndx == 0 or shstrndx >= shnum:
        raise Refusal("no valid section name table index", said(
            f"Invalid ELF section name index: {shstrndx} || e_shstrndx ({shstrndx}) >= e_shnum ({shnum})"))
    table = numpy.frombuffer(data, record_type(endian, SHDR_LAYOUT[bits], 0), shnum, shoff)
    names, first = tuple(table[shstrndx].tolist()), tuple(table[0].tolist())
    if not _inside(names, len(data)):
        raise Refusal("section name table past the end of the file", said(f"Invalid ELF section hdr(type {names[1]})"))
    if names[5] == 0:
        raise Refusal("empty section name table", said("empty section name table"))
    if data[names[4] + names[5] - 1] != 0:
        raise Refusal("section name table not NUL-terminated",
                      said("ELF Spec violation: section name table isn't null terminated"))
    if first[1] != _SHT_NULL or first[5] != 0 or first[3] != 0:
        raise Refusal("section 0 not empty", said(
            f"ELF Spec violation: section 0 type({first[1]})!=SH_NULL or non-zero len or addr"))
    for index in _suspect_sections(table, len(data), names[5]):
        section = tuple(table[index].tolist())
        kind = section[1]
        if kind in (_SHT_NULL, _SHT_NOBITS):
            continue
        if kind == _SHT_SYMTAB and (section[6] == 0 or section[6] >= shnum):
            raise Refusal("symbol table names no string table", said(
                f"Invalid ELF sh_link!=SHN_UNDEF({section[6]}) or (sh_link({section[6]}) >= hdr->e_shnum({shnum})"))
        if not _inside(section, len(data)):
            raise Refusal(f"section {index} past the end of the file",
                          said(f"Invalid ELF section in module (section {index} type {kind})"))
        if section[2] & _SHF_ALLOC and section[0] >= names[5]:
            raise Refusal(f"section {index} named past the name table",
                          said(f"Invalid ELF section name in module (section {index} type {kind})"))
    if is_module and not any(_name(data, names, offset) == ".gnu.linkonce.this_module"
                             for offset in table["f0"].tolist()):
        raise Refusal("no .gnu.linkonce.this_module section", "MODULE: No module found in object")


def _suspect_sections(table, length: int, names_size: int) -> list:
    """Indexes of the sections (after 0) that may fail the loop's checks, found for all at once:
    the checks below then run, in the loader's order, from the first of them."""
    kind, flags, offset, size, link, name = (table[f"f{i}"] for i in (1, 2, 4, 5, 6, 0))
    end = offset + size                                 # wraps, as the kernel's sum would
    checked = (kind != _SHT_NULL) & (kind != _SHT_NOBITS)
    suspect = checked & (((kind == _SHT_SYMTAB) & ((link == 0) | (link >= len(table))))
                         | (end < offset) | (end > length)
                         | ((flags & _SHF_ALLOC) != 0) & (name >= names_size))
    suspect[0] = False
    first = numpy.flatnonzero(suspect)
    return range(int(first[0]), len(table)) if len(first) else []


def _inside(section: tuple, length: int) -> bool:
    """validate_section_offset(): offset + size neither wraps nor runs past the file."""
    end = section[4] + section[5]
    return section[4] <= end <= length


def _name(data: bytes, names: tuple, offset: int) -> str:
    start = names[4] + offset
    end = data.find(b"\0", start, names[4] + names[5])
    return data[start:end].decode("utf-8", "replace") if offset < names[5] and end >= 0 else ""
