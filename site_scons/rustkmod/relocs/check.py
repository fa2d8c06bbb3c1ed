"""The verdict for one ELF object against one kernel's loader: the problems it would hit."""

from __future__ import annotations

import bisect
import subprocess
from collections import Counter
from dataclasses import dataclass

import struct

from elftools.common.exceptions import ELFError
from elftools.elf.sections import SymbolTableSection

from ..errors import RustkmodError
from .policy import ArchPolicy
from .reader import open_elf, relocation_tables


@dataclass(frozen=True)
class Verdict:
    """What the loader would make of one file: the problems, and every type it applies."""

    problems: list
    type_counts: dict      # type name -> number of entries in relocated sections

    @property
    def loadable(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Problem:
    """One relocation the loader would refuse (or apply with an overflow)."""

    kind: str            # "unknown-type" or "overflow"
    file: str
    section: str         # the relocation section, e.g. .rela.text.hello
    offset: int          # r_offset within the target section
    function: str        # demangled function containing the offset, or "?"
    symbol: str          # demangled target symbol
    type_number: int
    type_name: str
    accepted_by: str     # the kernel versions whose loader applies the type
    fix: str


def check_file(path: str, policy: ArchPolicy, version: tuple) -> Verdict:
    """Reads `path` and finds every relocation that `policy`'s loader at `version` refuses."""
    try:
        with open(path, "rb") as stream:
            return _check(stream, path, policy, tuple(version))
    except OSError as err:
        raise RustkmodError(f"{path}: cannot read it ({err.strerror})", "check the path") from None
    except (ELFError, ValueError, KeyError, IndexError, EOFError, AssertionError, OverflowError,
            UnicodeDecodeError, TypeError, struct.error) as err:
        # pyelftools meets a damaged header or table deep inside its parsers.
        raise RustkmodError(f"{path}: damaged ELF file ({type(err).__name__}: {err})",
                            "rebuild it; a truncated or corrupted object cannot be verified") from None


def _check(stream, path: str, policy: ArchPolicy, version: tuple) -> Verdict:
    elf = open_elf(stream, path)
    if elf["e_machine"] != policy.e_machine:
        raise RustkmodError(f"{path}: built for {elf['e_machine']}, but the kernel is {policy.arch}",
                            "build the module for the configured kernel's ARCH")
    if elf["e_type"] != "ET_REL":
        raise RustkmodError(f"{path}: is {elf['e_type']}, a kernel module is a relocatable "
                            "object (ET_REL)", "check the file is a .o or .ko")
    refused = {number for number in policy.type_names
               if not policy.acceptance(number).accepts(version)}
    overflowing = {number for number, name in policy.type_names.items()
                   if name in policy.overflow_unless_absolute}
    symbols = _Symbols(elf, path)
    problems = []
    type_counts = Counter()
    suspicious = refused | overflowing
    for table in relocation_tables(elf, path):
        counts = Counter(table.types)
        type_counts.update(counts)
        refused_here = {t for t in counts if t in suspicious or t not in policy.type_names}
        if not refused_here:
            continue
        for i, number in enumerate(table.types):
            if number not in refused_here:
                continue
            symbol = symbols.entry(table.symbols[i])
            if number in overflowing and number not in refused and symbol["st_shndx"] == "SHN_ABS":
                continue
            problems.append(_problem(policy, path, table, i, number, symbols, symbol,
                                     number in refused or number not in policy.type_names))
    named = {policy.type_name(number): count for number, count in sorted(type_counts.items())}
    return Verdict(_demangled(problems), named)


def _problem(policy, path, table, i, number, symbols, symbol, refused) -> Problem:
    name = policy.type_name(number)
    offset = table.offsets[i]
    if refused:
        kind, fix = "unknown-type", policy.fix_for(number)
    else:
        kind, fix = "overflow", policy.overflow_unless_absolute[name]
    return Problem(kind, path, table.name, offset, symbols.function_at(table.target_index, offset),
                   symbols.name_of(symbol), number, name,
                   policy.acceptance(number).describe(policy.arch), fix)


class _Symbols:
    """The symbol table, with the functions of each section sorted for address look-ups."""

    def __init__(self, elf, path: str):
        self.elf = elf
        self.table = next((s for s in elf.iter_sections() if isinstance(s, SymbolTableSection)
                           and s["sh_type"] == "SHT_SYMTAB"), None)
        if self.table is None:
            raise RustkmodError(f"{path}: has no symbol table", "do not strip modules before verifying")
        self.path = path
        self._functions = None

    def entry(self, index: int):
        if index >= self.table.num_symbols():
            raise RustkmodError(f"{self.path}: relocation names symbol {index}, past the symbol table",
                                "the file is damaged: rebuild it")
        return self.table.get_symbol(index)

    def name_of(self, symbol) -> str:
        if symbol.name:
            return symbol.name
        if symbol["st_info"]["type"] == "STT_SECTION" and isinstance(symbol["st_shndx"], int):
            return self.elf.get_section(symbol["st_shndx"]).name
        return "?"

    def function_at(self, section_index: int, offset: int) -> str:
        if self._functions is None:
            self._functions = {}
            for sym in self.table.iter_symbols():
                if sym["st_info"]["type"] == "STT_FUNC" and isinstance(sym["st_shndx"], int):
                    self._functions.setdefault(sym["st_shndx"], []).append(
                        (sym["st_value"], sym["st_value"] + max(sym["st_size"], 1), sym.name))
            for functions in self._functions.values():
                functions.sort()
        functions = self._functions.get(section_index, [])
        i = bisect.bisect_right(functions, (offset, float("inf"), "")) - 1
        if i >= 0 and functions[i][0] <= offset < functions[i][1]:
            return functions[i][2]
        return "?"


def _demangled(problems: list[Problem]) -> list[Problem]:
    """Rust names as people write them (c++filt knows both v0 and legacy Rust mangling)."""
    names = sorted({n for p in problems for n in (p.function, p.symbol) if n.startswith(("_R", "_ZN"))})
    if not names:
        return problems
    try:
        out = subprocess.run(["c++filt"], input="\n".join(names) + "\n", capture_output=True,
                             text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return problems
    plain = dict(zip(names, out)) if len(out) == len(names) else {}
    return [Problem(p.kind, p.file, p.section, p.offset, plain.get(p.function, p.function),
                    plain.get(p.symbol, p.symbol), p.type_number, p.type_name, p.accepted_by, p.fix)
            for p in problems]
