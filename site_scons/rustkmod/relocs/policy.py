"""Which relocation types each kernel's module loader applies: data, with a source per row.

The numbers come from pyelftools' enums; the versions from the loader sources collected in
shared/research/relocs.md (arch/x86/kernel/module.c, read at each tag named below).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from elftools.elf.enums import ENUM_RELOC_TYPE_x64

from ..kernel import format_version

# pyelftools 0.33 lacks these x86_64 types; numbers from the x86-64 psABI, section 4.4
# ("Relocation Types"), where R_X86_64_SIZE32/64 are 32/33 and R_X86_64_GOTPCRELX is 41.
_X64_MISSING_FROM_PYELFTOOLS = {"R_X86_64_SIZE32": 32, "R_X86_64_SIZE64": 33, "R_X86_64_GOTPCRELX": 41}


def _type_names(enum: dict, extra: dict) -> dict[int, str]:
    names = {number: name for name, number in enum.items() if not name.startswith("_")}
    names.update({number: name for name, number in extra.items()})
    return names


Version = tuple  # (major, minor[, sublevel])


@dataclass(frozen=True)
class Acceptance:
    """From which kernel version a loader applies one relocation type."""

    since: Version | None          # first mainline release; None: no kernel applies it
    source: str                    # where this was read
    backports: tuple = ()          # stable releases that got it earlier: ((4, 4, 126), ...)

    def accepts(self, version: Version) -> bool:
        if self.since is not None and tuple(version) >= self.since:
            return True
        return any(tuple(version[:2]) == b[:2] and tuple(version) >= b for b in self.backports)

    def describe(self, arch: str) -> str:
        if self.since is None:
            return f"no {arch} kernel"
        text = "every kernel" if self.since <= (4, 4) else f"Linux {format_version(self.since)} and later"
        if self.backports:
            text += " (stable backports: " + ", ".join(f"{format_version(b)}+" for b in self.backports) + ")"
        return text


@dataclass(frozen=True)
class ArchPolicy:
    """One architecture's loader: the types it applies and the fix for each it does not."""

    arch: str
    e_machine: str                 # pyelftools' name for the ELF machine
    uses_rela: bool                # RELA (x86_64, arm64, riscv) or REL (i386, arm)
    type_names: dict               # number -> name
    accepted: dict                 # name -> Acceptance
    fixes: dict                    # name -> how to avoid the type
    default_fix: str
    # Types the loader applies but whose value cannot fit for any kernel or module address
    # unless the symbol is absolute (SHN_ABS): name -> fix.
    overflow_unless_absolute: dict = field(default_factory=dict)

    def type_name(self, number: int) -> str:
        return self.type_names.get(number, f"unknown type {number}")

    def acceptance(self, number: int) -> Acceptance:
        name = self.type_names.get(number)
        return self.accepted.get(name, _NEVER)

    def fix_for(self, number: int) -> str:
        return self.fixes.get(self.type_names.get(number), self.default_fix)


_X86_SOURCE = "arch/x86/kernel/module.c, apply_relocate_add(), read in 4.4.121 ... 7.2.13"
_NEVER = Acceptance(None, _X86_SOURCE + ": no case for it (default: 'Unknown rela relocation')")

_GOT_FIX = ("build the crate and core with -Crelocation-model=static -Zplt=yes and -Zbuild-std "
            "(RUST_PROFILE=kernel, rustkmod's default)")

X86_64 = ArchPolicy(
    arch="x86_64",
    e_machine="EM_X86_64",
    uses_rela=True,
    type_names=_type_names(ENUM_RELOC_TYPE_x64, _X64_MISSING_FROM_PYELFTOOLS),
    accepted={
        "R_X86_64_NONE": Acceptance((4, 4), _X86_SOURCE),
        "R_X86_64_64": Acceptance((4, 4), _X86_SOURCE),
        "R_X86_64_PC32": Acceptance((4, 4), _X86_SOURCE),
        "R_X86_64_32": Acceptance((4, 4), _X86_SOURCE),
        "R_X86_64_32S": Acceptance((4, 4), _X86_SOURCE),
        # b21ebf2fb4cd "x86: Treat R_X86_64_PLT32 as R_X86_64_PC32", first in v4.16. Stable
        # branches: the first sublevel where it was seen present (conservative where the
        # exact backport release is unknown).
        "R_X86_64_PLT32": Acceptance(
            (4, 16), "b21ebf2fb4cd (v4.16); present in 3.16.82, 4.4.126, 4.9.88, 4.14.67, 4.15.11",
            backports=((3, 16, 82), (4, 4, 126), (4, 9, 88), (4, 14, 67), (4, 15, 11))),
        # b40a142b12b5 "x86: Add support for 64-bit place relative relocations", v4.20; absent
        # in 4.19.y up to 4.19.222.
        "R_X86_64_PC64": Acceptance((4, 20), "b40a142b12b5 (v4.20); not in 4.19.y"),
    },
    fixes={
        "R_X86_64_PLT32": ("no rustc flag avoids it (LLVM emits PLT32 for every call); the loader "
                           "treats it as PC32 from 4.16 on: build for a kernel that accepts it"),
        "R_X86_64_PC64": "avoid 64-bit place-relative data (pointer differences stored as i64)",
        "R_X86_64_GOT32": _GOT_FIX, "R_X86_64_GOTPCREL": _GOT_FIX, "R_X86_64_GOTPCRELX": _GOT_FIX,
        "R_X86_64_REX_GOTPCRELX": _GOT_FIX, "R_X86_64_GOTOFF64": _GOT_FIX,
        "R_X86_64_GOTPC32": _GOT_FIX, "R_X86_64_GOT64": _GOT_FIX, "R_X86_64_GOTPCREL64": _GOT_FIX,
        "R_X86_64_GOTPC64": _GOT_FIX, "R_X86_64_GOTPLT64": _GOT_FIX, "R_X86_64_PLTOFF64": _GOT_FIX,
    },
    default_fix=("the module loader has no case for this type: remove what produces it (thread "
                 "locals, dynamic linking) and build with RUST_PROFILE=kernel"),
    overflow_unless_absolute={
        "R_X86_64_32": ("modules live above 0xffffffff80000000, beyond 32 unsigned bits: build with "
                        "-Ccode-model=kernel (RUST_PROFILE=kernel) so addresses use R_X86_64_32S"),
    },
)

POLICIES = {"x86_64": X86_64}


def policy_for(arch: str) -> ArchPolicy:
    from ..errors import RustkmodError
    try:
        return POLICIES[arch]
    except KeyError:
        raise RustkmodError(f"no relocation policy for ARCH {arch}",
                            "rustkmod verifies: " + ", ".join(sorted(POLICIES))) from None
