"""rustkmod itself as a Debian package, made from a checkout (`scons rustkmod-deb`): what root's
DKMS, a CI image or a firmware build root installs with `apt install ./rustkmod_<version>_all.deb`.

Layout: the checkout's own, under SCons' site directory /usr/share/scons/site_scons (`rustkmod/`,
rustkmod's crates and `site_tools/rustkmod_scons/`). Every scons on the machine reads that
directory, puts it on Python's path and its site_tools on the tool path, so a SConstruct says
`Environment(tools=["rustkmod_scons"])` with no toolpath, and Debian's SCons and Python packages
are all it runs on. `/usr/bin/rustkmod` is the command, the docs are in /usr/share/doc/rustkmod.
"""

from __future__ import annotations

import os
import time

from rustkmod import __version__, debpkg, inputs

SITE = "usr/share/scons/site_scons"
PACKAGES = ("rustkmod", "rustkmod_rt", "rustkmod_kernel", "rustkmod_macros", "rustkmod_pin_init",
            os.path.join("site_tools", "rustkmod_scons"))
# What the tool runs, as Debian 12 names it (the oldest each was tested with). bindgen, libclang
# and its Python bindings: the kernel crate's bindings are generated for each kernel.
DEPENDS = ("python3 (>= 3.11)", "scons (>= 4.4)", "python3-pyelftools (>= 0.29)", "python3-numpy",
           "python3-capstone", "python3-zstandard", "rustc-web (>= 1.85) | rustc (>= 1.85)",
           "cargo-web | cargo", "rust-web-src | rust-src", "bindgen", "libclang1-14", "python3-clang-14",
           "make", "binutils", "gcc", "kmod")
RECOMMENDS = ("dkms", "qemu-system-x86 | qemu-system", "busybox-static", "cpio", "openssl")
SUGGESTS = ("device-tree-compiler", "acpica-tools", "mmdebstrap", "lintian")
MAINTAINER = "rustkmod developers <rustkmod@example.com>"

COMMAND = f"""#!/usr/bin/python3
# rustkmod's command line, from the Debian package (the package is in SCons' site directory).
import sys

sys.path.insert(0, "/{SITE}")
from rustkmod.__main__ import main  # noqa: E402

sys.exit(main())
"""

_SKIPPED = ("__pycache__", "target", ".pytest_cache", "compile_fail")     # compile_fail: the crate's tests


def files_of(checkout: str, epoch: int) -> dict[str, tuple[bytes, int]]:
    """{path in the package: (contents, mode)} of the checkout's tool, crates, docs and command."""
    files: dict[str, tuple[bytes, int]] = {}
    site = os.path.join(checkout, "site_scons")
    for package in PACKAGES:
        for root, dirs, names in os.walk(os.path.join(site, package)):
            dirs[:] = sorted(d for d in dirs if d not in _SKIPPED and not d.startswith("."))
            for name in sorted(names):
                if name.endswith((".pyc", ".orig", ".rej")) or name.startswith(".") or name == "Cargo.lock":
                    continue
                path = os.path.join(root, name)
                with open(path, "rb") as handle:
                    files[f"{SITE}/{os.path.relpath(path, site)}"] = (handle.read(), 0o644)
    files["usr/bin/rustkmod"] = (COMMAND.encode(), 0o755)
    doc = "usr/share/doc/rustkmod"
    for name in sorted(os.listdir(os.path.join(checkout, "docs"))):
        if name.endswith(".md"):
            with open(os.path.join(checkout, "docs", name), "rb") as handle:
                files[f"{doc}/{name}"] = (handle.read(), 0o644)
    with open(os.path.join(checkout, "README.md"), "rb") as handle:
        files[f"{doc}/README.md"] = (handle.read(), 0o644)
    files["usr/share/man/man1/rustkmod.1.gz"] = (debpkg.gzipped(manual_page(epoch).encode()), 0o644)
    return files


def manual_page(epoch: int) -> str:
    """rustkmod(1), from the command's own parser: its commands and what each does."""
    from rustkmod.__main__ import _parser
    parser = _parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    lines = [f'.TH RUSTKMOD 1 "{time.strftime("%Y-%m-%d", time.gmtime(epoch))}" "rustkmod {__version__}" "User Commands"',
             ".SH NAME", r"rustkmod \- Linux kernel modules in Rust, built with SCons and verified against the "
             "kernel's module loader", ".SH SYNOPSIS", r".B rustkmod", r"\fICOMMAND\fR [\fIARGUMENTS\fR]",
             ".SH DESCRIPTION", _roff(parser.description), ".PP",
             _roff('A SConstruct loads the tool with Environment(tools=["rustkmod_scons"]) and no toolpath; '
                   "scons -h lists the build variables and targets."),
             ".SH COMMANDS"]
    for choice in commands._choices_actions:
        lines += [".TP", rf"\fB{choice.dest}\fR", _roff(choice.help)]
    lines += [".SH FILES", ".TP", f"/{SITE}", _roff("the SCons tool, rustkmod's Python package and its crates"),
              ".TP", "/usr/share/doc/rustkmod", _roff("the documentation (rustkmod docs prints where a page is)"),
              ".SH SEE ALSO", r".BR scons (1),", r".BR dkms (8)"]
    return "\n".join(lines) + "\n"


def _roff(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("-", "\\-")
    return "\\&" + text if text.startswith((".", "'")) else text


def copyright_text(epoch: int) -> str:
    year = time.gmtime(epoch).tm_year
    return ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
            "Upstream-Name: rustkmod\n\n"
            "Files: *\n"
            f"Copyright: {year} {MAINTAINER}\n"
            "License: GPL-2\n"
            " rustkmod, its SCons tool and its Rust crates (rustkmod-kernel, rustkmod-rt,\n"
            " rustkmod-macros, rustkmod-pin-init) are licensed under the GNU General Public\n"
            " License version 2.\n"
            " .\n"
            " On Debian systems, the complete text of the GNU General Public License\n"
            " version 2 can be found in /usr/share/common-licenses/GPL-2.\n")


def control_text(version: str, installed_kib: int) -> str:
    return ("Package: rustkmod\n"
            f"Version: {version}\n"
            "Architecture: all\n"
            f"Maintainer: {MAINTAINER}\n"
            f"Installed-Size: {installed_kib}\n"
            f"Depends: {', '.join(DEPENDS)}\n"
            f"Recommends: {', '.join(RECOMMENDS)}\n"
            f"Suggests: {', '.join(SUGGESTS)}\n"
            "Section: devel\n"
            "Priority: optional\n"
            "Description: SCons builders for Linux kernel modules written in Rust\n"
            " rustkmod builds a Rust crate into a Linux kernel module with the kernel's own\n"
            " Kbuild, and fails the build when the module holds a relocation the configured\n"
            " kernel's module loader cannot apply. It also boots the kernel in QEMU to load\n"
            " the module, and makes Debian and DKMS packages of it.\n")


def build(checkout: str, output: str, epoch: int, version: str = __version__) -> None:
    """Writes rustkmod_<version>_all.deb to `output`."""
    inputs.version(version)
    files = files_of(checkout, epoch)
    files.update(debpkg.doc_files("rustkmod", version, MAINTAINER, epoch, copyright_text(epoch),
                                  f"rustkmod {version}, packaged from its checkout."))
    debpkg.assemble("rustkmod", files, lambda size: control_text(version, size), {}, epoch, output)
