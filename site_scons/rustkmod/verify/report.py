"""Problems in words people act on: one block per kind of problem, identical sites counted."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

# The module's name in the kernel's messages (not the word inside CONFIG_MODULE_FORCE_LOAD).
_MODULE = re.compile(r"\bMODULE\b")
# Sites listed per block before the rest are summarised.
MAX_SITES = 8
# Crates of the Rust toolchain: their sites are listed after the user's own, which can be acted on.
TOOLCHAIN_CRATES = frozenset({"core", "alloc", "compiler_builtins", "__rustc", "std"})

_VERDICTS = {
    "unknown-type": "refused by the loader",
    "overflow": "overflows for every kernel and module address",
    "nonzero-target": "target bytes are not zero",
    "overlap": "patched twice",
    "bare-return": "loads, but runs without the kernel's return-thunk mitigation",
    "bare-indirect": "loads, but runs without the kernel's retpoline mitigation",
    "license-taint": "loads, but taints the kernel P (proprietary module)",
    "gpl-only-symbol": "refused by the loader for a module that is not GPL-compatible",
}


def format_report(problems, kernel_text: str, module: str = "MODULE") -> str:
    """A report for `problems` found in a module for the kernel described by `kernel_text`."""
    if not problems:
        return ""
    blocks = defaultdict(list)
    for p in problems:
        blocks[(p.kind, p.type_number, p.type_name)].append(p)
    files = sorted({p.file for p in problems})
    lines = [f"{', '.join(files)}: {len(problems)} problem(s) for {kernel_text}, which its loader "
             "refuses or its mitigations do not cover:"]
    for (kind, number, name), group in sorted(blocks.items(), key=lambda b: (b[0][1], b[0][0])):
        first = group[0]
        title = f"{name} ({number})" if number >= 0 else name
        verdict = _VERDICTS.get(kind, "refused by the loader")
        unnamed = sum(p.count for p in group if p.count > 1)
        group = [p for p in group if p.count == 1]
        lines.append(f"  {title}: {verdict}, {len(group) + unnamed} site(s)")
        lines.append(f"    the kernel says: {_MODULE.sub(module, first.loader_says)}")
        if first.accepted_by:
            lines.append(f"    accepted by: {first.accepted_by}")
        sites = Counter((p.section, p.function, p.crate, p.symbol) for p in group)
        first_offset = {}
        for p in group:
            first_offset.setdefault((p.section, p.function, p.crate, p.symbol), p.offset)
        ordered = sorted(sites.items(), key=lambda item: item[0][2] in TOOLCHAIN_CRATES)   # stable sort
        for site, count in ordered[:MAX_SITES]:
            text = _site(*site, first_offset[site])
            if kind.startswith("bare-"):              # the "symbol" is the instruction
                text = text.replace(" -> ", ": ", 1)
            lines.append("    " + text + (f" (x{count})" if count > 1 else ""))
        if len(sites) > MAX_SITES:
            lines.append(f"    ... and {len(sites) - MAX_SITES} more site(s)")
        if unnamed:
            lines.append(f"    ... and {unnamed} more entries, only counted (the first {len(group)} are named)")
        lines.append(f"    fix: {first.fix}")
    return "\n".join(lines)


def _site(section, function, crate, symbol, offset) -> str:
    """'in FUNCTION (crate C) -> SYMBOL  [SECTION+OFFSET]', leaving out the parts that are unknown."""
    text = ""
    if function != "?":
        text = f"in {function}" + (f" (crate {crate})" if crate and crate != "C or #[no_mangle]" else "")
    if symbol:
        text += f" -> {symbol}" if text else f"symbol {symbol}"
    if section:
        text += f"  [{section}+{offset:#x}]" if text else f"section {section}"
    return text
