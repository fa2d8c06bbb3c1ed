"""The run's process-wide state in one object: notes, memo, jobserver, tree lock, summary.

SCons loads the tool once per process but may call generate() for many Environments, so what
must exist once per run lives here. Tests call `reset()` instead of patching private names.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field

# The largest JOBS a jobserver pipe takes: GNU make writes one byte per token into a pipe, and a
# Linux pipe holds 64 KiB by default; more would block the write forever.
MAX_JOBS = 4096


@dataclass
class RunState:
    """What one scons process shares across Environments and steps."""

    notes: set = field(default_factory=set)
    memo: dict = field(default_factory=dict)
    summary: list = field(default_factory=list)      # RustModules configured in this run
    kernel_dirs: dict = field(default_factory=dict)  # build directory name -> the tree that has it
    help_added: bool = False
    flags_alias: list = field(default_factory=list)
    jobserver_fds: tuple = ()                        # (read, write, total tokens)
    lock_fd: int = -1

    def note(self, text: str) -> None:
        """A one-line remark at configuration time, once per run."""
        if text not in self.notes:
            self.notes.add(text)
            print(f"scons: rustkmod: {text}")

    def remember(self, key, compute):
        """compute() once per run for `key`: one node per file, one read per kernel tree."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

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

