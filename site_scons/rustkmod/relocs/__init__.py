"""Does the module loader of a given kernel accept every relocation in an ELF object?

policy: which types each architecture's loader applies, from which kernel version, with sources.
reader: relocation entries decoded in bulk from the sections the loader actually applies.
check:  the verdict for one file, as a list of problems.
report: problems grouped and counted, in words people act on.
"""

from .check import Problem, Verdict, check_file
from .policy import policy_for
from .report import format_report

__all__ = ["Problem", "Verdict", "check_file", "policy_for", "format_report"]
