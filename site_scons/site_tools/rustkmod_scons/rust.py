"""The Rust stages: the crate's staticlib (cargo) and its partial link into one object.

  file                                                    builder        runs
  BUILD_DIR/rust/<profile>/<triple>/release/lib<crate>.a  RustStaticLib  cargo build (-Zbuild-std)
  BUILD_DIR/rust/<profile>/<crate>_rust.o                 RustObject     ld -r --gc-sections -u <exports>
  BUILD_DIR/rust/<profile>/{cargo-build-std.toml,kernel-cfg.args}  GeneratedFile  written from the profile

One staticlib and one object per (crate, profile), shared by every kernel with that profile.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import SCons.Scanner

from rustkmod import RustkmodError, cargo, childenv, rustflags
from rustkmod.kernel import Kernel

from . import state
from .common import builder, check_status, fail, files, jobs, run, run_with_jobs, setting, settings_node


@dataclass(frozen=True)
class CargoSettings:
    """What decides the staticlib besides the crate's files: the profile and the tools."""

    profile: rustflags.RustProfile
    cargo: str
    rustc: str
    inputs: tuple = ("manifest",)   # the role of each file source, in order


@dataclass(frozen=True)
class PartialLinkSettings:
    crate: str                      # the crate's library name: its exports are the link's roots
    binutils_prefix: str            # CROSS_COMPILE, for ld and readelf


def _named_files(source, settings) -> dict:
    return dict(zip(settings.inputs, (node.abspath for node in files(source))))


def _cargo_build(target, source, env):
    """cargo build of the staticlib, with the profile's target, flags and -Zbuild-std."""
    settings = setting(source, CargoSettings)
    profile, inputs = settings.profile, _named_files(source, settings)
    deps = os.path.join(target[0].dir.abspath, "deps")
    first = "; first build: compiles core too" if profile.build_std and not os.path.isdir(deps) else ""
    print(f"         [{profile.target}, {profile.name} profile{first}]")
    target_dir = os.path.dirname(os.path.dirname(target[0].dir.abspath))
    command, run_env = rustflags.cargo_command(profile, settings.cargo, settings.rustc, inputs["manifest"],
                                               target_dir, inputs.get("vendor_config"), _cargo_environment(env),
                                               inputs.get("kernel_cfg"))
    check_status(run_with_jobs(command, jobs(env), env=run_env), f"cargo build of {inputs['manifest']}")


def _cargo_environment(env) -> dict:
    run_env = childenv.clean(os.environ)
    if env["RUSTC_WRAPPER"]:
        run_env["RUSTC_WRAPPER"] = env["RUSTC_WRAPPER"]      # same outputs: in no signature
    return run_env


def _partial_link(target, source, env):
    """ld -r of the staticlib, rooted at the crate's exported symbols.

    Archive extraction pulls whole members, and `core` comes as a few large codegen units;
    --gc-sections then drops every function section the roots do not reach (968 KB -> 27 KB
    for hello).
    """
    settings = setting(source, PartialLinkSettings)
    archive = files(source)[0]
    prefix = settings.binutils_prefix
    try:
        roots = cargo.exported_symbols(archive.abspath, settings.crate, readelf=prefix + "readelf")
    except RustkmodError as err:
        fail(err)
    if not roots:
        fail(f"{archive}: the crate {settings.crate} exports no C-callable symbol",
             "mark the functions the C side calls #[unsafe(no_mangle)] pub extern \"C\"")
    command = [prefix + "ld", "-r", "--gc-sections", "-o", target[0].abspath]
    for symbol in roots:
        command += ["-u", symbol]
    check_status(run(command + [archive.abspath]), f"the partial link of {archive}")


def _crate_scan(node, env, path):
    """The crate's files: its *.rs and manifests, plus whatever cargo's dep-info lists."""
    directory = env["RUSTKMOD_CRATE_DIR"]
    found = set(cargo.crate_source_files(directory))
    found.update(p for p in cargo.read_dep_info(node.abspath[:-2] + ".d") if os.path.isfile(p))
    return [env.File(p) for p in sorted(found)]


CRATE_SCANNER = SCons.Scanner.Scanner(_crate_scan, name="RustCrateScanner")

BUILDERS = {
    "RustStaticLib": builder(_cargo_build, "CARGO", target_scanner=CRATE_SCANNER),
    "RustObject": builder(_partial_link, "LD -r"),
}


# ---------------------------------------------------------------------------------------------
# Wiring, used by the pseudo-builders


def rustc_info(env, build_dir) -> tuple[str, str]:
    """(`rustc -vV`, sysroot), asked once per run and cached in BUILD_DIR between runs."""
    rustc = env["RUSTC"]
    cache = build_dir.File(".rustc-info.json").abspath
    return state.current().remember(("rustc", rustc), lambda: rustflags.cached_toolchain_info(rustc, cache))


def profile_for(env, build_dir, kernel: Kernel) -> rustflags.RustProfile:
    return rustflags.select_profile(env["RUST_PROFILE"], kernel, env["RUSTC"], rustc_info(env, build_dir),
                                    hardened=env["RUST_HARDENING"] == "on")


def _profile_file(env, node, text):
    """A file every crate of a profile reads: one GeneratedFile node, whichever crate comes first."""
    return state.current().remember(("profile file", node.abspath), lambda: env.GeneratedFile(node, env.Value(text())))


def staticlib(env, build_dir, manifest: cargo.Crate, profile: rustflags.RustProfile,
              kernel: Kernel | None = None) -> list:
    """The crate's staticlib for a profile: one node per (crate, profile), whoever asks for it.

    Kernel profiles also pass the kernel's --cfg list (its rustc_cfg) to the crate.
    """
    def build():
        rust_dir = build_dir.Dir("rust").Dir(profile.ident)
        inputs, roles = [env.File(manifest.manifest)], ["manifest"]
        if profile.build_std:
            _, sysroot = rustc_info(env, build_dir)
            inputs += _profile_file(env, rust_dir.File("cargo-build-std.toml"),
                                    lambda: rustflags.vendor_config(rustflags.library_source_dir(sysroot)))
            roles.append("vendor_config")
        if profile.kernel_cfg:
            own = kernel.path("include/generated/rustc_cfg")
            inputs += [env.File(own)] if os.path.isfile(own) else \
                _profile_file(env, rust_dir.File("kernel-cfg.args"), lambda: rustflags.kernel_cfg_text(kernel))
            roles.append("kernel_cfg")
        settings = CargoSettings(profile, env["CARGO"], env["RUSTC"], tuple(roles))
        lib = env.RustStaticLib(rust_dir.Dir(profile.target).Dir("release").File(manifest.staticlib_name),
                                inputs + [settings_node(env, settings)], RUSTKMOD_CRATE_DIR=manifest.directory)
        env.Precious(lib)             # cargo updates it in place; SCons must not delete it first
        env.Clean(lib, rust_dir)
        return lib
    return state.current().remember(("staticlib", manifest.manifest, profile.ident, build_dir.abspath), build)


def rust_object(env, build_dir, manifest: cargo.Crate, profile: rustflags.RustProfile, lib: list,
                binutils_prefix: str) -> list:
    """The staticlib partially linked into one relocatable object: one per (crate, profile)."""
    node = build_dir.Dir("rust").Dir(profile.ident).File(object_name(manifest))
    return state.current().remember(("rust object", manifest.manifest, profile.ident, build_dir.abspath),
                                    lambda: env.RustObject(node, lib + [settings_node(env,
                                        PartialLinkSettings(manifest.lib_name, binutils_prefix))]))


def object_name(manifest: cargo.Crate) -> str:
    return f"{manifest.lib_name}_rust.o"
