"""The Kbuild side of a module: the `Kbuild` file and the `make` command for an external module.

Kbuild builds external modules in place (`M=DIR`), so rustkmod stages the C sources and the Rust
object into a build directory of their own and leaves the source tree clean. The Rust object goes
in as a prebuilt ("shipped") object: Kbuild copies `X.o_shipped` to `X.o`, on every kernel from
5.10 to 6.12, and links it into the composite module beside the C objects.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import tempfile

from rustkmod.kernel import suite_roots
from rustkmod.kernel.arch import ARCHES, named
from rustkmod import inputs, process
from rustkmod.errors import RustkmodError
from rustkmod.kernel.tree import Kernel

# What Kbuild's own modpost needs for a shipped object on 6.x (".NAME.cmd: No such file or
# directory" otherwise); Kbuild never writes it itself.
SHIPPED_CMD_TEXT = "# Written by rustkmod: {name} is prebuilt from Rust and shipped to Kbuild.\n"


# The C file of a module named like the module itself, compiled under another object name.
INCLUDE_WRAPPER_TEXT = ("/* Written by rustkmod: Kbuild cannot link a module from an object of its own name, "
                        "so {source} is compiled as this file. */\n#include \"{source}\"\n")


def line_marker(path: str) -> str:
    """The #line that makes what follows line 1 of `path` for the C preprocessor."""
    return '#line 1 "' + path.replace("\\", "\\\\").replace('"', '\\"') + '"\n'


def renamed_member(name: str) -> str:
    """The object name a C file called `<name>.c` gets in module `name`."""
    return f"{name}_c"


@contextlib.contextmanager
def probe_module(kdir: str, make_variables: list, files: dict, goal: str):
    """A throwaway external module: `files` ({name: text}) in a temporary directory, built with
    `make -s -C KDIR M=DIR GOAL` by the kernel's own Kbuild (in its build root if it has one).
    Yields (the finished make, the directory) while the directory exists. This is how rustkmod
    asks a kernel what it does: objtool's arguments, a module object's C flags."""
    root = suite_roots.root_of(kdir)
    with tempfile.TemporaryDirectory(prefix="rustkmod-probe-") as probe:
        for name, text in files.items():
            with open(os.path.join(probe, name), "w") as handle:
                handle.write(text)
        make = ["make", "-s", "--no-print-directory", "-C", suite_roots.inside(root, kdir), f"M={probe}",
                *make_variables, goal]
        yield process.run(suite_roots.command(root, make, probe, [probe]), capture_output=True, text=True), probe


def check_module_name(name: str, members: list[str]) -> None:
    """A composite module's name must differ from each of its members' object names."""
    inputs.module_name(name)
    for member in members:
        if os.path.splitext(member)[0] == name:
            raise RustkmodError(f"module '{name}' has a member file named {member}",
                                f"rename {member}: Kbuild cannot link {name}.ko from an object of the same name")


def kbuild_text(name: str, objects: list[str], shipped: list[str] = ()) -> str:
    """The Kbuild file of a composite module made of `objects` (C objects and the Rust object).

    Each of `shipped` (the Rust object) gets a rule of its own that copies `X.o_shipped` to `X.o`:
    Kbuild's pattern rule for `_shipped` files no longer matches an external module's objects on
    7.x (its $(obj) is "." there), and the explicit rule works from 5.10 on."""
    inputs.module_name(name)
    for member in list(objects) + list(shipped):
        inputs.kbuild_file(member, "Kbuild object")
    rules = "".join(f"\n$(obj)/{obj}: $(src)/{obj}_shipped\n\t$(Q)cat $< > $@\n" for obj in shipped)
    return ("# Written by rustkmod: edit the SConstruct, not this file.\n"
            f"obj-m := {name}.o\n"
            f"{name}-y := {' '.join(objects)}\n" + rules)


def without_btf_line(stderr: str) -> str:
    """Kbuild's output less its "Skipping BTF generation for ... due to unavailability of vmlinux":
    a headers package has no vmlinux, so every module of every build says it, and nothing can be
    done about it."""
    return "".join(line for line in stderr.splitlines(keepends=True) if not line.startswith("Skipping BTF generation"))


def check_path_for_make(variable: str, path: str) -> None:
    """make splits words on spaces, so Kbuild cannot build in (or from) such a directory."""
    if re.search(r"\s", path) or any(c in path for c in ":#$"):
        raise RustkmodError(f"{variable}={path} contains a space or one of ':#$', which Kbuild (make) "
                            "cannot handle", f"set {variable} to a path without them")


# GNU triplet prefixes of Debian's cross toolchains, per kernel architecture (arch.py).
CROSS_PREFIXES = {arch.name: arch.cross_prefix for arch in ARCHES}


def cross_compile_for(kernel: Kernel, given: str) -> str:
    """CROSS_COMPILE as given, or the Debian cross prefix when the kernel is for another arch."""
    host = named(platform.machine())
    if given or (host is not None and host.name == kernel.arch):
        return given
    return CROSS_PREFIXES.get(kernel.arch, "")


def named_compiler(config: dict) -> tuple[str, str, str]:
    """(the C compiler a kernel's .config names, its GNU triplet or "", the name without it):
    `x86_64-linux-gnu-gcc-14` is ("x86_64-linux-gnu-gcc-14", "x86_64-linux-gnu", "gcc-14")."""
    text = config.get("CONFIG_CC_VERSION_TEXT", "")
    named = text.split()[0] if text else ""
    prefix, base = re.match(r"^((?:[\w.]+-linux-gnu\w*)?)-?(.*)$", named).groups()
    return named, prefix, base


def kbuild_cc(kernel: Kernel, cross_compile: str, given: str) -> tuple[str, str]:
    """(CC to pass to Kbuild or "", a note for the user or "").

    Debian's headers name the compiler their kernel was built with (CONFIG_CC_VERSION_TEXT, e.g.
    gcc-10 for 5.10). When it is installed, Kbuild finds it by itself; when it is not, the
    machine's gcc is used instead (Kbuild warns that it differs, and builds).
    """
    if given:
        return given, ""
    named, _, base = named_compiler(kernel.config)
    if not named or "clang" in named:
        return "", ""
    if suite_roots.root_of(kernel.kdir):     # made with the kernel's compiler (suite_roots.py): Kbuild finds it there
        return "", ""
    if shutil.which(cross_compile + base) or (not cross_compile and shutil.which(named)):
        return "", ""
    fallback = cross_compile + "gcc"
    if not shutil.which(fallback):
        raise RustkmodError(f"Linux {kernel.release} was built with {named}; neither {cross_compile + base} "
                            f"nor {fallback} is installed", f"install {fallback} or pass CC=<a C compiler>")
    return fallback, f"Linux {kernel.release} was built with {named}, which is not installed: Kbuild uses {fallback}"


def make_variables(kernel: Kernel, cross_compile: str = "", cc: str = "", llvm: str = "") -> list[str]:
    """The variables passed to Kbuild's make for this kernel."""
    variables = [f"ARCH={kernel.kbuild_arch}"]
    if cross_compile:
        variables.append(f"CROSS_COMPILE={cross_compile}")
    if cc:
        variables.append(f"CC={cc}")
    if llvm:
        variables.append(f"LLVM={llvm}")
    return variables


def extra_symbols_variable(symvers: list[str]) -> list[str]:
    """KBUILD_EXTRA_SYMBOLS for the Module.symvers files of other external modules this one calls,
    so that modpost knows their exports (and their CRCs) instead of failing on "undefined!"."""
    for path in symvers:
        check_path_for_make("KBUILD_EXTRA_SYMBOLS", path)
    return ["KBUILD_EXTRA_SYMBOLS=" + " ".join(symvers)] if symvers else []


def default_cc(cross_compile: str, llvm: str) -> str:
    """The C compiler Kbuild picks by itself."""
    return "clang" if llvm else f"{cross_compile}gcc"


def cc_wrapped(cc: str, wrapper: str) -> list[str]:
    """`CC=<wrapper> <cc>` for make when a wrapper (distcc, icecc, ccache) is set, else nothing;
    the compiler itself is unchanged."""
    return [f"CC={wrapper} {cc}"] if wrapper else []


def modules_command(kdir: str, module_dir: str, make_variables: list, cc: str, cc_wrapper: str = "",
                    kcflags: str = "", verbose: bool = False) -> list[str]:
    """`make -C KDIR M=DIR modules` for one module's directory, in the kernel's build root when
    it has one. The directory is mapped away in debug info and __FILE__, so the .ko does not
    depend on where the checkout is (a CacheDir shared by checkouts, reproducible builds).
    `verbose`: Kbuild's V=1, every command it runs (make's -s would hide them)."""
    kcflags = f"{kcflags} -ffile-prefix-map={module_dir}/=".strip()
    root = suite_roots.root_of(kdir)
    make = ["make", "-C", suite_roots.inside(root, kdir), f"M={module_dir}", *make_variables,
            *cc_wrapped(cc, cc_wrapper), f"KCFLAGS={kcflags}", "V=1" if verbose else "-s", "--no-print-directory",
            "modules"]
    return suite_roots.command(root, make, module_dir, [module_dir])


def missing_runtime_symbols(make_output: str) -> list[str]:
    """rustkmod-rt's C functions modpost found undefined (`ERROR: modpost: "rustkmod_rt_log" [...]
    undefined!`): the crate reached rustkmod-rt in a way rustkmod did not see."""
    return sorted(set(re.findall(r'modpost: "(rustkmod_rt_\w+)" \[[^\]]*\] undefined', make_output)))
