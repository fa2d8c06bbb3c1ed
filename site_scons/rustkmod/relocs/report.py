"""Problems in words people act on: one block per kind of problem, identical sites counted."""

from __future__ import annotations

from collections import Counter, defaultdict

# Sites listed per block before the rest are summarised.
MAX_SITES = 8


def format_report(problems, kernel_text: str) -> str:
    """A report for `problems` found in a module for the kernel described by `kernel_text`."""
    if not problems:
        return ""
    blocks = defaultdict(list)
    for p in problems:
        blocks[(p.kind, p.type_number, p.type_name, p.accepted_by, p.fix)].append(p)
    files = sorted({p.file for p in problems})
    lines = [f"{', '.join(files)}: {len(problems)} relocation(s) the module loader of {kernel_text} "
             "will refuse:"]
    for (kind, number, name, accepted_by, fix), group in sorted(blocks.items(), key=lambda b: b[0][1]):
        verdict = "refused (Unknown rela relocation)" if kind == "unknown-type" else \
            "overflows for every kernel and module address"
        lines.append(f"  {name} ({number}): {verdict}, {len(group)} site(s)")
        lines.append(f"    accepted by: {accepted_by}")
        sites = Counter((p.section, p.function, p.symbol) for p in group)
        first_offset = {}
        for p in group:
            first_offset.setdefault((p.section, p.function, p.symbol), p.offset)
        for (section, function, symbol), count in list(sites.items())[:MAX_SITES]:
            times = f" (x{count})" if count > 1 else ""
            lines.append(f"    in {function} -> {symbol}  [{section}+{first_offset[(section, function, symbol)]:#x}]{times}")
        if len(sites) > MAX_SITES:
            lines.append(f"    ... and {len(sites) - MAX_SITES} more site(s)")
        lines.append(f"    fix: {fix}")
    return "\n".join(lines)
