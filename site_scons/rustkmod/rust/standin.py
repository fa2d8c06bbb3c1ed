"""The user-space stand-in for the kernel: which of the crate's imports it must provide.

On the host, the functions the C side of a module gives Rust come from a small C library of the
project's (kmod/host/standin.c). A missing one would surface as an opaque link error deep in
cargo's output; this names it instead.
"""

from __future__ import annotations

from rustkmod.elf.symbols import defined_symbols, imported_symbols

# Provided to Rust by the kernel in a module and by the C library on the host alike.
SHARED_WITH_LIBC = frozenset({"memcpy", "memmove", "memset", "memcmp", "bcmp", "strlen"})


def missing_from_standin(archive: str, crate_name: str, standin_objects: list[str], readelf: str = "readelf") -> list[str]:
    """The crate's imports that neither the stand-in nor the C library provides."""
    provided = defined_symbols(standin_objects, readelf) | SHARED_WITH_LIBC
    return [symbol for symbol in imported_symbols(archive, crate_name, readelf) if symbol not in provided]
