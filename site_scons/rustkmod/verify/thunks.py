"""On x86 kernels built with retpolines and return thunks, no bare indirect branch or `ret` may
remain in a module: each would run unprotected inside a protected kernel (and, without
.retpoline_sites/.return_sites, the kernel cannot even patch it). Found by disassembling every
executable section with capstone.

A paravirt call site is no such branch: the C of a spinlock or an irq flag operation compiles to
`call *pv_ops+N` on a paravirt kernel, and the loader replaces it with a direct call or inline code
before the module runs (objtool accepts it as retpoline-safe). Before Linux 6.8 such sites are listed
in `.parainstructions` (apply_paravirt); from 6.8 on they are alternatives (`.altinstructions`)
flagged ALT_FLAG_DIRECT_CALL, which apply_alternatives turns into a direct call to the pv_ops
target. Both kinds of site are skipped."""

from __future__ import annotations

from elftools.elf.constants import SH_FLAGS

from rustkmod.kernel.hardening import RETHUNK_OPTIONS, RETPOLINE_OPTIONS
from rustkmod.kernel.tree import first_enabled
from rustkmod.elf.reader import SHT_PROGBITS

def required_thunks(config: dict | None) -> tuple[str, str]:
    """(the option asking for indirect-branch thunks, the one asking for return thunks), or ""."""
    if config is None:
        return "", ""
    return first_enabled(config, *RETPOLINE_OPTIONS), first_enabled(config, *RETHUNK_OPTIONS)


PARAVIRT_SITES = ".parainstructions"
ALTERNATIVES = ".altinstructions"
ALT_ENTRY = 14                  # struct alt_instr: s32 instr, s32 repl, u32 ft_flags, u8 lens (packed)
ALT_FLAG_DIRECT_CALL = 1 << 1   # in ft_flags' upper half: the site becomes a direct call


def _table_sites(tables, symbols, name: str, entry_length):
    """{section index: [(start, end), ...]} of the sites a loader table lists.

    `entry_length(data, offset)` gives the patched length of the entry whose site pointer is relocated
    at `offset`, or None when the entry is not one the loader always patches. The site's address is
    the relocation's symbol plus addend (absolute or PC-relative alike)."""
    section = next((s for s in tables.sections if s.name == name), None)
    if section is None or symbols is None:
        return {}
    data = tables.read(section)
    sites: dict[int, list[tuple[int, int]]] = {}
    for rela in tables.relocation_tables():
        if rela.target_index != section.index or rela.addends is None:
            continue
        for offset, symbol, addend in zip(rela.offsets.tolist(), rela.symbols.tolist(), rela.addends.tolist()):
            length = entry_length(data, offset) if symbol < len(symbols) else None
            if length:
                start = symbols.values[symbol] + addend
                sites.setdefault(symbols.shndx[symbol], []).append((start, start + length))
    return sites


def paravirt_sites(tables, symbols) -> dict[int, list[tuple[int, int]]]:
    """{section index: [(start, end), ...]} of the code the loader patches as paravirt calls.

    `.parainstructions` (before 6.8): struct paravirt_patch_site, a pointer to the site, a type byte
    and a length byte. `.altinstructions` (6.8 on): struct alt_instr; only entries flagged
    ALT_FLAG_DIRECT_CALL count, and only their instr_offset relocation (the first field)."""
    word = tables.bits // 8

    def paravirt_length(data, offset):
        return data[offset + word + 1] if offset + word + 1 < len(data) else None

    def direct_call_length(data, offset):
        if offset % ALT_ENTRY or offset + ALT_ENTRY > len(data):
            return None                                 # a replacement pointer, or a damaged table
        flags = int.from_bytes(data[offset + 8:offset + 12], "little") >> 16
        return data[offset + 12] if flags & ALT_FLAG_DIRECT_CALL else None

    sites = _table_sites(tables, symbols, PARAVIRT_SITES, paravirt_length)
    for index, ranges in _table_sites(tables, symbols, ALTERNATIVES, direct_call_length).items():
        sites.setdefault(index, []).extend(ranges)
    return sites


def bare_branches(tables, symbols, retpoline: str, rethunk: str):
    """Yields (section, offset, function, instruction text, option) for each unprotected branch."""
    import capstone
    from capstone import CS_GRP_CALL, CS_GRP_JUMP, CS_GRP_RET
    from capstone.x86 import X86_OP_MEM, X86_OP_REG
    disassembler = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    disassembler.detail = True
    patched = paravirt_sites(tables, symbols)
    for section in tables.sections:
        if not (section.flags & SH_FLAGS.SHF_EXECINSTR and section.allocated) or section.type != SHT_PROGBITS:
            continue
        for insn in disassembler.disasm(tables.read(section), 0):
            groups = insn.groups
            if rethunk and CS_GRP_RET in groups:
                option = rethunk
            elif retpoline and (CS_GRP_CALL in groups or CS_GRP_JUMP in groups) and \
                    any(op.type in (X86_OP_REG, X86_OP_MEM) for op in insn.operands):
                option = retpoline
            else:
                continue
            if any(start <= insn.address < end for start, end in patched.get(section.index, ())):
                continue        # a paravirt site: the loader patches it first
            function = symbols.function_at(section.index, insn.address) if symbols else "?"
            yield section.name, insn.address, function, f"{insn.mnemonic} {insn.op_str}".strip(), option
