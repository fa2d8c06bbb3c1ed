"""rustkmod_scons: the SCons tool that builds Linux kernel modules whose core is a Rust staticlib.

Normally loaded with `Environment(tools=['rustkmod_scons'])` (site_scons/site_tools, or a toolpath).
It is not called `rustkmod` because SCons registers a tool module in sys.modules under the tool's
name, which would shadow the `rustkmod` package this tool wires.
It adds the build variables (`scons -h` lists them), the builders below, and the pseudo-builder
`env.RustKernelModule(name, crate=..., sources=[...])` that wires them into one graph:

  file                                            builder         runs
  BUILD_DIR/rust/<profile>/<triple>/release/lib<crate>.a  RustStaticLib  cargo (-Zbuild-std)
  BUILD_DIR/rust/<profile>/<crate>_rust.o         RustObject      ld -r -u <exported symbols>
  BUILD_DIR/<kernel>/<module>/{*.c,Kbuild,...}    KbuildStage     copies / writes the Kbuild inputs
  BUILD_DIR/<kernel>/<module>/<module>.ko         KernelModule    make -C KDIR M=... modules
  BUILD_DIR/<kernel>/<module>/fixed/<module>.ko   FixRelocs       RELOCS=fix: PLT32 -> PC32 for old loaders
  BUILD_DIR/<kernel>/<module>/<module>.ko.verified VerifyRelocs   the loader's checks (pyelftools)
  BUILD_DIR/<kernel>/<module>/<module>.ko.booted   BootCheck      QEMU: insmod, rmmod, kernel log

Every edge carries a content signature; nothing is AlwaysBuild, so a no-op build runs neither
cargo nor make. The logic lives in the plain `rustkmod` package; this file only wires it.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

import SCons.Action
import SCons.Builder
import SCons.Errors
import SCons.Scanner
from SCons.Script import ARGUMENTS, EnumVariable, Exit, GetOption, Help, Variables

if importlib.util.find_spec("rustkmod") is None:
    # loaded through a toolpath: the rustkmod package sits beside site_tools/
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from rustkmod import RustkmodError, cargo, kbuild, provision, rustflags  # noqa: E402
from rustkmod.kernel import Kernel, installed_headers_kdir, loader_source_path  # noqa: E402

from . import install as install_step  # noqa: E402
from .common import action, lock_tree, memo, message, note, report_error, run, run_with_jobs, settings_of

# rustkmod.relocs (pyelftools) and rustkmod.boot are imported by the actions that use them: a
# no-op build never pays for them.

# ---------------------------------------------------------------------------------------------
# Build variables


def _default(name: str, fallback: str = "") -> str:
    """A variable's default: the process environment first (KDIR=... scons works too)."""
    return os.environ.get(name, fallback)


def _first_existing(*paths: str) -> str:
    return next((p for p in paths if os.path.exists(p)), paths[-1])


def _positive_or_empty(key: str, value: str, env) -> None:
    """Variables validator: a count, or nothing for the default."""
    if value and not (value.isdigit() and int(value) > 0):
        raise SCons.Errors.UserError(f"rustkmod: {key}={value} is not a positive number; "
                                     f"pass {key}=<compile jobs>, or leave it unset for the CPU count")


def make_variables(args=None) -> Variables:
    """The build variables rustkmod reads; `scons -h` prints them with their help text."""
    variables = Variables(None, ARGUMENTS if args is None else args)
    variables.AddVariables(
        ("KDIR", "kernel tree or headers to build for (env KDIR; default: the headers ./setup installed)",
         _default("KDIR") or installed_headers_kdir() or ""),
        ("ARCH", "kernel architecture; default: read from KDIR's .config", _default("ARCH")),
        ("CROSS_COMPILE", "prefix of the binutils and C compiler for a cross build", _default("CROSS_COMPILE")),
        (("KBUILD_CC", "CC"), "C compiler Kbuild uses; default: the one KDIR names", _default("KBUILD_CC")),
        ("LLVM", "passed to Kbuild for clang-built kernels (LLVM=1)", _default("LLVM")),
        ("KERNELRELEASE", "kernel version the relocation policy assumes; default: read from KDIR",
         _default("KERNELRELEASE")),
        EnumVariable("RUST_PROFILE",
                     "how Rust is compiled: 'kernel' (the kernel's codegen, core rebuilt from source) "
                     "or 'host-default' (host target defaults: PIC, prebuilt core; fails to load)",
                     _default("RUST_PROFILE", "kernel"), allowed_values=rustflags.PROFILES),
        ("CARGO", "cargo to run", _default("CARGO", _first_existing("/usr/bin/cargo", "cargo"))),
        ("RUSTC", "rustc with the library sources for -Zbuild-std (Debian: rust-web-src)",
         _default("RUSTC", _first_existing("/usr/bin/rustc", "rustc"))),
        ("BUILD_DIR", "where every output goes (relative to the top SConstruct)", _default("BUILD_DIR", "build")),
        ("KERNEL_IMAGE", "kernel image 'scons check' boots; default: KDIR's arch/<arch>/boot image when "
         "KDIR is a built tree, else /boot/vmlinuz-<KDIR's release>",
         _default("KERNEL_IMAGE")),
        EnumVariable("RELOCS", "relocation check: 'strict' fails on what the loader refuses, 'fix' also "
                     "rewrites PLT32 to PC32 for loaders that predate it, 'off' skips the check",
                     _default("RELOCS", "strict"), allowed_values=("strict", "fix", "off")),
        EnumVariable("OBJTOOL", "the kernel's objtool on the Rust object: 'strict' fails on its warnings, "
                     "'warn' prints them, 'off' skips it", _default("OBJTOOL", "strict"),
                     allowed_values=("strict", "warn", "off")),
        EnumVariable("RUST_HARDENING", "'on': Rust gets the kernel's hardening (retpoline and return thunks, "
                     "SLS, IBT, ... as its .config asks; 'scons flags' shows them); 'off' leaves it out, "
                     "which the verifier then reports", _default("RUST_HARDENING", "on"), allowed_values=("on", "off")),
        ("KERNELS", "several kernels at once, comma-separated: kernel trees, or kernels fetched with "
         "'python -m rustkmod fetch-kernel' (5.10, 6.1, 6.12, 6.1-arm64, 6.1-signing); default: just KDIR", _default("KERNELS")),
        ("KERNEL_CACHE", "where fetched kernels are kept", _default("KERNEL_CACHE", provision.default_cache())),
        ("CACHE_DIR", "a shared SCons CacheDir: outputs already built anywhere with the same inputs are "
         "copied from it instead of running cargo or make", _default("CACHE_DIR")),
        ("JOBS", "compile jobs that cargo and Kbuild share through one make jobserver, whatever scons -j "
         "runs at once; default: the number of CPUs", _default("JOBS", ""), _positive_or_empty),
        ("RUSTC_WRAPPER", "compiler cache or distributor cargo runs rustc through (e.g. sccache); not part "
         "of any signature: the outputs are the same", _default("RUSTC_WRAPPER")),
        ("CC_WRAPPER", "put before Kbuild's C compiler (e.g. distcc, icecc, ccache; DISTCC_HOSTS and the like "
         "come from the environment); not part of any signature", _default("CC_WRAPPER")),
        ("INSTALL_MOD_PATH", "staging root 'scons install' installs the verified modules into "
         "(lib/modules/<release>/extra, then depmod); default: BUILD_DIR/root", _default("INSTALL_MOD_PATH")),
        EnumVariable("MODULE_SIG", "signing at install: 'auto' signs when a key is known (MODULE_SIG_KEY, or "
                     "the kernel tree's own certs/signing_key.pem), 'on' fails without one, 'off' never signs",
                     _default("MODULE_SIG", "auto"), allowed_values=("auto", "on", "off")),
        ("MODULE_SIG_KEY", "private key (PEM file or pkcs11: URI) to sign installed modules with",
         _default("MODULE_SIG_KEY")),
        ("MODULE_SIG_CERT", "the X.509 certificate of MODULE_SIG_KEY, as the kernel's keyring holds it",
         _default("MODULE_SIG_CERT")),
        ("KERNEL_SRC", "kernel source tree whose arch/<arch>/kernel/module.c decides the accepted "
         "relocations (default: KDIR's, when it has one; else the built-in table)", _default("KERNEL_SRC")),
    )
    return variables


_HELP_ADDED = []
_FLAGS_ALIAS = []     # `scons flags` prints information only, so it is always "built"


def _apply_variables(env) -> None:
    """Sets the variables on env: command line > Environment(...) keywords > process env > default."""
    variables = make_variables()
    preset = {key: env[key] for key in variables.keys() if key in env}
    variables.Update(env)
    for key, value in preset.items():
        if key not in ARGUMENTS and not (key == "KBUILD_CC" and "CC" in ARGUMENTS):
            env[key] = value
    if not _HELP_ADDED:
        Help("rustkmod build variables (scons NAME=VALUE, or set in the environment):\n"
             + variables.GenerateHelpText(env), append=True, local_only=True)
        _HELP_ADDED.append(True)


# ---------------------------------------------------------------------------------------------
# Inputs read once per process


_SUMMARY: list = []      # RustModules configured in this run, for the per-kernel summary


def _print_summary() -> None:
    """At exit, when several kernels were configured: per kernel, what became of each module."""
    from SCons.Script import GetBuildFailures
    if not any(len(r.modules) + len(r.unusable) > 1 for r in _SUMMARY):
        return
    failures = GetBuildFailures()
    lines = ["rustkmod: per-kernel summary"]
    for result in _SUMMARY:
        for module in result.modules:
            where = os.path.dirname(module.ko[0].abspath) + os.sep
            failed = [f for f in failures if str(getattr(f.node, "abspath", "")).startswith(where)]
            if failed:
                state = f"FAILED: {failed[0].node} ({failed[0].errstr})"
            elif module.verified and _done(module.verified[0]):
                state = "built, verified" + (", booted" if _done(module.check[0]) else "")
            else:
                state = "not built (not requested, or stopped by another failure)"
            lines.append(f"  {result.name} for {module.kernel}: {state}")
        for label, reason in result.unusable:
            lines.append(f"  {result.name} for {label}: FAILED: {reason}")
    print("\n".join(lines))


def _done(node) -> bool:
    """Whether this run built `node` or found it up to date (not: a stale file from earlier)."""
    import SCons.Node
    return node.get_state() in (SCons.Node.up_to_date, SCons.Node.executed)


atexit.register(_print_summary)


def _kernel(env) -> Kernel:
    key = ("kernel", env["KDIR"], env["ARCH"], env["KERNELRELEASE"])
    return memo(key, lambda: Kernel.from_kdir(env["KDIR"], env["ARCH"] or None, env["KERNELRELEASE"] or None))


def _build_dir(env):
    return env.Dir(env["BUILD_DIR"] if os.path.isabs(env["BUILD_DIR"]) else "#" + env["BUILD_DIR"])


def _rustc_info(env) -> tuple[str, str]:
    rustc = env["RUSTC"]
    cache = _build_dir(env).File(".rustc-info.json").abspath
    return memo(("rustc", rustc), lambda: rustflags.cached_toolchain_info(rustc, cache))


def _profile(env, kernel: Kernel) -> rustflags.RustProfile:
    return rustflags.select_profile(env["RUST_PROFILE"], kernel, env["RUSTC"], _rustc_info(env),
                                    hardened=env["RUST_HARDENING"] == "on")


# ---------------------------------------------------------------------------------------------
# Actions: each reads what it needs from its sources (Value nodes carry the settings), so the
# signature of the target is exactly its inputs.


def _cargo_build(target, source, env):
    """cargo build of the staticlib, with the profile's target, flags and -Zbuild-std."""
    settings = settings_of(source[1])
    profile = settings["profile"]
    target_dir = os.path.dirname(os.path.dirname(os.path.dirname(target[0].abspath)))
    config = source[2].abspath if profile["build_std"] else None
    cfg_file = source[3].abspath if profile["kernel_cfg"] else None
    command, run_env = rustflags.cargo_command(profile, settings["cargo"], settings["rustc"],
                                               source[0].abspath, target_dir, config, os.environ, cfg_file)
    if env["RUSTC_WRAPPER"]:
        run_env["RUSTC_WRAPPER"] = env["RUSTC_WRAPPER"]
    else:
        run_env.pop("RUSTC_WRAPPER", None)
    return run_with_jobs(command, _jobs(env), env=run_env)


def _cargo_message(target, source, env):
    profile = settings_of(source[1])["profile"]
    deps = os.path.join(os.path.dirname(target[0].abspath), "deps")
    first = " (first build: compiles core too)" if profile["build_std"] and not os.path.isdir(deps) else ""
    return f"CARGO    {target[0]}  [{profile['target']}, {profile['name']} profile]{first}"


def _partial_link(target, source, env):
    """ld -r of the staticlib, rooted at the crate's exported symbols.

    Archive extraction pulls whole members, and `core` comes as a few large codegen units;
    --gc-sections then drops every function section the roots do not reach (968 KB -> 27 KB
    for hello).
    """
    settings = settings_of(source[1])
    prefix = settings["binutils_prefix"]
    try:
        roots = cargo.exported_symbols(source[0].abspath, settings["crate"], readelf=prefix + "readelf")
    except RustkmodError as err:
        return report_error(err)
    if not roots:
        return report_error(RustkmodError(
            f"{source[0]}: the crate {settings['crate']} exports no C-callable symbol",
            "mark the functions the C side calls #[unsafe(no_mangle)] pub extern \"C\""))
    command = [prefix + "ld", "-r", "--gc-sections", "-o", target[0].abspath]
    for symbol in roots:
        command += ["-u", symbol]
    return run(command + [source[0].abspath])


def _write_value(target, source, env):
    """Writes a Value node's text to a file: the Kbuild file, a .cmd file, cargo's config."""
    with open(target[0].abspath, "w") as handle:
        handle.write(source[0].read())
    return 0


def _stage_copy(target, source, env):
    """Copies a source into the Kbuild directory with a fresh mtime, so make sees it as new."""
    shutil.copyfile(source[0].abspath, target[0].abspath)
    return 0


def _objtool(target, source, env):
    """The Rust object as Kbuild would ship a C object: checked and annotated by the kernel's objtool."""
    from rustkmod import objtool
    settings, mode = settings_of(source[1]), settings_of(source[2])["mode"]
    shutil.copyfile(source[0].abspath, target[0].abspath)
    try:
        plan = objtool.plan(settings["kdir"], settings["make_variables"])
    except RustkmodError as err:
        return report_error(err)
    if plan is None:
        print(f"         Linux {settings['release']} runs no objtool on modules")
        return 0
    if plan.delayed:
        print(f"         Linux {settings['release']}: Kbuild runs objtool on the linked module, Rust included")
        return 0
    warnings = cargo.demangle(objtool.run(plan, target[0].abspath))
    if warnings:
        print("\n".join(warnings), file=sys.stderr)
        if mode == "strict":
            os.remove(target[0].abspath)
            return report_error(RustkmodError(
                f"the kernel's objtool warns about the Rust object ({len(warnings)} warning(s) above)",
                "fix the named functions, or pass OBJTOOL=warn to build anyway"))
    return 0


def _kbuild(target, source, env):
    settings = settings_of(source[-1])
    module_dir = target[0].dir.abspath
    # The module's own directory is mapped away in debug info and __FILE__, so the .ko does not
    # depend on where the checkout is (a CacheDir shared by checkouts, reproducible builds).
    kcflags = f"{os.environ.get('KCFLAGS', '')} -ffile-prefix-map={module_dir}/=".strip()
    command = ["make", "-C", settings["kdir"], f"M={module_dir}", *settings["make_variables"],
               *kbuild.cc_wrapped(settings["cc"], env["CC_WRAPPER"]), f"KCFLAGS={kcflags}",
               "-s", "--no-print-directory", "modules"]
    status = run_with_jobs(command, _jobs(env))
    if status == 0 and not os.path.exists(target[0].abspath):
        print(f"scons: *** rustkmod: Kbuild succeeded but wrote no {target[0]}", file=sys.stderr)
        return 1
    return status


def _jobs(env) -> int:
    return int(env["JOBS"] or os.cpu_count() or 1)


def _loader_target(settings: dict):
    """The LoaderTarget of the kernel a Value node describes (read from the tree again)."""
    from rustkmod.relocs import target_for_kernel
    kernel = Kernel.from_kdir(settings["kdir"], settings["arch"], settings["kernelrelease"] or None)
    return target_for_kernel(kernel, settings["kernel_src"], tuple(settings.get("extra_symvers", ())))


def _fix_relocs(target, source, env):
    """RELOCS=fix: the module with the types its loader lacks rewritten to their equivalents."""
    from rustkmod.relocs.fix import needed_rewrites, rewrite_types
    try:
        loader = _loader_target(settings_of(source[1]))
        counts = rewrite_types(source[0].abspath, target[0].abspath, needed_rewrites(loader))
    except RustkmodError as err:
        return report_error(err)
    names = loader.policy.type_names
    done = ", ".join(f"{count} {names[old]} -> {names[new]}"
                     for (old, new), count in zip(needed_rewrites(loader).items(), counts.values()))
    print(f"         RELOCS=fix rewrote {done or 'nothing'} for {loader.description}")
    return 0


def _verify(target, source, env):
    """Fails unless the kernel's loader accepts the .ko; writes the stamp."""
    from rustkmod.relocs import check_file, format_report
    settings = settings_of(source[1])
    if settings["relocs"] == "off":
        print(f"         RELOCS=off: {source[0]} is NOT verified against its kernel's loader")
        verdict_text = {"module": str(source[0]), "verification": "off (RELOCS=off)"}
    else:
        try:
            loader = _loader_target(settings)
            verdict = check_file(source[0].abspath, loader)
        except RustkmodError as err:
            return report_error(err)
        if not verdict.loadable:
            module = os.path.basename(source[0].abspath)[:-3]
            print(format_report(verdict.problems, loader.description, module), file=sys.stderr)
            return 1
        verdict_text = {"module": str(source[0]), "kernel": loader.description,
                        "policy": f"{loader.source_file} of the tree" if loader.source_file else "built-in table",
                        "relocations": verdict.type_counts}
    with open(target[0].abspath, "w") as handle:
        json.dump(verdict_text, handle, indent=1)
        handle.write("\n")
    return 0


def _boot_check(target, source, env):
    """Boots the kernel with the module: insmod must succeed and print the expected line."""
    from rustkmod import boot
    settings = settings_of(source[-1])
    modules = [s.abspath for s in source[:-2]]     # dependencies first; then the image, the settings
    try:
        result = boot.boot_modules(settings["arch"], settings["image"], modules, target[0].abspath + ".d",
                                   busybox=settings["busybox"] or boot.BUSYBOX, module_root=settings.get("root", ""),
                                   append=settings.get("append", ""))
    except RustkmodError as err:
        return report_error(err)
    name = boot.module_name(modules[-1])
    faults = [fault for ko in modules[:-1] for fault in boot.judge(result, boot.module_name(ko), "")]
    faults += boot.judge(result, name, settings["expect"])
    with open(target[0].abspath + ".log", "w") as handle:
        handle.write(result.console)
    if faults:
        print("\n".join(f"scons: *** {line}" for line in faults), file=sys.stderr)
        return 1
    how = f" (modprobe from {settings['root']}{', module.sig_enforce=1' if settings.get('append') else ''})" \
        if settings.get("root") else ""
    summary = f"{name}: loaded, printed '{settings['expect']}', unloaded on {settings['kernel']}{how}"
    print(f"         {summary}")
    with open(target[0].abspath, "w") as handle:
        handle.write(summary + "\n")
    return 0


def _standin_check(target, source, env):
    """Fails, naming them, when the crate imports kernel functions the stand-in lacks."""
    from rustkmod.standin import missing_from_standin
    settings = settings_of(source[-1])
    try:
        missing = missing_from_standin(source[0].abspath, settings["crate"], [s.abspath for s in source[1:-1]])
    except RustkmodError as err:
        return report_error(err)
    if missing:
        return report_error(RustkmodError(
            f"{settings['crate']} calls kernel functions the user-space stand-in lacks: {', '.join(missing)}",
            f"add them to {', '.join(settings['standin'])} with the signatures the C side gives them"))
    with open(target[0].abspath, "w") as handle:
        handle.write("imports provided by the stand-in\n")
    return 0


def _cargo_test(target, source, env):
    """cargo test for the host, with the stand-in's objects linked into the test binaries."""
    settings = settings_of(source[1])
    command = [settings["cargo"], "test", "--manifest-path", source[0].abspath, "--target", settings["target"]]
    link = [f"-Clink-arg={s.abspath}" for s in source[2:]]
    run_env = dict(os.environ, RUSTC=settings["rustc"], CARGO_TARGET_DIR=target[0].dir.Dir("cargo").abspath,
                   CARGO_ENCODED_RUSTFLAGS=rustflags.encoded_rustflags(link))
    run_env.pop("RUSTFLAGS", None)
    try:
        result = subprocess.run(command, env=run_env, capture_output=True, text=True)
    except FileNotFoundError:
        return report_error(RustkmodError(f"CARGO={settings['cargo']} not found", "install cargo-web (./setup does)"))
    output = result.stdout + result.stderr
    with open(target[0].abspath, "w") as handle:
        handle.write(output)
    if result.returncode != 0:
        print(output, file=sys.stderr)
        print(f"scons: *** rustkmod: host tests of {settings['crate']} failed (log: {target[0]})", file=sys.stderr)
        return 1
    for line in output.splitlines():
        if line.startswith("test result:"):
            print(f"         {line}")
    return 0


def _host_run(target, source, env):
    """Runs the user-space insmod: the module's init and exit against the stand-in."""
    args = settings_of(source[1])
    result = subprocess.run([source[0].abspath, *args], capture_output=True, text=True)
    output = result.stdout + result.stderr
    print("".join(f"         | {line}\n" for line in output.splitlines()), end="")
    if result.returncode != 0:
        print(f"scons: *** rustkmod: {source[0]} exited with {result.returncode}", file=sys.stderr)
        return 1
    with open(target[0].abspath, "w") as handle:
        handle.write(output)
    return 0


def _unusable_kernel(target, source, env):
    print(f"scons: *** rustkmod: {source[0].read()}", file=sys.stderr)
    return 1


def _crate_scan(node, env, path):
    """The crate's files: its *.rs and manifests, plus whatever cargo's dep-info lists."""
    directory = env["RUSTKMOD_CRATE_DIR"]
    files = set(cargo.crate_source_files(directory))
    files.update(p for p in cargo.read_dep_info(node.abspath[:-2] + ".d") if os.path.isfile(p))
    return [env.File(p) for p in sorted(files)]


BUILDERS = {
    "RustStaticLib": SCons.Builder.Builder(
        action=action(_cargo_build, _cargo_message),
        target_scanner=SCons.Scanner.Scanner(_crate_scan, name="RustCrateScanner")),
    "RustObject": SCons.Builder.Builder(action=action(_partial_link, message("LD -r"))),
    "KbuildStage": SCons.Builder.Builder(action=action(_stage_copy, message("STAGE"))),
    "Objtool": SCons.Builder.Builder(action=action(_objtool, message("OBJTOOL"))),
    "GeneratedFile": SCons.Builder.Builder(action=action(_write_value, message("GEN"))),
    "KernelModule": SCons.Builder.Builder(action=action(_kbuild, message("KBUILD"))),
    "FixRelocs": SCons.Builder.Builder(action=action(_fix_relocs, message("FIX"))),
    "VerifyRelocs": SCons.Builder.Builder(action=action(_verify, message("VERIFY"))),
    "BootCheck": SCons.Builder.Builder(action=action(_boot_check, message("BOOT"))),
    "StandinCheck": SCons.Builder.Builder(action=action(_standin_check, message("STANDIN"))),
    "CargoTest": SCons.Builder.Builder(
        action=action(_cargo_test, message("TEST")),
        target_scanner=SCons.Scanner.Scanner(_crate_scan, name="RustCrateScanner")),
    "HostRun": SCons.Builder.Builder(action=action(_host_run, message("RUN"))),
    "UnusableKernel": SCons.Builder.Builder(action=action(_unusable_kernel, message("KERNEL"))),
}


# ---------------------------------------------------------------------------------------------
# The pseudo-builder


@dataclass
class RustModule:
    """The nodes of one module for one kernel; `verified` is what a build should depend on."""

    name: str
    kernel: str = ""
    kdir: str = ""
    staticlib: list = field(default_factory=list)
    rust_object: list = field(default_factory=list)
    ko: list = field(default_factory=list)
    verified: list = field(default_factory=list)
    check: list = field(default_factory=list)
    flags: object = None     # () -> the kernel's hardening as rustc flags, for `scons flags` only
    load_order: list = field(default_factory=list)   # verified .ko files to load, dependencies first
    install: list = field(default_factory=list)      # the module in INSTALL_MOD_PATH, and depmod's index
    check_installed: list = field(default_factory=list)  # boot test of the installed modules (modprobe)

    @property
    def symvers(self):
        """The Module.symvers Kbuild wrote: the module's exports, for the modules that use them."""
        return self.ko[1]


def _profile_file(env, node, text):
    """A file every crate of a profile reads: one GeneratedFile node, whichever crate comes first."""
    return memo(("profile file", node.abspath), lambda: env.GeneratedFile(node, env.Value(text())))


def _staticlib(env, manifest: cargo.Crate, profile: rustflags.RustProfile, kernel: Kernel | None = None) -> list:
    """The crate's staticlib for a profile: one node per (crate, profile), whoever asks for it.

    Kernel profiles also pass the kernel's --cfg list (its rustc_cfg) to the crate.
    """
    def build():
        rust_dir = _build_dir(env).Dir("rust").Dir(profile.ident)
        inputs = [env.File(manifest.manifest),
                  env.Value(json.dumps({"profile": json.loads(profile.signature()), "cargo": env["CARGO"],
                                        "rustc": env["RUSTC"]}, sort_keys=True))]
        if profile.build_std:
            _, sysroot = _rustc_info(env)
            inputs += _profile_file(env, rust_dir.File("cargo-build-std.toml"),
                                    lambda: rustflags.vendor_config(rustflags.library_source_dir(sysroot)))
        if profile.kernel_cfg:
            own = kernel.path("include/generated/rustc_cfg")
            inputs += [env.File(own)] if os.path.isfile(own) else \
                _profile_file(env, rust_dir.File("kernel-cfg.args"), lambda: rustflags.kernel_cfg_text(kernel))
        staticlib = env.RustStaticLib(rust_dir.Dir(profile.target).Dir("release").File(manifest.staticlib_name),
                                      inputs, RUSTKMOD_CRATE_DIR=manifest.directory)
        env.Precious(staticlib)             # cargo updates it in place; SCons must not delete it first
        env.Clean(staticlib, rust_dir)
        return staticlib
    return memo(("staticlib", manifest.manifest, profile.ident, _build_dir(env).abspath), build)


def _provider_for(provider, kernel: Kernel, user: str) -> RustModule:
    """The module `user` uses, as built for the same kernel."""
    found = [m for m in getattr(provider, "modules", []) if m.kdir == kernel.kdir]
    if not found:
        what = getattr(provider, "name", repr(provider))
        raise RustkmodError(f"{user} uses {what}, which is not built for Linux {kernel.release}",
                            f"build {what} for the same kernels (KERNELS) as {user}, before it")
    return found[0]


def _rust_kernel_module(env, name: str, crate: str, sources: list, expect: str, uses=()) -> RustModule:
    kernel = _kernel(env)
    profile = _profile(env, kernel)
    manifest = cargo.Crate.from_manifest(env.Dir(crate).srcnode().abspath)
    c_sources = [env.File(s).srcnode() for s in env.Flatten([sources])]
    providers = [_provider_for(p, kernel, name) for p in env.Flatten([uses])]
    extra_symvers = [p.symvers for p in providers]
    build_dir = _build_dir(env)
    kbuild.check_path_for_make("KDIR", kernel.kdir)

    # Rust: one staticlib and one partially linked object per (crate, profile), shared by kernels.
    staticlib = _staticlib(env, manifest, profile, kernel)
    rust_dir = build_dir.Dir("rust").Dir(profile.ident)
    rust_object_name = f"{manifest.lib_name}_rust.o"
    cross_compile = kbuild.cross_compile_for(kernel, env["CROSS_COMPILE"])
    cc, cc_note = kbuild.kbuild_cc(kernel, cross_compile, env["KBUILD_CC"])
    if cc_note:
        note(cc_note)
    binutils_prefix = cross_compile
    rust_object = memo(("rust object", manifest.manifest, profile.ident, _build_dir(env).abspath),
                        lambda: env.RustObject(rust_dir.File(rust_object_name), [staticlib, env.Value(json.dumps(
                            {"crate": manifest.lib_name, "binutils_prefix": binutils_prefix}, sort_keys=True))]))

    # Kbuild: the module's own directory per kernel, holding copies of every input.
    kernel_dir_name = _kernel_dir_name(kernel)
    module_dir = build_dir.Dir(kernel_dir_name).Dir(name)
    kbuild.check_path_for_make("BUILD_DIR", module_dir.abspath)
    c_objects = [os.path.splitext(s.name)[0] + ".o" for s in c_sources]
    kbuild.check_module_name(name, c_objects + [rust_object_name])
    staged = [env.KbuildStage(module_dir.File(s.name), s) for s in c_sources]
    make_variables = kbuild.make_variables(kernel, cross_compile, cc, env["LLVM"])
    kernel_settings = env.Value(json.dumps({
        "kdir": kernel.kdir, "release": kernel.release,
        "make_variables": make_variables + kbuild.extra_symbols_variable([s.abspath for s in extra_symvers]),
        "cc": cc or kbuild.default_cc(cross_compile, env["LLVM"]),
    }, sort_keys=True))
    if env["OBJTOOL"] == "off":
        staged += env.KbuildStage(module_dir.File(rust_object_name + "_shipped"), rust_object)
    else:
        objtool_input = env.Value(json.dumps({"mode": env["OBJTOOL"], "kernel": kernel.release}))
        shipped = env.Objtool(module_dir.File(rust_object_name + "_shipped"), rust_object + [kernel_settings, objtool_input])
        env.Depends(shipped, [env.File(f) for f in kernel.signature_files()])
        staged += shipped
    staged += env.GeneratedFile(module_dir.File(f".{rust_object_name}.cmd"),
                             env.Value(kbuild.SHIPPED_CMD_TEXT.format(name=rust_object_name)))
    staged += env.GeneratedFile(module_dir.File("Kbuild"),
                             env.Value(kbuild.kbuild_text(name, c_objects + [rust_object_name])))
    ko = env.KernelModule([module_dir.File(f"{name}.ko"), module_dir.File("Module.symvers"),
                           module_dir.File("modules.order")], env.Flatten(staged) + extra_symvers + [kernel_settings])
    env.Depends(ko, [env.File(f) for f in kernel.signature_files()])
    env.Clean(ko, module_dir)

    kernel_text = f"Linux {kernel.release} ({'.'.join(map(str, kernel.version))}, {kernel.arch})"
    loader = env.Value(json.dumps({"kdir": kernel.kdir, "arch": kernel.arch, "version": list(kernel.version),
                                   "kernelrelease": env["KERNELRELEASE"], "kernel_src": env["KERNEL_SRC"],
                                   "relocs": env["RELOCS"], "extra_symvers": [s.abspath for s in extra_symvers]},
                                  sort_keys=True))
    module_ko = ko[0]
    if env["RELOCS"] == "fix":
        module_ko = env.FixRelocs(module_dir.Dir("fixed").File(f"{name}.ko"), [ko[0], loader])[0]
    verified = env.VerifyRelocs(module_dir.File(f"{name}.ko.verified"), [module_ko, loader])
    # What the verdict reads besides the .ko: the exports, and the loader source when there is one.
    env.Depends(verified, [env.File(f) for f in kernel.signature_files()] + _loader_sources(env, kernel)
                + extra_symvers)
    load_order = list(dict.fromkeys([n for p in providers for n in p.load_order] + [module_ko]))

    image = env["KERNEL_IMAGE"] or kernel.image()
    boot_settings = {"arch": kernel.arch, "image": image, "expect": expect, "kernel": kernel_text,
                     "busybox": env.get("RUSTKMOD_BUSYBOX", "")}
    check = env.BootCheck(module_dir.File(f"{name}.ko.booted"), load_order + [env.File(image), env.Value(
        json.dumps(boot_settings, sort_keys=True))])
    env.Depends(check, verified + [n for p in providers for n in p.verified])
    root = install_step.install_root(env, build_dir, kernel, kernel_dir_name)
    installed, signed = install_step.install_nodes(env, kernel, name, module_dir, module_ko, verified, ko[2],
                                                   make_variables, root)
    # The installed modules booted: modprobe loads this one and, through modules.dep, what it
    # uses; signed modules under module.sig_enforce=1, so a key the kernel does not trust fails.
    check_installed = env.BootCheck(module_dir.File(f"{name}.ko.modprobed"), load_order + [env.File(image), env.Value(
        json.dumps({**boot_settings, "root": root.abspath, "append": "module.sig_enforce=1" if signed else ""},
                   sort_keys=True))])
    env.Depends(check_installed, installed + [n for p in providers for n in p.install])

    def flags() -> str:
        from rustkmod.hardening import describe, kernel_hardening
        off = "\n  RUST_HARDENING=off: none of these flags is used" if env["RUST_HARDENING"] == "off" else ""
        return describe(kernel, kernel_hardening(kernel)) + off
    return RustModule(name, kernel.name, kernel.kdir, staticlib, rust_object, [module_ko] + ko[1:], verified, check,
                      flags, load_order, installed, check_installed)


@dataclass
class HostTests:
    """The nodes of a crate's host tests; `all` is what `scons test-host` should build."""

    name: str
    check: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    program: list = field(default_factory=list)
    run: list = field(default_factory=list)

    @property
    def all(self) -> list:
        return self.check + self.tests + self.run


def _rust_host_tests(env, name: str, crate: str, standin: list, driver: str, args: list) -> HostTests:
    toolchain = _rustc_info(env)
    profile = rustflags.host_default_profile(toolchain[0])
    manifest = cargo.Crate.from_manifest(env.Dir(crate).abspath)
    host_dir = _build_dir(env).Dir("host").Dir(name)
    host = env.Clone(tools=["cc", "ar", "gnulink"], CCCOMSTR="CC       $TARGET", LINKCOMSTR="LINK     $TARGET")
    standin_sources = [env.File(s) for s in env.Flatten([standin])]
    standin_objects = [host.Object(host_dir.File(s.name[:-2] + ".o"), s)[0] for s in standin_sources]

    staticlib = _staticlib(env, manifest, profile)
    check = env.StandinCheck(host_dir.File("standin.checked"), staticlib + standin_objects + [env.Value(json.dumps(
        {"crate": manifest.lib_name, "standin": [str(s) for s in standin_sources]}, sort_keys=True))])
    tests = env.CargoTest(host_dir.File("cargo-test.log"), [env.File(manifest.manifest), env.Value(json.dumps(
        {"crate": manifest.lib_name, "target": profile.target, "toolchain": profile.toolchain,
         "cargo": env["CARGO"], "rustc": env["RUSTC"]}, sort_keys=True))] + standin_objects, RUSTKMOD_CRATE_DIR=manifest.directory)
    env.Requires(tests, check)          # the named missing import comes before any link error
    env.Clean(tests, host_dir.Dir("cargo"))
    driver_object = host.Object(host_dir.File(env.File(driver).name[:-2] + ".o"), driver)
    # --gc-sections: the host's prebuilt core refers to rust_eh_personality from code a
    # panic=abort crate never reaches.
    program = host.Program(host_dir.File(f"insmod-{name}"), driver_object + standin_objects + staticlib,
                           LINKFLAGS=["-Wl,--gc-sections"])
    env.Requires(program, check)
    run = env.HostRun(host_dir.File(f"insmod-{name}.out"), [program[0], env.Value(json.dumps(list(args)))])
    return HostTests(name, check, tests, program, run)


def RustHostTests(env, name, crate, standin, driver, args=()):
    """Tests `crate` on the host: cargo test and a user-space insmod, against the C `standin`.

    `standin` implements, in user space, the functions the module's C side gives Rust; `driver`
    is a C main() that calls the module's init and exit as the C side does, run with `args`.
    """
    return _configured(env, name, lambda: _rust_host_tests(env, name, crate, standin, driver, args),
                       HostTests(name))


def _configured(env, name, build, empty):
    """Runs a pseudo-builder's body; bad input stops the build with one line (or notes it in -h)."""
    try:
        return build()
    except RustkmodError as err:
        if GetOption("help"):
            Help(f"\nrustkmod: cannot build {name} as configured: {err}\n", append=True, local_only=True)
            return empty
        print(f"scons: *** rustkmod: {err}", file=sys.stderr)
        Exit(2)


def _loader_sources(env, kernel: Kernel) -> list:
    paths = [loader_source_path(t, kernel.arch) for t in (env["KERNEL_SRC"], kernel.kdir) if t]
    return [env.File(p) for p in paths if os.path.isfile(p)]


@dataclass
class RustModules:
    """One module built for every configured kernel; `verified` and `check` span them all."""

    name: str
    modules: list = field(default_factory=list)     # RustModule per usable kernel
    unusable: list = field(default_factory=list)    # (kernel, reason)
    failing: list = field(default_factory=list)     # nodes that fail the build for unusable kernels

    def _across_kernels(self, nodes: str) -> list:
        """The named nodes of every kernel's module, and the failures of unusable kernels."""
        return [n for m in self.modules for n in getattr(m, nodes)] + self.failing

    verified = property(lambda self: self._across_kernels("verified"))
    check = property(lambda self: self._across_kernels("check"))
    install = property(lambda self: self._across_kernels("install"))
    check_installed = property(lambda self: self._across_kernels("check_installed"))

    @property
    def ko(self) -> list:
        return [m.ko[0] for m in self.modules]


def _kernel_envs(env, entries: list[str]):
    """(label, env for that kernel or None, why not) for each entry of KERNELS."""
    for entry in entries:
        if os.sep in entry or os.path.isdir(entry):
            yield entry, env.Clone(KDIR=os.path.abspath(entry), KERNEL_IMAGE=""), ""
            continue
        try:
            spec = provision.KernelSpec.parse(entry)
        except RustkmodError as err:
            yield entry, None, str(err)
            continue
        found = provision.lookup(spec, env["KERNEL_CACHE"])
        if found is None:
            yield entry, None, (f"kernel {entry} has not been fetched into {env['KERNEL_CACHE']}; run "
                                f"'python -m rustkmod fetch-kernel {entry}' (site_scons/ on PYTHONPATH)")
        else:
            yield entry, env.Clone(KDIR=found.kdir, KERNEL_IMAGE=found.image, RUSTKMOD_BUSYBOX=found.busybox), ""


def RustKernelModule(env, name, crate, sources, expect="", uses=()):
    """Builds module `name` from the Rust `crate` directory and the C `sources`, for each kernel.

    `uses`: the RustModules (returned by earlier calls) whose exported symbols this module calls;
    their Module.symvers go to Kbuild as KBUILD_EXTRA_SYMBOLS and to the verifier, and the boot
    test loads them first.

    The kernels are KERNELS (several, each into its own directory) or else KDIR. Returns a
    RustModules: `verified` (the build's goal) and `check` (the QEMU boot tests) are the targets
    to depend on. With one kernel, bad input stops the build with one line naming the fix; with
    several, an unusable kernel is reported by name and the others still build.
    """
    result = RustModules(name)
    _SUMMARY.append(result)
    entries = [e.strip() for e in env["KERNELS"].replace(" ", ",").split(",") if e.strip()]
    if not entries:
        module = _configured(env, name, lambda: _rust_kernel_module(env, name, crate, sources, expect, uses), None)
        result.modules += [module] if module else []
        return result
    for label, kernel_env, reason in _kernel_envs(env, entries):
        if kernel_env is not None:
            try:
                result.modules.append(_rust_kernel_module(kernel_env, name, crate, sources, expect, uses))
                continue
            except RustkmodError as err:
                reason = str(err)
        note(f"{name} is not built for kernel {label}: {reason}")
        result.unusable.append((label, reason))
    for label, reason in result.unusable:
        failing = env.UnusableKernel(_build_dir(env).Dir("unusable").File(f"{name}-{_safe(label)}"),
                                     env.Value(f"{name} for kernel {label}: {reason}"))
        env.Requires(failing, [n for m in result.modules for n in m.verified])   # after the others
        result.failing += failing
    return result


_KERNEL_DIRS: dict = {}   # directory name -> the tree that has it, in this run


def _kernel_dir_name(kernel: Kernel) -> str:
    """The release names the directory; a second tree of the same release adds its path's digest."""
    owner = _KERNEL_DIRS.setdefault(kernel.name, kernel.kdir)
    if owner == kernel.kdir:
        return kernel.name
    import hashlib
    return f"{kernel.name}-{hashlib.sha256(kernel.kdir.encode()).hexdigest()[:8]}"


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in ".-_" else "_" for c in label)


def _print_flags(target, source, env):
    """`scons flags`: per kernel, its hardening options as rustc flags, and what rustc cannot match."""
    texts = sorted({m.flags() for result in _SUMMARY for m in result.modules})
    print("\n".join(texts) if texts else "no kernel module is configured")
    return 0


def generate(env, **kwargs):
    """Add Builders and construction variables for Rust kernel modules to an Environment."""
    _apply_variables(env)
    if not GetOption("help"):
        lock_tree(env.Dir("#").abspath)
    if env["CACHE_DIR"]:
        env.CacheDir(os.path.abspath(env["CACHE_DIR"]))
    if not _FLAGS_ALIAS:
        _FLAGS_ALIAS.append(env.AlwaysBuild(env.Alias("flags", [], SCons.Action.Action(_print_flags, None))))
    for name, builder in {**BUILDERS, **install_step.BUILDERS}.items():
        env["BUILDERS"][name] = builder
    env.AddMethod(RustKernelModule, "RustKernelModule")
    env.AddMethod(RustHostTests, "RustHostTests")


def exists(env):
    return bool(env.WhereIs("make") and (env.WhereIs("cargo") or os.path.exists("/usr/bin/cargo")))
