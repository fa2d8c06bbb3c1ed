"""RELOCS=fix: rewrite relocation types that a kernel's loader lacks into ones it treats the same.

x86 kernels before 4.16 (5.12 for i386) have no case for PLT32, but for a module, where there
is no PLT, PLT32 means exactly PC32: the kernel's own fix (b21ebf2fb4cd, bb73d07148c4) was to
treat the one as the other. Rewriting the type field in place changes nothing else in the file.
"""

from __future__ import annotations

import shutil
import struct

from rustkmod.verify.check import LoaderTarget
from rustkmod.elf.reader import ElfTables, damaged_elf_errors


def needed_rewrites(target: LoaderTarget) -> dict[int, int]:
    """{from type: to type} for the rewrites `target`'s loader needs (empty if none)."""
    policy = target.policy
    numbers = {name: number for number, name in policy.type_names.items()}
    return {numbers[old]: numbers[new] for old, new in policy.rewrites.items()
            if not target.accepts(numbers[old]) and target.accepts(numbers[new])}


def rewrite_types(source: str, destination: str, mapping: dict[int, int]) -> dict[int, int]:
    """Copies `source` to `destination`, rewriting relocation types by `mapping`; counts per type."""
    shutil.copyfile(source, destination)
    counts = {old: 0 for old in mapping}
    with damaged_elf_errors(source), open(destination, "r+b") as stream:
        tables = ElfTables(stream, source)
        wide = tables.bits == 64
        endian = tables.endian
        patches = []
        for table in tables.relocation_tables():
            word = table.entry_size // (3 if table.is_rela else 2)
            symbols = table.symbols.tolist()
            for i, number in enumerate(table.types.tolist()):
                if number in mapping:
                    counts[number] += 1
                    symbol = symbols[i]
                    info = (symbol << 32 | mapping[number]) if wide else (symbol << 8 | mapping[number])
                    patches.append((table.file_offset + i * table.entry_size + word,
                                    struct.pack(endian + ("Q" if wide else "I"), info)))
        for offset, data in patches:
            stream.seek(offset)
            stream.write(data)
    return counts
