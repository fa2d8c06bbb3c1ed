"""What a kernel tree (KDIR) is: its release, version, architecture and configuration.

Everything is read from the tree itself; nothing is guessed from the running machine (`uname -r`
describes the build host, not the kernel the module is for).
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from rustkmod.errors import RustkmodError
from rustkmod.kernel.arch import ARCHES, BY_ALIAS, NAMES_TEXT

# Per architecture (arch.py): Kbuild's ARCH (the directory under arch/), the .config symbol that
# identifies it (in ARCHES' order, most specific first), the names users may pass as ARCH, and
# where `make` leaves the bootable image in a built tree.
KBUILD_ARCH = {arch.name: arch.kbuild for arch in ARCHES}
_CONFIG_ARCH = [(arch.config_symbol, arch.name) for arch in ARCHES]
_ARCH_ALIASES = {alias: arch.name for alias, arch in BY_ALIAS.items()}
BOOT_IMAGES = {arch.name: arch.boot_image for arch in ARCHES}

# Files whose content decides how a module must be built for this kernel.
SIGNATURE_FILES = ("Makefile", ".config", "include/config/auto.conf", "Module.symvers",
                   "include/generated/utsrelease.h")


def option_enabled(config: dict | None, option: str, default: bool = True) -> bool:
    """Whether a kernel option is `y`; with no config at all, `default` (most hardening and
    workaround options default to on, so assuming them is the conservative reading)."""
    return config.get(option) == "y" if config is not None else default


def first_enabled(config: dict, *options: str) -> str:
    """The first of `options` set to y (its name), or "": for options renamed between versions."""
    return next((o for o in options if config.get(o) == "y"), "")


def loader_source_path(tree: str, arch: str) -> str:
    """Where a kernel source tree keeps the module loader's relocation code for `arch`."""
    return os.path.join(tree, "arch", KBUILD_ARCH[arch], "kernel", "module.c")


def normalize_arch(name: str) -> str:
    """Maps a user's ARCH (Kbuild's `x86`, Debian's `amd64`, ...) to the policy's name."""
    try:
        return _ARCH_ALIASES[name]
    except KeyError:
        known = ", ".join(sorted(set(_ARCH_ALIASES)))
        raise RustkmodError(f"ARCH={name} is not an architecture rustkmod knows",
                            f"use one of: {known}") from None


def parse_config(text: str) -> dict[str, str]:
    """Reads a kernel .config: `CONFIG_X=value` lines; `# CONFIG_X is not set` lines are omitted."""
    config = {}
    for line in text.splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            key, _, value = line.partition("=")
            config[key] = value.strip('"') if value.startswith('"') else value
    return config


def parse_version_h(text: str) -> tuple[int, int, int]:
    """Reads (major, minor, sublevel) from include/generated/uapi/linux/version.h."""
    fields = dict(re.findall(r"#define LINUX_VERSION_(MAJOR|PATCHLEVEL|SUBLEVEL) (\d+)", text))
    if len(fields) == 3:
        return int(fields["MAJOR"]), int(fields["PATCHLEVEL"]), int(fields["SUBLEVEL"])
    code = re.search(r"#define LINUX_VERSION_CODE (\d+)", text)
    if not code:
        raise ValueError("no LINUX_VERSION_CODE")
    value = int(code.group(1))
    return value >> 16, (value >> 8) & 0xFF, value & 0xFF


def parse_release_version(release: str) -> tuple[int, int, int]:
    """The version a release string starts with: '4.15.0-20-generic' -> (4, 15, 0)."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release)
    if not match:
        raise RustkmodError(f"KERNELRELEASE={release} does not start with a version",
                            "give it as MAJOR.MINOR[.SUBLEVEL][-suffix], e.g. 4.15.0-20-generic")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


# The last minor release of each finished major series (4.20 came before 5.0, 6.19 before 7.0):
# the versions that exist, for the verifier's tables and the crate's version cfgs alike.
LAST_MINOR = {2: 6, 3: 19, 4: 20, 5: 19, 6: 19}


def format_version(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


class Kernel(NamedTuple):
    """A configured kernel tree: enough to build a module for it and to judge its loader."""

    kdir: str
    release: str
    version: tuple[int, int, int]
    arch: str
    config: dict
    version_overridden: bool = False

    @property
    def kbuild_arch(self) -> str:
        return KBUILD_ARCH[self.arch]

    @property
    def name(self) -> str:
        """A directory name for this kernel's build outputs (the release, with the arch if it lacks it)."""
        return self.release if self.arch == "x86_64" or self.arch in self.release else f"{self.release}-{self.arch}"

    def path(self, relative: str) -> str:
        return os.path.join(self.kdir, relative)

    def image(self) -> str:
        """The kernel image to boot: the tree's own when it was built here, else /boot's."""
        built = self.path(BOOT_IMAGES.get(self.arch, ""))
        return built if os.path.isfile(built) else f"/boot/vmlinuz-{self.release}"

    def signature_files(self) -> list[str]:
        """The tree's files whose content decides the module build (existing ones only)."""
        return [self.path(f) for f in SIGNATURE_FILES if os.path.exists(self.path(f))]

    @staticmethod
    def input_files(kdir: str) -> list[str]:
        """Every file from_kdir() reads or looks for: what decides its result."""
        return [os.path.join(kdir, f) for f in ("Makefile", ".config", "include/config/auto.conf",
                                                  "include/generated/utsrelease.h",
                                                  "include/generated/uapi/linux/version.h")]

    @classmethod
    def from_kdir(cls, kdir: str, arch: str | None = None, release: str | None = None) -> "Kernel":
        """Reads a prepared kernel tree or a headers package; raises RustkmodError on bad input."""
        if not kdir:
            raise RustkmodError("KDIR is not set",
                                "pass KDIR=/path/to/kernel/tree (or run ./setup to install the default headers)")
        kdir = os.path.abspath(kdir)
        if not os.path.isdir(kdir):
            raise RustkmodError(f"KDIR={kdir} does not exist",
                                "pass KDIR=<a kernel source tree or /usr/src/linux-headers-...>")
        if not os.path.isfile(os.path.join(kdir, "Makefile")):
            raise RustkmodError(f"KDIR={kdir} is not a kernel tree (no Makefile)",
                                "pass KDIR=<a kernel source tree or /usr/src/linux-headers-...>")
        utsrelease = os.path.join(kdir, "include/generated/utsrelease.h")
        config_file = os.path.join(kdir, ".config")
        if not (os.path.isfile(utsrelease) and os.path.isfile(config_file)):
            raise RustkmodError(
                f"KDIR={kdir} is not configured and prepared (no .config or include/generated/utsrelease.h)",
                f"run 'make -C {kdir} olddefconfig modules_prepare', or use an installed headers package")
        tree_release = _read_define(utsrelease, "UTS_RELEASE")
        # include/config/auto.conf is what Kbuild compiles with; .config where a tree lacks it.
        auto_conf = os.path.join(kdir, "include/config/auto.conf")
        with open(auto_conf if os.path.isfile(auto_conf) else config_file, encoding="utf-8", errors="replace") as handle:
            config = parse_config(handle.read())
        tree_arch = next((name for key, name in _CONFIG_ARCH if config.get(key) == "y"), None)
        if tree_arch is None:
            raise RustkmodError(f"KDIR={kdir}: its .config names no architecture rustkmod supports",
                                f"use a tree configured for {NAMES_TEXT}")
        if arch and normalize_arch(arch) != tree_arch:
            raise RustkmodError(f"ARCH={arch} but KDIR={kdir} is configured for {tree_arch}",
                                f"drop ARCH or pass ARCH={tree_arch}")
        if config.get("CONFIG_MODULES") != "y":
            raise RustkmodError(f"KDIR={kdir} is configured without CONFIG_MODULES",
                                "use a kernel built with loadable module support")
        if release:
            return cls(kdir, tree_release, parse_release_version(release), tree_arch, config, True)
        version_h = os.path.join(kdir, "include/generated/uapi/linux/version.h")
        try:
            with open(version_h, encoding="utf-8") as handle:
                version = parse_version_h(handle.read())
        except (OSError, ValueError):
            version = parse_release_version(tree_release)
        return cls(kdir, tree_release, version, tree_arch, config)


def _read_define(path: str, name: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        match = re.search(rf'#define {name} "([^"]+)"', handle.read())
    if not match:
        raise RustkmodError(f"{path} has no {name}", "re-run 'make modules_prepare' in that tree")
    return match.group(1)


DPKG_STATUS = "/var/lib/dpkg/status"


def installed_headers_kdir(metapackage: str = "linux-headers-amd64", status: str = DPKG_STATUS) -> str | None:
    """The headers tree that Debian's metapackage (installed by ./setup) points at, or None.

    Read from dpkg's status file (half a millisecond) rather than by running dpkg-query: this is
    the KDIR default, computed on every run, no-op included.
    """
    try:
        with open(status, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    start = data.find(f"\nPackage: {metapackage}\n".encode())
    if start < 0 and data.startswith(f"Package: {metapackage}\n".encode()):
        start = 0
    if start < 0:
        return None
    block = data[start:data.find(b"\n\n", start + 1) if data.find(b"\n\n", start + 1) >= 0 else len(data)]
    if b"\nStatus: install ok installed" not in block:
        return None
    match = re.search(rb"^Depends:\s*(linux-headers-[^\s,]+)", block, re.M)
    if not match:
        return None
    kdir = os.path.join("/usr/src", match.group(1).decode())
    return kdir if os.path.isdir(kdir) else None
