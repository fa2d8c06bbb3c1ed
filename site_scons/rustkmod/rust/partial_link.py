"""The crate's staticlib linked into the one relocatable object Kbuild ships into the module.

`ld -r --gc-sections`, rooted at the crate's C-callable symbols: archive extraction pulls whole
members and `core` comes as a few large codegen units, so dropping every function section the
roots do not reach takes hello from 968 KB to 27 KB. Then the two edits the kernel needs: Rust's
`#[used]` .modinfo statics made to join Kbuild's .modinfo (elf.retain), and on x86_64, calls to
noreturn functions marked for objtool (kernel.objtool).
"""

from __future__ import annotations

import contextlib
import os

from rustkmod import process
from rustkmod.elf import symbols
from rustkmod.errors import RustkmodError


def command(archive: str, output: str, roots: list[str], binutils_prefix: str = "") -> list[str]:
    argv = [binutils_prefix + "ld", "-r", "--gc-sections", "-o", output]
    for symbol in roots:
        argv += ["-u", symbol]
    return argv + [archive]


def link(archive: str, crate: str, output: str, binutils_prefix: str = "", dead_ends: bool = False,
         drop_unwind: bool = False, weaken: tuple = ()) -> int:
    """Links `output` from `archive`; returns how many calls to noreturn functions it marked.
    `drop_unwind`: remove .eh_frame, which some architectures' kernel C never has (no unwind
    tables; arch.py's drop_unwind) and whose relocations `ld -r --gc-sections` turns into NONE
    relocations for the functions it drops: types those loaders refuse (the verifier caught both).
    `weaken`: symbols made weak, for the module's C half to define (arch.py's weak_symbols: i386's
    64-bit division, as LLVM calls it with -Zregparm=3 while compiler_builtins takes every
    argument on the stack). Raises RustkmodError (leaving no output) when the crate exports
    nothing or a step fails."""
    roots = symbols.exported_symbols(archive, crate, readelf=binutils_prefix + "readelf")
    if not roots:
        raise RustkmodError(f"{archive}: the crate {crate} exports no C-callable symbol",
                            "mark the functions the C side calls #[unsafe(no_mangle)] pub extern \"C\"")
    argv = command(archive, output, roots, binutils_prefix)
    try:
        result = process.run(argv)          # ld says what went wrong itself
    except FileNotFoundError:
        raise RustkmodError(f"{argv[0]} not found", "install binutils for the kernel's architecture "
                            "(./setup does), or set CROSS_COMPILE") from None
    if result.returncode != 0:
        raise process.failure(result, f"the partial link of {archive} ({argv[0]} -r)")
    from rustkmod.elf.retain import release_modinfo
    try:
        edits = (["--remove-section=.eh_frame", "--remove-section=.rela.eh_frame"] if drop_unwind else []) + \
            [f"--weaken-symbol={name}" for name in weaken]
        if edits:
            process.run_checked([binutils_prefix + "objcopy", *edits, output], f"objcopy on {output}",
                                "check the binutils for the kernel's architecture are installed (./setup)")
        release_modinfo(output)
        if dead_ends:
            from rustkmod.kernel.objtool import annotate_dead_ends
            return annotate_dead_ends(output, binutils_prefix, os.path.dirname(output))
        return 0
    except RustkmodError:
        with contextlib.suppress(FileNotFoundError):
            os.remove(output)            # no half-edited object looks linked
        raise
