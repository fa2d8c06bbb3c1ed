"""The module's .modinfo as the loader reads it, and the version magic the kernel expects.

The loader takes the first allocated section named `.modinfo` (find_sec) and reads `tag=value`
strings from it (get_modinfo). A second one is never read: rustc puts a `#[used]
#[link_section = ".modinfo"]` static into a `.modinfo` flagged SHF_GNU_RETAIN, the final link
keeps it apart from modpost's, and whichever comes first hides the other's entries.

What check_modinfo then does with them (kernel/module/main.c):
- no `vermagic`: forced load, "bad vermagic: kernel tainted." (-ENOEXEC without MODULE_FORCE_LOAD);
- a `vermagic` other than the kernel's: "version magic '...' should be '...'", refused; with
  symbol versions (a __versions section) the release word is not compared, only the flags;
- no license, or one that is not GPL-compatible: "module license '...' taints kernel.".
"""

from __future__ import annotations

from typing import NamedTuple

from rustkmod.kernel.arch import of as arch_of
from rustkmod.kernel.tree import option_enabled

# include/linux/license.h: license_is_gpl_compatible()
GPL_COMPATIBLE = frozenset({"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL",
                            "Dual MPL/GPL"})

# What the loader loads but taints the kernel for: the problem kind, and its taint letter.
TAINTING = {"license-taint": "P"}

# arch/x86/include/asm/vermagic.h: MODULE_PROC_FAMILY of 32-bit x86, by the CPU option set
_X86_FAMILIES = (("M486SX", "486SX"), ("M486", "486"), ("M586", "586"), ("M586TSC", "586TSC"),
                 ("M586MMX", "586MMX"), ("MCORE2", "CORE2"), ("MATOM", "ATOM"), ("M686", "686"),
                 ("MPENTIUMII", "PENTIUMII"), ("MPENTIUMIII", "PENTIUMIII"), ("MPENTIUMM", "PENTIUMM"),
                 ("MPENTIUM4", "PENTIUM4"), ("MK6", "K6"), ("MK7", "K7"), ("MK8", "K8"), ("MELAN", "ELAN"),
                 ("MCRUSOE", "CRUSOE"), ("MEFFICEON", "EFFICEON"), ("MWINCHIPC6", "WINCHIPC6"),
                 ("MWINCHIP3D", "WINCHIP3D"), ("MCYRIXIII", "CYRIXIII"), ("MVIAC3_2", "VIAC3-2"),
                 ("MVIAC7", "VIAC7"), ("MGEODEGX1", "GEODEGX1"), ("MGEODE_LX", "GEODE"))
# arch/arm/Makefile: __LINUX_ARM_ARCH__ by the CPU architecture option
_ARM_VERSIONS = (("CPU_32v7M", "7"), ("CPU_32v7", "7"), ("CPU_32v6K", "6"), ("CPU_32v6", "6"),
                 ("CPU_32v5", "5"), ("CPU_32v4T", "4"), ("CPU_32v4", "4"))


def _on(config: dict, option: str) -> bool:
    return option_enabled(config, "CONFIG_" + option, default=False)


def _arch_vermagic(arch: str, config: dict) -> str:
    """MODULE_ARCH_VERMAGIC (arch/<arch>/include/asm/vermagic.h)."""
    if arch_of(arch).vermagic:
        return arch_of(arch).vermagic
    if arch == "i386":
        return next((f"{family} " for option, family in _X86_FAMILIES if _on(config, option)), "")
    if arch == "arm":
        version = next((v for option, v in _ARM_VERSIONS if _on(config, option)), "")
        return (f"ARMv{version} " + ("thumb2 " if _on(config, "THUMB2_KERNEL") else "")
                + ("p2v8 " if _on(config, "ARM_PATCH_PHYS_VIRT") else ""))
    return ""           # x86_64 has none


def expected_vermagic(release: str, arch: str, config: dict) -> str:
    """VERMAGIC_STRING of include/linux/vermagic.h for this release and .config."""
    preempt = ("preempt_rt " if _on(config, "PREEMPT_RT")
               else "preempt " if _on(config, "PREEMPT_BUILD") or _on(config, "PREEMPT") else "")
    return (f"{release} " + ("SMP " if _on(config, "SMP") else "") + preempt
            + ("mod_unload " if _on(config, "MODULE_UNLOAD") else "")
            + ("modversions " if _on(config, "MODVERSIONS") else "") + _arch_vermagic(arch, config))


def same_magic(have: str, want: str, has_versions: bool) -> bool:
    """The loader's comparison: with symbol versions, the release word is skipped."""
    if has_versions:
        have, want = have[len(have.split(" ", 1)[0]):], want[len(want.split(" ", 1)[0]):]
    return have == want


def entries(data: bytes) -> dict[str, str]:
    """{tag: first value} of a .modinfo section's NUL-separated `tag=value` strings."""
    found = {}
    for item in data.split(b"\0"):
        tag, equals, value = item.partition(b"=")
        if equals:
            found.setdefault(tag.decode("utf-8", "replace"), value.decode("utf-8", "replace"))
    return found


class ModinfoProblem(NamedTuple):
    kind: str
    title: str
    fix: str
    loader_says: str


def modinfo_problems(info: dict[str, str], expected: str | None, has_versions: bool) -> list[ModinfoProblem]:
    """What check_modinfo refuses or taints for, from the entries of the .modinfo the loader reads;
    `expected`: the kernel's version magic (None: unknown, not compared)."""
    problems = []
    magic = info.get("vermagic")
    if magic is None:
        problems.append(ModinfoProblem(
            "no-vermagic", "no vermagic in .modinfo",
            "build the module with the kernel's Kbuild, which adds it (a second .modinfo hides it: see its report)",
            "MODULE: bad vermagic: kernel tainted. (refused where CONFIG_MODULE_FORCE_LOAD is off)"))
    elif expected is not None and not same_magic(magic, expected, has_versions):
        problems.append(ModinfoProblem(
            "wrong-vermagic", "version magic of another kernel",
            f"built for '{magic.strip()}', the kernel is '{expected.strip()}': rebuild it against this kernel's tree",
            f"MODULE: version magic '{magic}' should be '{expected}'"))
    license = info.get("license")
    if license not in GPL_COMPATIBLE:
        shown = license if license is not None else "unspecified"
        problems.append(ModinfoProblem(
            "license-taint", f"license '{shown}', not GPL-compatible (taint P)" if license is not None
            else "no license in .modinfo (taint P)",
            'declare MODULE_LICENSE("GPL") (or another GPL-compatible one) in the module\'s C file or its '
            'module! license; if the module is deliberately not GPL-compatible, say so: '
            'RustKernelModule(..., gpl_compatible=False)',
            f"MODULE: module license '{shown}' taints kernel."))
    return problems
