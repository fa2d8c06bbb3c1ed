"""A Rust crate as cargo sees it: its manifest, its staticlib, its sources and exported symbols."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

import toml

from .errors import RustkmodError

# Files of a crate that decide its build besides the `.rs` sources cargo reports.
MANIFEST_FILES = ("Cargo.toml", "Cargo.lock", "build.rs", ".cargo/config.toml", "rust-toolchain.toml")


@dataclass(frozen=True)
class Crate:
    """A crate that builds a staticlib for a kernel module."""

    manifest: str      # absolute path of Cargo.toml
    package: str       # package name
    lib_name: str      # the library's crate name (package name with '-' as '_', or [lib] name)

    @property
    def directory(self) -> str:
        return os.path.dirname(self.manifest)

    @property
    def staticlib_name(self) -> str:
        return f"lib{self.lib_name}.a"

    @classmethod
    def from_manifest(cls, manifest: str) -> "Crate":
        """Reads Cargo.toml; raises RustkmodError naming the file when it cannot be used."""
        manifest = os.path.abspath(manifest)
        if os.path.isdir(manifest):
            manifest = os.path.join(manifest, "Cargo.toml")
        if not os.path.isfile(manifest):
            raise RustkmodError(f"{manifest} does not exist",
                                "point the module's crate at a directory holding a Cargo.toml")
        try:
            data = toml.load(manifest)
        except (toml.TomlDecodeError, UnicodeDecodeError) as err:
            raise RustkmodError(f"{manifest} is not valid TOML ({_first_line(err)})",
                                "fix the manifest") from None
        package = data.get("package", {}).get("name")
        if not package:
            raise RustkmodError(f"{manifest} has no [package] name", "add [package] name = \"...\"")
        lib = data.get("lib", {})
        if "staticlib" not in lib.get("crate-type", []):
            raise RustkmodError(f"{manifest}: the crate does not build a staticlib",
                                "add crate-type = [\"staticlib\"] under [lib]")
        return cls(manifest, package, lib.get("name", package.replace("-", "_")))


def crate_source_files(directory: str) -> list[str]:
    """Every file of a crate that can change its build: `*.rs` and the manifest files.

    A superset of what cargo's dep-info lists, known before the first build; it keeps the
    dependency list stable between the first build and the next (no spurious rebuild).
    """
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "target")
        found.extend(os.path.join(root, f) for f in files if f.endswith(".rs"))
    found.extend(os.path.join(directory, f) for f in MANIFEST_FILES
                 if os.path.isfile(os.path.join(directory, f)))
    return sorted(set(found))


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def parse_dep_info(text: str) -> list[str]:
    """Parses a make-style dep-info file as cargo writes it: the prerequisites of every rule.

    Spaces inside paths are escaped as `\\ `; continuation lines end with `\\`.
    """
    deps = []
    for line in text.replace("\\\n", " ").splitlines():
        if ":" not in line or line.startswith("#"):
            continue
        _, _, rest = line.partition(": ")
        token = ""
        i = 0
        while i < len(rest):
            char = rest[i]
            if char == "\\" and i + 1 < len(rest) and rest[i + 1] == " ":
                token += " "
                i += 2
                continue
            if char.isspace():
                if token:
                    deps.append(token)
                token = ""
            else:
                token += char
            i += 1
        if token:
            deps.append(token)
    return deps


def read_dep_info(path: str) -> list[str]:
    """The files cargo says the artifact depends on, or [] before the first build."""
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_dep_info(handle.read())
    except FileNotFoundError:
        return []


def is_mangled(symbol: str) -> bool:
    """Rust's v0 (`_R`) and legacy (`_ZN`) mangled names: not part of the C interface."""
    return symbol.startswith(("_R", "_ZN"))


def exported_symbols(archive: str, crate_name: str, nm: str = "nm") -> list[str]:
    """The C-callable functions and data the crate itself defines (`#[no_mangle]` items).

    They are the roots of the partial link: only archive members they need are pulled in.
    """
    try:
        listing = subprocess.run([nm, "-A", "-g", "--defined-only", "--format=posix", archive],
                                 capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        raise RustkmodError(f"{nm} not found", "install binutils (or set CROSS_COMPILE)") from None
    except subprocess.CalledProcessError as err:
        raise RustkmodError(f"{archive}: {nm} cannot read it ({err.stderr.strip()})",
                            "rebuild the staticlib") from None
    symbols = set()
    member_prefix = f"{crate_name}-"
    for line in listing.splitlines():
        # "libx.a[member.o]: symbol T value size"
        where, _, rest = line.partition(": ")
        member = where[where.find("[") + 1:-1] if where.endswith("]") else ""
        fields = rest.split()
        if len(fields) >= 2 and member.startswith(member_prefix) and not is_mangled(fields[0]):
            symbols.add(fields[0])
    return sorted(symbols)
