"""A Debian binary package of verified modules for one kernel (assembled by rustkmod.debpkg).
(A package rustkmod makes, the build's output. Debian's kernels fetched as inputs are debian.py's.)

What image builders install: `<package>-modules-<release>`, the modules under
lib/modules/<release>/updates/ compressed as that kernel's own are (its CONFIG_MODULE_COMPRESS_*),
`Depends` on the kernel's image package, maintainer scripts that run depmod for that release.
Byte for byte reproducible: every time stamp is `epoch` (SOURCE_DATE_EPOCH), owners are root,
modes fixed, and dpkg-deb sorts the members and stamps the archive with the same epoch.
"""

from __future__ import annotations

import gzip
import io
import lzma
import os
import re
import time
from typing import NamedTuple

from rustkmod import debpkg, inputs, process
from rustkmod.errors import RustkmodError
from rustkmod.kernel.arch import ARCHES
from rustkmod.kernel.tree import Kernel

# Debian's architecture names for the kernels' (Kernel.arch), from arch.py.
DEBIAN_ARCH = {arch.name: arch.debian for arch in ARCHES}


class DebSpec(NamedTuple):
    """What the project says of its package; the kernel decides the rest."""

    package: str            # the base name: the package is <package>-modules-<release>
    version: str
    maintainer: str         # "Name <address>"
    description: str        # one line
    epoch: int = 0          # SOURCE_DATE_EPOCH: every time stamp in the package

    def check(self) -> None:
        """One error naming the field and the form Debian wants."""
        check_name_and_version(self.package, self.version)
        inputs.maintainer(self.maintainer)
        inputs.one_line(self.description, "description=")


class DebKernel(NamedTuple):
    """What a package takes from its kernel."""

    release: str
    arch: str               # Debian's name
    suffix: str             # of its modules: "", ".xz", ".zst" or ".gz"


def for_kernel(kernel: Kernel) -> DebKernel:
    return DebKernel(kernel.release, DEBIAN_ARCH[kernel.arch], module_suffix(kernel))


def source_date_epoch(top: str, fallback: str) -> int:
    """The time of `top`'s last git commit, else `fallback`'s mtime (the top SConstruct), else 0:
    a time the sources give, never the build's."""
    try:
        result = process.run(["git", "log", "-1", "--format=%ct"], cwd=top, capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip().isdigit():
            return int(result.stdout.strip())
    except FileNotFoundError:
        pass
    return int(os.stat(fallback).st_mtime) if os.path.exists(fallback) else 0


def check_name_and_version(package: str, version: str) -> None:
    """A package name and version as Debian (and DKMS, which names /usr/src/<package>-<version>)
    takes them, or one error naming the field."""
    inputs.package_name(package)
    inputs.version(version)


def package_name(spec: DebSpec, kernel: DebKernel) -> str:
    return f"{spec.package}-modules-{kernel.release}".lower().replace("_", "-")


def file_name(spec: DebSpec, kernel: DebKernel) -> str:
    return f"{package_name(spec, kernel)}_{spec.version}_{kernel.arch}.deb"


def module_suffix(kernel: Kernel) -> str:
    """The suffix the kernel's own modules have: Debian 12's 6.1 none, Debian 13's .xz."""
    for option, suffix in (("CONFIG_MODULE_COMPRESS_XZ", ".xz"), ("CONFIG_MODULE_COMPRESS_ZSTD", ".zst"),
                           ("CONFIG_MODULE_COMPRESS_GZIP", ".gz")):
        if kernel.config.get(option) == "y":
            return suffix
    return ""


def compressed(data: bytes, suffix: str) -> bytes:
    """A module compressed as Kbuild's modules_install does (xz: CRC32 and a 1 MiB dictionary,
    which the kernel's in-kernel decompressor requires), with no time stamp inside."""
    if suffix == ".xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
                             filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 20}])
    if suffix == ".gz":
        out = io.BytesIO()
        with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9) as handle:
            handle.write(data)
        return out.getvalue()
    if suffix == ".zst":
        import zstandard
        return zstandard.ZstdCompressor(level=19, write_checksum=True).compress(data)
    return data


def control_text(spec: DebSpec, kernel: DebKernel, installed_size_kib: int) -> str:
    spec.check()            # every field one line of its form: none can add a field
    modules = f"Linux kernel modules for {kernel.release}"
    return (f"Package: {package_name(spec, kernel)}\n"
            f"Version: {spec.version}\n"
            f"Architecture: {kernel.arch}\n"
            f"Maintainer: {spec.maintainer}\n"
            f"Installed-Size: {installed_size_kib}\n"
            f"Depends: linux-image-{kernel.release}\n"
            "Section: kernel\n"
            "Priority: optional\n"
            f"Description: {spec.description}\n"
            f" {modules}, built from Rust with rustkmod\n"
            " and verified against that kernel's module loader.\n")


def copyright_text(spec: DebSpec, package: str, kernel: DebKernel | None, components=()) -> str:
    """debian/copyright in the machine-readable format. The modules' own license is what they declare
    to the kernel (GPL); `components` (rust.components.Component) are the crates built into them,
    each named with its license, and every license named has its paragraph."""
    year = time.gmtime(spec.epoch).tm_year
    licenses = ["GPL-2"]
    lines = []
    for component in components:
        short = debian_license(component.license)
        if short and short not in licenses:
            licenses.append(short)
        version = f" {component.version}" if component.version else ""
        by = f", {component.authors}" if component.authors else ""
        lines.append(f" {component.name}{version}: {short or 'no license declared in its Cargo.toml'}{by}")
    built_in = ("Comment: Built into the modules (Rust crates, linked by rustkmod):\n" + "\n".join(lines) + "\n"
                if lines else "")
    names = sorted({name for short in licenses for name in _LICENSE_NAME.split(short) if name and name != "GPL-2"})
    text = ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
            f"Upstream-Name: {spec.package}\n" + built_in + "\n"
            "Files: *\n"
            f"Copyright: {year} {spec.maintainer}\n"
            f"License: {' and '.join(_grouped(short) for short in licenses)}\n"
            + (f" The Linux kernel modules in {package}, built for {kernel.release}, declare the GNU General\n"
               " Public License version 2 to the kernel; the crates built into them are under the\n"
               " licenses their Cargo.toml declare (above).\n\n" if kernel else
               f" The sources in {package} are of Linux kernel modules, which declare the GNU\n"
               " General Public License version 2 to the kernel.\n\n") +
            "License: GPL-2\n"
            " On Debian systems, the complete text of the GNU General Public License\n"
            " version 2 can be found in /usr/share/common-licenses/GPL-2.\n")
    for name in names:
        text += f"\nLicense: {name}\n{_LICENSE_TEXT.get(name, _unknown_license(name, components))}"
    return text


# SPDX names in Cargo.toml, as Debian's copyright format names them
_SPDX_TO_DEBIAN = {"MIT": "Expat", "GPL-2.0": "GPL-2", "GPL-2.0-only": "GPL-2", "GPL-2.0-or-later": "GPL-2+",
                   "GPL-2.0+": "GPL-2+", "Apache-2.0": "Apache-2.0", "BSD-2-Clause": "BSD-2-clause",
                   "BSD-3-Clause": "BSD-3-clause", "Zlib": "Zlib", "Unlicense": "Unlicense", "ISC": "ISC"}
_LICENSE_NAME = re.compile(r"[\s()]+|\bor\b|\band\b|\bwith\b")
_LICENSE_TEXT = {
    "Apache-2.0": " On Debian systems, the complete text of the Apache License version 2.0\n"
                  " can be found in /usr/share/common-licenses/Apache-2.0.\n",
    "GPL-2+": " On Debian systems, the complete text of the GNU General Public License\n"
              " version 2 can be found in /usr/share/common-licenses/GPL-2.\n",
    "Expat": " Permission is hereby granted, free of charge, to any person obtaining a copy\n"
             " of this software and associated documentation files (the \"Software\"), to deal\n"
             " in the Software without restriction, including without limitation the rights\n"
             " to use, copy, modify, merge, publish, distribute, sublicense, and/or sell\n"
             " copies of the Software, and to permit persons to whom the Software is\n"
             " furnished to do so, subject to the following conditions:\n"
             " .\n"
             " The above copyright notice and this permission notice shall be included in\n"
             " all copies or substantial portions of the Software.\n"
             " .\n"
             " THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR\n"
             " IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,\n"
             " FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE\n"
             " AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER\n"
             " LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,\n"
             " OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE\n"
             " SOFTWARE.\n",
}


def debian_license(spdx: str) -> str:
    """A Cargo.toml license expression in Debian's names: "MIT OR Apache-2.0" and the older
    "MIT/Apache-2.0" are "Expat or Apache-2.0"."""
    words = re.split(r"(\s+OR\s+|\s+AND\s+|\s+WITH\s+|/|[()])", spdx.strip())
    out = []
    for word in words:
        if not word or word.isspace():
            continue
        key = word.strip()
        out.append({"OR": " or ", "/": " or ", "AND": " and ", "WITH": " with ", "(": "(", ")": ")"}.get(
            key, _SPDX_TO_DEBIAN.get(key, key)))
    return "".join(out).strip()


def _grouped(short: str) -> str:
    return f"({short})" if (" or " in short or " and " in short) and not short.startswith("(") else short


def _unknown_license(name: str, components) -> str:
    crates = ", ".join(c.name for c in components if name in _LICENSE_NAME.split(debian_license(c.license)))
    return f" The text of this license is in the sources of {crates or 'the crates named above'}.\n"


def script_text(release: str, *actions: str) -> str:
    """postinst (`configure`) and postrm (`remove`, `purge`): depmod for the release, while the
    kernel's modules are there (not after the kernel itself was removed)."""
    when = " || ".join(f'[ "$1" = {action} ]' for action in actions)
    return ("#!/bin/sh\nset -e\n"
            f"if {{ {when}; }} && [ -d /lib/modules/{release} ] && command -v depmod >/dev/null; then\n"
            f"    depmod -a {release}\n"
            "fi\n")


def build(spec: DebSpec, kernel: DebKernel, modules: list[tuple[str, str]], output: str, components=()) -> None:
    """Writes the package to `output`: `modules` are (module name, path of its verified, and
    possibly signed, .ko); `components`, the crates built into them (for debian/copyright)."""
    spec.check()
    suffix = kernel.suffix
    package = package_name(spec, kernel)
    files: dict[str, tuple[bytes, int]] = {}
    for name, path in sorted(modules):
        with open(path, "rb") as handle:
            files[f"lib/modules/{kernel.release}/updates/{name}.ko{suffix}"] = (compressed(handle.read(), suffix), 0o644)
    files.update(debpkg.doc_files(package, spec.version, spec.maintainer, spec.epoch,
                                  copyright_text(spec, package, kernel, components),
                                  f"Built by rustkmod for Linux {kernel.release}."))
    debpkg.assemble(package, files, lambda size: control_text(spec, kernel, size),
                    {"postinst": script_text(kernel.release, "configure"),
                     "postrm": script_text(kernel.release, "remove", "purge")}, spec.epoch, output)
