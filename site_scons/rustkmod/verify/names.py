"""Relocation type numbers and names per architecture: pyelftools' enums, plus what they lack.

Everything pyelftools 0.33 knows comes from it. The rest is added here, in one place, with its
number and source, so that a report never says "unknown type N" for a type the ABI defines.
"""

from __future__ import annotations

from elftools.elf import enums

from rustkmod.kernel.arch import ARCHES

# x86-64 psABI, section 4.4 "Relocation Types".
_X86_64_EXTRA = {"R_X86_64_SIZE32": 32, "R_X86_64_SIZE64": 33, "R_X86_64_GOTPCRELX": 41}

# i386 psABI, "Relocation Types" (R_386_GOT32X added with the relaxation proposal).
_I386_EXTRA = {"R_386_GOT32X": 43}

# AArch64 ELF ABI (ARM IHI 0056), section "Relocation types"; type 0 is also a NONE there, and
# the arm64 loader names it R_ARM_NONE (arch/arm64/include/asm/elf.h).
_AARCH64_EXTRA = {"R_ARM_NONE": 0, "R_AARCH64_LDST128_ABS_LO12_NC": 299, "R_AARCH64_LD64_GOTPAGE_LO15": 313,
                  "R_AARCH64_PLT32": 314, "R_AARCH64_TLSDESC_LD_PREL19": 560,
                  "R_AARCH64_TLSDESC_ADR_PREL21": 561, "R_AARCH64_TLSDESC_ADR_PAGE21": 562,
                  "R_AARCH64_TLSDESC_LD64_LO12": 563, "R_AARCH64_TLSDESC_ADD_LO12": 564,
                  "R_AARCH64_TLSDESC_CALL": 569}

# RISC-V ELF psABI, "Relocations" table; pyelftools has no RISC-V relocation enum at all.
_RISCV = {
    "R_RISCV_NONE": 0, "R_RISCV_32": 1, "R_RISCV_64": 2, "R_RISCV_RELATIVE": 3, "R_RISCV_COPY": 4,
    "R_RISCV_JUMP_SLOT": 5, "R_RISCV_TLS_DTPMOD32": 6, "R_RISCV_TLS_DTPMOD64": 7,
    "R_RISCV_TLS_DTPREL32": 8, "R_RISCV_TLS_DTPREL64": 9, "R_RISCV_TLS_TPREL32": 10,
    "R_RISCV_TLS_TPREL64": 11, "R_RISCV_TLSDESC": 12, "R_RISCV_BRANCH": 16, "R_RISCV_JAL": 17,
    "R_RISCV_CALL": 18, "R_RISCV_CALL_PLT": 19, "R_RISCV_GOT_HI20": 20, "R_RISCV_TLS_GOT_HI20": 21,
    "R_RISCV_TLS_GD_HI20": 22, "R_RISCV_PCREL_HI20": 23, "R_RISCV_PCREL_LO12_I": 24,
    "R_RISCV_PCREL_LO12_S": 25, "R_RISCV_HI20": 26, "R_RISCV_LO12_I": 27, "R_RISCV_LO12_S": 28,
    "R_RISCV_TPREL_HI20": 29, "R_RISCV_TPREL_LO12_I": 30, "R_RISCV_TPREL_LO12_S": 31,
    "R_RISCV_TPREL_ADD": 32, "R_RISCV_ADD8": 33, "R_RISCV_ADD16": 34, "R_RISCV_ADD32": 35,
    "R_RISCV_ADD64": 36, "R_RISCV_SUB8": 37, "R_RISCV_SUB16": 38, "R_RISCV_SUB32": 39,
    "R_RISCV_SUB64": 40, "R_RISCV_GNU_VTINHERIT": 41, "R_RISCV_GNU_VTENTRY": 42, "R_RISCV_ALIGN": 43,
    "R_RISCV_RVC_BRANCH": 44, "R_RISCV_RVC_JUMP": 45, "R_RISCV_GPREL_I": 47, "R_RISCV_GPREL_S": 48,
    "R_RISCV_TPREL_I": 49, "R_RISCV_TPREL_S": 50, "R_RISCV_RELAX": 51, "R_RISCV_SUB6": 52,
    "R_RISCV_SET6": 53, "R_RISCV_SET8": 54, "R_RISCV_SET16": 55, "R_RISCV_SET32": 56,
    "R_RISCV_32_PCREL": 57, "R_RISCV_IRELATIVE": 58, "R_RISCV_PLT32": 59, "R_RISCV_SET_ULEB128": 60,
    "R_RISCV_SUB_ULEB128": 61,
}


def _numbers_to_names(*tables: dict) -> dict[int, str]:
    names = {}
    for table in tables:
        names.update({number: name for name, number in table.items() if not name.startswith("_")})
    return names


# What each ABI adds to pyelftools' enum (arch.py's reloc_enum), by the ABI's relocation prefix.
_ADDED = {"R_X86_64_": _X86_64_EXTRA, "R_386_": _I386_EXTRA, "R_AARCH64_": _AARCH64_EXTRA, "R_RISCV_": _RISCV}

TYPE_NAMES = {arch.name: _numbers_to_names(getattr(enums, arch.reloc_enum) if arch.reloc_enum else {},
                                           _ADDED.get(arch.reloc_prefixes[0], {})) for arch in ARCHES}


def number_of(arch: str, name: str) -> int:
    return next(number for number, known in TYPE_NAMES[arch].items() if known == name)
