"""A Rust sysroot for a kernel profile: `core`, `alloc` and `compiler_builtins` built once per
machine from the toolchain's library sources, with the profile's target and codegen flags.

The toolchain's prebuilt `core` is position-independent (GOT relocations no module loader applies)
and bare-metal targets ship none, so the library is compiled with the kernel's flags. Doing that
inside each crate's build (`-Zbuild-std`) costs every new project a `core` compile, replaces the
user's crates.io source with the library's vendor directory and gives no `alloc`. Instead the
sysroot is built here, offline, in a directory of its own, and user crates are built by plain
`cargo build --target T` with `--sysroot`, as cargo builds them in their own directory.

Sysroots live in a per-user cache under a key made of everything that decides their bytes (the
rustc identity, target, flags, and the library sources' lock file), are published atomically
(built in a temporary directory, renamed), and a lock file per key makes two builds that want the
same new sysroot at once build it once.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import time
from typing import NamedTuple

from rustkmod import atomic, process, stamps
from rustkmod.errors import RustkmodError

# The library crates a kernel module may use; `compiler_builtins` without its `mem` feature, so
# memcpy and friends stay undefined and the kernel's own are used.
CRATES = ("core", "alloc", "compiler_builtins")

_PROBE_MANIFEST = """[package]
name = "rustkmod-sysroot"
version = "0.0.0"
edition = "2021"

[lib]
path = "lib.rs"

[profile.release]
debug = false
"""


# rustkmod's own target specifications (RUST_TARGET_PATH for every cargo and rustc it runs).
TARGET_SPECS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets")


def target_spec_text(target: str) -> str:
    """The JSON of one of rustkmod's own targets, or "" for a target rustc has built in: part of
    what decides a sysroot's bytes."""
    try:
        with open(os.path.join(TARGET_SPECS, f"{target}.json"), encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


class SysrootSpec(NamedTuple):
    """Everything that decides a sysroot's bytes."""

    target: str
    rustflags: tuple
    toolchain: str               # `rustc -vV`
    library: str                 # the library sources (…/lib/rustlib/src/rust/library)
    library_lock: str = ""       # digest of the library's Cargo.lock: which vendored crates

    @property
    def key(self) -> str:
        parts = [self.target, list(self.rustflags), self.toolchain, self.library, self.library_lock, list(CRATES)]
        spec = target_spec_text(self.target)
        text = json.dumps(parts + ([spec] if spec else []))
        return f"{self.target}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def spec_for(target: str, rustflags, toolchain: str, library: str) -> SysrootSpec:
    lock = os.path.join(library, "Cargo.lock")
    try:
        with open(lock, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()[:16]
    except OSError:
        digest = ""
    return SysrootSpec(target, tuple(rustflags), toolchain, library, digest)


def directory(cache: str, spec: SysrootSpec) -> str:
    """The sysroot to pass as --sysroot."""
    return os.path.join(cache, spec.key)


def manifest_path(cache: str, spec: SysrootSpec) -> str:
    """Written last, after the sysroot is in place: its presence means the sysroot is complete."""
    return os.path.join(cache, spec.key + ".json")


def vendor_config(library_dir: str) -> str:
    """A cargo config that resolves the standard library's own dependencies offline.

    `compiler_builtins` depends on crates from crates.io; Debian's rust-web-src ships them in
    `library/vendor`. This applies to the sysroot's build alone, never to a user's crate.
    """
    vendor = os.path.join(library_dir, "vendor")
    return ("# Written by rustkmod: build the standard library offline from its vendored sources.\n"
            "[source.crates-io]\nreplace-with = \"rust-library-vendor\"\n\n"
            f"[source.rust-library-vendor]\ndirectory = {json.dumps(vendor)}\n")


def ensure(spec: SysrootSpec, cache: str, cargo: str, rustc: str, environ: dict, log=print,
           run=process.run) -> bool:
    """Makes the sysroot for `spec` in `cache` unless it is there; True when it was built now.

    Safe when several processes ask for the same key at once: one builds, the others wait on the
    key's lock and then find it published.
    """
    manifest = manifest_path(cache, spec)
    if os.path.isfile(manifest) and not damage(cache, spec):
        return False
    try:
        os.makedirs(cache, exist_ok=True)
        lock = os.open(os.path.join(cache, spec.key + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise RustkmodError(f"the Rust sysroot cache {cache} cannot be written ({err.strerror})",
                            "set RUST_SYSROOT_CACHE to a writable directory") from None
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"         another build is making the sysroot {spec.key}; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(manifest):
            problem = damage(cache, spec)
            if not problem:
                return False
            log(f"         the shared sysroot {spec.key} is damaged ({problem}): building it again")
            os.remove(manifest)
        _build(spec, cache, cargo, rustc, environ, log, run)
        return True
    finally:
        os.close(lock)


def _build(spec: SysrootSpec, cache: str, cargo: str, rustc: str, environ: dict, log, run) -> None:
    started = time.monotonic()
    # A fixed place (the key's lock is held): the same paths every time, so a compiler cache
    # (RUSTC_WRAPPER=sccache) serves a rebuild of the same sysroot.
    work = os.path.join(cache, f".build-{spec.key}")
    shutil.rmtree(work, ignore_errors=True)          # left by a killed run
    os.makedirs(work)
    try:
        probe = os.path.join(work, "probe")
        os.makedirs(probe)
        with open(os.path.join(probe, "Cargo.toml"), "w") as handle:
            handle.write(_PROBE_MANIFEST)
        with open(os.path.join(probe, "lib.rs"), "w") as handle:
            handle.write("#![no_std]\n")
        config = os.path.join(work, "library-vendor.toml")
        with open(config, "w") as handle:
            handle.write(vendor_config(spec.library))
        target_dir = os.path.join(work, "target")
        command = [cargo, "--config", config, "build", "--release", "--quiet", "--target", spec.target,
                   "--manifest-path", os.path.join(probe, "Cargo.toml"), f"-Zbuild-std={','.join(CRATES)}"]
        env = dict(environ, RUSTC=rustc, RUSTC_BOOTSTRAP="1", CARGO_TARGET_DIR=target_dir,
                   CARGO_ENCODED_RUSTFLAGS="\x1f".join(spec.rustflags), RUST_TARGET_PATH=TARGET_SPECS)
        result = run(command, env=env, cwd=probe,
                     progress=f"building sysroot {spec.key} (core, alloc, compiler_builtins)")
        if result.returncode != 0:
            raise RustkmodError(f"cargo could not build the Rust sysroot {spec.key} (exit status "
                                f"{result.returncode}, output above)",
                                "check RUSTC has its library sources (Debian: rust-web-src)")
        deps = os.path.join(target_dir, spec.target, "release", "deps")
        sysroot = os.path.join(work, "sysroot")
        lib = os.path.join(sysroot, "lib", "rustlib", spec.target, "lib")
        os.makedirs(lib)
        rlibs = []
        for crate in CRATES:
            found = glob.glob(os.path.join(deps, f"lib{crate}-*.rlib"))
            if len(found) != 1:
                raise RustkmodError(f"the sysroot build left {len(found)} lib{crate} rlibs in {deps}",
                                    "report this: the library's layout is not the one rustkmod knows")
            shutil.copy2(found[0], lib)
            rlibs.append(os.path.basename(found[0]))
        final = directory(cache, spec)
        if os.path.isdir(final):          # a half-published directory from a killed run
            shutil.rmtree(final)
        os.rename(sysroot, final)
        files = [_record(os.path.join(_lib_dir(cache, spec), name)) for name in rlibs]
        manifest = manifest_path(cache, spec)
        atomic.write(manifest, json.dumps({"key": spec.key, "target": spec.target, "rustflags": list(spec.rustflags),
                                           "toolchain": spec.toolchain, "library": spec.library, "rlibs": rlibs,
                                           "files": files, "seconds": round(time.monotonic() - started, 1)},
                                          indent=1))
        log(f"         built the sysroot ({', '.join(CRATES)}) in {time.monotonic() - started:.0f} s: {final}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _lib_dir(cache: str, spec: SysrootSpec) -> str:
    return os.path.join(directory(cache, spec), "lib", "rustlib", spec.target, "lib")


def _record(path: str) -> dict:
    """What the manifest keeps of one published file: its name, size, mtime and digest."""
    return {"name": os.path.basename(path), **stamps.content_record(path)}


def damage(cache: str, spec: SysrootSpec) -> str:
    """'' when the published sysroot holds what its manifest records, else what is wrong with it
    (a file missing, cut short or changed): stamps.content_change for each."""
    try:
        with open(manifest_path(cache, spec), encoding="utf-8") as handle:
            recorded = json.load(handle)
        files = recorded.get("files") or [{"name": name} for name in recorded["rlibs"]]   # older manifests
    except (OSError, ValueError, KeyError, TypeError):
        return "its manifest cannot be read"
    lib = _lib_dir(cache, spec)
    for entry in files:
        path = os.path.join(lib, str(entry.get("name")))
        problem = stamps.content_change(path, entry)
        if problem:
            return f"{path} {problem}"
    return ""


def clear(cache: str) -> int:
    """Removes every sysroot in `cache` (not the kernels); returns how many."""
    count = 0
    for manifest in glob.glob(os.path.join(cache, "*.json")):
        key = os.path.basename(manifest)[:-5]
        os.remove(manifest)
        shutil.rmtree(os.path.join(cache, key), ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(cache, key + ".lock"))
        count += 1
    for work in glob.glob(os.path.join(cache, ".build-*")) + [os.path.join(cache, "cfgs")]:
        shutil.rmtree(work, ignore_errors=True)      # half-built sysroots; the kernels' cfg lists
    return count
