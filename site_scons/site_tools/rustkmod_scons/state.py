"""The run's process-wide state in one object: notes, memo, jobserver, tree lock, summary.

SCons loads the tool once per process but may call generate() for many Environments, so what
must exist once per run lives here. Tests call `reset()` instead of patching private names.
"""

from __future__ import annotations

import fcntl
import gc
import marshal
import os
import sys

from rustkmod import atomic

# The largest JOBS a jobserver pipe takes: GNU make writes one byte per token into a pipe, and a
# Linux pipe holds 64 KiB by default; more would block the write forever.
MAX_JOBS = 4096


class RunState:
    """What one scons process shares across Environments and steps."""

    def __init__(self):
        self.notes = set()
        self.memo = {}
        self.summary = []          # RustModules configured in this run
        self.kernel_dirs = {}      # build directory name -> the tree that has it
        self.help_added = False
        self.flags_alias = []
        self.jobserver_fds = ()    # (read, write, total tokens)
        self.lock_fd = -1
        self.saved = None          # remember_files(): key -> (file stamps, value), loaded on first use
        self.saved_path = ""       # set with the tree lock: <top>/.rustkmod.memo
        self.saved_dirty = False
        self.saved_used = set()    # the keys remember_files() was asked for this run

    def note(self, text: str) -> None:
        """A one-line remark at configuration time, once per run."""
        if text not in self.notes:
            self.notes.add(text)
            sys.stdout.write(f"scons: rustkmod: {text}\n")  # one write: steps of -j print too

    def remember(self, key, compute):
        """compute() once per run for `key`: one node per file, one read per kernel tree."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def remember_files(self, key: tuple, files: list, compute, record=None):
        """compute() for `key`, once per run like remember(), and kept across runs while none of
        `files` changed (same size, mtime and inode; a missing file counts as a state too):
        reading the crate's Cargo.toml loads a TOML parser (3 ms of a no-op build), and a kernel's
        .config of 6,000 options takes 2 ms to parse and 0.5 ms to load from here. A NamedTuple
        result is kept as its fields and given back as `record`; the rest must be plain data
        (marshal). A failing compute() is not kept."""
        if key in self.memo:
            return self.memo[key]
        value = self._remember_saved(key, files, (lambda: tuple(compute())) if record else compute)
        self.memo[key] = record(*value) if record else value
        return self.memo[key]

    def _remember_saved(self, key: tuple, files: list, compute):
        stamps = tuple(file_stamp(path) for path in files)
        saved = self._saved()
        self.saved_used.add(key)
        if key in saved and saved[key][0] == stamps:
            return saved[key][1]
        value = compute()
        saved[key] = (stamps, value)
        self.saved_dirty = True
        return value

    def _saved(self) -> dict:
        if not self.saved_path:
            return {}               # before lock_tree names the tree (scons -h): nothing kept
        if self.saved is None:
            self.saved = {}
            try:
                with open(self.saved_path, "rb") as handle:
                    tag, saved = marshal.loads(handle.read())      # marshal.load() reads in small pieces: 7x slower
                if tag == _SAVED_FORMAT:
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
            atomic.write(self.saved_path, marshal.dumps((_SAVED_FORMAT, self.saved)))
        except (OSError, ValueError):
            pass                    # a cache: the next run reads the files again
        self.saved_dirty = False

    def jobserver(self, jobs: int) -> tuple[dict, tuple]:
        """(MAKEFLAGS for a child, the file descriptors to pass it): one GNU make jobserver for the
        run, so every make and cargo the actions start share `jobs` compile jobs, whatever scons -j
        runs at once. `jobs` counts the token each child holds by running, as make's own does."""
        if not self.jobserver_fds:
            if not 0 < jobs <= MAX_JOBS:
                raise ValueError(f"JOBS={jobs} is outside 1..{MAX_JOBS}")
            read, write = os.pipe()
            os.write(write, b"+" * (jobs - 1))
            self.jobserver_fds = (read, write, jobs)
        read, write, total = self.jobserver_fds
        return {"MAKEFLAGS": f"-j{total} --jobserver-auth={read},{write}"}, (read, write)

    def lock_tree(self, directory: str) -> None:
        """An exclusive lock on `directory`/.rustkmod.lock for as long as this process or any
        child it started (cargo, make: they inherit the descriptor) runs. A second scons in the
        same tree waits, also for the children of a scons that was killed alone."""
        if self.lock_fd >= 0:
            return
        self.saved_path = os.path.join(directory, ".rustkmod.memo")
        path = os.path.join(directory, ".rustkmod.lock")
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 32, 0).decode(errors="replace").strip() or "?"
            print(f"scons: rustkmod: another scons run (pid {holder}, or the cargo and make it started) is "
                  f"building in {directory}; waiting for it to finish", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
        self.lock_fd = handle

    def inherited_fds(self) -> tuple:
        """The descriptors every child keeps open: the tree lock (see lock_tree)."""
        return (self.lock_fd,) if self.lock_fd >= 0 else ()

    def close(self) -> None:
        for fd in (*self.jobserver_fds[:2], self.lock_fd):
            if isinstance(fd, int) and fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass


_current: list = []
_SAVED_FORMAT = "rustkmod-memo-1"


def file_stamp(path: str) -> tuple:
    """(mtime, size, inode) of a file, () when it is missing: a change without reading it."""
    try:
        info = os.stat(path)
    except OSError:
        return ()
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def current() -> RunState:
    """This process's RunState, made on first use."""
    if not _current:
        _current.append(RunState())
    return _current[0]


def reset() -> RunState:
    """A new RunState (tests); closes the old one's descriptors."""
    if _current:
        _current.pop().close()
    return current()


def settle() -> None:
    """Takes every object made so far out of the cyclic garbage collector's walks (gc.freeze).

    The tool's modules, builders and the nodes a pseudo-builder makes live until scons exits;
    left in the collector's generations, each collection walks all of them again: a quarter of
    a no-op build's time in the tool. Objects made later are still collected as usual."""
    gc.freeze()
