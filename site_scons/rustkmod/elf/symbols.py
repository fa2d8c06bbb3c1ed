"""The global symbols of static archives and objects (readelf), and Rust's mangled names made readable.

The partial link keeps what the crate's C-callable symbols reach (exported_symbols); the host
tests' stand-in must define what the crate calls (imported_symbols); the verifier's report names
Rust functions as people write them (demangle).
"""

from __future__ import annotations

import subprocess

from rustkmod import process
from rustkmod.errors import RustkmodError


def is_mangled(symbol: str) -> bool:
    """Rust's v0 (`_R`) and legacy (`_ZN`) mangled names: not part of the C interface."""
    return symbol.startswith(("_R", "_ZN"))


def demangle(lines: list[str]) -> list[str]:
    """Rust names as people write them, line by line: c++filt (binutils) knows both v0 and legacy
    Rust mangling and leaves the rest of each line alone. The lines unchanged if it cannot run."""
    if not lines:
        return lines
    try:
        out = process.run(["c++filt"], input="\n".join(lines) + "\n", capture_output=True,
                           text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return lines
    return out if len(out) == len(lines) else lines


def archive_symbols(archive: str, readelf: str = "readelf") -> list[tuple[str, str, bool]]:
    """(member, symbol, defined?) of every global or weak symbol in a static archive or object.

    readelf rather than nm: nm hands objects carrying LLVM bitcode (.llvmbc, as in Rust's
    prebuilt libraries) to whatever LLVM plugin binutils finds, which may be older than rustc's
    LLVM and then reports "no symbols". readelf reads the ELF symbol table as it is.
    """
    try:
        listing = process.run([readelf, "-sW", archive], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        raise RustkmodError(f"{readelf} not found", "install binutils (or set CROSS_COMPILE)") from None
    except subprocess.CalledProcessError as err:
        raise RustkmodError(f"{archive}: {readelf} cannot read it ({err.stderr.strip().splitlines()[0]})",
                            "rebuild it") from None
    symbols = []
    member = ""
    for line in listing.splitlines():
        if line.startswith("File: "):
            # "File: libx.a(member.o)" for archive members
            member = line[line.find("(") + 1:-1] if line.endswith(")") else ""
            continue
        fields = line.split()
        # "   12: 0000000000000000   448 FUNC    GLOBAL DEFAULT  275 name"
        if len(fields) == 8 and fields[0].endswith(":") and fields[4] in ("GLOBAL", "WEAK"):
            symbols.append((member, fields[7], fields[6] != "UND"))
    return symbols


def exported_symbols(archive: str, crate_name: str, readelf: str = "readelf") -> list[str]:
    """The C-callable functions and data the crate itself defines (`#[no_mangle]` items).

    They are the roots of the partial link: only what they reach is kept.
    """
    return sorted({symbol for member, symbol, defined in archive_symbols(archive, readelf)
                   if member.startswith(f"{crate_name}-") and defined and not is_mangled(symbol)})


def imported_symbols(archive: str, crate_name: str, readelf: str = "readelf") -> list[str]:
    """What the crate's own code calls that nothing in the archive defines: the C side's part."""
    symbols = archive_symbols(archive, readelf)
    defined = {symbol for _, symbol, is_defined in symbols if is_defined}
    return sorted({symbol for member, symbol, is_defined in symbols
                   if member.startswith(f"{crate_name}-") and not is_defined and symbol not in defined})


def defined_symbols(paths: list[str], readelf: str = "readelf") -> set[str]:
    return {symbol for path in paths for _, symbol, defined in archive_symbols(path, readelf) if defined}
