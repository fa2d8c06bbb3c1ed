"""A DKMS source tree of a project: its sources and a dkms.conf whose build runs rustkmod.

DKMS rebuilds a module for each kernel a machine installs. Its build here is `scons` in the
copied project with KDIR set to the kernel DKMS names, so the verifier runs there too: a kernel
whose loader would refuse the module fails `dkms build` with rustkmod's line (in DKMS's
make.log), before anything is installed.
"""

from __future__ import annotations

import os
import shutil

from rustkmod import inputs

# Never copied: outputs, caches and the version control of the project.
_SKIPPED_NAMES = {".git", ".hg", ".svn", "target", "__pycache__", ".venv", ".pytest_cache"}
_SKIPPED_PREFIXES = (".sconsign", ".rustkmod.")


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


def source_files(top: str, build_dir: str) -> list[str]:
    """The project's files under `top`, relative to it, less the build directory, version control,
    cargo's and Python's outputs and rustkmod's own state files."""
    build_dir = os.path.abspath(build_dir)
    found = []
    for directory, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_NAMES
                         and os.path.abspath(os.path.join(directory, d)) != build_dir)
        for name in sorted(names):
            if not name.startswith(_SKIPPED_PREFIXES) and not name.endswith((".pyc", ".ko", ".o")):
                found.append(os.path.relpath(os.path.join(directory, name), top))
    return found


def write_tree(top: str, files: list[str], destination: str, conf: str) -> None:
    """The tree DKMS takes (`dkms add DESTINATION`): the files as they are, and dkms.conf."""
    shutil.rmtree(destination, ignore_errors=True)
    for relative in files:
        target = os.path.join(destination, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(top, relative), target)
    with open(os.path.join(destination, "dkms.conf"), "w", encoding="utf-8") as handle:
        handle.write(conf)
