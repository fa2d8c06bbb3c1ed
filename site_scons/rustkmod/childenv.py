"""The environment cargo, rustc, make and the kernel's tools run in.

Every input that changes an output must be in a signature. Variables that cargo, rustc or Kbuild
read from the environment and that change what they produce (RUSTFLAGS, CARGO_BUILD_*, KCFLAGS,
KBUILD_*, ARCH, ...) would not be, so they are removed from every child's environment; the ones a
user needs are build variables instead (KCFLAGS, ARCH, CROSS_COMPILE, CC, LLVM, RUSTC_WRAPPER, ...),
which are. What stays: the machine's own settings (PATH, HOME, locale, TMPDIR), CARGO_HOME and the
settings of compiler caches and farms (SCCACHE_*, DISTCC_*, ...), which do not change the bytes.

The process itself is cleaned once (`scrub_process`): libclang runs inside it (inline_helpers) and
reads CPATH and the like through getenv, and every library call that starts a child without an
environment of its own inherits the process's. The environment as given stays readable for the
build variables' defaults (`given`).
"""

from __future__ import annotations

import os

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


_given: dict | None = None       # the process environment before scrub_process()


def given() -> dict:
    """The environment the run was started with (build variables take their defaults from it);
    what was set since is seen too."""
    return {**_given, **os.environ} if _given is not None else dict(os.environ)


def scrub_process() -> None:
    """Removes what `dropped` names from this process's own environment, once; `given` keeps it."""
    global _given
    if _given is None:
        _given = dict(os.environ)
    for name in ignored(os.environ):
        del os.environ[name]
