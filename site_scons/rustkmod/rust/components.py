"""What a staticlib is made of, for a package's debian/copyright: each crate whose files cargo's
dep-info lists (its name, version, license and authors from its own Cargo.toml), and the Rust
standard library crates every kernel-profile build links from the sysroot.

Read from what the build compiled, not from what a manifest asks for: a feature-gated
dependency that was not built is not named, and a path dependency outside the project is.
"""

from __future__ import annotations

import os
import tomllib
from typing import NamedTuple

from rustkmod import depfile


class Component(NamedTuple):
    name: str
    version: str
    license: str            # as the crate declares it (SPDX expression), "" when it declares none
    authors: str            # "" when it names none


# core, alloc and compiler_builtins, rebuilt into the sysroot from Rust's own sources.
STANDARD_LIBRARY = Component("core, alloc, compiler_builtins (Rust's standard library)", "",
                             "MIT OR Apache-2.0", "The Rust Project Developers")


def crates_built(depfile_path: str) -> list[Component]:
    """The crates of the files in cargo's dep-info for a staticlib, sorted by name."""
    try:
        with open(depfile_path, encoding="utf-8") as handle:
            files = depfile.parse(handle.read())
    except OSError:
        return []
    manifests = {_manifest_of(os.path.dirname(path)) for path in files if path.endswith(".rs")}
    found = {c for c in (_read(m) for m in manifests if m) if c}
    return sorted(found)


def _manifest_of(directory: str) -> str:
    """The Cargo.toml of the crate holding `directory` (the nearest one above it with a [package])."""
    while True:
        manifest = os.path.join(directory, "Cargo.toml")
        if os.path.isfile(manifest) and _package(manifest):
            return manifest
        parent = os.path.dirname(directory)
        if parent == directory:
            return ""
        directory = parent


def _package(manifest: str) -> dict:
    try:
        with open(manifest, "rb") as handle:
            return tomllib.load(handle).get("package") or {}
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _read(manifest: str) -> Component | None:
    package = _package(manifest)
    if not isinstance(package.get("name"), str):
        return None
    fields = {key: package.get(key) for key in ("version", "license", "authors")}
    # workspace-inherited fields ({ workspace = true }) and missing ones read as ""
    version, license_ = (value if isinstance(value, str) else "" for value in (fields["version"], fields["license"]))
    authors = ", ".join(a for a in fields["authors"] if isinstance(a, str)) if isinstance(fields["authors"], list) else ""
    return Component(package["name"], version, license_, authors)
