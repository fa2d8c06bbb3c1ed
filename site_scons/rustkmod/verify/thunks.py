"""On x86 kernels built with retpolines and return thunks, no bare indirect branch or `ret` may
remain in a module: each would run unprotected inside a protected kernel (and, without
.retpoline_sites/.return_sites, the kernel cannot even patch it). Found by disassembling every
executable section with capstone.

A paravirt call site is no such branch: the C of a spinlock or an irq flag operation compiles to
`call *pv_ops+N` on a paravirt kernel, listed in `.parainstructions`, and the loader replaces it
with a direct call or inline code before the module runs (apply_paravirt; objtool accepts it as
retpoline-safe). Those sites are skipped."""

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


def paravirt_sites(tables, symbols) -> dict[int, list[tuple[int, int]]]:
    """{section index: [(start, end), ...]} of the code the loader patches from `.parainstructions`.

    Each entry (struct paravirt_patch_site) is a pointer to the site, relocated against the code,
    then a type byte and a length byte."""
    section = next((s for s in tables.sections if s.name == PARAVIRT_SITES), None)
    if section is None or symbols is None:
        return {}
    data, word = tables.read(section), tables.bits // 8
    sites: dict[int, list[tuple[int, int]]] = {}
    for rela in tables.relocation_tables():
        if rela.target_index != section.index or rela.addends is None:
            continue
        for offset, symbol, addend in zip(rela.offsets.tolist(), rela.symbols.tolist(), rela.addends.tolist()):
            if offset + word + 1 >= len(data) or symbol >= len(symbols):
                continue
            start = symbols.values[symbol] + addend
            sites.setdefault(symbols.shndx[symbol], []).append((start, start + data[offset + word + 1]))
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
