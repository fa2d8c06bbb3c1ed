"""Does the module loader of a given kernel accept an ELF object?

names:   relocation type numbers and names per architecture (pyelftools' enums, completed).
policy:  which types each architecture's loader applies, from which kernel version, with sources.
loader_source: the same, read from a kernel tree's own arch/<arch>/kernel/module.c.
check:   the verdict for one file against one LoaderTarget, as a list of problems.
target:  a LoaderTarget gathered from a kernel tree (version, .config, Module.symvers, source).
report:  problems grouped and counted, in words people act on.
fix:     RELOCS=fix, rewriting types the loader treats identically (PLT32 -> PC32).
header:  the ELF header and section table checks the loader makes before relocating.
modinfo: .modinfo as the loader reads it: version magic, license, a second .modinfo.
thunks:  bare indirect branches and returns in a kernel built with retpolines or return thunks.

The ELF reading itself is rustkmod.elf's.
"""

from rustkmod.verify.check import LoaderTarget, Problem, Verdict, check_file
from rustkmod.verify.policy import policy_for
from rustkmod.verify.report import format_report
from rustkmod.verify.target import target_for_kernel

__all__ = ["LoaderTarget", "Problem", "Verdict", "check_file", "policy_for", "format_report",
           "target_for_kernel"]
