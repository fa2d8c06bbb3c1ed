"""A Rust crate as cargo sees it: its manifest, its staticlib, its sources and exported symbols."""

from __future__ import annotations

import os
from typing import NamedTuple

from rustkmod import process
from rustkmod.errors import RustkmodError

# Files of a crate that decide its build besides the `.rs` sources cargo reports. Cargo.lock and
# the cargo configuration files are inputs of their own (lock_file, config_files).
MANIFEST_FILES = ("Cargo.toml", "build.rs", "rust-toolchain.toml")


# rustkmod's runtime-support crate (site_scons/rustkmod_rt), and its C half.
RUNTIME_PACKAGE = "rustkmod-rt"
RUNTIME_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "rustkmod_rt")
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
        result = process.run([cargo, "locate-project", "--workspace", "--message-format", "plain",
                               "--manifest-path", crate.manifest], capture_output=True, text=True,
                              cwd=crate.directory)
    except OSError:
        result = None
    root = result.stdout.strip() if result is not None and result.returncode == 0 else crate.manifest
    return os.path.join(os.path.dirname(root), "Cargo.lock"), False


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__
