"""On x86 kernels built with retpolines and return thunks, no bare indirect branch or `ret` may
remain in a module: each would run unprotected inside a protected kernel (and, without
.retpoline_sites/.return_sites, the kernel cannot even patch it). Found by disassembling every
executable section with capstone."""

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


def bare_branches(tables, symbols, retpoline: str, rethunk: str):
    """Yields (section, offset, function, instruction text, option) for each unprotected branch."""
    import capstone
    from capstone import CS_GRP_CALL, CS_GRP_JUMP, CS_GRP_RET
    from capstone.x86 import X86_OP_MEM, X86_OP_REG
    disassembler = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    disassembler.detail = True
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
            function = symbols.function_at(section.index, insn.address) if symbols else "?"
            yield section.name, insn.address, function, f"{insn.mnemonic} {insn.op_str}".strip(), option
