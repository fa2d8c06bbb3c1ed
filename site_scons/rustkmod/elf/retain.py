"""Rust's `.modinfo` entries made to join Kbuild's.

rustc marks a `#[used] #[link_section = ".modinfo"]` static's section SHF_GNU_RETAIN (so that
--gc-sections keeps it). Kbuild's final link then keeps that `.modinfo` apart from modpost's: the
.ko has two, and the loader reads only the first (no vermagic, no license, a forced load). Once
the partial link has kept it, the flag has done its job: clearing it in the Rust object lets
the module's links merge every `.modinfo` into one, as for C's MODULE_INFO.
"""

from __future__ import annotations

import struct

SHF_GNU_RETAIN = 0x200000        # ELF GNU extension; pyelftools (0.33) does not name it


def release_modinfo(path: str) -> int:
    """Clears SHF_GNU_RETAIN on every `.modinfo` section of the object at `path`, in place;
    returns how many sections were changed."""
    from rustkmod.elf.reader import ElfTables, damaged_elf_errors
    with damaged_elf_errors(path), open(path, "r+b") as stream:
        tables = ElfTables(stream, path)
        width = "I" if tables.bits == 32 else "Q"                 # sh_flags, after sh_name and sh_type
        header_offset, entry_size = tables.elf["e_shoff"], tables.elf["e_shentsize"]
        changed = [s for s in tables.sections if s.name == ".modinfo" and s.flags & SHF_GNU_RETAIN]
        for section in changed:
            stream.seek(header_offset + section.index * entry_size + 8)
            stream.write(struct.pack(tables.endian + width, section.flags & ~SHF_GNU_RETAIN))
    return len(changed)
