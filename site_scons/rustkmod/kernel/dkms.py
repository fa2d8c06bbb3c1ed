"""A DKMS source tree of a project: its sources and a dkms.conf whose build runs rustkmod.

DKMS rebuilds a module for each kernel a machine installs. Its build here is `scons` in the
copied project with KDIR set to the kernel DKMS names, so the verifier runs there too: a kernel
whose loader would refuse the module fails `dkms build` with rustkmod's line (in DKMS's
make.log), before anything is installed.
"""

from __future__ import annotations

import os
import re
import shutil

from rustkmod import debpkg, inputs
from rustkmod.errors import RustkmodError

# Never walked into: outputs, caches and the version control of the project.
_SKIPPED_NAMES = {".git", ".hg", ".svn", "target", "__pycache__", ".venv", ".pytest_cache"}
_VCS_FILES = {".gitignore", ".gitattributes", ".gitmodules", ".hgignore"}
_SKIPPED_PREFIXES = (".sconsign", ".rustkmod.", "rust-project.json", "compile_commands.json")   # state, editor files


def conf_text(package: str, version: str, modules: list[str], scons: str = "scons") -> str:
    """dkms.conf: DKMS sources it with ${kernelver} and ${kernel_source_dir} set (a shell file: the
    names in it are checked, not quoted)."""
    inputs.package_name(package)
    inputs.version(version)
    for name in modules:
        inputs.module_name(name)
    lines = [f'PACKAGE_NAME="{package}"', f'PACKAGE_VERSION="{version}"',
             "# rustkmod builds and verifies each module for the kernel DKMS names; a refusal fails the build",
             # KERNELS= : this kernel alone, whatever the SConstruct lists; JOBS: what DKMS was given (-j)
             f'MAKE[0]="{scons} -Q KERNELS= KDIR=${{kernel_source_dir}} JOBS=${{parallel_jobs}}"',
             'CLEAN="rm -rf build .sconsign.dblite .rustkmod.memo"']
    for index, name in enumerate(modules):
        lines += [f'BUILT_MODULE_NAME[{index}]="{name}"',
                  f'BUILT_MODULE_LOCATION[{index}]="build/${{kernelver}}/{name}/"',
                  f'DEST_MODULE_LOCATION[{index}]="/updates/dkms"']
    lines.append('AUTOINSTALL="yes"')
    return "\n".join(lines) + "\n"


# Files a source tree must never carry, whoever names them: keys, credentials, environments.
_SECRET_NAME = re.compile(r"^\.env(\..*)?$|\.(pem|key|p12|pfx|p8|jks|keystore|kdbx|gpg|asc)$|^id_(rsa|dsa|ecdsa|ed25519)"
                          r"|^\.(netrc|pypirc|git-credentials)$|^credentials(\..*)?$", re.I)
# A PEM private key: its armour line, then base64 (so a file that only names the armour is no key).
_PEM_PRIVATE_KEY = re.compile(rb"^-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]{32,}", re.M)
# What a project's top directory holds for people, shipped with its sources when present.
_TOP_DOCS = re.compile(r"^(README|LICEN[CS]E|COPYING|CHANGELOG|NOTICE|AUTHORS)([.-].*)?$", re.I)


def secret(path: str) -> str:
    """Why `path` must not be shipped ("" when it may): its name, or a private key inside it."""
    if _SECRET_NAME.search(os.path.basename(path)):
        return "a key or credentials file, by its name"
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return ""
    return "it holds a private key" if _PEM_PRIVATE_KEY.search(head) else ""


def source_files(top: str, build_dirs, named_dirs=(), named_files=(), explicit=None) -> tuple[list[str], list[str]]:
    """(the files of the project a source tree carries, relative to `top`; those left out as
    secrets, with why).

    `explicit` (a list relative to `top`): exactly those. Otherwise what the build names: every
    file of `named_dirs` (the modules' crates: what cargo reads) and `named_files` (C sources,
    SConstruct and SConscripts, device trees, ...), the project's own site_scons/ and its top
    README/LICENSE/... files, less outputs, version control and rustkmod's state files. Keys and
    credentials are never carried: named explicitly, they are an error."""
    top = os.path.abspath(top)
    skip = {os.path.abspath(d) for d in build_dirs}
    if explicit is not None:
        found = set()
        for relative in explicit:
            path = os.path.join(top, relative)
            if not os.path.isfile(path):
                raise RustkmodError(f"files= names {relative}, which is not a file of the project",
                                    "give paths relative to the top SConstruct's directory")
            why = secret(path)
            if why:
                raise RustkmodError(f"files= names {relative}: {why}; a source tree never carries it",
                                    "take it out of files= (sign at install with MODULE_SIG_KEY on the target instead)")
            found.add(path)
    else:
        found = {os.path.abspath(f) for f in named_files}      # a file the build makes in the sources (Cargo.lock) too
        found.update(os.path.join(top, n) for n in os.listdir(top) if _TOP_DOCS.match(n) and os.path.isfile(os.path.join(top, n)))
        site = os.path.join(top, "site_scons")
        for directory in [*named_dirs, *([site] if os.path.isdir(site) else [])]:
            found.update(_walk(os.path.abspath(directory), skip))
    shipped, left_out = [], []
    for path in sorted(found):
        relative = os.path.relpath(path, top)
        if relative.startswith(".." + os.sep) or any(path.startswith(d + os.sep) for d in skip):
            continue                        # outside the project (rustkmod's crates, a kernel's headers) or an output
        why = secret(path)
        (left_out if why else shipped).append(f"{relative} ({why})" if why else relative)
    return shipped, left_out


def _walk(directory: str, skip: set) -> list[str]:
    found = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_NAMES and os.path.join(root, d) not in skip
                         and (not d.startswith(".") or d == ".cargo")       # editors' and tools' state: not sources
                         and not os.path.isfile(os.path.join(root, d, "CACHEDIR.TAG")))
        found.extend(os.path.join(root, n) for n in names
                     if not n.startswith(_SKIPPED_PREFIXES) and not n.endswith((".pyc", ".ko", ".o"))
                     and n not in _VCS_FILES)
    return found


def machine_path(top: str, files: list[str], paths: list[str]) -> tuple[str, int, str] | None:
    """The first (file, line, path) where a shipped text file names one of `paths` (the project's
    own directory, rustkmod's checkout, the home directory): a tree built on another machine would
    look there."""
    paths = sorted({p.rstrip(os.sep) for p in paths if p and p.rstrip(os.sep)}, key=len, reverse=True)
    for relative in files:
        try:
            with open(os.path.join(top, relative), encoding="utf-8") as handle:
                lines = handle.read(1 << 20).splitlines()
        except (OSError, UnicodeDecodeError):
            continue                        # not text: no path a build would read
        for number, line in enumerate(lines, 1):
            for path in paths:
                if re.search(r"(?<![\w.-])" + re.escape(path) + r"(?![\w.-])", line):
                    return relative, number, path
    return None


def write_tree(top: str, files: list[str], destination: str, conf: str) -> None:
    """The tree DKMS takes (`dkms add DESTINATION`): the files as they are, and dkms.conf."""
    shutil.rmtree(destination, ignore_errors=True)
    for relative in files:
        target = os.path.join(destination, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(top, relative), target)
    with open(os.path.join(destination, "dkms.conf"), "w", encoding="utf-8") as handle:
        handle.write(conf)


# ---------------------------------------------------------------------------------------------
# `scons dkms-deb`: the tree as Debian's <package>-dkms binary package


def deb_package_name(package: str) -> str:
    return f"{package}-dkms"


def deb_file_name(package: str, version: str) -> str:
    return f"{deb_package_name(package)}_{version}_all.deb"


def postinst_text(package: str, version: str) -> str:
    """On configure, what dh-dkms's postinst does: DKMS's common.postinst adds the sources and
    builds and installs them for the kernels the machine has headers of."""
    return ("#!/bin/sh\nset -e\n"
            f'if [ "$1" = configure ] && [ -x /usr/lib/dkms/common.postinst ]; then\n'
            f'    /usr/lib/dkms/common.postinst {package} {version} /usr/share/{deb_package_name(package)} "" "$2"\n'
            "fi\n")


def prerm_text(package: str, version: str) -> str:
    """Before removal or an upgrade: the module out of every kernel and out of DKMS."""
    return ("#!/bin/sh\nset -e\n"
            'case "$1" in\n'
            "remove|upgrade|deconfigure)\n"
            f"    if command -v dkms >/dev/null && [ -n \"$(dkms status -m {package} -v {version})\" ]; then\n"
            f"        dkms remove -m {package} -v {version} --all || true\n"
            "    fi\n"
            "    ;;\n"
            "esac\n")


def deb_control_text(spec, rustkmod_version: str, installed_kib: int) -> str:
    spec.check()            # every field one line of its form: none can add a field
    return (f"Package: {deb_package_name(spec.package)}\n"
            f"Version: {spec.version}\n"
            "Architecture: all\n"
            f"Maintainer: {spec.maintainer}\n"
            f"Installed-Size: {installed_kib}\n"
            f"Depends: dkms (>= 3.0), rustkmod (>= {rustkmod_version})\n"
            "Section: kernel\n"
            "Priority: optional\n"
            f"Description: {spec.description} (DKMS)\n"
            " The module's sources, which DKMS builds with rustkmod for every kernel whose\n"
            " headers the machine installs; each build is verified against that kernel's\n"
            " module loader before DKMS installs it.\n")


def build_deb(spec, tree: str, output: str, rustkmod_version: str) -> None:
    """<package>-dkms_<version>_all.deb of the DKMS `tree` (scons dkms's output), at `output`:
    the tree as /usr/src/<package>-<version>/, as Debian's *-dkms packages ship it."""
    from rustkmod.kernel import deb
    spec.check()
    source = f"usr/src/{spec.package}-{spec.version}"
    files = {}
    for root, dirs, names in os.walk(tree):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                files[f"{source}/{os.path.relpath(path, tree)}"] = (handle.read(), 0o644)
    package = deb_package_name(spec.package)
    files.update(debpkg.doc_files(package, spec.version, spec.maintainer, spec.epoch,
                                  deb.copyright_text(spec, package, None),
                                  f"The {spec.package} sources for DKMS, built with rustkmod."))
    debpkg.assemble(package, files, lambda size: deb_control_text(spec, rustkmod_version, size),
                 {"postinst": postinst_text(spec.package, spec.version), "prerm": prerm_text(spec.package, spec.version)},
                 spec.epoch, output)
