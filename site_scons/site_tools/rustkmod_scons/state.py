"""What one scons process shares across Environments and steps, in named parts.

SCons loads the tool once per process but may call generate() for many Environments, so what
must exist once per run lives here:
  memo()      values worked out once per run, and kept across runs while their files stay the same;
  registry()  what the pseudo-builders configured: the per-kernel summary, the kernels' build
              directories, the notes said once, the one-shot aliases and help;
  and the children's tree lock and jobserver, which are rustkmod.process's (process.children()).
Tests call `reset()` instead of patching private names.
"""

from __future__ import annotations

import gc
import marshal
import os
import sys

from rustkmod import atomic, process
from rustkmod.stamps import file_stamp

_SAVED_FORMAT = "rustkmod-memo-3"


class Memo:
    """compute() once per run (remember), or across runs while files stay the same (remember_files)."""

    def __init__(self):
        self.values = {}
        self.saved = None          # remember_files(): key -> (file stamps, value), loaded on first use
        self.saved_path = ""       # set by keep_in: <top>/.rustkmod.memo
        self.saved_dirty = False
        self.saved_used = set()    # the keys remember_files() was asked for this run

    def keep_in(self, directory: str) -> None:
        """Keeps remember_files()' values in `directory`/.rustkmod.memo across runs (the tree's
        top, under its lock); before this (scons -h), nothing is kept."""
        self.saved_path = os.path.join(directory, ".rustkmod.memo")

    def remember(self, key, compute):
        """compute() once per run for `key`: one node per file, one read per kernel tree."""
        if key not in self.values:
            self.values[key] = compute()
        return self.values[key]

    def remember_files(self, key: tuple, files: list, compute, record=None, found=None):
        """compute() for `key`, once per run like remember(), and kept across runs while none of
        `files` changed (stamps.file_stamp; a missing file counts as a state too): reading the
        crate's Cargo.toml loads a TOML parser (3 ms of a no-op build), and a kernel's .config
        of 6,000 options takes 2 ms to parse and 0.5 ms to load from here. A NamedTuple result
        is kept as its fields and given back as `record`; the rest must be plain data
        (marshal). `found(value)`: more files the value was read from (a crate's path
        dependencies), known only once it is computed; they are watched too. A failing compute()
        is not kept."""
        if key in self.values:
            return self.values[key]
        value = self._remember_saved(key, files, (lambda: tuple(compute())) if record else compute, found)
        self.values[key] = record(*value) if record else value
        return self.values[key]

    def _remember_saved(self, key: tuple, files: list, compute, found=None):
        saved = self._saved()
        self.saved_used.add(key)
        if key in saved:
            stamps, value, more = saved[key]
            if stamps == tuple(file_stamp(path) for path in list(files) + list(more)):
                return value
        value = compute()
        more = tuple(p for p in (found(value) if found else ()) if p not in files)
        saved[key] = (tuple(file_stamp(path) for path in list(files) + list(more)), value, more)
        self.saved_dirty = True
        return value

    def _saved(self) -> dict:
        """The values kept by earlier runs, all of them dropped when rustkmod's code changed since
        (a record's fields, or how it is worked out, may have: an upgrade must not read them)."""
        if not self.saved_path:
            return {}
        if self.saved is None:
            self.saved = {}
            try:
                with open(self.saved_path, "rb") as handle:
                    tag, code, saved = marshal.loads(handle.read())   # marshal.load() reads in small pieces: 7x slower
                if tag == _SAVED_FORMAT and code == code_stamp():
                    self.saved = saved
            except (OSError, EOFError, ValueError, TypeError):
                pass
        return self.saved

    def save(self) -> None:
        """Writes what remember_files() learnt this run (at exit), atomically. Only this run's
        entries are kept: a memo of every kernel a tree was ever built for would cost more to
        load than the parsing it saves."""
        if self.saved and set(self.saved) != self.saved_used:
            self.saved = {key: value for key, value in self.saved.items() if key in self.saved_used}
            self.saved_dirty = True
        if not (self.saved_dirty and self.saved_path):
            return
        try:
            atomic.write(self.saved_path, marshal.dumps((_SAVED_FORMAT, code_stamp(), self.saved)))
        except (OSError, ValueError):
            pass                    # a cache: the next run reads the files again
        self.saved_dirty = False


_CODE_STAMP: list = []


def code_stamp() -> tuple:
    """The stamps of rustkmod's own Python files (the library and this tool): what the memo's
    values were worked out by. A few hundred microseconds of stat calls, once per run."""
    if not _CODE_STAMP:
        import rustkmod
        tops = (os.path.dirname(os.path.abspath(rustkmod.__file__)), os.path.dirname(os.path.abspath(__file__)))
        found = []
        for top in tops:
            for directory, dirs, files in os.walk(top):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                found += [(os.path.join(directory, f),) + file_stamp(os.path.join(directory, f))
                          for f in sorted(files) if f.endswith(".py")]
        _CODE_STAMP.append(tuple(found))
    return _CODE_STAMP[0]


class Registry:
    """What the run's pseudo-builders configured, for the summary at exit and `scons flags`."""

    def __init__(self):
        self.notes = set()
        self.summary = []          # RustModules configured in this run
        self.kernel_dirs = {}      # build directory name -> the tree that has it
        self.build_dirs = set()    # every BUILD_DIR of the run: outputs, never a crate's sources
        self.sconscripts = []      # the SConstruct and SConscripts that configured modules (scons dkms ships them)
        self.cargo_warnings = set()  # warning blocks cargo printed this run: each is printed once
        self.help_added = False
        self.flags_alias = []

    def note_sconscripts(self) -> None:
        """The SConstruct and SConscripts being read now (the pseudo-builder's callers)."""
        import sys
        reader = sys.modules["SCons.Script.SConscript"]     # SCons.Script.SConscript is the function
        for frame in reader.call_stack:
            path = frame.sconscript.abspath if frame.sconscript is not None else ""
            if path and path not in self.sconscripts:
                self.sconscripts.append(path)

    def note(self, text: str) -> None:
        """A one-line remark at configuration time, once per run."""
        if text not in self.notes:
            self.notes.add(text)
            sys.stdout.write(f"scons: rustkmod: {text}\n")  # one write: steps of -j print too


class RunState:
    """The run's parts: `memo`, `registry`, and the process's `children` (lock, jobserver)."""

    def __init__(self):
        self.memo = Memo()
        self.registry = Registry()
        self.children = process.children()

    def lock_tree(self, directory: str) -> None:
        """The tree's lock (process.Children.lock_tree), and the memo kept beside it."""
        self.children.lock_tree(directory)
        self.memo.keep_in(directory)


_current: list = []


def current() -> RunState:
    """This process's RunState, made on first use."""
    if not _current:
        _current.append(RunState())
    return _current[0]


def memo() -> Memo:
    return current().memo


def registry() -> Registry:
    return current().registry


def reset() -> RunState:
    """A new RunState (tests): the old one's lock and jobserver closed."""
    if _current:
        _current.pop()
    process.reset_children()
    return current()


def settle() -> None:
    """Takes every object made so far out of the cyclic garbage collector's walks (gc.freeze).

    The tool's modules, builders and the nodes a pseudo-builder makes live until scons exits;
    left in the collector's generations, each collection walks all of them again: a quarter of
    a no-op build's time in the tool. Objects made later are still collected as usual."""
    gc.freeze()
