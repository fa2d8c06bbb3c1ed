"""rustkmod's own crates (the kernel crate, rustkmod-rt, pin-init, the proc macros) compiled once
per machine: every project on the kernel crate compiles the same sources with the same flags for a
kernel, about 3 s of its first build.

cargo runs each rustc through RUSTC_WRAPPER, and rustkmod's kernel builds name this file's script
(`wrapper_script`). A compile whose root file is one of rustkmod's crates is answered from an
entry in RUST_SYSROOT_CACHE/crates/<key> when there is a valid one, and stored there after rustc
ran when there is none; any other compile is rustc's alone (the user's own RUSTC_WRAPPER, when
set, is run in turn). cargo sees the files a compile writes and the messages it prints, as rustc
would write and print them: it decides what to rebuild as before.

The key is all that rustc is given: its version (`rustc -vV`, passed by the build), its arguments,
and the environment cargo sets (CARGO_*, RUSTC_BOOTSTRAP, RUST_TARGET_PATH). Three kinds of
argument differ between projects and are keyed by what they stand for: where outputs go and the
file-name suffix cargo derives from the project's flags (--out-dir, -C extra-filename, -L
dependency=) are not in it, each --extern, @argfile and target specification file is its
content's digest, and the project's `--remap-path-prefix=<project>=.` is left out, as it changes
nothing in a compile that reads no file of the project: one that does is not stored. A compile naming the project anywhere else is
not cached at all. What rustc read is known only after it ran: its dep-info's files (size, mtime,
digest) and environment variables are the entry's manifest, checked on every use, and every file
copied out is checked against its digest, so a changed source or a damaged entry is a miss, never a
wrong file. (The one difference from a compile of its own: an rlib's member names keep the suffix
of the project that stored it; they are names inside an archive, never linked by.)

Run as a script (`python -S crate_cache.py RUSTC ARGS...`), it is the wrapper; it imports the rest
of rustkmod only for a compile of rustkmod's crates, so every other crate pays only Python's start.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shlex
import subprocess
import sys

# What the build tells the wrapper, through cargo's environment.
ENTRIES = "RUSTKMOD_CRATE_CACHE"        # RUST_SYSROOT_CACHE/crates: the entries
OWN = "RUSTKMOD_OWN_CRATES"             # the directory holding rustkmod's crates (site_scons)
PROJECT = "RUSTKMOD_PROJECT"            # the project's top directory
RUSTC_ID = "RUSTKMOD_RUSTC_ID"          # `rustc -vV`'s digest
NEXT = "RUSTKMOD_NEXT_WRAPPER"          # the user's RUSTC_WRAPPER
LOG = "RUSTKMOD_CRATE_LOG"              # a file the wrapper appends "<hit|stored> <crate>" lines to

# cargo's variables that differ between projects without changing a compile (or are its arguments).
_UNKEYED = {"CARGO_MAKEFLAGS", "CARGO_TARGET_DIR", "CARGO_ENCODED_RUSTFLAGS", "CARGO_HOME"}
_OUT, _SUFFIX = "@RUSTKMOD_OUT_DIR@", "@RUSTKMOD_SUFFIX@"    # placeholders in stored names and texts
_STDERR = "@stderr"                     # what rustc printed, kept beside the outputs


def environment(cache: str, own: str, project: str, rustc_version: str, next_wrapper: str = "",
                log: str = "") -> dict:
    """The variables cargo's environment needs for the wrapper (RUSTC_WRAPPER is wrapper_script's)."""
    values = {ENTRIES: os.path.join(cache, "crates"), OWN: own, PROJECT: project,
              RUSTC_ID: hashlib.sha256(rustc_version.encode()).hexdigest()[:32], NEXT: next_wrapper}
    return dict(values, **({LOG: log} if log else {}))


def wrapper_script(cache: str) -> str:
    """The RUSTC_WRAPPER to give cargo: a shell script running this file with this Python, written
    once per (Python, rustkmod) into the cache (a wheel or a Debian package keeps no mode bits)."""
    text = f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -S {shlex.quote(os.path.abspath(__file__))} \"$@\"\n"
    path = os.path.join(cache, f"rustc-wrapper-{hashlib.sha256(text.encode()).hexdigest()[:16]}")
    if not os.path.isfile(path):
        from rustkmod import atomic
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic.write(path, text.encode())
        os.chmod(path, 0o755)
    return path


def shared_path(cache: str, path: str) -> str:
    """A copy of `path` (bindings a rustkmod crate includes) at a place named by its content: the
    crate then reads the same path in every project, and its compile is the same compile."""
    with open(path, "rb") as handle:
        data = handle.read()
    digest = hashlib.sha256(data).hexdigest()
    shared = os.path.join(shared_inputs(cache), f"{digest[:32]}{os.path.splitext(path)[1]}")
    from rustkmod import atomic, cache_entries
    if _holds(shared, digest):
        cache_entries.mark_used(shared)
    else:
        os.makedirs(os.path.dirname(shared), exist_ok=True)
        atomic.write(shared, data)
        cache_entries.prune(os.path.dirname(shared))
    return shared


def shared_inputs(cache: str) -> str:
    """The directory of shared_path's copies (remapped in the objects, as the project is)."""
    return os.path.join(cache, "crate-inputs")


def clear(cache: str) -> int:
    """Removes every entry, shared input and wrapper script; returns how many entries there were."""
    from rustkmod import cache_entries
    for script in glob.glob(os.path.join(cache, "rustc-wrapper-*")):
        os.remove(script)
    cache_entries.clear(shared_inputs(cache))
    return cache_entries.clear(os.path.join(cache, "crates"))


class Compile:
    """One rustc command as cargo gives it, read for what the cache needs."""

    def __init__(self, args: list[str]):
        self.args, self.crate, self.root, self.out_dir, self.suffix = args, "", "", "", ""
        self.incremental = False
        words = iter(args)
        for word in words:
            if word == "--crate-name":
                self.crate = next(words, "")
            elif word == "--out-dir":
                self.out_dir = next(words, "")
            elif word in ("-C", "--codegen") or word.startswith("-C"):
                option = next(words, "") if word in ("-C", "--codegen") else word[2:]
                self.suffix = option.split("=", 1)[1] if option.startswith("extra-filename=") else self.suffix
                self.incremental = self.incremental or option.startswith("incremental=")
            elif word.endswith(".rs") and not word.startswith("-") and not self.root:
                self.root = word

    def cacheable(self, own: str) -> bool:
        """A compile of one of rustkmod's crates, with its outputs in a directory of their own."""
        root = os.path.realpath(self.root) if self.root else ""
        return bool(own and self.crate and self.out_dir and self.suffix and not self.incremental
                    and root.startswith(os.path.realpath(own) + os.sep))

    def key(self, environ, project: str, code: bytes) -> str | None:
        """The entry's key (module docstring), or None when the compile names the project where it
        would change the output."""
        remap = f"--remap-path-prefix={project}=."
        keyed, words = [], iter(self.args)
        for word in words:
            if word == "--out-dir":
                next(words, None)
            elif word in ("-C", "--codegen", "-L"):
                value = next(words, "")
                if not value.startswith(("extra-filename=", "dependency=")):
                    keyed += [word, value]
            elif word == "--extern":
                keyed += [word, _extern(next(words, ""))]
            elif word == "--target":
                target = next(words, "")
                keyed += [word, target, _target_spec(target, environ.get("RUST_TARGET_PATH", ""))]
            elif word.startswith("@"):
                keyed.append("@" + _digest_file(word[1:]))
            elif word != remap and not word.startswith(("-Cextra-filename=", "-Ldependency=")):
                keyed.append(word)
        def names_project(word: str) -> bool:
            return bool(project) and (project + os.sep in word or word.endswith(project))
        variables = sorted((k, v) for k, v in environ.items()
                           if (k.startswith("CARGO_") or k in ("RUSTC_BOOTSTRAP", "RUST_TARGET_PATH")
                               or (k.startswith("RUSTKMOD_BINDINGS") and not names_project(v)))   # shared_path's
                           and k not in _UNKEYED)
        cwd = os.getcwd()
        if any(names_project(word) for word in keyed + [v for _, v in variables] + [cwd]):
            return None
        digest = hashlib.sha256(json.dumps([environ.get(RUSTC_ID, ""), keyed, variables, cwd]).encode())
        digest.update(code)
        return digest.hexdigest()[:32]


def _extern(value: str) -> str:
    """`name=path` as `name=<digest of the file>`; `name` alone (a sysroot crate) as it is."""
    name, _, path = value.partition("=")
    return f"{name}={_digest_file(path)}" if path else value


def _target_spec(target: str, search: str) -> str:
    """The digest of a target's JSON specification (a path, or a name RUST_TARGET_PATH finds:
    rustkmod's i686 target), which can change under one name; "" for a target built into rustc."""
    candidates = [target] if target.endswith(".json") else [os.path.join(d, f"{target}.json") for d in search.split(os.pathsep) if d]
    found = next((c for c in candidates if os.path.isfile(c)), None)
    return _digest_file(found) if found else ""


def _digest_file(path: str) -> str:
    """stamps.content_record's digest, written here again: every rustc of a build starts this
    script, and only a compile of rustkmod's crates may pay for importing rustkmod."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _holds(path: str, digest: str) -> bool:
    try:
        return _digest_file(path) == digest
    except OSError:
        return False


def _outputs(unit: Compile) -> list[str]:
    """The files the compile wrote: lib<crate><suffix>.* and <crate><suffix>.d in its out dir."""
    stems = (f"lib{unit.crate}{unit.suffix}.", f"{unit.crate}{unit.suffix}.d")
    return sorted(n for n in os.listdir(unit.out_dir) if n.startswith(stems[0]) or n == stems[1])


def _template(data: bytes, unit: Compile) -> bytes:
    """The compile's out dir and suffix as placeholders (in a stored name, dep-info or message)."""
    return data.replace(unit.out_dir.encode(), _OUT.encode()).replace(unit.suffix.encode(), _SUFFIX.encode())


def _filled(data: bytes, unit: Compile) -> bytes:
    return data.replace(_OUT.encode(), unit.out_dir.encode()).replace(_SUFFIX.encode(), unit.suffix.encode())


def _name(name: str, unit: Compile, stored: bool) -> str:
    """An output's name in an entry (stored) or in the compile's out dir."""
    return (_template if stored else _filled)(os.fsencode(name), unit).decode(errors="surrogateescape")


def _env_deps(dep_info: str) -> dict:
    """rustc's `# env-dep:NAME[=VALUE]` lines: the variables the crate read (None: unset)."""
    found = {}
    for line in dep_info.splitlines():
        if line.startswith("# env-dep:"):
            name, equals, value = line[len("# env-dep:"):].partition("=")
            found[name] = value if equals else None
    return found


def fetch(place: str, unit: Compile, environ) -> bytes | None:
    """Writes the entry's outputs where the compile would have, and returns what rustc printed
    (None, with nothing written that matters, when there is no valid entry)."""
    from rustkmod import atomic, cache_entries, stamps
    try:
        manifest = cache_entries.read_manifest(place)
        if any(environ.get(name) != value for name, value in manifest["env"].items()):
            return None
        if any(stamps.content_change(record["path"], record) for record in manifest["inputs"]):
            return None
        files = {}
        for name, digest in manifest["outputs"].items():
            with open(os.path.join(place, "files", name), "rb") as handle:
                data = handle.read()
            if hashlib.sha256(data).hexdigest() != digest:
                return None
            texts = name == _STDERR or name.endswith(".d")       # placeholders for the out dir and suffix
            files[_name(name, unit, stored=False)] = _filled(data, unit) if texts else data
        printed = files.pop(_STDERR)
        for name, data in files.items():
            atomic.write(os.path.join(unit.out_dir, name), data)
        cache_entries.mark_used(place)
        return printed
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def store(place: str, unit: Compile, stderr: bytes, project: str) -> bool:
    """Publishes what rustc just wrote for the compile; not when it read a file of the project."""
    from rustkmod import atomic, cache_entries, depfile, stamps
    names = _outputs(unit)
    dep_info = next((n for n in names if n.endswith(".d")), None)
    if dep_info is None:
        return False
    work = cache_entries.work_directory(place)
    try:
        os.makedirs(os.path.join(work, "files"))
        with open(os.path.join(unit.out_dir, dep_info), encoding="utf-8", errors="surrogateescape") as handle:
            text = handle.read()
        paths = (os.path.abspath(p) for p in depfile.parse(text))
        read = list(dict.fromkeys(p for p in paths if not p.startswith(unit.out_dir + os.sep)))
        if project and any(p.startswith(project + os.sep) for p in read):
            cache_entries.discard(work)
            return False
        outputs = {}
        for name in names + [_STDERR]:
            if name == _STDERR:
                data = _template(stderr, unit)
            else:
                with open(os.path.join(unit.out_dir, name), "rb") as handle:
                    data = handle.read()
                data = _template(data, unit) if name == dep_info else data
            stored = _name(name, unit, stored=True)
            outputs[stored] = hashlib.sha256(data).hexdigest()
            atomic.write(os.path.join(work, "files", stored), data)
        inputs = [{"path": p, **stamps.content_record(p)} for p in read]
    except OSError:
        cache_entries.discard(work)
        return False
    manifest = {"crate": unit.crate, "inputs": inputs, "env": _env_deps(text), "outputs": outputs}
    published = cache_entries.publish(work, place, manifest)
    cache_entries.prune(os.path.dirname(place))
    return published


def _log(environ, word: str, unit: Compile) -> None:
    if environ.get(LOG):
        try:
            with open(environ[LOG], "a", encoding="utf-8") as handle:
                handle.write(f"{word} {unit.crate}\n")
        except OSError:
            pass


def main(argv: list[str]) -> int:
    """`wrapper RUSTC ARGS...`, as cargo runs RUSTC_WRAPPER."""
    environ = os.environ
    command = ([environ[NEXT]] if environ.get(NEXT) else []) + argv[1:]
    unit = Compile(argv[2:])
    place = None
    if environ.get(RUSTC_ID) and environ.get(ENTRIES) and unit.cacheable(environ.get(OWN, "")):
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        with open(os.path.abspath(__file__), "rb") as handle:
            entry = unit.key(environ, environ.get(PROJECT, ""), handle.read())
        place = os.path.join(environ[ENTRIES], entry) if entry else None
    if place is None:
        os.execvp(command[0], command)           # not ours to answer: rustc's alone (jobserver fds kept)
    printed = fetch(place, unit, environ)
    if printed is not None:
        sys.stderr.buffer.write(printed)
        _log(environ, "hit", unit)
        return 0
    # rustc's messages as they come (cargo starts dependents on the metadata notification), kept
    with subprocess.Popen(command, stderr=subprocess.PIPE, close_fds=False) as child:
        kept = []
        for line in child.stderr:
            sys.stderr.buffer.write(line)
            sys.stderr.buffer.flush()
            kept.append(line)
    if child.returncode == 0 and store(place, unit, b"".join(kept), environ.get(PROJECT, "")):
        _log(environ, "stored", unit)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
