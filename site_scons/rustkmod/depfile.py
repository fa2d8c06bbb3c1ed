"""Make-style dependency files, as cargo (dep-info) and clang/libclang (-MD) write them: the
prerequisites of every rule. One reader for both, so both read a path with a space alike."""

from __future__ import annotations


def parse(text: str) -> list[str]:
    """The prerequisites of every rule in `text`. Spaces inside paths are escaped as `\\ `;
    continuation lines end with `\\`."""
    deps = []
    for line in text.replace("\\\n", " ").splitlines():
        if ":" not in line or line.startswith("#"):
            continue
        _, _, rest = line.partition(": ")
        token = ""
        i = 0
        while i < len(rest):
            char = rest[i]
            if char == "\\" and i + 1 < len(rest) and rest[i + 1] == " ":
                token += " "
                i += 2
                continue
            if char.isspace():
                if token:
                    deps.append(token)
                token = ""
            else:
                token += char
            i += 1
        if token:
            deps.append(token)
    return deps


def read(path: str) -> list[str]:
    """The prerequisites `path` names, or [] before the first build wrote it."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return parse(handle.read())
    except OSError:
        return []
