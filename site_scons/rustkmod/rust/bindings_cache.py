"""Bindings kept once per machine: a crate's bindings for one kernel (the kernel crate's above all)
are the same bytes in every project, so a new project copies them instead of running libclang and
bindgen again (about 2 s a kernel).

An entry's key is everything that decides its bytes and is known before bindgen runs: the request
(kernel tree, architecture, make variables, names, tools and bindgen's options), the tools'
versions, the header's path and bytes, and rustkmod's code that makes bindings. What is known only
after the run, the kernel headers bindgen read, is in the entry's manifest with each file's size,
mtime and digest: an entry whose headers changed since is a miss, and the run that follows
replaces it. Entries are published as the sysroots are (written aside, renamed whole), and every
file copied out is checked against its recorded digest: a damaged entry is a miss, never a wrong
file.
"""

from __future__ import annotations

import hashlib
import os

from rustkmod import atomic, cache_entries, depfile, stamps
from rustkmod.kernel.tree import SIGNATURE_FILES      # the tree's own: Kbuild's C flags come from them

# What an entry holds, by the suffix each file has beside bindings.rs (the helpers' name aside).
_BESIDE = (".flags", ".h")
_HELPERS = "bindings_helpers.c"
_DEPS = "deps.txt"                   # bindgen's dependency file, its own .h written as a placeholder
_OWN_INPUT = "@BINDGEN_INPUT@"


def key(header: str, request, versions: str) -> str:
    """The entry's key: the request, the tools' versions, the header (path and bytes), the code."""
    digest = hashlib.sha256(repr((tuple(request), versions, os.path.abspath(header))).encode())
    with open(header, "rb") as handle:
        digest.update(handle.read())
    here = os.path.dirname(os.path.abspath(__file__))
    for module in ("bindgen.py", "inline_helpers.py", "bindings_cache.py"):
        with open(os.path.join(here, module), "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:32]


def directory(cache: str, entry: str) -> str:
    return os.path.join(cache, "bindings", entry)


def fetch(cache: str, entry: str, output: str, helpers_c: str) -> list[str] | None:
    """Copies the entry's files to `output`, `helpers_c` and their side files, and returns its
    remarks; None (nothing written that matters) when there is no valid entry."""
    place = directory(cache, entry)
    try:
        manifest = cache_entries.read_manifest(place)
        if any(stamps.content_change(record["path"], record) for record in manifest["inputs"]):
            return None
        for name, destination in _places(output, helpers_c).items():
            data = _read(os.path.join(place, name))
            if hashlib.sha256(data).hexdigest() != manifest["outputs"][name]:
                return None
            atomic.write(destination, data)
        deps = _read(os.path.join(place, _DEPS)).decode()
        atomic.write(output + ".d", deps.replace(_OWN_INPUT, output + ".h"))
        cache_entries.mark_used(place)
        return list(manifest["remarks"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(cache: str, entry: str, output: str, helpers_c: str, kdir: str, remarks: list[str]) -> None:
    """Publishes what bindgen just made for `entry`, replacing an entry whose headers changed."""
    place = directory(cache, entry)
    work = cache_entries.work_directory(place)
    try:
        outputs = {}
        for name, source in _places(output, helpers_c).items():
            data = _read(source)
            atomic.write(os.path.join(work, name), data)
            outputs[name] = hashlib.sha256(data).hexdigest()
        own = output + ".h"
        deps_text = _read(output + ".d").decode()
        atomic.write(os.path.join(work, _DEPS), deps_text.replace(own, _OWN_INPUT))
        read = [path for path in depfile.parse(deps_text) if path != own]
        read += [name for name in SIGNATURE_FILES if os.path.isfile(os.path.join(kdir, name))]
        # a relative path is KDIR's, where bindgen ran
        inputs = [{"path": full, **stamps.content_record(full)}
                  for full in dict.fromkeys(os.path.join(kdir, path) for path in read)]
    except OSError:                         # a file vanished, or no room: the next project runs bindgen
        cache_entries.discard(work)
        return
    cache_entries.publish(work, place, {"inputs": inputs, "outputs": outputs, "remarks": list(remarks)})
    prune(cache)


def prune(cache: str, days: int = cache_entries.UNUSED_DAYS) -> int:
    """Removes the entries no project has used for `days`; returns how many."""
    return cache_entries.prune(os.path.join(cache, "bindings"), days)


def clear(cache: str) -> int:
    """Removes every entry; returns how many there were."""
    return cache_entries.clear(os.path.join(cache, "bindings"))


def _places(output: str, helpers_c: str) -> dict:
    """{name in an entry: its place in a project} for the files an entry holds."""
    return {"bindings.rs": output, _HELPERS: helpers_c, **{"bindings.rs" + s: output + s for s in _BESIDE}}


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()
