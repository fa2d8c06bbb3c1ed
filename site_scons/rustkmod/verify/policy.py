"""Which relocation types each kernel's module loader applies: data, with a source per row.

Names and numbers come from `names.py` (pyelftools' enums plus what they lack). Versions come from
the loaders' sources as collected in shared/research/relocs.md: arch/x86/kernel/module.c,
arch/arm64/kernel/module.c, arch/riscv/kernel/module.c, arch/arm/kernel/module.c, read at the
tags named per row. Where only a bracket is known (a stable backport seen "somewhere in
4.4.122-4.4.126"), the table takes the release it was seen present in: the verifier may then
refuse a module a kernel would load, never the other way round.
"""

from __future__ import annotations

from typing import NamedTuple

from rustkmod.errors import RustkmodError
from rustkmod.kernel.tree import LAST_MINOR, format_version, option_enabled
from rustkmod.verify.names import TYPE_NAMES

Version = tuple  # (major, minor[, sublevel])
EVERY = (0, 0)   # "before 4.4": in every loader examined


class Acceptance(NamedTuple):
    """From which kernel version a loader applies one relocation type."""

    since: Version | None           # first mainline release; None: no kernel applies it
    source: str                     # where this was read
    backports: tuple = ()           # stable releases that got it earlier: ((4, 4, 126), ...)
    # Refused anyway while the kernel has this config option on, before this version:
    # ("CONFIG_ARM64_ERRATUM_843419", (4, 18)).
    unless_config: tuple | None = None
    # Applied only while the kernel has this option on (its case sits inside an #ifdef), and
    # whether to assume it on without a .config: ("CONFIG_THUMB2_KERNEL", False).
    only_with: tuple | None = None

    def accepts(self, version: Version, config: dict | None = None) -> bool:
        if self.only_with and not option_enabled(config, *self.only_with):
            return False
        if self.unless_config:
            option, fixed_in = self.unless_config
            # An unknown config is taken at the option's default (y for the erratum workaround).
            if option_enabled(config, option) and tuple(version) < fixed_in:
                return False
        if self.since is not None and tuple(version) >= self.since:
            return True
        return any(tuple(version[:2]) == b[:2] and tuple(version) >= b for b in self.backports)

    def describe(self, arch: str) -> str:
        if self.since is None:
            return f"no {arch} kernel"
        text = "every kernel" if self.since == EVERY else f"Linux {format_version(self.since)} and later"
        if self.backports:
            text += " (stable backports: " + ", ".join(f"{format_version(b)}+" for b in self.backports) + ")"
        if self.unless_config:
            option, fixed_in = self.unless_config
            text += f", but not before {format_version(fixed_in)} on kernels with {option}=y"
        if self.only_with:
            text += f", only on kernels with {self.only_with[0]}=y"
        return text


class ArchPolicy(NamedTuple):
    """One architecture's loader: the types it applies and the fix for each it does not."""

    arch: str
    e_machine: str                  # pyelftools' name for the ELF machine
    uses_rela: bool                 # RELA (x86_64, arm64, riscv) or REL (i386, arm)
    loader_source: str              # the file holding apply_relocate[_add]()
    unknown_message: str            # what the loader prints for a type it has no case for
    accepted: dict                  # name -> Acceptance
    fixes: dict                     # name -> how to avoid the type
    default_fix: str
    # Types the loader applies but whose value cannot fit for any kernel or module address
    # unless the symbol is absolute (SHN_ABS): name -> fix.
    overflow_unless_absolute: dict = {}
    # Types the loader knows but always refuses with a message of their own: name -> message.
    always_refused: dict = {}
    # Types RELOCS=fix rewrites (same meaning for a module): from name -> to name, and the
    # kernels that need it.
    rewrites: dict = {}
    # The loader refuses a relocation whose target bytes are not zero (x86_64 from 4.14):
    # name -> width in bytes, and from which kernel.
    zeroed_targets: dict = {}
    zeroed_since: Acceptance | None = None

    @property
    def type_names(self) -> dict:
        return TYPE_NAMES[self.arch]

    def type_name(self, number: int) -> str:
        return self.type_names.get(number, f"unknown type {number}")

    def acceptance(self, number: int) -> Acceptance:
        name = self.type_names.get(number)
        return self.accepted.get(name, Acceptance(None, f"{self.loader_source}: no case for it"))

    def fix_for(self, number: int) -> str:
        return self.fixes.get(self.type_names.get(number), self.default_fix)

    def loader_says(self, number: int) -> str:
        name = self.type_names.get(number)
        if name in self.always_refused:
            return self.always_refused[name]
        return self.unknown_message.format(number=number)


def _rows(names: str, since: Version | None, source: str, **kwargs) -> dict:
    return {name: Acceptance(since, source, **kwargs) for name in names.split()}


# --------------------------------------------------------------------------------------------
# x86_64: arch/x86/kernel/module.c, 64-bit apply_relocate_add(), RELA.

_X86 = "arch/x86/kernel/module.c"
_X86_GOT_FIX = ("build the crate and core with -Crelocation-model=static -Zplt=yes and -Zbuild-std "
                "(RUST_PROFILE=kernel, rustkmod's default)")
_TLS_FIX = "a kernel module has no thread-local storage: remove #[thread_local] and std-only code"

X86_64 = ArchPolicy(
    arch="x86_64", e_machine="EM_X86_64", uses_rela=True, loader_source=_X86,
    unknown_message="module: MODULE: Unknown rela relocation: {number}",
    accepted={
        **_rows("R_X86_64_NONE R_X86_64_64 R_X86_64_PC32 R_X86_64_32 R_X86_64_32S", EVERY,
                f"{_X86}, 4.4.121 ... 7.2.13"),
        # b21ebf2fb4cd "x86: Treat R_X86_64_PLT32 as R_X86_64_PC32", first in v4.16.
        **_rows("R_X86_64_PLT32", (4, 16),
                "b21ebf2fb4cd (v4.16); present in 3.16.82, 4.4.126, 4.9.88, 4.14.67, 4.15.11",
                backports=((3, 16, 82), (4, 4, 126), (4, 9, 88), (4, 14, 67), (4, 15, 11))),
        # b40a142b12b5 "x86: Add support for 64-bit place relative relocations"; not in 4.19.y.
        **_rows("R_X86_64_PC64", (4, 20), "b40a142b12b5 (v4.20); absent in 4.19.222"),
    },
    fixes={
        "R_X86_64_PLT32": ("build with RELOCS=fix: rustkmod rewrites PLT32 to PC32, which the loader "
                           "treats identically from 4.16 on (no rustc flag avoids PLT32 for calls)"),
        "R_X86_64_PC64": "avoid 64-bit place-relative data (pointer differences stored as i64)",
        **{name: _X86_GOT_FIX for name in (
            "R_X86_64_GOT32 R_X86_64_GOTPCREL R_X86_64_GOTPCRELX R_X86_64_REX_GOTPCRELX R_X86_64_GOTOFF64 "
            "R_X86_64_GOTPC32 R_X86_64_GOT64 R_X86_64_GOTPCREL64 R_X86_64_GOTPC64 R_X86_64_GOTPLT64 "
            "R_X86_64_PLTOFF64").split()},
        **{name: _TLS_FIX for name in (
            "R_X86_64_TLSGD R_X86_64_TLSLD R_X86_64_DTPOFF32 R_X86_64_GOTTPOFF R_X86_64_TPOFF32 "
            "R_X86_64_DTPMOD64 R_X86_64_DTPOFF64 R_X86_64_TPOFF64 R_X86_64_GOTPC32_TLSDESC "
            "R_X86_64_TLSDESC_CALL R_X86_64_TLSDESC").split()},
    },
    default_fix="the loader has no case for this type: build with RUST_PROFILE=kernel",
    overflow_unless_absolute={
        "R_X86_64_32": ("modules live above 0xffffffff80000000, beyond 32 unsigned bits: build with "
                        "-Ccode-model=kernel (RUST_PROFILE=kernel) so addresses use R_X86_64_32S"),
    },
    rewrites={"R_X86_64_PLT32": "R_X86_64_PC32"},
    zeroed_targets={"R_X86_64_64": 8, "R_X86_64_PC64": 8, "R_X86_64_PC32": 4, "R_X86_64_PLT32": 4,
                    "R_X86_64_32": 4, "R_X86_64_32S": 4},
    # eda9cec4c9a1 "x86/module: Detect and skip invalid relocations" (v4.14); backported to
    # 4.9.y (4.9.81-88) and 4.4.y (4.4.122-126).
    # A refusal: the lower end of each bracket is the conservative one.
    zeroed_since=Acceptance((4, 14), "eda9cec4c9a1 (v4.14)", backports=((4, 4, 122), (4, 9, 81))),
)

# --------------------------------------------------------------------------------------------
# i386: arch/x86/kernel/module.c, 32-bit apply_relocate(), REL. R_386_NONE has no case.

I386 = ArchPolicy(
    arch="i386", e_machine="EM_386", uses_rela=False, loader_source=_X86,
    unknown_message="module: MODULE: Unknown relocation: {number}",
    accepted={
        **_rows("R_386_32 R_386_PC32", EVERY, f"{_X86}, 4.4 ... 7.2"),
        # bb73d07148c4 "x86/build: Treat R_386_PLT32 relocation as R_386_PC32" (v5.12).
        **_rows("R_386_PLT32", (5, 12), "bb73d07148c4 (v5.12); stable 5.10.21, 5.4.103, 4.19.222, 4.14.224",
                backports=((4, 14, 224), (4, 19, 222), (5, 4, 103), (5, 10, 21))),
    },
    fixes={"R_386_PLT32": "build with RELOCS=fix: rustkmod rewrites R_386_PLT32 to R_386_PC32",
           "R_386_NONE": "the i386 loader has no case even for R_386_NONE: relink without it"},
    default_fix="build with -Crelocation-model=static and -Zbuild-std (RUST_PROFILE=kernel)",
    rewrites={"R_386_PLT32": "R_386_PC32"},
)

# --------------------------------------------------------------------------------------------
# arm64: arch/arm64/kernel/module.c (+ module-plts.c), RELA. Same set 4.4.121 ... 7.2.13.

_ARM64 = "arch/arm64/kernel/module.c"
ARM64 = ArchPolicy(
    arch="arm64", e_machine="EM_AARCH64", uses_rela=True, loader_source=_ARM64,
    unknown_message="module MODULE: unsupported RELA relocation: {number}",
    accepted={
        **_rows("R_AARCH64_NONE R_AARCH64_ABS64 R_AARCH64_ABS32 R_AARCH64_ABS16 R_AARCH64_PREL64 "
                "R_AARCH64_PREL32 R_AARCH64_PREL16 R_AARCH64_MOVW_UABS_G0 R_AARCH64_MOVW_UABS_G0_NC "
                "R_AARCH64_MOVW_UABS_G1 R_AARCH64_MOVW_UABS_G1_NC R_AARCH64_MOVW_UABS_G2 "
                "R_AARCH64_MOVW_UABS_G2_NC R_AARCH64_MOVW_UABS_G3 R_AARCH64_MOVW_SABS_G0 "
                "R_AARCH64_MOVW_SABS_G1 R_AARCH64_MOVW_SABS_G2 R_AARCH64_LD_PREL_LO19 "
                "R_AARCH64_ADR_PREL_LO21 R_AARCH64_ADD_ABS_LO12_NC R_AARCH64_LDST8_ABS_LO12_NC "
                "R_AARCH64_LDST16_ABS_LO12_NC R_AARCH64_LDST32_ABS_LO12_NC R_AARCH64_LDST64_ABS_LO12_NC "
                "R_AARCH64_LDST128_ABS_LO12_NC R_AARCH64_TSTBR14 R_AARCH64_CONDBR19 R_AARCH64_JUMP26 "
                "R_AARCH64_CALL26 R_AARCH64_MOVW_PREL_G0 R_AARCH64_MOVW_PREL_G0_NC R_AARCH64_MOVW_PREL_G1 "
                "R_AARCH64_MOVW_PREL_G1_NC R_AARCH64_MOVW_PREL_G2 R_AARCH64_MOVW_PREL_G2_NC "
                "R_AARCH64_MOVW_PREL_G3", EVERY, f"{_ARM64}, 4.4.121 ... 7.2.13"),
        # R_ARM_NONE (0) shares the case with R_AARCH64_NONE in every version.
        "R_ARM_NONE": Acceptance(EVERY, f"{_ARM64}: case R_ARM_NONE"),
        # ADRP: inside #ifndef CONFIG_ARM64_ERRATUM_843419 up to 4.17; a257e02579e4
        # "arm64/kernel: don't ban ADRP to work around Cortex-A53 erratum #843419" (v4.18).
        **_rows("R_AARCH64_ADR_PREL_PG_HI21 R_AARCH64_ADR_PREL_PG_HI21_NC", EVERY,
                "a257e02579e4 (v4.18) lifted the erratum 843419 ban",
                unless_config=("CONFIG_ARM64_ERRATUM_843419", (4, 18))),
    },
    fixes={
        "R_AARCH64_ADR_PREL_PG_HI21": ("kernels before 4.18 with erratum 843419 build modules with "
                                       "-mcmodel=large: build Rust with -Ccode-model=large"),
        "R_AARCH64_ADR_PREL_PG_HI21_NC": ("kernels before 4.18 with erratum 843419 build modules with "
                                          "-mcmodel=large: build Rust with -Ccode-model=large"),
        **{name: "build with -Crelocation-model=static and -Zbuild-std (RUST_PROFILE=kernel)" for name in (
            "R_AARCH64_ADR_GOT_PAGE R_AARCH64_LD64_GOT_LO12_NC R_AARCH64_LD64_GOTPAGE_LO15 "
            "R_AARCH64_PLT32 R_AARCH64_GOT_LD_PREL19 R_AARCH64_RELATIVE R_AARCH64_GLOB_DAT "
            "R_AARCH64_JUMP_SLOT").split()},
    },
    default_fix=("build with RUST_PROFILE=kernel (static relocation model, core rebuilt); "
                 "thread-local storage cannot be used in a module"),
    overflow_unless_absolute={
        **{name: ("32- and 16-bit absolute addresses cannot hold a kernel or module address "
                  "(0xffff...): store a pointer-sized value or an offset instead")
           for name in ("R_AARCH64_ABS32", "R_AARCH64_ABS16")},
        # The MOVW groups the loader checks for overflow (reloc_insn_movw with RELOC_OP_ABS and
        # the overflow check): a module address (0xffff8...) fits none of them but the top group.
        # Seen refused by booting Debian's 6.1 (tests/e2e/test_differential.py).
        **{name: ("a MOVZ/MOVK group with an overflow check cannot hold a module address: use the "
                  "_NC forms with all four groups (-Ccode-model=large), or ADRP/ADD (the default small model)")
           for name in ("R_AARCH64_MOVW_UABS_G0", "R_AARCH64_MOVW_UABS_G1", "R_AARCH64_MOVW_UABS_G2",
                        "R_AARCH64_MOVW_SABS_G0", "R_AARCH64_MOVW_SABS_G1")}},
)

# --------------------------------------------------------------------------------------------
# riscv64: arch/riscv/kernel/module.c, RELA; a table indexed by type.

_RISCV = "arch/riscv/kernel/module.c"
_NO_RELAX = ("build without linker relaxation, as Kbuild builds modules (-mno-relax): "
             "-Ctarget-feature=-relax")
RISCV64 = ArchPolicy(
    arch="riscv64", e_machine="EM_RISCV", uses_rela=True, loader_source=_RISCV,
    unknown_message="MODULE: Unknown relocation type {number}",
    accepted={
        **_rows("R_RISCV_64 R_RISCV_BRANCH R_RISCV_JAL R_RISCV_CALL_PLT R_RISCV_PCREL_HI20 "
                "R_RISCV_PCREL_LO12_I R_RISCV_PCREL_LO12_S R_RISCV_RELAX", (4, 15),
                "the first riscv module loader (v4.15); 4.15.11"),
        **_rows("R_RISCV_32 R_RISCV_RVC_BRANCH R_RISCV_RVC_JUMP R_RISCV_HI20 R_RISCV_LO12_I "
                "R_RISCV_LO12_S R_RISCV_GOT_HI20 R_RISCV_CALL R_RISCV_ADD32 R_RISCV_SUB32", (4, 17),
                "Zong Li's series (e21d54219c7a ... 4aad074c9c1d), v4.17; absent 4.15.11"),
        **_rows("R_RISCV_ADD64 R_RISCV_SUB64", (5, 9), "11a54f422b0d (v5.9); absent 5.4.286"),
        **_rows("R_RISCV_ADD16 R_RISCV_SUB16", (6, 3), "Andrew Jones, v6.3; absent 6.1.192, present 6.6.87"),
        **_rows("R_RISCV_ADD8 R_RISCV_SUB8 R_RISCV_SUB6 R_RISCV_SET6 R_RISCV_SET8 R_RISCV_SET16 "
                "R_RISCV_SET32 R_RISCV_32_PCREL R_RISCV_PLT32 R_RISCV_SET_ULEB128 R_RISCV_SUB_ULEB128",
                (6, 7), "8fd6c5142395 'riscv: Add remaining module relocations' (v6.7); absent 6.6.87"),
    },
    fixes={
        "R_RISCV_ALIGN": _NO_RELAX,
        **{name: _NO_RELAX + ", and no unwind tables (-Cforce-unwind-tables=n)" for name in (
            "R_RISCV_ADD8 R_RISCV_SUB8 R_RISCV_SUB6 R_RISCV_SET6 R_RISCV_SET8 R_RISCV_SET16 "
            "R_RISCV_SET32 R_RISCV_SET_ULEB128 R_RISCV_SUB_ULEB128 R_RISCV_ADD16 R_RISCV_SUB16").split()},
    },
    default_fix="build with -Crelocation-model=static, -Ccode-model=medium and -Zbuild-std",
    always_refused={
        "R_RISCV_ALIGN": "MODULE: The unexpected relocation type 'R_RISCV_ALIGN' from PC = ...",
    },
    # apply_r_riscv_32_rela: "value ... out of range for 32-bit field" for a module address
    # (0xffffffff0...); seen refused by booting Debian 13's 6.12 (tests/e2e/test_differential.py).
    overflow_unless_absolute={
        "R_RISCV_32": ("a 32-bit field cannot hold a kernel or module address (0xffffffff...): store a "
                       "pointer-sized value or an offset instead"),
    },
)

# --------------------------------------------------------------------------------------------
# 32-bit arm: arch/arm/kernel/module.c, REL.

_ARM = "arch/arm/kernel/module.c"
ARM = ArchPolicy(
    arch="arm", e_machine="EM_ARM", uses_rela=False, loader_source=_ARM,
    unknown_message="MODULE: unknown relocation: {number}",
    accepted={
        **_rows("R_ARM_NONE R_ARM_PC24 R_ARM_ABS32 R_ARM_CALL R_ARM_JUMP24 R_ARM_TARGET1 R_ARM_V4BX "
                "R_ARM_PREL31 R_ARM_MOVW_ABS_NC R_ARM_MOVT_ABS", EVERY, f"{_ARM}, 4.4.121 ... 7.2.13"),
        **_rows("R_ARM_REL32 R_ARM_MOVW_PREL_NC R_ARM_MOVT_PREL",
                (5, 11), "22f2d23098f7 (v5.11); absent 5.10.262, present 5.15.135"),
        # Thumb-2 code: the cases are inside #ifdef CONFIG_THUMB2_KERNEL (Debian's armmp has it
        # off, and its 6.1 loader refuses all six: the differential test).
        **_rows("R_ARM_THM_CALL R_ARM_THM_JUMP24 R_ARM_THM_MOVW_ABS_NC R_ARM_THM_MOVT_ABS", EVERY,
                f"{_ARM}, #ifdef CONFIG_THUMB2_KERNEL", only_with=("CONFIG_THUMB2_KERNEL", False)),
        **_rows("R_ARM_THM_MOVW_PREL_NC R_ARM_THM_MOVT_PREL", (5, 11),
                "22f2d23098f7 (v5.11), #ifdef CONFIG_THUMB2_KERNEL", only_with=("CONFIG_THUMB2_KERNEL", False)),
        # Between 5.16 and 6.1 (exact tag not verified): the release it was seen in; inside
        # #ifdef CONFIG_ARM_HAS_GROUP_RELOCS (on unless linked with an old lld).
        **_rows("R_ARM_ALU_PC_G0_NC R_ARM_ALU_PC_G1_NC R_ARM_LDR_PC_G2", (6, 1),
                "PC-relative group relocations; absent 5.15.135, present 6.1.192",
                only_with=("CONFIG_ARM_HAS_GROUP_RELOCS", True)),
    },
    fixes={"R_ARM_TARGET2": "TARGET2 comes from unwind tables: build with -Cpanic=abort -Cforce-unwind-tables=n"},
    default_fix="build with -Crelocation-model=static and -Zbuild-std (RUST_PROFILE=kernel)",
)

POLICIES = {policy.arch: policy for policy in (X86_64, I386, ARM64, RISCV64, ARM)}


def policy_for(arch: str) -> ArchPolicy:
    try:
        return POLICIES[arch]
    except KeyError:
        raise RustkmodError(f"no relocation policy for ARCH {arch}",
                            "rustkmod verifies: " + ", ".join(sorted(POLICIES))) from None


# The newest release whose loaders these tables were read against.
# 7.2's loader sources agree with these tables for every architecture (tests/e2e/test_new_kernels.py),
# and the differential test boots 7.2 (x86_64, arm64) and 7.3 with every probe.
NEWEST_KNOWN = (7, 3)


def known_release(version: tuple) -> bool:
    """Whether `version` names a Linux release that exists and the tables cover."""
    major, minor = tuple(version)[:2]
    if major in LAST_MINOR:
        return minor <= LAST_MINOR[major]
    return (major, minor) <= NEWEST_KNOWN
