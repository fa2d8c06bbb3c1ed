"""Helpers every part of the tool uses: settings in Value nodes, running commands, messages."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys

import SCons.Action

from rustkmod import RustkmodError

_MEMO: dict = {}
_NOTES: set = set()


def note(text: str) -> None:
    """A one-line remark at configuration time, once per run."""
    if text not in _NOTES:
        _NOTES.add(text)
        print(f"scons: rustkmod: {text}")


def memo(key, compute):
    if key not in _MEMO:
        _MEMO[key] = compute()
    return _MEMO[key]


def settings_of(node) -> dict:
    return json.loads(node.read())


def run(command: list[str], **kwargs) -> int:
    try:
        return subprocess.run(command, **kwargs).returncode
    except FileNotFoundError:
        print(f"scons: *** rustkmod: {command[0]} not found; install it (./setup does) or set the "
              "variable that names it", file=sys.stderr)
        return 127


def report_error(err: RustkmodError) -> int:
    print(f"scons: *** rustkmod: {err}", file=sys.stderr)
    return 1


def message(label: str):
    return lambda target, source, env: f"{label:<8} {target[0]}"


def action(function, message, varlist=()):
    return SCons.Action.Action(function, strfunction=message, varlist=list(varlist))


# One GNU make jobserver for the whole run: every make and cargo the actions start joins it, so
# `scons -j4` with four Kbuild and cargo steps at once still runs about JOBS compilers, not 4 x JOBS.
_JOBSERVER: list = []


def jobserver(jobs: int) -> tuple[dict, tuple]:
    """(MAKEFLAGS for the child, the pipe's file descriptors to pass it). `jobs` counts the token
    each child holds by running, as GNU make's own jobserver does."""
    if not _JOBSERVER:
        read, write = os.pipe()
        os.write(write, b"+" * max(0, jobs - 1))
        _JOBSERVER.append((read, write, max(1, jobs)))
    read, write, total = _JOBSERVER[0]
    return {"MAKEFLAGS": f"-j{total} --jobserver-auth={read},{write}"}, (read, write)


def run_with_jobs(command: list[str], jobs: int, env: dict | None = None, **kwargs) -> int:
    """run(), with the child in the run's jobserver (make and cargo both take part)."""
    flags, fds = jobserver(jobs)
    child_env = dict(env if env is not None else os.environ, **flags)
    child_env.pop("MFLAGS", None)
    return run(command, env=child_env, pass_fds=fds, **kwargs)


# Two scons runs in one tree would share .sconsign and every build directory: the second waits.
_LOCK: list = []


def lock_tree(directory: str) -> None:
    """Holds an exclusive lock on `directory`/.rustkmod.lock until this process exits."""
    if _LOCK:
        return
    path = os.path.join(directory, ".rustkmod.lock")
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(handle, 32, 0).decode(errors="replace").strip() or "?"
        print(f"scons: rustkmod: another scons run (pid {holder}) is building in {directory}; "
              "waiting for it to finish", flush=True)
        fcntl.flock(handle, fcntl.LOCK_EX)
    os.ftruncate(handle, 0)
    os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
    _LOCK.append(handle)
