"""Work kept while the files it came from stay the same, judged by their stamps (no read).

One stamp for every such cache: (mtime, size, inode) of a file, () when it is missing. The
tool's cross-run memo keeps its values this way; `cached` keeps one JSON value in a file of its
own (the toolchain's identity in BUILD_DIR, Kbuild's C flags beside a kernel's bindings).
"""

from __future__ import annotations

import json
import os

from rustkmod import atomic


def file_stamp(path: str) -> tuple:
    """(mtime, size, inode) of a file, () when it is missing: a change without reading it."""
    try:
        info = os.stat(path)
    except OSError:
        return ()
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def cached(cache_file: str, files: list, key, compute):
    """compute(), or the value kept in `cache_file` while `key` (plain data) and the stamps of
    `files` are those it was computed with. A failing compute() keeps nothing; a cache that
    cannot be read or written is computed again (the next run tries again)."""
    full_key = json.loads(json.dumps([key, [list(file_stamp(p)) for p in files]]))
    try:
        with open(cache_file, encoding="utf-8") as handle:
            kept = json.load(handle)
        if kept["key"] == full_key:
            return kept["value"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    value = compute()
    try:
        os.makedirs(os.path.dirname(cache_file), exist_ok=True)
        atomic.write(cache_file, json.dumps({"key": full_key, "value": value}))
    except OSError:
        pass
    return value
