"""Kernel bindings for a crate, generated per kernel with Debian's bindgen and libclang.

The C flags are the kernel's own: a one-line probe module is built with the kernel's Kbuild, and
its compile command is read back from `.probe.o.cmd`, less what clang does not take (the kernel's
`bindgen_skip_c_flags` in rust/Makefile is the reference) and plus what bindgen needs. The header
the module names lists its `#include`s and, in `// rustkmod-bindgen: allow NAME ...` lines, the
functions, types and variables it uses. libclang writes a dependency file beside the bindings:
every header it read, so editing one reruns bindgen for that kernel.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shlex
import shutil
from typing import NamedTuple

from rustkmod import atomic, process, stamps
from rustkmod.errors import RustkmodError
from rustkmod.kernel import kbuild, suite_roots
from rustkmod.kernel.arch import ARCHES

# gcc-only flags in Kbuild's compile command that clang refuses or that change nothing in a
# declaration: the kernel's own `bindgen_skip_c_flags` (rust/Makefile), and what Debian's 5.10 to
# 7.x command lines add on every architecture (-mno-fdpic on armhf, -mno-riscv-attribute, ...).
SKIPPED_PREFIXES = (
    "-Wp,-MMD", "-fmacro-prefix-map", "-fcf-protection=", "-falign-jumps", "-falign-loops", "-mno-fp-ret-in-387",
    "-mpreferred-stack-boundary", "-mskip-rax-setup", "-mindirect-branch", "-mfunction-return", "-mharden-sls",
    "-fno-allow-store-data-races", "-fno-stack-clash-protection", "-mrecord-mcount", "-fconserve-stack",
    "-fno-var-tracking-assignments", "-fno-ipa-sra", "-fmin-function-alignment", "-fzero-call-used-regs",
    "-fsanitize=bounds-strict", "-fpatchable-function-entry", "-fstrict-flex-arrays", "-fno-inline-functions-called-once",
    "-mstack-protector-guard", "-fzero-init-padding-bits", "-fdiagnostics-show-context", "-mabi=lp64",
    "-mno-spe", "-mlittle-endian", "-mapcs", "-mno-sched-prolog", "-mtp=", "-mtune=", "-fno-dwarf2-cfi-asm",
    "-mgeneral-regs-only", "-msign-return-address", "-mtraceback=", "-mno-pointers-to-nested-functions",
    "-mno-string", "-mno-strict-align", "-mstrict-align", "-mdirect-extern-access", "-mexplicit-relocs",
    "-mno-check-zero-division", "-femit-struct-debug-baseonly", "-fno-ipa-cp-clone", "-fno-partial-inlining",
    "-fplugin", "-fno-reorder-blocks", "-fasan-shadow-offset", "--param=", "-mno-fdpic", "-mno-riscv-attribute",
)
# Flags whose value is the next word, skipped with it.
SKIPPED_WITH_VALUE = ("-o", "--param")
# bindgen's options for every set of bindings: core, not std; C types from core::ffi; no layout
# tests; size_t as usize (as the kernel's own crate has it); Default derived where bindgen can
# (Debug and Copy are its defaults). A crate changes them in its Cargo.toml
# ([package.metadata.rustkmod]): bindgen-options adds options (one with the flag of a default
# replaces it: --ctypes-prefix crate::ffi), bindgen-remove takes defaults away by flag
# (resolve_options).
DEFAULT_OPTIONS = ("--use-core", "--ctypes-prefix", "core::ffi", "--no-layout-tests", "--size_t-is-usize",
                   "--with-derive-default")
# Options bindgen takes once: a second one is a conflict, named before bindgen runs.
_ONCE = frozenset({"--ctypes-prefix", "--rust-target", "--default-enum-style", "--default-macro-constant-type",
                   "--default-alias-style", "--default-non-copy-union-style", "--anon-fields-prefix"})
CLANG_TARGETS = {arch.name: arch.clang_target for arch in ARCHES}     # clang's --target per architecture
_PROBE = '#include <linux/module.h>\nMODULE_LICENSE("GPL");\n'
_ALLOW = re.compile(r"^\s*//\s*rustkmod-bindgen:\s*allow\s+(.+)$", re.M)


def _units(options) -> list[tuple]:
    """Options as (flag, value...) units: a word starting with '-' begins one, the words after it
    are its values; --flag=value is (--flag, value)."""
    units = []
    for word in options:
        if word.startswith("-"):
            units.append(tuple(word.split("=", 1)))
        elif units:
            units[-1] += (word,)
        else:
            units.append((word,))
    return units


def resolve_options(added, removed, where: str) -> tuple:
    """bindgen's options for a crate: DEFAULT_OPTIONS less those `removed` names (by flag) and
    those `added` gives again (replaced), then `added`. A removed flag that is no default, or an
    option bindgen takes once given twice, is one error naming both and `where` (the manifest)."""
    defaults = _units(DEFAULT_OPTIONS)
    default_flags = [unit[0] for unit in defaults]
    for flag in removed:
        if flag not in default_flags:
            raise RustkmodError(f"{where}: bindgen-remove names {flag}, which is not one of rustkmod's bindgen "
                                f"defaults ({', '.join(default_flags)})", "name one of those, or leave it out")
    own = _units(added)
    given = {}
    for unit in own:
        if unit[0] in _ONCE and unit[0] in given:
            raise RustkmodError(f"{where}: bindgen-options gives {' '.join(given[unit[0]])} and "
                                f"{' '.join(unit)}; bindgen takes {unit[0]} once", "keep one of them")
        given[unit[0]] = unit
    kept = [unit for unit in defaults if unit[0] not in removed and unit[0] not in given]
    return tuple(word for unit in kept + own for word in unit)


def known_flags(program: str) -> tuple:
    """The option flags this bindgen takes (from its --help), to name a wrong one before the build."""
    try:
        text = process.run([program, "--help"], capture_output=True, text=True).stdout
    except OSError:
        return ()           # not installed: versions() names that
    return tuple(sorted(set(re.findall(r"(?m)^\s+(?:-\w, )?(--[\w-]+)", text))))


def check_known(options: tuple, known: tuple, where: str, program: str) -> None:
    """Every option flag of `options` is one `known` lists, or one error naming it: found while
    SCons reads the SConscripts, not in the build (where -k would meet SCons' #2901)."""
    if not known:
        return
    for unit in _units(options):
        if unit[0].startswith("--") and unit[0] not in known:
            raise RustkmodError(f"{where}: bindgen-options gives {unit[0]}, which {program} does not take",
                                f"fix bindgen-options (`{program} --help` lists its options)")


def allowlist(header_text: str) -> tuple:
    """The names the header's `// rustkmod-bindgen: allow ...` lines give, in order."""
    return tuple(name for line in _ALLOW.findall(header_text) for name in line.split())


class Request(NamedTuple):
    """What one set of bindings is made with, besides its header: the kernel, the names, the tools."""

    kdir: str
    arch: str
    release: str
    make_variables: tuple
    allow: tuple                        # the header's `// rustkmod-bindgen: allow` names
    program: str = "bindgen"
    extra_flags: tuple = ()             # BINDGEN_CLANG_FLAGS
    libclang: str = ""                  # LIBCLANG_PATH
    scope: str = ""                     # a crate's bindings: its helpers' symbols carry its name
    options: tuple = DEFAULT_OPTIONS    # bindgen's own options


def generate(header: str, output: str, helpers_c: str, request: Request) -> list[str]:
    """bindings.rs (`output`) and the C helpers (`helpers_c`) of `header` for one kernel: libclang
    sorts what the header allows (inline_helpers.plan), bindgen binds the rest, with Kbuild's C
    flags for the kernel. Returns remarks for the user (names not bound, and why); raises
    RustkmodError, leaving neither file, when the bindings cannot be made. Beside `output`:
    .d (every header read), .h (bindgen's input), .flags (the kept C flags)."""
    if not request.allow:
        raise RustkmodError(f"{header} allows nothing",
                            "list what the crate uses: // rustkmod-bindgen: allow kfree __kmalloc ...")
    try:
        return _generate(header, output, helpers_c, request)
    except RustkmodError:
        for path in (output, helpers_c):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        raise


def _generate(header: str, output: str, helpers_c: str, request: Request) -> list[str]:
    from rustkmod.rust import inline_helpers
    release = request.release
    try:
        flags = cached_kbuild_c_flags(request.kdir, request.arch, list(request.make_variables), output + ".flags")
        flags += list(request.extra_flags)
        plan = inline_helpers.plan(header, request.allow, flags, request.libclang, request.scope)
    except RustkmodError as err:
        raise RustkmodError(f"bindgen failed on {header} for Linux {release}: {err.what}", err.fix) from None
    bindgen_input = output + ".h"
    atomic.write(bindgen_input, plan.bindgen_input(header))
    argv = command(request.program, bindgen_input, output, output + ".d", plan.allowed(), flags, request.options)
    try:
        child = dict(process.environment(), LIBCLANG_PATH=inline_helpers.libclang_file(request.libclang))
        result = process.run(argv, env=child, cwd=request.kdir, capture_output=True, text=True)
    except OSError:
        raise RustkmodError(f"BINDGEN={request.program} cannot be run",
                            "install Debian's bindgen and libclang1-14 (./setup does)") from None
    if result.returncode != 0 or not os.path.isfile(output):
        refused = _refused_option(result.stderr)
        if refused:
            raise RustkmodError(f"bindgen refused its options for {header}: {refused} (options: "
                                f"{' '.join(request.options)})", "fix bindgen-options (or bindgen-remove) in the "
                                "crate's [package.metadata.rustkmod]")
        raise RustkmodError(error_block(result.stderr, header, release),
                            "fix the header, or the allowlist, for this kernel (#if LINUX_VERSION_CODE ...)")
    with open(output, encoding="utf-8") as handle:
        rust, untyped = inline_helpers.without_non_constants(handle.read())
    name = os.path.basename(header)
    remarks = [f"{macro} is a function-like macro in Linux {release}: not bound (to call it, wrap it in a static "
               f"inline function in {name})" for macro in plan.macros]
    remarks += [f"{macro} is a macro whose value is no compile-time constant in Linux {release}: not bound (to use "
                f"it, wrap it in a static inline function in {name})" for macro in untyped]
    remarks += [f"{missing} is not declared in Linux {release} (with {name}'s includes): not bound"
                for missing in not_bound(rust, plan.plain)]
    prefix = inline_helpers.helper_prefix(request.scope)
    atomic.write(output, unsafe_extern_blocks(inline_helpers.rename(rust, prefix)))
    atomic.write(helpers_c, plan.c_file(name))
    return remarks


def cached_kbuild_c_flags(kdir: str, arch: str, make_variables: list, cache_file: str) -> list:
    """The flags the kernel's Kbuild compiles a module object with, as clang takes them. Kbuild's
    command line (a probe module through the kernel's Makefiles: 0.6 s) is kept in `cache_file` while the tree's signature files (the ones its modules depend on)
    and the make variables are the same: a header edit then costs libclang and bindgen alone. What
    clang takes of it is worked out each time, so a new rustkmod's filter applies at once."""
    from rustkmod.kernel.tree import SIGNATURE_FILES
    line = stamps.cached(cache_file, [os.path.join(kdir, name) for name in SIGNATURE_FILES],
                         ["kbuild command", kdir, list(make_variables)], lambda: kbuild_command(kdir, make_variables))
    return clang_flags(line, arch, suite_roots.root_of(kdir), kdir)


def kbuild_command(kdir: str, make_variables: list) -> str:
    """Kbuild's compile command for a module object of the kernel (`.probe.o.cmd`'s first line)."""
    files = {"probe.c": _PROBE, "Kbuild": "obj-m := probe.o\n"}
    with kbuild.probe_module(kdir, make_variables, files, "probe.o") as (result, probe):
        cmd_file = os.path.join(probe, ".probe.o.cmd")
        if result.returncode != 0 or not os.path.isfile(cmd_file):
            last = process.last_line(result.stderr)
            raise RustkmodError(f"KDIR={kdir}: cannot ask Kbuild for its C flags ({last})",
                                "check the tree builds external modules (make -C KDIR M=... modules)")
        with open(cmd_file, encoding="utf-8", errors="replace") as handle:
            return handle.readline()


def clang_flags(cmd_line: str, arch: str, root: str, kdir: str) -> list:
    """The first line of a `.NAME.o.cmd` (`cmd_... := CC FLAGS -c -o OBJ SRC ; objtool ...`) as
    the flags bindgen passes to clang, with KDIR's relative paths (`-I./include`) made absolute."""
    words = shlex.split(cmd_line.split(":=", 1)[1].split(" ; ")[0])[1:]    # the compiler, then its flags
    flags, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word in SKIPPED_WITH_VALUE:
            skip = True
            continue
        if word == "-c" or word.endswith(".c") or word.startswith(SKIPPED_PREFIXES):
            continue
        if word.startswith("-march=rv"):
            # libclang 14 refuses the z extensions gcc 12 on names (zicsr, zifencei: base ISA to
            # clang 14); declarations do not depend on them
            word = re.sub(r"_z\w*", "", word)
        flags.append(_outside(root, _absolute(kdir, word)))
    return flags + ["-w", f"--target={CLANG_TARGETS[arch]}", "-fno-builtin", "-D__BINDGEN__",
                    # libclang before 16 takes INIT_STACK_ALL_ZERO's flag only with this one
                    "-enable-trivial-auto-var-init-zero-knowing-it-will-be-removed-from-clang"]


def _absolute(kdir: str, word: str) -> str:
    """A path Kbuild gives relative to KDIR (make -C KDIR), absolute."""
    for prefix in ("-I", ""):
        path = word[len(prefix):]
        if word.startswith(prefix) and (path.startswith("./") or (prefix and path and not path.startswith("/"))):
            return prefix + os.path.normpath(os.path.join(kdir, path))
    return word


def _outside(root: str, word: str) -> str:
    """A path in the build root, as the host (where bindgen runs) sees it."""
    if not root:
        return word
    for prefix in ("-I/", "-include/", "/"):
        if word.startswith(prefix) and word.startswith(prefix[:-1] + "/usr/"):
            return prefix[:-1] + root + word[len(prefix) - 1:]
    return word


# Kernel types Rust cannot lay out (packed and aligned at once, or packed holding aligned ones) or
# that are empty without SMP: the kernel's own rust/bindgen_parameters makes them opaque (6.1 on).
# An allowed function drags in every type it reaches (filp_open: struct file, then the task and
# the FPU state), so a module meets them without naming them.
OPAQUE_TYPES = ("xregs_state", "desc_struct", "arch_lbr_state", "local_apic", "x86_msi_data", "x86_msi_addr_lo",
                "kunit_try_catch", "spinlock")


def command(program: str, header: str, output: str, depfile: str, allow: tuple, flags: list,
            options: tuple = DEFAULT_OPTIONS) -> list:
    anchored = "^(" + "|".join(re.escape(name) for name in allow) + ")$"
    opaque = [word for name in OPAQUE_TYPES for word in ("--opaque-type", name)]
    return [program, header, *opaque, *options,
            "--allowlist-function", anchored, "--allowlist-type", anchored, "--allowlist-var", anchored,
            "-o", output, "--", *flags, "-MD", "-MF", depfile]


def versions(program: str, libclang: str) -> str:
    """bindgen's version and the digest of the libclang file it loads (another libclang lays
    structures out its own way; the same one copied elsewhere does not): the bindings' signature."""
    if not shutil.which(program):
        raise RustkmodError(f"BINDGEN={program} is not installed",
                            "install Debian's bindgen and libclang1-14 (./setup does), or set BINDGEN")
    bindgen = process.run([program, "--version"], capture_output=True, text=True).stdout.strip()
    try:
        with open(libclang, "rb") as handle:
            clang = f"libclang sha256:{hashlib.file_digest(handle, 'sha256').hexdigest()}"
    except OSError:
        clang = f"libclang {libclang} missing"      # the step names it when it loads libclang
    return f"{bindgen}; {clang}"


def _refused_option(stderr: str) -> str:
    """bindgen's (clap's) complaint about its command line, if that is why it failed."""
    for line in stderr.splitlines():
        line = line.strip()
        if line.startswith("error:") and ("argument" in line or "option" in line or "flag" in line):
            return line[len("error:"):].strip()
    return ""


def error_block(stderr: str, header: str, kernel: str) -> str:
    """bindgen's failure as one block: the first error clang reported, with its file and line."""
    errors = re.findall(r"(\S+?):(\d+):\d+: (?:fatal )?error: ([^\n\"]+)", stderr)
    if errors:
        path, line, message = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"bindgen failed on {header} for Linux {kernel}: {path}:{line}: {message}{more}"
    last = process.last_line(stderr)
    return f"bindgen failed on {header} for Linux {kernel}: {last.strip()[:300]}"


def not_bound(rust: str, names) -> list:
    """The allowed names bindgen's output declares nothing for: the kernel has no such function,
    type or variable (bindgen leaves an allowlist entry that matches nothing out in silence)."""
    declared = set(re.findall(r"\bpub (?:fn|struct|union|enum|type|const|static(?: mut)?) (\w+)", rust))
    return [name for name in names if name not in declared]


def unsafe_extern_blocks(rust: str) -> str:
    """Debian's bindgen (0.60) writes `extern "C" {`, which edition 2024 refuses; `unsafe extern`
    is what every edition takes since Rust 1.82."""
    return re.sub(r'(?<!unsafe )\bextern "C" \{', 'unsafe extern "C" {', rust)     # rustfmt's layout or not
