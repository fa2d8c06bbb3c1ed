"""A Rust crate as cargo sees it: its manifest, its staticlib, its sources and exported symbols."""

from __future__ import annotations

import os
import subprocess
from typing import NamedTuple

from . import childenv
from .errors import RustkmodError

# Files of a crate that decide its build besides the `.rs` sources cargo reports. Cargo.lock and
# the cargo configuration files are inputs of their own (lock_file, config_files).
MANIFEST_FILES = ("Cargo.toml", "build.rs", "rust-toolchain.toml")


# rustkmod's runtime-support crate (site_scons/rustkmod_rt), and its C half.
RUNTIME_PACKAGE = "rustkmod-rt"
RUNTIME_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rustkmod_rt")
RUNTIME_C = os.path.join(RUNTIME_DIR, "c", "rustkmod_rt.c")


class Crate(NamedTuple):
    """A crate that builds a staticlib for a kernel module."""

    manifest: str      # absolute path of Cargo.toml
    package: str       # package name
    lib_name: str      # the library's crate name (package name with '-' as '_', or [lib] name)
    uses_runtime: bool = False   # depends on rustkmod-rt, whose C half the module then needs

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
        import tomllib      # here: a no-op build reads the crate's record from the memo instead
        try:
            with open(manifest, "rb") as handle:
                data = tomllib.load(handle)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise RustkmodError(f"{manifest} is not valid TOML ({_first_line(err)})",
                                "fix the manifest") from None
        package = data.get("package", {}).get("name")
        if not package:
            raise RustkmodError(f"{manifest} has no [package] name", "add [package] name = \"...\"")
        lib = data.get("lib", {})
        if "staticlib" not in lib.get("crate-type", []):
            raise RustkmodError(f"{manifest}: the crate does not build a staticlib",
                                "add crate-type = [\"staticlib\"] under [lib]")
        dependencies = data.get("dependencies", {})
        uses_runtime = any(name == RUNTIME_PACKAGE or (isinstance(spec, dict) and spec.get("package") == RUNTIME_PACKAGE)
                           for name, spec in dependencies.items())
        return cls(manifest, package, lib.get("name", package.replace("-", "_")), uses_runtime)


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


def config_files(directory: str, environ) -> list[str]:
    """The cargo configuration files that `cargo build` run in `directory` reads: `.cargo/config.toml`
    (or the older `.cargo/config`) in it and in each parent, then CARGO_HOME's (default ~/.cargo)."""
    found = []
    current = os.path.abspath(directory)
    while True:
        found += [p for p in (os.path.join(current, ".cargo", "config.toml"), os.path.join(current, ".cargo", "config"))
                  if os.path.isfile(p)]
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    home = environ.get("CARGO_HOME") or os.path.join(os.path.expanduser("~"), ".cargo")
    found += [p for p in (os.path.join(home, "config.toml"), os.path.join(home, "config"))
              if os.path.isfile(p) and p not in found]
    return found


def lock_file(crate: "Crate", cargo: str = "cargo") -> tuple[str, bool]:
    """(the Cargo.lock the crate's build uses, whether it exists yet).

    The crate's own, or its workspace's at the root; a crate with none yet gets one at the place
    cargo would write it (asked of `cargo locate-project --workspace` only then).
    """
    current = crate.directory
    while True:
        candidate = os.path.join(current, "Cargo.lock")
        if os.path.isfile(candidate) and os.path.isfile(os.path.join(current, "Cargo.toml")):
            return candidate, True
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    try:
        result = childenv.run([cargo, "locate-project", "--workspace", "--message-format", "plain",
                               "--manifest-path", crate.manifest], capture_output=True, text=True,
                              cwd=crate.directory)
    except OSError:
        result = None
    root = result.stdout.strip() if result is not None and result.returncode == 0 else crate.manifest
    return os.path.join(os.path.dirname(root), "Cargo.lock"), False


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def is_mangled(symbol: str) -> bool:
    """Rust's v0 (`_R`) and legacy (`_ZN`) mangled names: not part of the C interface."""
    return symbol.startswith(("_R", "_ZN"))


def demangle(lines: list[str]) -> list[str]:
    """Rust names as people write them, line by line: c++filt (binutils) knows both v0 and legacy
    Rust mangling and leaves the rest of each line alone. The lines unchanged if it cannot run."""
    if not lines:
        return lines
    try:
        out = childenv.run(["c++filt"], input="\n".join(lines) + "\n", capture_output=True,
                           text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return lines
    return out if len(out) == len(lines) else lines


def archive_symbols(archive: str, readelf: str = "readelf") -> list[tuple[str, str, bool]]:
    """(member, symbol, defined?) of every global or weak symbol in a static archive or object.

    readelf rather than nm: nm hands objects carrying LLVM bitcode (.llvmbc, as in Rust's
    prebuilt libraries) to whatever LLVM plugin binutils finds, which may be older than rustc's
    LLVM and then reports "no symbols". readelf reads the ELF symbol table as it is.
    """
    try:
        listing = childenv.run([readelf, "-sW", archive], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        raise RustkmodError(f"{readelf} not found", "install binutils (or set CROSS_COMPILE)") from None
    except subprocess.CalledProcessError as err:
        raise RustkmodError(f"{archive}: {readelf} cannot read it ({err.stderr.strip().splitlines()[0]})",
                            "rebuild it") from None
    symbols = []
    member = ""
    for line in listing.splitlines():
        if line.startswith("File: "):
            # "File: libx.a(member.o)" for archive members
            member = line[line.find("(") + 1:-1] if line.endswith(")") else ""
            continue
        fields = line.split()
        # "   12: 0000000000000000   448 FUNC    GLOBAL DEFAULT  275 name"
        if len(fields) == 8 and fields[0].endswith(":") and fields[4] in ("GLOBAL", "WEAK"):
            symbols.append((member, fields[7], fields[6] != "UND"))
    return symbols


def exported_symbols(archive: str, crate_name: str, readelf: str = "readelf") -> list[str]:
    """The C-callable functions and data the crate itself defines (`#[no_mangle]` items).

    They are the roots of the partial link: only what they reach is kept.
    """
    return sorted({symbol for member, symbol, defined in archive_symbols(archive, readelf)
                   if member.startswith(f"{crate_name}-") and defined and not is_mangled(symbol)})


def imported_symbols(archive: str, crate_name: str, readelf: str = "readelf") -> list[str]:
    """What the crate's own code calls that nothing in the archive defines: the C side's part."""
    symbols = archive_symbols(archive, readelf)
    defined = {symbol for _, symbol, is_defined in symbols if is_defined}
    return sorted({symbol for member, symbol, is_defined in symbols
                   if member.startswith(f"{crate_name}-") and not is_defined and symbol not in defined})


def defined_symbols(paths: list[str], readelf: str = "readelf") -> set[str]:
    return {symbol for path in paths for _, symbol, defined in archive_symbols(path, readelf) if defined}
