"""Entries of the machine's shared caches (bindings, rustkmod's compiled crates): one directory
per key, published whole (written aside, then renamed) so that a reader never sees half of one,
marked used on every use, and removed once no project has used it for UNUSED_DAYS."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time

from rustkmod import atomic

MANIFEST = "manifest.json"           # what an entry holds and what it was made from
UNUSED_DAYS = 30                     # an entry no project used for this long is removed


def work_directory(place: str) -> str:
    """Where an entry for `place` is written before it is published (one per process and thread:
    -j runs steps in threads of one process, and other projects run beside it)."""
    work = f"{place}.{os.getpid()}.{threading.get_ident()}.tmp"
    os.makedirs(work, exist_ok=True)
    return work


def publish(work: str, place: str, manifest: dict) -> bool:
    """Writes `manifest` into `work` and renames it to `place`, replacing an entry made from inputs
    that have changed since. False when another build published it first or the disk is full:
    a cache that cannot be written costs the next project the work, nothing more."""
    try:
        atomic.write(os.path.join(work, MANIFEST), json.dumps(manifest, indent=1))
        if os.path.isdir(place):
            shutil.rmtree(place, ignore_errors=True)
        os.rename(work, place)
        return True
    except OSError:
        return False
    finally:
        discard(work)


def discard(work: str) -> None:
    """Removes an entry that will not be published."""
    shutil.rmtree(work, ignore_errors=True)


def read_manifest(place: str) -> dict:
    """The entry's manifest; raises OSError or ValueError when there is no valid one."""
    with open(os.path.join(place, MANIFEST), encoding="utf-8") as handle:
        manifest = json.load(handle)
    if not isinstance(manifest, dict):
        raise ValueError(f"{place}: not a manifest")
    return manifest


def mark_used(place: str) -> None:
    """Used now: prune() keeps it (an entry, or a file kept on its own)."""
    with contextlib.suppress(OSError):
        os.utime(os.path.join(place, MANIFEST) if os.path.isdir(place) else place)


def prune(root: str, days: int = UNUSED_DAYS) -> int:
    """Removes the entries (and files kept on their own) under `root` that no project has used for
    `days` (a project since moved or deleted, a kernel no longer built); returns how many. Run
    when one is stored."""
    now = time.time()
    removed = 0
    for name in os.listdir(root) if os.path.isdir(root) else []:
        place = os.path.join(root, name)
        with contextlib.suppress(OSError):
            entry = os.path.isdir(place)
            if name.endswith(".tmp"):       # being written, or left by a build that was killed a day ago
                if os.stat(place).st_mtime < now - 86400:
                    shutil.rmtree(place) if entry else os.remove(place)
                continue
            if os.stat(os.path.join(place, MANIFEST) if entry else place).st_mtime < now - days * 86400:
                shutil.rmtree(place) if entry else os.remove(place)
                removed += 1
    return removed


def clear(root: str) -> int:
    """Removes every entry under `root`; returns how many there were."""
    count = (len([n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n)) and not n.endswith(".tmp")])
             if os.path.isdir(root) else 0)
    shutil.rmtree(root, ignore_errors=True)
    return count
