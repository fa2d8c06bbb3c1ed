"""How rustkmod starts a child (cargo, rustc, make, bindgen, the kernel's tools): the one process layer.

`run` gives every child the cleaned environment (below) unless the caller passes one, the
descriptor of the run's tree lock and, asked for, a place in the run's jobserver (`Children`);
`failure` turns a failed child into a RustkmodError naming the command and its last line.

The environment:

Every input that changes an output must be in a signature. Variables that cargo, rustc or Kbuild
read from the environment and that change what they produce (RUSTFLAGS, CARGO_BUILD_*, KCFLAGS,
KBUILD_*, ARCH, ...) would not be, so they are removed from every child's environment; the ones a
user needs are build variables instead (KCFLAGS, ARCH, CROSS_COMPILE, CC, LLVM, RUSTC_WRAPPER, ...),
which are. What stays: the machine's own settings (PATH, HOME, locale, TMPDIR), CARGO_HOME and the
settings of compiler caches and farms (SCCACHE_*, DISTCC_*, ...), which do not change the bytes.

Every child the library starts goes through `run`, which gives it the cleaned environment unless
the caller passes one. libclang, which runs inside this process (inline_helpers) and reads CPATH
and the like through getenv, parses `scrubbed()`. The process's own environment is otherwise left
as it is: a larger build's other steps (its own `ENV=os.environ`) still see what the user set.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import threading

from rustkmod.errors import RustkmodError

# Exact names removed from every child's environment.
DROPPED = frozenset({
    # cargo and rustc
    "RUSTFLAGS", "RUSTDOCFLAGS", "RUSTC", "RUSTDOC", "RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_BOOTSTRAP", "RUSTC_LINKER", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_INCREMENTAL",
    "CARGO_BUILD_TARGET", "CARGO_BUILD_RUSTFLAGS", "CARGO_CFG_TARGET_FEATURE", "__CARGO_DEFAULT_LIB_METADATA",
    "RUST_TARGET_PATH",
    # Kbuild's command-line variables, which make also reads from the environment
    "KCFLAGS", "KCPPFLAGS", "KAFLAGS", "KRUSTFLAGS", "KBUILD_CFLAGS", "CFLAGS_MODULE", "AFLAGS_MODULE",
    "LDFLAGS_MODULE", "CFLAGS_KERNEL", "ARCH", "SUBARCH", "CROSS_COMPILE", "CC", "LD", "AR", "NM", "OBJCOPY",
    "STRIP", "HOSTCC", "LLVM", "LLVM_IAS", "O", "M", "W", "C", "KERNELRELEASE", "KERNELVERSION",
    "INSTALL_MOD_PATH", "INSTALL_MOD_DIR", "INSTALL_MOD_STRIP", "MODLIB", "DEPMOD", "CONFIG_MODULE_SIG_ALL",
    "MAKEFLAGS", "MFLAGS", "GNUMAKEFLAGS", "MAKEFILES",
    # gcc, clang and libclang (bindgen's and inline_helpers'): search paths, other tools, extra output
    "CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "OBJC_INCLUDE_PATH", "LIBRARY_PATH", "GCC_EXEC_PREFIX",
    "COMPILER_PATH", "DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES", "SOURCE_DATE_EPOCH", "CCC_OVERRIDE_OPTIONS",
    "LIBCLANG_PATH",        # a build variable, passed to bindgen as resolved (in the bindings' signature)
})

# Name prefixes removed: whole families that change what cargo or Kbuild produce.
DROPPED_PREFIXES = ("CARGO_BUILD_", "CARGO_PROFILE_", "CARGO_TARGET_", "CARGO_UNSTABLE_", "CARGO_REGISTRIES_",
                    "CARGO_SOURCE_", "CARGO_PATCH_", "KBUILD_",
                    "BINDGEN_EXTRA_CLANG_ARGS")          # bindgen appends them to clang's arguments (also _<target>)


def dropped(name: str) -> bool:
    """Whether a variable is kept away from cargo, rustc and make (see the module's docstring)."""
    return name in DROPPED or name.startswith(DROPPED_PREFIXES)


def clean(environ) -> dict:
    """`environ` without what would change an output outside every signature."""
    return {name: value for name, value in environ.items() if not dropped(name)}


def ignored(environ) -> list[str]:
    """The variables set in `environ` that a build ignores, for a note to the user."""
    return sorted(name for name in environ if dropped(name))


def last_line(output: str) -> str:
    """What a failed child said last (its last non-empty line), for a one-line error."""
    return (output.strip().splitlines() or ["no output"])[-1]


_SCRUBBING = threading.Lock()      # held while `scrubbed` has taken names out of os.environ


def environment() -> dict:
    """This process's environment, cleaned: what every child gets. (Read under the lock that
    `scrubbed` holds, so no step under -j copies it while libclang's parse has names out.)"""
    with _SCRUBBING:
        return clean(os.environ)


# V=1 (RUSTKMOD_VERBOSE=1): every child's command line is printed before it runs (set_verbose).
_VERBOSE = [False]
_PRINTING = threading.Lock()


def set_verbose(on: bool) -> None:
    _VERBOSE[0] = on


def _quoted(value: str) -> str:
    """A shell word for `value`; bash's $'...' for one with control characters (cargo's
    CARGO_ENCODED_RUSTFLAGS separates flags with \\x1f), which a terminal would not show."""
    import shlex
    if value.isprintable():
        return shlex.quote(value)
    return "$'" + "".join(c if c.isprintable() and c not in "'\\" else f"\\x{ord(c):02x}" for c in value) + "'"


def reproduce(command, env: dict | None, cwd=None) -> str:
    """A shell line that runs `command` as run() ran it: in its directory, with the variables it
    got that this process's environment lacks or has otherwise, without those it took away."""
    import shlex
    here = os.environ
    env = here if env is None else env
    changes = [f"{name}={_quoted(value)}" for name, value in sorted(env.items())
               if here.get(name) != value and name not in ("MAKEFLAGS", "MFLAGS")]
    unset = [f"-u {name}" for name in sorted(set(here) - set(env))]
    words = command if isinstance(command, str) else " ".join(_quoted(str(word)) for word in command)
    prefix = f"cd {shlex.quote(str(cwd))} && " if cwd else ""
    return prefix + " ".join((["env", *unset] if unset else []) + changes + [words])


# A child that runs longer than this says so every PROGRESS_SECONDS (run's `progress`).
PROGRESS_SECONDS = 15.0


def _say(line: str) -> None:
    with _PRINTING:
        print(line, flush=True)


@contextlib.contextmanager
def _ticking(what: str):
    """While the block runs, a line every PROGRESS_SECONDS naming `what` and the time it has
    taken: a long step (a sysroot, a kernel download, a build root, a kernel build) is never
    silent for long, and says which part of it is running."""
    if not what:
        yield
        return
    import time
    done, started = threading.Event(), time.monotonic()

    def tick():
        while not done.wait(PROGRESS_SECONDS):
            elapsed = int(time.monotonic() - started)
            _say(f"         {what}: {elapsed // 60}m{elapsed % 60:02d}s so far")
    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()


def run(command, env: dict | None = None, jobs: int = 0, progress: str = "", **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run, the one way rustkmod starts a child: with the cleaned environment unless
    `env` is given, the tree lock's descriptor (Children.lock_tree), and with `jobs`, a place in
    the run's jobserver, whose tokens make and cargo share. A missing program raises
    FileNotFoundError, as subprocess does: the caller knows which variable names it. The result
    carries `reproduce`: the shell line that runs the child again (printed first under V=1; made
    otherwise only for a child that failed, the one whose line a step prints).
    `progress`: what the child does, said with the time taken while it runs long (_ticking)."""
    child_env = env if env is not None else environment()
    line = reproduce(command, child_env, kwargs.get("cwd")) if _VERBOSE[0] else ""
    if line:
        _say(f"         $ {line}")
    fds = children().inherited_fds()
    spawn_env = child_env
    if jobs:
        flags, job_fds = children().jobserver(jobs)
        spawn_env = dict(child_env, **flags)
        spawn_env.pop("MFLAGS", None)
        fds += job_fds
    kwargs["pass_fds"] = tuple(kwargs.get("pass_fds", ())) + fds
    with _ticking(progress):
        result = subprocess.run(command, env=spawn_env, **kwargs)
    if not line and result.returncode != 0:
        line = reproduce(command, child_env, kwargs.get("cwd"))
    result.reproduce = line
    return result


def failure(result: subprocess.CompletedProcess, what: str, fix: str = "") -> RustkmodError:
    """The error for a child that failed: `what` (the command as people name it), its exit
    status, and the last line it wrote to stderr when that was captured."""
    said = f": {last_line(result.stderr)}" if isinstance(result.stderr, str) and result.stderr.strip() else ""
    return RustkmodError(f"{what} failed (exit status {result.returncode}){said}", fix)


def run_checked(command, what: str, fix: str = "", **kwargs) -> subprocess.CompletedProcess:
    """run() with the output captured as text; a non-zero exit raises failure()'s error."""
    result = run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise failure(result, what, fix)
    return result


# The largest jobs a jobserver pipe takes: GNU make writes one byte per token into a pipe, and a
# Linux pipe holds 64 KiB by default; more would block the write forever.
MAX_JOBS = 4096


class Children:
    """What every child of this process shares: the tree lock this process holds, and the
    jobserver. One per process (`children()`); tests make a new one with `reset_children()`."""

    def __init__(self):
        self.jobserver_fds = ()    # (read, write, total tokens)
        self.lock_fd = -1
        self._making = threading.Lock()   # steps under scons -j ask for the jobserver at once

    def jobserver(self, jobs: int) -> tuple[dict, tuple]:
        """(MAKEFLAGS for a child, the file descriptors to pass it): one GNU make jobserver for the
        run, so every make and cargo the steps start share `jobs` compile jobs, whatever scons -j
        runs at once. `jobs` counts the token each child holds by running, as make's own does."""
        with self._making:          # one pipe for the run, however many steps ask first
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


_CHILDREN = [Children()]         # one per process: making it opens nothing


def children() -> Children:
    """This process's Children."""
    return _CHILDREN[0]


def reset_children() -> Children:
    """A new Children (tests), after closing the old one's descriptors."""
    _CHILDREN[0].close()
    _CHILDREN[0] = Children()
    return _CHILDREN[0]


@contextlib.contextmanager
def scrubbed():
    """This process's environment without what `dropped` names, for the duration of the block
    (for libclang, which reads it in-process); restored after. One block at a time."""
    with _SCRUBBING:
        removed = {name: os.environ.pop(name) for name in ignored(os.environ)}
        try:
            yield
        finally:
            os.environ.update(removed)
