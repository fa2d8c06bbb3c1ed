"""The kernel's own word: which relocation types a loader source file applies.

Vendor kernels carry backports that no version table knows (Ubuntu's 4.4.0-87 is one), so when
the tree holds `arch/<arch>/kernel/module.c` the accepted set is read from it: the `case R_...:`
labels of x86, arm64 and arm, and the handler table of riscv.
"""

from __future__ import annotations

import os
import re

from rustkmod.errors import RustkmodError
from rustkmod.kernel.arch import ARCHES, of
from rustkmod.kernel.tree import loader_source_path, option_enabled

_PREFIXES = {arch.name: arch.reloc_prefixes for arch in ARCHES}

# riscv handlers that exist only to refuse (R_RISCV_ALIGN; 6.7+: dynamic linking and TLS types).
_REFUSING_HANDLER = re.compile(r"align|not_supported")


def _without_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def _active_lines(text: str, config: dict | None) -> str:
    """Drops the lines inside `#ifndef CONFIG_X` blocks when X is on (unknown: its default, on),
    and, when the kernel's .config is known, inside `#ifdef CONFIG_X` blocks when X is off.

    That is how arm64 up to 4.17 bans ADRP under CONFIG_ARM64_ERRATUM_843419, and arm applies
    Thumb-2 types only under CONFIG_THUMB2_KERNEL. Without a .config, #ifdef blocks are kept:
    in these files they also select between 32- and 64-bit halves, which the name prefixes
    already tell apart.
    """
    kept = []
    dropped = []     # per open conditional: is its current branch dropped?
    tracked = []     # per open conditional: is it an #ifndef CONFIG_... we evaluate?
    for line in text.splitlines():
        directive = line.strip()
        if directive.startswith("#if"):
            unless = re.match(r"#ifndef\s+(CONFIG_\w+)", directive)
            only = re.match(r"#ifdef\s+(CONFIG_\w+)", directive) if config is not None else None
            if unless:
                dropped.append(option_enabled(config, unless.group(1)))
            else:
                dropped.append(bool(only) and not option_enabled(config, only.group(1)))
            tracked.append(bool(unless or only))
        elif directive.startswith(("#else", "#elif")) and tracked:
            if tracked[-1]:
                dropped[-1] = not dropped[-1]
        elif directive.startswith("#endif") and tracked:
            dropped.pop()
            tracked.pop()
        elif not any(dropped):
            kept.append(line)
    return "\n".join(kept)


def accepted_types(arch: str, text: str, config: dict | None = None) -> frozenset[str]:
    """The relocation type names the loader source `text` applies for `arch`."""
    text = _active_lines(_without_comments(text), config)
    prefixes = _PREFIXES[arch]
    if of(arch).loader_dispatch == "table":       # [R_X] = { .reloc_handler = handler }, or [R_X] = handler
        entries = re.findall(r"\[\s*(R_\w+)\s*\]\s*=\s*\{?\s*(?:\.reloc_handler\s*=\s*)?&?(\w+)", text)
        return frozenset(name for name, handler in entries
                         if name.startswith(prefixes) and not _REFUSING_HANDLER.search(handler))
    labels = re.findall(r"\bcase\s+(R_\w+)\s*:", text)
    return frozenset(name for name in labels if name.startswith(prefixes))


def read_accepted_types(tree: str, arch: str, config: dict | None = None) -> tuple[frozenset, str] | None:
    """(accepted names, relative path) from the tree's loader source, or None if it has none."""
    path = loader_source_path(tree, arch)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as handle:
        names = accepted_types(arch, handle.read(), config)
    if not names:
        raise RustkmodError(f"{path} names no relocation types rustkmod can read",
                            "point KERNEL_SRC at an unmodified kernel source tree, or leave it unset")
    return names, os.path.relpath(path, tree)
