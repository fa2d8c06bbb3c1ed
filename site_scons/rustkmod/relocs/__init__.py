"""Does the module loader of a given kernel accept an ELF object?

names:   relocation type numbers and names per architecture (pyelftools' enums, completed).
policy:  which types each architecture's loader applies, from which kernel version, with sources.
loader_source: the same, read from a kernel tree's own arch/<arch>/kernel/module.c.
reader:  relocation entries decoded in bulk from the sections the loader actually applies.
check:   the verdict for one file against one LoaderTarget, as a list of problems.
target:  a LoaderTarget gathered from a kernel tree (version, .config, Module.symvers, source).
report:  problems grouped and counted, in words people act on.
fix:     RELOCS=fix, rewriting types the loader treats identically (PLT32 -> PC32).
"""

from .check import LoaderTarget, Problem, Verdict, check_file
from .policy import policy_for
from .report import format_report
from .target import target_for_kernel

__all__ = ["LoaderTarget", "Problem", "Verdict", "check_file", "policy_for", "format_report",
           "target_for_kernel"]
