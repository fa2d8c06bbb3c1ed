"""The Rust stages: the crate's staticlib (cargo) and its partial link into one object.

  file                                                    builder        runs
  RUST_SYSROOT_CACHE/<triple>-<digest>.json (and dir)     RustSysroot    core, alloc, compiler_builtins (-Zbuild-std, once per machine)
  <crate or workspace>/Cargo.lock, when it has none yet   CargoLock      cargo generate-lockfile
  BUILD_DIR/rust/<profile>/<triple>/release/lib<crate>.a  RustStaticLib  cargo build in the crate's directory, --sysroot
  BUILD_DIR/rust/<profile>/<crate>_rust.o                 RustObject     ld -r --gc-sections -u <exports>
  RUST_SYSROOT_CACHE/cfgs/<digest>.args                   KernelCfgFile  the kernel's cfgs, version cfgs and --check-cfg

One sysroot per (rustc, target, flags) on the machine, shared by every project and kernel; one
staticlib and one object per (crate, profile), shared by every kernel with that profile.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from typing import NamedTuple

import SCons.Scanner

from rustkmod import RustkmodError, depfile, process
from rustkmod.rust import cargo, crate_cache, partial_link, cfgs, profiles, sysroot
from rustkmod.kernel.arch import BY_RUST_TARGET
from rustkmod.kernel.tree import Kernel

from . import state
from .common import (builder, check_status, fail, files, jobs, library_code, rescan, run, say, say_reproduce, write_text,
                     setting, settings_node, sysroot_cache, verbose)


class SysrootSettings(NamedTuple):
    """What decides a shared sysroot's bytes (its key), and the tools that build it."""

    spec: sysroot.SysrootSpec
    cargo: str
    rustc: str


class CargoSettings(NamedTuple):
    """What decides the staticlib besides the crate's files: the profile, the sysroot, the tools,
    and which cargo configuration files exist (a new one changes the build)."""

    profile: profiles.RustProfile
    cargo: str
    rustc: str
    sysroot: str = ""               # --sysroot, for profiles that build the library from source
    config_files: tuple = ()
    inputs: tuple = ("manifest",)   # the role of each file source, in order
    config: tuple = ()              # cargo --config arguments (rustkmod-rt by version)
    remap_paths: bool = False       # --remap-path-prefix at build time: no build-machine path in the object
    shared_bindings: tuple = ()     # the variables of bindings rustkmod's own crates include (crate_cache)


class CargoLockSettings(NamedTuple):
    cargo: str
    config: tuple = ()              # cargo --config arguments (rustkmod-rt by version)
    remap_paths: bool = False       # --remap-path-prefix at build time: no build-machine path in the object


class KernelCfgSettings(NamedTuple):
    """The tree whose cfg argfile is written, and the digest its text must have."""

    kdir: str
    arch: str
    kernelrelease: str              # KERNELRELEASE, when the user overrides KDIR's
    digest: str


class PartialLinkSettings(NamedTuple):
    crate: str                      # the crate's library name: its exports are the link's roots
    binutils_prefix: str            # CROSS_COMPILE, for ld and readelf
    dead_ends: bool = False         # annotate calls to noreturn functions for objtool (arch.py says where)
    drop_unwind: bool = False       # no .eh_frame (where the kernel's C has none and its loader refuses R_NONE)
    weaken: tuple = ()              # symbols the module's C half defines for the kernel's ABI (arch.weak_symbols)


def _named_files(source, settings) -> dict:
    return dict(zip(settings.inputs, (node.abspath for node in files(source))))


def _cargo_build(target, source, env):
    """cargo build of the staticlib, in the crate's directory, with the profile's target and flags."""
    settings = setting(source, CargoSettings)
    profile, inputs = settings.profile, _named_files(source, settings)
    say(f"         [{profile.target}, {profile.name} profile]")
    target_dir = os.path.dirname(os.path.dirname(target[0].dir.abspath))
    # include!(env!("RUSTKMOD_BINDINGS")) in the module's crate, RUSTKMOD_BINDINGS_<LIB> in a crate
    # declaring its own, each under #[cfg(rustkmod_bindings)]
    bindings = {role.split("=", 1)[1]: path for role, path in inputs.items() if role.startswith("bindings=")}
    extra = (["--cfg=rustkmod_bindings"] if bindings else []) + (_path_remaps(env) if settings.remap_paths else [])
    command, run_env = cargo.build_command(
        cargo.CargoBuild(profile, settings.cargo, settings.rustc, inputs["manifest"], target_dir,
                         settings.sysroot or None, inputs.get("kernel_cfg"), tuple(extra), settings.config),
        _cargo_environment(env))
    run_env.update(bindings)
    log = _share_own_crates(env, settings, run_env, target_dir) if settings.sysroot else None
    crate_dir = os.path.dirname(inputs["manifest"])
    if verbose(env):                # cargo's own lines too: what it compiles, each rustc command
        command = ["--verbose" if word == "--quiet" else word for word in command]
    result = run(command, jobs=jobs(env), env=run_env, cwd=crate_dir, stderr=subprocess.PIPE, text=True)
    if log:
        _say_shared(log)
    _print_cargo_output(cargo.paths_from(result.stderr or "", crate_dir, os.getcwd()),
                        profile.rustflags, verbose(env))
    hint = cargo.failure_hint(result.stderr) if result.returncode != 0 else None
    if hint:
        say_reproduce(result)
        fail(f"cargo build of {inputs['manifest']} failed: {hint[0]}", hint[1])
    check_status(result, f"cargo build of {inputs['manifest']}")
    rescan(target[0])             # cargo's dep-info names what the crate read (include!d files too)


def _share_own_crates(env, settings: CargoSettings, run_env: dict, rust_dir: str) -> str | None:
    """cargo's environment for the machine's builds of rustkmod's own crates (crate_cache): the
    wrapper, and their bindings at a path named by content. Returns the wrapper's log, in the
    profile's directory (BUILD_DIR/rust/<profile>: rustc_info's cache is two levels up). None in
    a checkout's own builds: rustkmod's crates are the project's files there, never shared."""
    own, project = cargo.CRATES_DIR, env.Dir("#").abspath
    if own.startswith(project + os.sep):
        return None
    cache = sysroot_cache(env)
    for variable in settings.shared_bindings:
        run_env[variable] = crate_cache.shared_path(cache, run_env[variable])
    info = os.path.join(os.path.dirname(os.path.dirname(rust_dir)), ".rustc-info.json")
    version = profiles.cached_toolchain_info(settings.rustc, info)[0]
    log = os.path.join(rust_dir, "machine-crates.log")
    with contextlib.suppress(OSError):
        os.remove(log)
    run_env.update(crate_cache.environment(cache, own, project, version,
                                           run_env.get("RUSTC_WRAPPER", ""), log),
                   RUSTC_WRAPPER=crate_cache.wrapper_script(cache))
    return log


def _say_shared(log: str) -> None:
    """One line naming rustkmod's crates that came from the machine's builds."""
    try:
        with open(log, encoding="utf-8") as handle:
            hits = sorted({line.split()[1] for line in handle if line.startswith("hit ")})
    except OSError:
        return
    if hits:
        say(f"         {', '.join(hits)}: the machine's builds, not compiled again")


def _print_cargo_output(stderr: str, flags, loud: bool = False) -> None:
    """cargo's messages, less the warnings rustc repeats about features rustkmod asked for (named
    once under V=1)."""
    rest, dropped = cargo.without_known_feature_warnings(stderr or "", flags)
    if dropped and loud:
        state.registry().note(f"rustc calls the target features {', '.join(dropped)} unstable; they are what the "
                             "kernel's C is built with (its SLS hardening, riscv's -mno-relax), passed to LLVM")
    sys.stderr.write(_new_warnings(rest))


def _new_warnings(stderr: str) -> str:
    """cargo's output less the warning blocks already printed in this run: a crate that several
    modules (or kernels) build warns once, not once per build. Errors are always kept."""
    shown, kept = state.registry().cargo_warnings, []
    for block in re.split(r"(?<=\n)(?=\n)", stderr):
        text = block.strip("\n")
        if text.startswith("warning") and text in shown:
            continue
        if text.startswith("warning"):
            shown.add(text)
        kept.append(block)
    return "".join(kept)


def _cargo_environment(env) -> dict:
    run_env = process.environment()
    if env["RUSTC_WRAPPER"]:
        run_env["RUSTC_WRAPPER"] = env["RUSTC_WRAPPER"]      # same outputs: in no signature
    return run_env


def _sysroot(target, source, env):
    """The shared sysroot: built unless an earlier build, of any project, already published it."""
    settings = setting(source, SysrootSettings)
    cache = os.path.dirname(target[0].abspath)
    try:
        built = sysroot.ensure(settings.spec, cache, settings.cargo, settings.rustc, _cargo_environment(env),
                               run=lambda command, **kw: _run_cargo(command, settings.spec.rustflags, **kw))
    except RustkmodError as err:
        fail(err)
    if not built:
        say(f"         shared sysroot {settings.spec.key} is already built: no core compile")


def _run_cargo(command, flags, **kwargs):
    result = run(command, stderr=subprocess.PIPE, text=True, **kwargs)
    _print_cargo_output(result.stderr, flags)
    return result


def _kernel_cfg(target, source, env):
    """The kernel's cfg argfile, from the tree as it is now; it must be the text the digest names."""
    settings = setting(source, KernelCfgSettings)
    try:
        text = cfgs.kernel_cfg_text(Kernel.from_kdir(settings.kdir, settings.arch, settings.kernelrelease or None))
    except RustkmodError as err:
        fail(err)
    if cfgs.text_digest(text) != settings.digest:
        fail(f"KDIR={settings.kdir} changed while scons ran (its .config or rustc_cfg)", "run scons again")
    write_text(target[0].abspath, text)


def _cargo_lock(target, source, env):
    """A crate without a Cargo.lock gets the one its first `cargo build` would write."""
    settings = setting(source, CargoLockSettings)
    manifest = files(source)[0]
    result = None
    for command in cargo.lockfile_commands(settings.cargo, manifest.abspath, settings.config):
        result = run(command, env=_cargo_environment(env), cwd=manifest.dir.abspath,
                     stderr=subprocess.PIPE, text=True)
        if result.returncode == 0:
            return
    say(result.stderr, error=True)
    check_status(result, f"cargo generate-lockfile for {manifest}")


def _partial_link(target, source, env):
    """ld -r of the staticlib, rooted at the crate's exported symbols (rustkmod.rust.partial_link)."""
    settings = setting(source, PartialLinkSettings)
    try:
        count = partial_link.link(files(source)[0].abspath, settings.crate, target[0].abspath,
                                  settings.binutils_prefix, settings.dead_ends, settings.drop_unwind, settings.weaken)
    except RustkmodError as err:
        fail(err)
    if count and verbose(env):
        say(f"         {count} call(s) to noreturn functions marked for objtool (.discard.unreachable)")


def _crate_scan(node, env, path):
    """The crate's files: its *.rs and manifests (not those in a build directory: each kernel's
    bindings.rs there is another staticlib's), plus whatever cargo's dep-info lists."""
    found = set()
    for directory in env["RUSTKMOD_CRATE_DIR"].split(os.pathsep):
        found.update(cargo.crate_source_files(directory, state.registry().build_dirs))
    found.update(p for p in depfile.read(node.abspath[:-2] + ".d") if os.path.isfile(p))
    return [env.File(p) for p in sorted(found)]


CRATE_SCANNER = SCons.Scanner.Scanner(_crate_scan, name="RustCrateScanner")

BUILDERS = {
    "RustSysroot": builder(_sysroot, "SYSROOT"),
    "CargoLock": builder(_cargo_lock, "LOCK"),
    "RustStaticLib": builder(_cargo_build, "CARGO", target_scanner=CRATE_SCANNER),
    "RustObject": builder(_partial_link, "LD -r"),
    "KernelCfgFile": builder(_kernel_cfg, "GEN"),
}


# ---------------------------------------------------------------------------------------------
# Wiring, used by the pseudo-builders


class RustNodes(NamedTuple):
    """A module's crate as built for one kernel."""

    manifest: cargo.Crate
    profile: profiles.RustProfile
    staticlib: list
    rust_object: list            # what Kbuild links into the module, as <object_name>_shipped
    object_name: str


def crate(build, directory: str) -> cargo.Crate:
    """The module's crate, with what its path dependencies bring (rustkmod-rt, bindings)."""
    return read_crate(crate_directory(build.env, directory))


def crate_directory(env, given: str) -> str:
    """The directory `crate=` names: a directory, or the Cargo.toml in it (anything else is an
    error naming the fix, not SCons' traceback about a file used as a directory)."""
    path = env.Entry(given).srcnode().abspath
    if os.path.isfile(path):
        if os.path.basename(path) != "Cargo.toml":
            raise RustkmodError(f"crate={given!r} names a file, not a crate",
                                "give the directory that holds the crate's Cargo.toml")
        return os.path.dirname(path)
    return path


def nodes(build, manifest: cargo.Crate, bindings=()) -> RustNodes:
    """The crate's staticlib and partially linked object for the module's kernel: shared by every
    kernel with the same profile, or the kernel's own when a crate of the graph includes
    bindings (bindings_stage.BindingsNodes), which are the kernel's."""
    env = build.env
    profile = profile_for(env, build.out, build.kernel)
    if bindings:
        profile = profile._replace(kernel=build.dir_name)
    own = cargo.CRATES_DIR + os.sep          # rustkmod's crates: their bindings are shared
    lib = staticlib(env, build.out, manifest, profile, build.kernel,
                    [(b.variable, b.rs, b.header.abspath.startswith(own)) for b in bindings])
    return RustNodes(manifest, profile, lib, rust_object(env, build.out, manifest, profile, lib, build.cross_compile),
                     object_name(manifest))


_MANIFESTS = cargo.Crate._fields.index("manifests")


def read_crate(directory: str) -> cargo.Crate:
    """The crate's Cargo.toml, read once per run and again only when the file changed."""
    manifest = os.path.join(directory, "Cargo.toml")
    return state.memo().remember_files(("crate", manifest), [manifest], lambda: cargo.Crate.from_manifest(directory),
                                       cargo.Crate, found=lambda fields: fields[_MANIFESTS])     # its path dependencies' manifests


def rustc_info(env, build_dir) -> tuple[str, str]:
    """(`rustc -vV`, sysroot), asked once per run and cached in BUILD_DIR between runs."""
    rustc = env["RUSTC"]
    cache = build_dir.File(".rustc-info.json").abspath
    return state.memo().remember(("rustc", rustc), lambda: profiles.cached_toolchain_info(rustc, cache))


def library_dir(env, build_dir) -> str:
    """The toolchain's library sources: what the sysroot is built from, and what editors read."""
    return profiles.library_source_dir(rustc_info(env, build_dir)[1])


def profile_for(env, build_dir, kernel: Kernel) -> profiles.RustProfile:
    """The kernel's Rust profile, worked out again only when the tree's config files or the
    toolchain change: its cfg digest reads the whole .config."""
    name, hardened, toolchain = env["RUST_PROFILE"], env["RUST_HARDENING"] == "on", rustc_info(env, build_dir)
    files = Kernel.input_files(kernel.kdir) + [kernel.path("include/generated/rustc_cfg")]
    return state.memo().remember_files(
        ("profile", kernel.kdir, kernel.arch, kernel.release, tuple(kernel.version), name, hardened, toolchain[0],
         env["RUSTC"]), files,
        lambda: profiles.select_profile(name, kernel, env["RUSTC"], toolchain, hardened=hardened), profiles.RustProfile)


def sysroot_node(env, build_dir, profile: profiles.RustProfile) -> tuple[list, str]:
    """(the shared sysroot's node, its directory for --sysroot): one per key, whoever asks."""
    version = rustc_info(env, build_dir)[0]
    library = library_dir(env, build_dir)
    spec = sysroot.spec_for(profile.target, profile.rustflags, version, library)
    cache = sysroot_cache(env)

    def build():
        lock = os.path.join(library, "Cargo.lock")
        node = env.RustSysroot(env.File(sysroot.manifest_path(cache, spec)),
                               ([env.File(lock)] if os.path.isfile(lock) else [])
                               + [settings_node(env, SysrootSettings(spec, env["CARGO"], env["RUSTC"]))])
        env.Precious(node)      # published in place: SCons must not delete it before the step looks
        env.NoClean(node)       # shared by every project: `scons -c` leaves it (python -m rustkmod clear-sysroots)
        env.NoCache(node)       # the cache copy would bring the manifest without the sysroot
        if os.path.isfile(sysroot.manifest_path(cache, spec)) and sysroot.damage(cache, spec):
            env.AlwaysBuild(node)   # this run only: the step finds the damage, says so and builds it again
        return node
    return state.memo().remember(("sysroot", spec.key, cache), build), sysroot.directory(cache, spec)


def lock_node(env, manifest: cargo.Crate) -> list:
    """The crate's Cargo.lock: a plain source, or built by CargoLock when the crate has none yet
    (then the next run finds it as a plain source with the same content: nothing reruns)."""
    path, exists = cargo.lock_file(manifest, env["CARGO"])
    if exists:
        return [env.File(path)]

    def build():
        node = env.CargoLock(env.File(path), [env.File(manifest.manifest)]
                             + [env.File(p) for p in cargo.config_files(manifest.directory, os.environ)]
                             + [settings_node(env, CargoLockSettings(env["CARGO"], tuple(cargo.runtime_config(manifest))))])
        env.NoClean(node)       # the user's file from now on
        return node
    return state.memo().remember(("lock", path), build)


def staticlib(env, build_dir, manifest: cargo.Crate, profile: profiles.RustProfile,
              kernel: Kernel | None = None, bindings: list = ()) -> list:
    """The crate's staticlib for a profile: one node per (crate, profile), whoever asks for it.

    Kernel profiles build against the shared sysroot and pass the kernel's --cfg argfile to every
    crate of the graph; `bindings`: (variable, bindings.rs node, whether rustkmod's own crate
    includes them) for the crates that include bindings.
    """
    def build():
        rust_dir = build_dir.Dir("rust").Dir(profile.ident)
        configs = cargo.config_files(manifest.directory, os.environ)
        inputs, roles = [env.File(manifest.manifest)] + lock_node(env, manifest), ["manifest", "lock"]
        inputs += [env.File(p) for p in configs]
        roles += ["config"] * len(configs)
        sysroot_dir = ""
        if profile.build_std:
            node, sysroot_dir = sysroot_node(env, build_dir, profile)
            inputs += node
            roles.append("sysroot")
        if profile.kernel_cfg:
            inputs += kernel_cfg_node(env, profile, kernel)
            roles.append("kernel_cfg")
        for variable, node, _ in bindings:
            inputs.append(node)
            roles.append(f"bindings={variable}")
        settings = CargoSettings(profile, env["CARGO"], env["RUSTC"], sysroot_dir,
                                 tuple(_relative_to(p, manifest.directory) for p in configs), tuple(roles),
                                 tuple(cargo.runtime_config(manifest)),
                                 profile.build_std and cargo.remaps_paths(rustc_info(env, build_dir)[0]),
                                 tuple(variable for variable, _, shared in bindings if shared))
        lib = env.RustStaticLib(rust_dir.Dir(profile.target).Dir("release").File(manifest.staticlib_name),
                                inputs + [settings_node(env, settings)],
                                RUSTKMOD_CRATE_DIR=os.pathsep.join(manifest.source_directories))
        env.Precious(lib)             # cargo updates it in place; SCons must not delete it first
        env.Clean(lib, [rust_dir, build_dir.File(".rustc-info.json")])    # rustc_info's cache too
        return lib
    return state.memo().remember(("staticlib", manifest.manifest, profile.ident, build_dir.abspath), build)


def kernel_cfg_node(env, profile: profiles.RustProfile, kernel: Kernel) -> list:
    """The kernel's cfg argfile (cfgs.kernel_cfg_text): its options, version and their
    --check-cfg. cargo hashes RUSTFLAGS, this file's path among them, into its output names, so
    it lives at one path for every checkout: in the shared Rust cache, named by its content's
    digest (the profile's kernel_cfg), and written by the step from the tree (a no-op reads
    neither the tree's .config nor the text)."""
    path = os.path.join(sysroot_cache(env), "cfgs", f"{profile.kernel_cfg}.args")

    def node():
        settings = KernelCfgSettings(kernel.kdir, kernel.arch, env["KERNELRELEASE"], profile.kernel_cfg)
        generated = env.KernelCfgFile(env.File(path), [settings_node(env, settings)])
        # Shared by every checkout, as the sysroots, and read by their cargo runs at any time: never
        # removed (scons -c, or SCons before rebuilding it), only replaced whole (write_text's
        # rename); a CacheDir copy would unlink and rewrite it in place.
        env.NoClean(generated)
        env.Precious(generated)
        env.NoCache(generated)
        return generated
    return state.memo().remember(("kernel cfg file", path), node)


def _relative_to(path: str, directory: str) -> str:
    """A config file inside the crate by its relative path (the same in every checkout)."""
    relative = os.path.relpath(path, directory)
    return path if relative.startswith("..") else relative


def _path_remaps(env) -> list[str]:
    """The project as `.`, rustkmod's crates as /rustkmod, cargo's registry as /cargo (the most
    specific last), in the kernel objects a project builds."""
    home = os.environ.get("CARGO_HOME") or os.path.join(os.path.expanduser("~"), ".cargo")
    return cargo.path_remap_flags([(env.Dir("#").abspath, "."), (cargo.CRATES_DIR, "/rustkmod"), (home, "/cargo"),
                                   (crate_cache.shared_inputs(sysroot_cache(env)), "/rustkmod/bindings")])


def rust_object(env, build_dir, manifest: cargo.Crate, profile: profiles.RustProfile, lib: list,
                binutils_prefix: str) -> list:
    """The staticlib partially linked into one relocatable object: one per (crate, profile)."""
    node = build_dir.Dir("rust").Dir(profile.ident).File(object_name(manifest))

    def wire():
        arch = BY_RUST_TARGET.get(profile.target) if profile.build_std else None   # the kernel's codegen only
        settings = PartialLinkSettings(manifest.lib_name, binutils_prefix, bool(arch and arch.objtool_dead_ends),
                                       bool(arch and arch.drop_unwind), arch.weak_symbols if arch else ())
        nodes = env.RustObject(node, lib + [settings_node(env, settings)])
        env.Depends(nodes, library_code(env, "rust/partial_link.py", "elf/retain.py", "kernel/objtool.py"))   # what it does to the object
        return nodes
    return state.memo().remember(("rust object", manifest.manifest, profile.ident, build_dir.abspath), wire)


def object_name(manifest: cargo.Crate) -> str:
    return f"{manifest.lib_name}_rust.o"
