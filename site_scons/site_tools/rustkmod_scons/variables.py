"""The build variables (`scons -h`): command line > Environment(...) keyword > process env > default.

Every variable that changes an output reaches the steps through their settings records, so it is
in a signature; a bad value stops the run with one line naming it and the fix.
"""

from __future__ import annotations

import os
import sys

import SCons.Errors
from SCons.Script import ARGUMENTS, EnumVariable, Exit, GetOption, Variables

from rustkmod import COMMAND, RustkmodError, process
from rustkmod.kernel import debian
from rustkmod.kernel.kbuild import CROSS_PREFIXES
from rustkmod.rust import profiles
from rustkmod.kernel.tree import DPKG_STATUS, installed_headers_kdir

from . import arguments, scons_api, state


def _default(name: str, fallback: str = "") -> str:
    """A variable's default: the process environment first (KDIR=... scons works too)."""
    return os.environ.get(name, fallback)


def _installed_kdir() -> str | None:
    """The headers ./setup installed, from dpkg's status file: read again only when dpkg
    changed it (0.5 ms of each no-op otherwise)."""
    return state.memo().remember_files(("installed headers",), [DPKG_STATUS], installed_headers_kdir)


def _first_existing(*paths: str) -> str:
    return next((p for p in paths if os.path.exists(p)), paths[-1])


def _jobs_count(key: str, value: str, env) -> None:
    """Variables validator: a count of compile jobs a jobserver pipe can hold, or nothing."""
    if not value:
        return
    if not (value.isdigit() and int(value) > 0):
        raise SCons.Errors.UserError(f"rustkmod: {key}={value} is not a positive number; "
                                     f"pass {key}=<compile jobs>, or leave it unset for the CPU count")
    if int(value) > process.MAX_JOBS:
        raise SCons.Errors.UserError(f"rustkmod: {key}={value} is more than the {process.MAX_JOBS} jobs a make "
                                     f"jobserver can hand out here; pass {key}={process.MAX_JOBS} or fewer")


def make_variables(args=None) -> Variables:
    """The build variables rustkmod reads; `scons -h` prints them with their help text."""
    variables = Variables(None, ARGUMENTS if args is None else args)
    variables.AddVariables(
        ("KDIR", "kernel tree or headers to build for (env KDIR; default: the headers ./setup installed, never uname -r)",
         _default("KDIR") or _installed_kdir() or ""),
        ("ARCH", "kernel architecture; default: read from KDIR's .config", _default("ARCH")),
        ("CROSS_COMPILE", "prefix of the binutils and C compiler for a cross build (Kbuild, and ld/readelf for the "
         f"partial link); default: Debian's cross prefix for a foreign tree ({CROSS_PREFIXES['arm64']} and the like)",
         _default("CROSS_COMPILE")),
        (("KBUILD_CC", "CC"), "C compiler Kbuild uses; default: the one KDIR names", _default("KBUILD_CC")),
        ("LLVM", "passed to Kbuild for clang-built kernels (LLVM=1)", _default("LLVM")),
        ("KCFLAGS", "extra C flags for the module's C files, as Kbuild's KCFLAGS (part of the Kbuild "
         "step's signature)", _default("KCFLAGS")),
        ("KERNELRELEASE", "kernel version the relocation policy assumes; default: read from KDIR",
         _default("KERNELRELEASE")),
        EnumVariable("RUST_PROFILE",
                     "how Rust is compiled: 'kernel' (the kernel's codegen, core rebuilt from source), "
                     "'host-default' (host target defaults: PIC, prebuilt core; fails to load) or 'pic' "
                     "(the kernel's target, position-independent; fails to load)",
                     _default("RUST_PROFILE", "kernel"), allowed_values=profiles.PROFILES),
        ("CARGO", "cargo to run", _default("CARGO", _first_existing("/usr/bin/cargo", "cargo"))),
        ("RUSTC", "rustc with the library sources for -Zbuild-std (Debian: rust-web-src)",
         _default("RUSTC", _first_existing("/usr/bin/rustc", "rustc"))),
        ("BUILD_DIR", "where every output goes (relative to the top SConstruct)", _default("BUILD_DIR", "build")),
        ("BINDGEN", "bindgen for modules with bindings= (Debian: bindgen, with libclang1-14)",
         _default("BINDGEN", "bindgen")),
        ("LIBCLANG_PATH", "libclang for bindings= (a file, or a directory holding libclang-14.so.1), for bindgen "
         "and for finding the static inline functions that get C helpers; default: Debian's libclang-14",
         _default("LIBCLANG_PATH")),
        ("BINDGEN_CLANG_FLAGS", "extra clang flags for bindgen, after the kernel's own (part of the bindings' "
         "signature)", _default("BINDGEN_CLANG_FLAGS")),
        ("KERNEL_IMAGE", "kernel image 'scons check' boots; default: KDIR's arch/<arch>/boot image when "
         "KDIR is a built tree, else /boot/vmlinuz-<KDIR's release>",
         _default("KERNEL_IMAGE")),
        EnumVariable("RELOCS", "relocation check: 'strict' fails on what the loader refuses, 'fix' also "
                     "rewrites PLT32 to PC32 for loaders that predate it (x86_64 < 4.16, i386 < 5.12) into "
                     "BUILD_DIR/<kernel>/<module>/fixed/, 'off' skips the check (and says so)",
                     _default("RELOCS", "strict"), allowed_values=("strict", "fix", "off")),
        EnumVariable("OBJTOOL", "the kernel's objtool on the Rust object: 'strict' fails on its warnings, "
                     "'warn' prints them, 'off' skips it", _default("OBJTOOL", "strict"),
                     allowed_values=("strict", "warn", "off")),
        EnumVariable("RUST_HARDENING", "'on': Rust gets the kernel's hardening (retpoline and return thunks, "
                     "SLS, IBT, ... as its .config asks; 'scons flags' shows them); 'off' leaves it out, "
                     "which the verifier then reports", _default("RUST_HARDENING", "on"), allowed_values=("on", "off")),
        ("KERNELS", "several kernels at once, comma-separated: kernel trees, or kernels fetched with "
         f"'{COMMAND} fetch-kernel' ({debian.NAMES_TEXT}); default: just KDIR", _default("KERNELS")),
        ("KERNEL_CACHE", "where fetched kernels are kept", _default("KERNEL_CACHE", debian.default_cache())),
        ("RUST_SYSROOT_CACHE", "where what every project shares is kept, made once per machine: the Rust sysroots "
         "(core, alloc, compiler_builtins per target and flags), kernel bindings, rustkmod's compiled crates; "
         "default: KERNEL_CACHE/sysroots", _default("RUST_SYSROOT_CACHE")),
        ("CACHE_DIR", "a shared SCons CacheDir: outputs already built anywhere with the same inputs are "
         "copied from it instead of running cargo or make", _default("CACHE_DIR")),
        ("JOBS", f"compile jobs (1..{process.MAX_JOBS}) that cargo and Kbuild share through one make jobserver, "
         "whatever scons -j runs at once; default: the number of CPUs", _default("JOBS", ""), _jobs_count),
        ("RUSTC_WRAPPER", "compiler cache or distributor cargo runs rustc through (e.g. sccache); not part "
         "of any signature: the outputs are the same", _default("RUSTC_WRAPPER")),
        ("CC_WRAPPER", "put before Kbuild's C compiler (e.g. distcc, icecc, ccache; DISTCC_HOSTS and the like "
         "come from the environment); not part of any signature", _default("CC_WRAPPER")),
        ("INSTALL_MOD_PATH", "staging root 'scons install' installs the verified modules into "
         "(lib/modules/<release>/extra, then depmod); default: BUILD_DIR/root, never /", _default("INSTALL_MOD_PATH")),
        EnumVariable("INSTALL_MOD_STRIP", "debug info in installed and packaged modules: '1' strips it "
                     "(strip --strip-debug, before signing, as Kbuild's INSTALL_MOD_STRIP=1), '0' keeps it; "
                     "the build's own .ko keeps it either way", _default("INSTALL_MOD_STRIP", "1"),
                     allowed_values=("0", "1")),
        EnumVariable("MODULE_SIG", "signing at install: 'auto' signs when a key is known (MODULE_SIG_KEY, or "
                     "the kernel tree's own certs/signing_key.pem), 'on' fails without one, 'off' never signs",
                     _default("MODULE_SIG", "auto"), allowed_values=("auto", "on", "off")),
        ("MODULE_SIG_KEY", "private key (PEM file or pkcs11: URI) to sign installed modules with",
         _default("MODULE_SIG_KEY")),
        ("MODULE_SIG_CERT", "the X.509 certificate of MODULE_SIG_KEY, as the kernel's keyring holds it",
         _default("MODULE_SIG_CERT")),
        ("KERNEL_SRC", "kernel source tree whose arch/<arch>/kernel/module.c decides the accepted "
         "relocations (default: KDIR's, when it has one; else the built-in table)", _default("KERNEL_SRC")),
        EnumVariable("V", "1: verbose: every command line rustkmod runs, as a shell line (its directory and "
                     "the environment it differs in), cargo's (--verbose) and Kbuild's own (make V=1), Kbuild's BTF line, and rustkmod's "
                     "remarks in passing (the features rustc calls unstable, the partial link's objtool "
                     "annotations); RUSTKMOD_VERBOSE=1 in the environment is the same; part of no signature", _default("V", os.environ.get("RUSTKMOD_VERBOSE", "0")),
                     allowed_values=("0", "1")),
    )
    return variables


DOCS_INTRO = """\
# Build variables

`scons NAME=VALUE`, or `NAME=VALUE` in the environment, or `Environment(NAME=...)` in a
SConstruct (the command line wins, then the SConstruct, then the environment). `scons -h` prints
the same list with each variable's default and current value on this machine.

This file is generated from `site_scons/site_tools/rustkmod_scons/variables.py` (a unit test fails
when they differ); after changing a variable, write it again with

    PYTHONPATH=site_scons:site_scons/site_tools .venv/bin/python -m rustkmod_scons.variables > docs/variables.md

"""


def docs_markdown() -> str:
    """docs/variables.md: every variable of make_variables(), its other name and its help text
    (defaults that depend on the machine are said in words there, not as this machine's values)."""
    rows = ["| variable | meaning |", "|---|---|"]
    for option in make_variables({}).options:
        names = " ".join(f"`{name}`" for name in (option.key, *option.aliases))
        text = option.help.replace(COMMAND, "rustkmod").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| {names} | {text} |")
    return DOCS_INTRO + "\n".join(rows) + "\n"


def apply_variables(env) -> None:
    """Sets the variables on env: command line > Environment(...) keywords > process env > default.

    A bad value (RELOCS=bogus, JOBS=0) is one line and exit status 2, with no SCons location line.
    """
    variables = make_variables()
    preset = {key: env[key] for key in variables.keys() if key in env}
    try:
        variables.Update(env)
    except SCons.Errors.UserError as err:
        text = str(err)
        print(f"scons: *** {text if text.startswith('rustkmod:') else 'rustkmod: ' + text}", file=sys.stderr)
        Exit(2)
    arguments.note_tool_variables(variables)        # what they leave unknown, RustkmodCheckArguments checks
    for key, value in preset.items():
        if key not in ARGUMENTS and not (key == "KBUILD_CC" and "CC" in ARGUMENTS):
            env[key] = value
    registry = state.registry()
    if not registry.help_added:
        if GetOption("help"):           # the text costs milliseconds: only when it is shown
            scons_api.add_help("rustkmod build variables (scons NAME=VALUE, or set in the environment):\n"
                               + variables.GenerateHelpText(env))
        registry.help_added = True
        ignored = [name for name in process.ignored(os.environ) if name not in variables.keys()
                   and name not in ("CC", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")]
        if ignored:
            registry.note(f"{', '.join(ignored)} from the environment do(es) not reach cargo or Kbuild: "
                           "outputs depend only on what their signatures hold (see docs/building.md, 'The environment')")


def check_build_dir(env) -> None:
    """BUILD_DIR must be a directory that can be written: one line otherwise, not a traceback.
    Checked once per run and directory, however many kernels and modules use it."""
    path = build_dir_path(env)
    state.memo().remember(("build dir checked", path), lambda: _check_writable(path, env["BUILD_DIR"]))


def _check_writable(path: str, given: str) -> bool:
    probe = path
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise RustkmodError(f"BUILD_DIR={given} is under {probe}, which is a file, not a directory",
                            "set BUILD_DIR to a directory")
    try:
        os.makedirs(path, exist_ok=True)
        probe_file = os.path.join(path, f".rustkmod-write-test-{os.getpid()}")
        with open(probe_file, "w") as handle:
            handle.write("x" * 4096)
        os.remove(probe_file)
    except OSError as err:
        raise RustkmodError(f"BUILD_DIR={given} cannot be written ({err.strerror})",
                            "make room there, or set BUILD_DIR to a writable directory") from None
    return True


def build_dir_path(env) -> str:
    given = env["BUILD_DIR"]
    return given if os.path.isabs(given) else os.path.join(env.Dir("#").abspath, given)


if __name__ == "__main__":
    print(docs_markdown(), end="")
