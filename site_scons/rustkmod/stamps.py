"""Work kept while the files it came from stay the same, judged by their stamps (no read).

One stamp for every such cache: (mtime, size, inode) of a file, () when it is missing. The
tool's cross-run memo keeps its values this way; `cached` keeps one JSON value in a file of its
own (the toolchain's identity in BUILD_DIR, Kbuild's C flags beside a kernel's bindings).
What the machine's caches share between projects (sysroots, bindings) is judged by content:
`content_record` and `content_change`, a stat each and a digest only when the mtime moved.
"""

from __future__ import annotations

import hashlib
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


def content_record(path: str) -> dict:
    """What a manifest keeps of a file shared between projects: its size, mtime and digest."""
    status = os.stat(path)
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns, "sha256": digest}


def content_change(path: str, record: dict) -> str:
    """'' when `path` still holds what `record` (content_record's) says, else what changed ("is
    missing", "has N bytes, not M", "was changed"). A stat; the digest is read only for a file
    whose size is right but whose mtime moved. A key the record lacks (an older manifest) is not
    checked."""
    try:
        status = os.stat(path)
    except OSError:
        return "is missing"
    if "size" in record and status.st_size != record["size"]:
        return f"has {status.st_size} bytes, not {record['size']}"
    if "mtime_ns" in record and status.st_mtime_ns != record["mtime_ns"]:
        try:
            if content_record(path)["sha256"] != record["sha256"]:
                return "was changed"
        except OSError:
            return "is missing"
    return ""
