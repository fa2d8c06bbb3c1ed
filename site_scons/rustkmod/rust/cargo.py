"""A Rust crate as cargo sees it (manifest, sources, configuration files, Cargo.lock), and every
cargo command rustkmod runs: build, generate-lockfile, test, with what cargo prints filtered."""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, NamedTuple

from rustkmod import process
from rustkmod.errors import RustkmodError
from rustkmod.rust.sysroot import TARGET_SPECS

if TYPE_CHECKING:
    from rustkmod.rust.profiles import RustProfile

# Files of a crate that decide its build besides the `.rs` sources cargo reports. Cargo.lock and
# the cargo configuration files are inputs of their own (lock_file, config_files).
MANIFEST_FILES = ("Cargo.toml", "build.rs", "rust-toolchain.toml")


# The directory holding rustkmod's crates (site_scons): remapped to /rustkmod in objects, and
# what the machine's crate cache answers for.
CRATES_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# rustkmod's runtime-support crate (site_scons/rustkmod_rt), and its C half.
RUNTIME_PACKAGE = "rustkmod-rt"
RUNTIME_DIR = os.path.join(CRATES_DIR, "rustkmod_rt")
RUNTIME_C = os.path.join(RUNTIME_DIR, "c", "rustkmod_rt.c")
# rustkmod's crates, by package name: a crate names them by version from any project, and cargo
# gets these copies (runtime_config). rustkmod-kernel is the safe kernel API (library `kernel`);
# rustkmod-pin-init its pinned initialisation under the in-tree name (library `pin_init`).
OWN_CRATES = {RUNTIME_PACKAGE: RUNTIME_DIR,
              "rustkmod-kernel": os.path.join(CRATES_DIR, "rustkmod_kernel"),
              "rustkmod-pin-init": os.path.join(CRATES_DIR, "rustkmod_pin_init")}


class CrateBindings(NamedTuple):
    """A crate of the graph that declares kernel bindings of its own ([package.metadata.rustkmod])."""

    package: str
    lib_name: str
    header: str             # absolute path of its bindings header
    options: tuple = ()     # its bindgen-options, after rustkmod's defaults (replacing one of the same flag)
    removed: tuple = ()     # its bindgen-remove: defaults it does without, by flag

    @property
    def variable(self) -> str:
        """The environment variable its bindings.rs path reaches it by: RUSTKMOD_BINDINGS_<LIB>."""
        return f"RUSTKMOD_BINDINGS_{self.lib_name.upper()}"


class Crate(NamedTuple):
    """A crate that builds a staticlib for a kernel module, and what its path dependencies bring.

    The graph is read from the manifests (the crate's and its path dependencies', recursively), not
    from `cargo metadata`: that needs a Cargo.lock, which it would write at configuration time (a
    crate without one gets it from the CargoLock step), and costs a cargo run. Crates that declare
    bindings or use rustkmod-rt are the project's own, reached by path; registry crates are not
    read (a registry crate declaring rustkmod bindings is not supported)."""

    manifest: str      # absolute path of Cargo.toml
    package: str       # package name
    lib_name: str      # the library's crate name (package name with '-' as '_', or [lib] name)
    uses_runtime: bool = False   # rustkmod-rt is in the graph: its C half joins the module
    by_version: tuple = ()       # rustkmod's crates named by version (rustkmod-rt = "0.1"): cargo gets its copies
    crate_bindings: tuple = ()   # (package, lib_name, header, options) per crate declaring bindings
    manifests: tuple = ()        # every Cargo.toml read: the record holds while none of them changes
    bindgen: tuple = ((), ())    # the crate's own (bindgen-options, bindgen-remove), for RustKernelModule(bindings=)
    lib_path: str = ""           # [lib] path, absolute, when the crate's root file is outside its directory

    @property
    def directory(self) -> str:
        return os.path.dirname(self.manifest)

    @property
    def source_directories(self) -> list[str]:
        """Where the crate's `.rs` files are: its directory, and its root file's when that is
        elsewhere (a one-file module's crate, made in the build directory)."""
        return [self.directory] + ([os.path.dirname(self.lib_path)] if self.lib_path else [])

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
        graph = _Graph()
        graph.walk(manifest, data)
        own = bindgen_choices(manifest, data.get("package", {}).get("metadata", {}).get("rustkmod", {}))
        root = os.path.abspath(os.path.join(os.path.dirname(manifest), lib["path"])) if lib.get("path") else ""
        outside = root if root and not root.startswith(os.path.dirname(manifest) + os.sep) else ""
        return cls(manifest, package, lib.get("name", package.replace("-", "_")), graph.runtime, tuple(sorted(graph.by_version)),
                   tuple(graph.bindings), tuple(graph.manifests), own, outside)

    @property
    def bindings(self) -> list[CrateBindings]:
        return [CrateBindings(*entry) for entry in self.crate_bindings]


def one_file_manifest(name: str, source: str) -> str:
    """The Cargo.toml of a module that is one `.rs` file, as Kbuild builds one: the file is the
    crate's root, on the kernel crate, with the attributes Kbuild adds to every Rust object
    (`no_std`; `--cfg MODULE`, which a module's objects get)."""
    flags = ", ".join(json.dumps(f) for f in ONE_FILE_FLAGS)
    return ('# Written by rustkmod for RustKernelModule(source=...): edit the SConstruct, not this file.\n'
            'cargo-features = ["profile-rustflags"]\n\n'
            f'[package]\nname = {json.dumps(name)}\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
            f'[lib]\npath = {json.dumps(source)}\ncrate-type = ["staticlib"]\n\n'
            '[dependencies]\nkernel = { package = "rustkmod-kernel", version = "0.1" }\n'
            'pin_init = { package = "rustkmod-pin-init", version = "0.1" }\n\n'
            '[profile.release]\npanic = "abort"\n\n'
            f'[profile.release.package.{json.dumps(name)}]\nrustflags = [{flags}]\n\n'
            '[workspace]\n')


# What Kbuild gives a module's Rust object beyond the crate: the crate attribute and cfg.
ONE_FILE_FLAGS = ("-Zcrate-attr=no_std", "--cfg=MODULE", "--check-cfg=cfg(MODULE)")


def runtime_config(crate: Crate) -> list[str]:
    """cargo arguments that resolve `rustkmod-rt = "0.1"` (or rustkmod-kernel) to rustkmod's own
    copy, for a crate whose graph names it by version: a project outside the checkout needs no
    path to it."""
    return [word for package in crate.by_version
            for word in ("--config", f"patch.crates-io.{package}.path={json.dumps(OWN_CRATES[package])}")]


def bindgen_choices(manifest: str, declared: dict) -> tuple:
    """([package.metadata.rustkmod] bindgen-options, bindgen-remove) of a manifest, each a list of
    strings (or one error naming the key and the form)."""
    found = []
    for key, example in (("bindgen-options", '["--no-derive-debug", ...]'), ("bindgen-remove", '["--size_t-is-usize"]')):
        value = declared.get(key, [])
        if not isinstance(value, list) or not all(isinstance(o, str) for o in value):
            raise RustkmodError(f"{manifest}: {key} is not a list of strings", f"write {key} = {example}")
        found.append(tuple(value))
    return tuple(found)


class _Graph:
    """The crate's path dependencies, read from their manifests (see Crate). `manifests` is every
    Cargo.toml read (dependencies and workspace roots alike), for the record's memo."""

    def __init__(self):
        self.manifests, self.bindings = [], []
        self.walked = set()
        self.runtime = False
        self.by_version = set()

    def read(self, path: str) -> dict | None:
        """A manifest's TOML (None when it cannot be read: cargo says what is wrong with it)."""
        import tomllib
        path = os.path.abspath(path)
        if path not in self.manifests:
            self.manifests.append(path)
        try:
            with open(path, "rb") as handle:
                return tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            return None

    def walk(self, manifest: str, data: dict) -> None:
        if manifest in self.walked:
            return
        self.walked.add(manifest)
        if manifest not in self.manifests:
            self.manifests.append(manifest)
        package = data.get("package", {})
        name = package.get("name", "")
        if name == RUNTIME_PACKAGE:
            self.runtime = True
        declared = package.get("metadata", {}).get("rustkmod", {})
        if declared.get("bindings"):
            lib = data.get("lib", {}).get("name", name.replace("-", "_"))
            options, removed = bindgen_choices(manifest, declared)
            self.bindings.append((name, lib, os.path.join(os.path.dirname(manifest), declared["bindings"]),
                                  options, removed))
        for dependency, spec in _dependencies(data):
            spec = self.inherited(manifest, dependency, spec)
            real = spec.get("package", dependency) if isinstance(spec, dict) else dependency
            if isinstance(spec, dict) and "path" in spec:
                path = os.path.abspath(os.path.join(os.path.dirname(manifest), spec["path"], "Cargo.toml"))
            elif real in OWN_CRATES and not (isinstance(spec, dict) and "git" in spec):
                self.by_version.add(real)        # rustkmod's copy, which is read as a path dependency
                path = os.path.join(OWN_CRATES[real], "Cargo.toml")
            else:
                continue
            found = self.read(path)
            if found is not None:
                self.walk(path, found)

    def inherited(self, manifest: str, name: str, spec):
        """A `dep.workspace = true` spec, as the workspace root's [workspace.dependencies] gives it
        (with its path made relative to this manifest's directory)."""
        if not (isinstance(spec, dict) and spec.get("workspace") is True):
            return spec
        directory = os.path.dirname(manifest)
        while directory != os.path.dirname(directory):
            candidate = os.path.join(directory, "Cargo.toml")
            root = (self.read(candidate) or {}).get("workspace") if os.path.isfile(candidate) else None
            if root is not None:
                given = root.get("dependencies", {}).get(name, {})
                given = {"version": given} if isinstance(given, str) else dict(given)
                if "path" in given:
                    given["path"] = os.path.relpath(os.path.join(directory, given["path"]), os.path.dirname(manifest))
                return given
            directory = os.path.dirname(directory)
        return spec


def _dependencies(data: dict):
    """(name, spec) of the normal dependencies, for every target (build and dev ones run on the host)."""
    yield from data.get("dependencies", {}).items()
    for target in data.get("target", {}).values():
        yield from target.get("dependencies", {}).items()


def crate_source_files(directory: str, skip=()) -> list[str]:
    """Every file of a crate that can change its build: `*.rs` and the manifest files.

    A superset of what cargo's dep-info lists, known before the first build; it keeps the
    dependency list stable between the first build and the next (no spurious rebuild). Outputs
    are not sources: hidden directories, cargo's target directories (`target`, or any holding
    cargo's CACHEDIR.TAG) and the directories in `skip` (the build directories, where each kernel's
    bindings.rs lies) are left out.
    """
    skip = {os.path.abspath(d) for d in skip}
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not _output_dir(os.path.join(root, d), d, skip))
        found.extend(os.path.join(root, f) for f in files if f.endswith(".rs"))
    found.extend(os.path.join(directory, f) for f in MANIFEST_FILES
                 if os.path.isfile(os.path.join(directory, f)))
    return sorted(set(found))


def _output_dir(path: str, name: str, skip: set) -> bool:
    return (name.startswith(".") or name == "target" or path in skip
            or os.path.isfile(os.path.join(path, "CACHEDIR.TAG")))


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


def lockfile_commands(cargo: str, manifest: str, config=()) -> list[list[str]]:
    """`cargo generate-lockfile` for a crate without a Cargo.lock, the one its first build would
    write; the commands to try in turn. With rustkmod-rt by version (`config`), cargo would update
    crates.io's index for it although the patch answers: offline first, then as given."""
    command = [cargo, "generate-lockfile", "--quiet", "--manifest-path", manifest, *config]
    return [command + ["--offline"], command] if config else [command]


class HostTest(NamedTuple):
    """One `cargo test` of a crate on the host: the tools, the crate, where its outputs go, and the
    objects (the user-space stand-in's) linked into every test binary."""
    cargo: str
    rustc: str
    manifest: str
    target: str
    target_dir: str
    link_objects: tuple
    config: tuple = ()      # cargo --config arguments (rustkmod-rt by version)


def test_command(test: HostTest, base_env: dict) -> tuple[list[str], dict]:
    """`cargo test` of `test` (argv, environment). Run it in the crate's directory: its own cargo
    configuration applies. RUSTC_BOOTSTRAP=1, as for the kernel build: the kernel crate's host
    half uses the same language features as its kernel half."""
    link = encoded_rustflags(f"-Clink-arg={path}" for path in test.link_objects)
    env = dict(base_env, RUSTC=test.rustc, CARGO_TARGET_DIR=test.target_dir, CARGO_ENCODED_RUSTFLAGS=link,
               RUSTC_BOOTSTRAP="1")
    return [test.cargo, "test", "--manifest-path", test.manifest, "--target", test.target, *test.config], env


def encoded_rustflags(flags) -> str:
    """CARGO_ENCODED_RUSTFLAGS: flags separated by 0x1f, so no flag is ever split on spaces."""
    return "\x1f".join(flags)


def remaps_paths(rustc_version: str) -> bool:
    """Whether this rustc can write paths remapped in the object only (`--remap-path-scope`,
    stable from rustc 1.95): diagnostics keep the real paths. An older rustc gets no remapping."""
    match = re.search(r"^release: (\d+)\.(\d+)", rustc_version, re.M)
    return bool(match) and (int(match.group(1)), int(match.group(2))) >= (1, 95)


def path_remap_flags(prefixes: list[tuple[str, str]]) -> list[str]:
    """rustc flags that write `prefixes` ((directory, replacement), the most specific last: rustc
    takes the last that matches) as their replacement in the object (panic locations, debug info),
    so no shipped .ko names a directory of the build machine. The directories are not part of
    any signature: the object is the same wherever they are (a CacheDir shared by checkouts)."""
    flags = [f"--remap-path-prefix={directory.rstrip(os.sep)}={replacement}" for directory, replacement in prefixes]
    return flags + ["--remap-path-scope=object"] if flags else []


class CargoBuild(NamedTuple):
    """One `cargo build` of a crate's staticlib for a profile: the tools, the crate, where the
    outputs go, and what rustc gets beyond the profile's flags.

    `sysroot`: the profile's (sysroot.py), when it has one. `cfg_file` is the kernel's --cfg
    argfile (cfgs.py), given with `extra_flags` to every crate of the graph through
    CARGO_ENCODED_RUSTFLAGS: a framework crate tests the kernel's version as the module's crate
    does (build scripts and proc macros, built for the host, get none of it). `config`: cargo
    --config arguments (runtime_config)."""

    profile: "RustProfile"
    cargo: str
    rustc: str
    manifest: str
    target_dir: str
    sysroot: str | None = None
    cfg_file: str | None = None
    extra_flags: tuple = ()
    config: tuple = ()


def build_command(build: CargoBuild, base_env: dict) -> tuple[list[str], dict]:
    """The cargo invocation (argv, environment) that builds a crate's staticlib for a profile,
    as `cargo build` in the crate's own directory would (run it there: the crate's cargo
    configuration applies). RUSTC_BOOTSTRAP=1: the kernel's codegen needs -Z flags (-Zplt, the
    hardening), which only a nightly or bootstrapping compiler takes.
    """
    command = [build.cargo, "build", "--lib", "--release", "--quiet", "--manifest-path", build.manifest,
               "--target", build.profile.target, *build.config]
    flags = list(build.profile.rustflags) + ([f"--sysroot={build.sysroot}"] if build.sysroot else [])
    flags += ([f"@{build.cfg_file}"] if build.cfg_file else []) + list(build.extra_flags)
    env = dict(base_env, RUSTC=build.rustc, CARGO_TARGET_DIR=build.target_dir,
               CARGO_ENCODED_RUSTFLAGS=encoded_rustflags(flags), RUST_TARGET_PATH=TARGET_SPECS)
    env.pop("RUSTFLAGS", None)
    if build.profile.build_std:
        env["RUSTC_BOOTSTRAP"] = "1"
    return command, env


_UNSTABLE_FEATURE = re.compile(r"^warning: (?:unknown and )?unstable feature specified for `-Ctarget-feature`: `([\w-]+)`$")


_NEEDS_STD = re.compile(r"`std` is required by `([^`]+)` because it does not declare `#!\[no_std\]`")
_NO_ALLOCATOR = "no global memory allocator found but one is required"


# rustc's error for code written against bindings made without --size_t-is-usize (rustkmod 0.1)
_SIZE_T = re.compile(r"cannot find type `size_t` in (?:module|crate) `([\w:]+)`")


def failure_hint(stderr: str) -> tuple[str, str] | None:
    """(what, fix) for a failed kernel build whose cause rustc words for user space: a crate that
    needs `std` (rustc suggests -Zbuild-std, which cannot give a kernel one), or `alloc` with no
    allocator (rustc suggests linking std). None when the output is about something else."""
    found = _NEEDS_STD.search(stderr or "")
    if found:
        crate = found.group(1)
        return (f"the crate `{crate}` needs the standard library, which a kernel module does not have",
                f"use a no_std crate instead of `{crate}`, or, if it has a no_std mode, depend on it with "
                "default-features = false (rustc's -Zbuild-std hint does not apply to a kernel)")
    found = _SIZE_T.search(stderr or "")
    if found:
        return (f"the crate names {found.group(1)}::size_t, which its bindings no longer have: rustkmod's bindgen "
                "binds size_t as usize (--size_t-is-usize, a default since rustkmod 0.2.0)",
                'write usize, or keep size_t: bindgen-remove = ["--size_t-is-usize"] under '
                "[package.metadata.rustkmod] of the Cargo.toml declaring the bindings (docs/compatibility.md)")
    if _NO_ALLOCATOR in (stderr or ""):
        return ("the crate uses `alloc` (Box, Vec, format!, ...) but no global allocator is linked in",
                'enable rustkmod-rt\'s allocator: rustkmod-rt = { version = "0.1", features = ["global-allocator", '
                '"panic-handler"] } and `extern crate rustkmod_rt;` (the kernel crate, rustkmod-kernel, brings it)')
    return None


def without_known_feature_warnings(stderr: str, flags) -> tuple[str, list[str]]:
    """cargo's output less rustc's warnings about the target features rustkmod asked for itself
    (the SLS hardening: LLVM's harden-sls-ret/-ijmp, which rustc calls unknown and unstable;
    RISC-V's -relax, which it calls unstable),
    which it prints for every crate, before anything else, errors included. Returns the rest and
    the features whose warnings were dropped."""
    ours = {feature.lstrip("+-") for flag in flags if flag.startswith("-Ctarget-feature=")
            for feature in flag.split("=", 1)[1].split(",")}
    kept, dropped, skipping = [], [], False
    for line in stderr.splitlines(keepends=True):
        match = _UNSTABLE_FEATURE.match(line.rstrip("\n"))
        if match and match.group(1) in ours:
            skipping = True
            dropped.append(match.group(1))
            continue
        if skipping:
            if line.strip() == "":
                skipping = False
            continue
        kept.append(line)
    return "".join(kept), sorted(set(dropped))


_LOCATION = re.compile(r"^(\s*(?:-->|:::) )([^/\s][^:\n]*)(:\d+:\d+)$", re.M)


def paths_from(stderr: str, crate_dir: str, here: str) -> str:
    """rustc's diagnostics with the locations it gives relative to the crate's directory (where
    cargo runs) made relative to `here` (where scons runs), so `hello/src/lib.rs:5:9` opens."""
    def rebase(match):
        path = os.path.relpath(os.path.join(crate_dir, match.group(2)), here)
        return match.group(1) + path + match.group(3)
    return _LOCATION.sub(rebase, stderr)
