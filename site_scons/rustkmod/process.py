"""The environment cargo, rustc, make and the kernel's tools run in.

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
import os
import subprocess
import threading

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


def run(command, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run with the cleaned environment unless `env` is given: the one way the
    library starts a child."""
    if kwargs.get("env") is None:
        kwargs["env"] = environment()
    return subprocess.run(command, **kwargs)


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
