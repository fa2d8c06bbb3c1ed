"""The kernel's own objtool, run on the Rust object the way Kbuild runs it on C objects.

objtool validates the code (stack, retpoline, return thunk and SLS rules) and writes what the
kernel needs to patch and unwind it: .retpoline_sites, .return_sites, ORC tables. Kbuild never
runs it on a prebuilt (shipped) object, so rustkmod does. The command is the kernel's: a throwaway
Kbuild directory asks the tree's own make for `$(objtool)` and its arguments (`objtool-args` on
6.x, `objtool_args` on 5.10), and whether Kbuild already runs objtool on the linked module
(`delay-objtool`, e.g. on IBT kernels), in which case the Rust code is covered there.
"""

from __future__ import annotations

import os
import shlex
import struct
import tempfile
from collections import Counter
from typing import NamedTuple

from rustkmod.kernel import suite_roots
from rustkmod import process
from rustkmod.errors import RustkmodError
from rustkmod.kernel.kbuild import probe_module

_PROBE = """always-y := rustkmod-objtool-probe
$(obj)/rustkmod-objtool-probe: FORCE
\t@echo 'rustkmod-objtool=$(objtool)$(__objtool_obj)'
\t@echo 'rustkmod-args=$(objtool-args)$(objtool_args)'
\t@echo 'rustkmod-delay=$(delay-objtool)'
"""


class ObjtoolPlan(NamedTuple):
    command: tuple       # objtool and its arguments, without the object file
    delayed: bool        # Kbuild runs objtool on the linked module itself
    root: str = ""       # the build root objtool runs in (suite_roots.py), or ""


def plan(kdir: str, make_variables: list[str]) -> ObjtoolPlan | None:
    """How this kernel's Kbuild runs objtool on module objects; None when it does not."""
    with probe_module(kdir, make_variables, {"Kbuild": _PROBE}, "modules") as (result, _):
        values = dict(line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("rustkmod-"))
    root = suite_roots.root_of(kdir)
    if "rustkmod-objtool" not in values:
        last = process.last_line(result.stderr)
        raise RustkmodError(f"KDIR={kdir}: cannot ask Kbuild how it runs objtool ({last})",
                            "check the tree builds external modules (make -C KDIR M=... modules)")
    objtool, args = values["rustkmod-objtool"].strip(), values["rustkmod-args"].split()
    if not objtool or not args:
        return None
    # $(objtree) is "." under make -C (an absolute path from 7.x on), as seen in the build root
    objtool = root + os.path.normpath(os.path.join(suite_roots.inside(root, kdir), objtool))
    if not os.path.isfile(objtool):
        raise RustkmodError(f"KDIR={kdir} names objtool {objtool}, which is missing",
                            "build it (make -C KDIR tools/objtool) or pass OBJTOOL=off")
    return ObjtoolPlan((objtool, *args), bool(values.get("rustkmod-delay", "").strip()), root)


class ObjtoolResult(NamedTuple):
    status: int          # objtool's exit status: non-zero is objtool's own failure, not a finding
    lines: tuple         # what it printed that names objtool
    command: str

    @property
    def warnings(self) -> tuple:
        return self.lines


def run(plan_: ObjtoolPlan, obj: str) -> ObjtoolResult:
    """Runs objtool on `obj` in place, as for an object that is part of a module (and already
    linked, as `ld -r` made it).

    objtool exits 0 after warnings about the code (every version up to 7.x, unless built with
    --Werror, which Kbuild does not pass for modules); a non-zero exit means it could not do its
    work: a full disk during the rewrite, a damaged object.
    """
    args = list(plan_.command)
    # 5.10's objtool takes a subcommand (`objtool orc generate ...`) and has no --link, which
    # came with the 5.19 command line; an `ld -r` output needs it there.
    old_command_line = args[1] in ("check", "orc")
    command = args + (["--module"] if old_command_line else ["--module", "--link"]) + [obj]
    command[0] = suite_roots.inside(plan_.root, command[0])
    directory = os.path.dirname(os.path.abspath(obj))
    try:
        result = process.run(suite_roots.command(plan_.root, command, directory, [directory]),
                              capture_output=True, text=True)
    except OSError as err:
        return ObjtoolResult(127, (f"objtool: {err}",), shlex.join(command))
    lines = tuple(line for line in (result.stdout + result.stderr).splitlines()
                  if "objtool:" in line and "forcing --link" not in line)
    return ObjtoolResult(result.returncode, lines, shlex.join(command))



_CALL_REL32 = 0xE8
_MARK = "__rustkmod_dead_end_"


def annotate_dead_ends(path: str, binutils_prefix: str = "", workdir: str | None = None) -> int:
    """Marks, for objtool, every x86_64 function in `path` that ends with a call: returns how many.

    LLVM ends a function with a call only when the callee never returns (a Rust `-> !` function:
    the panic handler, `handle_alloc_error`, a C wrapper declared `-> !`). objtool knows no Rust
    noreturn function, and cannot follow rustc's allocator shim, so it would report "unexpected
    end of section" there. The kernel's C code says the same thing with `unreachable()`, which
    records the address after the call in `.discard.unreachable`; rustkmod writes those records
    for the Rust object. The section is not allocated and Kbuild's module linker script discards
    it: the module's code is unchanged.
    """
    from rustkmod.elf.reader import SHN_LORESERVE, SHT_RELA, STT_FUNC, ElfTables, damaged_elf_errors
    with damaged_elf_errors(path), open(path, "rb") as stream:
        tables = ElfTables(stream, path)
        symbols = tables.symbols
        if tables.elf["e_machine"] != "EM_X86_64" or symbols is None:
            return 0
        names = [s.name for s in tables.sections]
        call_sites = set()
        for section in tables.sections:
            if section.type == SHT_RELA and 0 < section.info < len(tables.sections):
                table = tables.decode(section)
                call_sites.update((section.info, offset) for offset in table.offsets.tolist())
        counts = Counter(names)           # a section name given twice cannot be named to objcopy
        ends = set()
        for i in range(len(symbols)):
            home, size = symbols.shndx[i], symbols.sizes[i]
            if symbols.type(i) != STT_FUNC or not 0 < home < SHN_LORESERVE or size < 5:
                continue
            end = symbols.values[i] + size
            code = tables.read(tables.sections[home])
            if end <= len(code) and code[end - 5] == _CALL_REL32 and (home, end - 4) in call_sites \
                    and counts[names[home]] == 1:
                ends.add((names[home], end))
    if not ends:
        return 0
    marks = {f"{_MARK}{n}": where for n, where in enumerate(sorted(ends))}
    with tempfile.TemporaryDirectory(prefix="rustkmod-dead-ends-", dir=workdir) as work:
        source, notes, merged = (os.path.join(work, n) for n in ("dead-ends.s", "dead-ends.o", "merged.o"))
        with open(source, "w") as handle:
            handle.write(".section .discard.unreachable,\"\",@progbits\n")
            handle.writelines(f".long {mark} - .\n" for mark in marks)
        adds = [f"--add-symbol={mark}={section}:{end},global" for mark, (section, end) in marks.items()]
        _tool([binutils_prefix + "objcopy", *adds, path])
        _tool([binutils_prefix + "as", "-o", notes, source])
        _tool([binutils_prefix + "ld", "-r", "-o", merged, path, notes])
        _to_section_symbols(merged, set(marks))
        strip = [f"--strip-symbol={mark}" for mark in marks]
        _tool([binutils_prefix + "objcopy", *strip, merged, path])
    return len(marks)


def _tool(command: list[str]) -> None:
    process.run_checked(command, f"{command[0]} (annotating the Rust object's dead ends)",
                        "check the binutils for the kernel's architecture are installed (./setup)")


def _to_section_symbols(path: str, marks: set) -> None:
    """Points the relocations that name one of `marks` at the mark's section symbol instead, with
    the mark's offset in the addend: objtool reads `.discard.unreachable` only in that form."""
    from rustkmod.elf.reader import SHT_RELA, STT_SECTION, ElfTables, damaged_elf_errors
    with damaged_elf_errors(path), open(path, "r+b") as stream:
        tables = ElfTables(stream, path)
        symbols = tables.symbols
        section_symbol = {symbols.shndx[i]: i for i in range(len(symbols)) if symbols.type(i) == STT_SECTION}
        patches = []
        for section in tables.sections:
            if section.type != SHT_RELA or section.name != ".rela.discard.unreachable":
                continue
            table = tables.decode(section)
            for i, index in enumerate(table.symbols.tolist()):
                if symbols.name(index) not in marks:
                    continue
                home = symbols.shndx[index]
                addend = int(table.addends[i])
                patches.append((table.file_offset + i * table.entry_size + 8, struct.pack(
                    tables.endian + "Qq", section_symbol[home] << 32 | int(table.types[i]), addend + symbols.values[index])))
        for where, data in patches:
            stream.seek(where)
            stream.write(data)
