"""The pseudo-builders: `env.RustKernelModule` wires one module across the configured kernels
(Rust stages, Kbuild stages, verification, boot, install); `env.RustHostTests` the host tests.

  file                                    builder          runs
  BUILD_DIR/unusable/<module>-<kernel>    UnusableKernel   fails, naming why a kernel of KERNELS cannot be used
  (alias) flags                           -                prints the kernels' hardening as rustc flags
"""

from __future__ import annotations

import os
import sys

import SCons.Action
from SCons.Script import Exit, GetOption

from rustkmod import COMMAND, RustkmodError

from . import (bindings_stage, boot_stage, context, deb_stage, dkms_stage, editor_stage, host_stage, install_stage, kbuild_stage, rust_stage, scons_api, state, verify_stage)
from .common import builder, fail

# ---------------------------------------------------------------------------------------------
# What a call returns


class RustModule:
    """The nodes of one module for one kernel; `verified` is what a build should depend on.

    (Plain classes here and in state.py: a dataclass costs the no-op build 0.6 ms to define.)"""

    def __init__(self, name: str, kernel_tree, staticlib: list, rust_object: list, ko: list,
                 verified: list, check: list, flags=None, load_order=None, install=None, check_installed=None,
                 editor=None, staged=None):
        self.name = name
        self.kernel_tree = kernel_tree       # the kernel (rustkmod.kernel.tree.Kernel)
        self.staticlib, self.rust_object, self.ko = staticlib, rust_object, ko
        self.verified, self.check = verified, check
        self.flags = flags               # () -> the kernel's hardening as rustc flags, for `scons flags` only
        self.load_order = load_order or []   # verified .ko files to load, dependencies first
        self.install = install or []         # the module in INSTALL_MOD_PATH, and depmod's index
        self.check_installed = check_installed or []  # boot test of the installed modules (modprobe)
        self.editor = editor or []           # rust-project.json, compile_commands.json
        self.staged = staged                 # the verified (and signed) copy a package or an install takes

    kernel = property(lambda self: self.kernel_tree.name)      # its build directory's name
    kdir = property(lambda self: self.kernel_tree.kdir)

    @property
    def symvers(self):
        """The Module.symvers Kbuild wrote: the module's exports, for the modules that use them."""
        return self.ko[1]


class RustModules:
    """One module built for every configured kernel; `verified` and `check` span them all."""

    def __init__(self, name: str):
        self.name = name
        self.modules = []      # RustModule per usable kernel
        self.unusable = []     # (kernel, reason)
        self.failing = []      # nodes that fail the build for unusable kernels

    def _across_kernels(self, nodes: str) -> list:
        """The named nodes of every kernel's module, and the failures of unusable kernels."""
        return [n for m in self.modules for n in getattr(m, nodes)] + self.failing

    verified = property(lambda self: self._across_kernels("verified"))
    check = property(lambda self: self._across_kernels("check"))
    install = property(lambda self: self._across_kernels("install"))
    check_installed = property(lambda self: self._across_kernels("check_installed"))
    editor = property(lambda self: self._across_kernels("editor"))

    @property
    def ko(self) -> list:
        return [m.ko[0] for m in self.modules]


# ---------------------------------------------------------------------------------------------
# Steps of this module's own


def _unusable_kernel(target, source, env):
    fail(source[0].read())


def _print_flags(target, source, env):
    """`scons flags`: per kernel, its hardening options as rustc flags, and what rustc cannot match."""
    texts = sorted({m.flags() for result in state.registry().summary for m in result.modules})
    print("\n".join(texts) if texts else "no kernel module is configured")


BUILDERS = {"UnusableKernel": builder(_unusable_kernel, "KERNEL")}


def add_flags_alias(env) -> None:
    """`scons flags` prints information only, so it is always "built"."""
    registry = state.registry()
    if not registry.flags_alias:
        registry.flags_alias.append(env.AlwaysBuild(env.Alias("flags", [], SCons.Action.Action(_print_flags, None))))


# ---------------------------------------------------------------------------------------------
# Configuration


def _rust_kernel_module(env, name: str, crate: str, sources: list, uses, bindings: str,
                        boot: boot_stage.BootOptions) -> RustModule:
    """One module for the kernel `env` is configured for: each stage makes its own nodes."""
    build = context.for_kernel(env, name, uses)
    manifest = rust_stage.crate(build, crate)               # the crate and its path dependencies
    bound = bindings_stage.nodes(build, bindings, manifest)  # per kernel: each bindings.rs and its C helpers
    rust = rust_stage.nodes(build, manifest, bound)         # shared by kernels of one profile
    ko = kbuild_stage.nodes(build, sources, rust, bound)    # the module's own directory per kernel, and make
    module_ko, verified = verify_stage.nodes(build, ko[0], boot.allowed_taint)
    installed = install_stage.nodes(build, module_ko, verified, ko[2])
    booted = boot_stage.nodes(build, module_ko, verified, installed, boot)
    made_from = kbuild_stage.originals(build.env, name, kbuild_stage.c_source_nodes(build.env, sources, manifest))
    editor_files = editor_stage.nodes(build, rust, ko[0], bound, made_from)
    kernel = build.kernel

    def flags() -> str:
        from rustkmod.kernel.hardening import describe, kernel_hardening
        off = "\n  RUST_HARDENING=off: none of these flags is used" if env["RUST_HARDENING"] == "off" else ""
        return describe(kernel, kernel_hardening(kernel)) + off
    return RustModule(name, kernel, rust.staticlib, rust.rust_object, [module_ko] + ko[1:], verified,
                      booted.check, flags, booted.load_order, installed.nodes, booted.check_installed, editor_files,
                      installed.staged)


def _refuse(text: str) -> None:
    print(f"scons: *** rustkmod: {text}", file=sys.stderr)
    Exit(2)


def _one_file_crate(env, name: str, source: str) -> str:
    """The crate of a module that is one .rs file: a Cargo.toml in BUILD_DIR/one-file/<name>/
    (written now, rewritten only when it would change), whose root is the file."""
    from rustkmod import atomic, inputs
    from rustkmod.rust import cargo
    inputs.module_name(name)
    path = env.File(source).srcnode().abspath
    if not path.endswith(".rs"):
        raise RustkmodError(f"RustKernelModule({name!r}): source={source!r} is not a .rs file",
                            "give the module's one Rust file, or crate= for a crate")
    if not os.path.isfile(path):
        raise RustkmodError(f"RustKernelModule({name!r}): source={source!r} does not exist",
                            "give the module's one Rust file, or crate= for a crate")
    directory = context.build_dir(env).Dir("one-file").Dir(name).abspath
    manifest, text = os.path.join(directory, "Cargo.toml"), cargo.one_file_manifest(name, path)
    try:
        with open(manifest, encoding="utf-8") as handle:
            same = handle.read() == text
    except OSError:
        same = False
    if not same:
        os.makedirs(directory, exist_ok=True)
        atomic.write(manifest, text)
    return directory


def _configured(env, name, build, empty):
    """Runs a pseudo-builder's body; bad input stops the build with one line (or notes it in -h)."""
    try:
        result = build()
        state.settle()
        return result
    except RustkmodError as err:
        if GetOption("help"):
            scons_api.add_help(f"\nrustkmod: cannot build {name} as configured: {err}\n")
            return empty
        print(f"scons: *** rustkmod: {err}", file=sys.stderr)
        Exit(2)


def _kernel_envs(env, entries: list[str]):
    """(label, env for that kernel or None, why not) for each entry of KERNELS."""
    from rustkmod.kernel import debian      # only for kernels given by name
    for entry in entries:
        if os.sep in entry or os.path.isdir(entry):
            yield entry, env.Clone(KDIR=os.path.abspath(entry), KERNEL_IMAGE=""), ""
            continue
        try:
            spec = debian.KernelSpec.parse(entry)
        except RustkmodError as err:
            yield entry, None, str(err)
            continue
        found = debian.lookup(spec, env["KERNEL_CACHE"])
        lost = debian.unusable(found, spec, env["KERNEL_CACHE"]) if found else ""
        if found is None:
            yield entry, None, (f"kernel {entry} has not been fetched into {env['KERNEL_CACHE']}; run: "
                                f"{COMMAND} fetch-kernel {entry}")
        elif lost:
            yield entry, None, (f"kernel {entry}: {lost}; fetch it again: {COMMAND} fetch-kernel {entry}")
        else:
            yield entry, env.Clone(KDIR=found.kdir, KERNEL_IMAGE=found.image, RUSTKMOD_BUSYBOX=found.busybox), ""


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in ".-_" else "_" for c in label)


def RustKernelModule(env, name, crate=None, sources=(), expect="", uses=(), exercise="", bindings="", exercise_after="",
                     insmod_params="", exercise_files=(), exercise_programs=(), gpl_compatible=True, source=None,
                     qemu_devices=(), device_tree="", acpi_tables=()):
    """Builds module `name` from the Rust `crate` directory and the C `sources`, for each kernel;
    or, as Kbuild does, from one `.rs` file, `source=` (on the kernel crate, no Cargo.toml).

    `uses`: the RustModules (returned by earlier calls) whose exported symbols this module calls;
    their Module.symvers go to Kbuild as KBUILD_EXTRA_SYMBOLS and to the verifier, and the boot
    test loads them first. `expect`: a line, or a list of lines, the boot test wants in the kernel
    log or in the output of `exercise`, shell commands the boot test runs while the module is
    loaded (device I/O, say: `echo hi > /dev/mydev; cat /dev/mydev`), and `exercise_after` once it
    is unloaded (what must be gone with it: `test -e /dev/mydev || echo gone`). `bindings`: a header of
    the module's whose `// rustkmod-bindgen: allow NAME ...` lines name the kernel API the crate
    uses; bindgen makes bindings.rs from it for each kernel (`include!(env!("RUSTKMOD_BINDINGS"))`).
    `insmod_params`: the module parameters the boot test loads it with (`"ring_size=8 name=x"`, as
    `insmod name.ko ring_size=8 name=x` and `modprobe name ring_size=8 name=x` take them).
    `exercise_programs`: C sources of programs the exercise runs (an ioctl client, say), each
    built static for every kernel's architecture and put in the boot's /bin under its stem's
    name; `exercise_files`: files put there as they are. A change to one reruns the boot test.
    `gpl_compatible=False`: the module's license is deliberately not GPL-compatible; the kernel
    loads it and taints itself P, which the build then names instead of failing, and the boot test
    accepts (that taint and no other); its GPL-only symbols are refused, as the loader does.
    `qemu_devices`: the QEMU devices the boot test adds for a driver to bind to (`["pci-testdev"]`,
    given to QEMU as `-device pci-testdev`), or a dict of them by architecture
    (`{"x86_64": ["edu"], "arm64": ["edu"]}`; an architecture not named gets none).
    `device_tree` and `acpi_tables`: platform devices for a platform driver, as firmware describes
    them. `device_tree` is a .dts file of nodes (`/ { mydev { compatible = "acme,mydev"; }; };`)
    merged into the QEMU machine's own tree on the architectures that boot with one (arm64, arm,
    riscv64); `acpi_tables` are ASL files (an SSDT with `Device (MYDV) { Name (_HID, "ACME0001") }`)
    compiled by iasl and added to the firmware's tables on x86. With either, as with qemu_devices,
    check-installed loads the module by the devices' modaliases.

    The kernels are KERNELS (several, each into its own directory) or else KDIR. Returns a
    RustModules: `verified` (the build's goal) and `check` (the QEMU boot tests) are the targets
    to depend on. With one kernel, bad input stops the build with one line naming the fix; with
    several, an unusable kernel is reported by name and the others still build.
    """
    state.registry().note_sconscripts()
    result = RustModules(name)
    state.registry().summary.append(result)
    if (crate is None) == (source is None):
        _refuse(f"RustKernelModule({name!r}): give crate= (a crate's directory) or source= (one .rs file), "
                "one of them")
    if source is not None:
        try:
            crate = _one_file_crate(env, name, source)
        except RustkmodError as err:
            _refuse(str(err))
    if gpl_compatible not in (True, False):
        _refuse(f"RustKernelModule({name!r}): gpl_compatible={gpl_compatible!r} is not True or False; give "
                "gpl_compatible=False for a module deliberately not GPL-compatible, or leave it out")
    try:
        boot_stage.check_qemu_devices(name, qemu_devices)
        boot_stage.check_firmware_files(env, name, device_tree, acpi_tables)
    except RustkmodError as err:
        _refuse(str(err))
    boot = boot_stage.BootOptions(expect, exercise, exercise_after, insmod_params, exercise_files, exercise_programs,
                                  "" if gpl_compatible else "P", qemu_devices, device_tree,
                                  tuple([acpi_tables] if isinstance(acpi_tables, str) else acpi_tables))
    entries = [e.strip() for e in env["KERNELS"].replace(" ", ",").split(",") if e.strip()]
    if not entries:
        module = _configured(env, name, lambda: _rust_kernel_module(env, name, crate, sources, uses, bindings, boot), None)
        result.modules += [module] if module else []
        editor_stage.alias(env, result)
        return result
    for label, kernel_env, reason in _kernel_envs(env, entries):
        if kernel_env is not None:
            try:
                result.modules.append(_rust_kernel_module(kernel_env, name, crate, sources, uses, bindings, boot))
                continue
            except RustkmodError as err:
                reason = str(err)
        result.unusable.append((label, reason))     # said once, by the UnusableKernel step below
    editor_stage.alias(env, result)
    for label, reason in result.unusable:
        failing = env.UnusableKernel(context.build_dir(env).Dir("unusable").File(f"{name}-{_safe(label)}"),
                                     env.Value(f"{name} for kernel {label}: {reason}"))
        env.Requires(failing, [n for m in result.modules for n in m.verified])   # after the others
        result.failing += failing
    return result


def RustModulesDeb(env, modules, package, version, maintainer, description):
    """`scons deb`: for each kernel the `modules` (RustModules) are built for, one Debian binary
    package `<package>-modules-<release>` holding them, verified (and signed when a key is known),
    under lib/modules/<release>/updates/ as that kernel's own modules are compressed, depending
    on its image package, with depmod in its maintainer scripts. Returns the .deb nodes."""
    from rustkmod.kernel import deb

    def packages():
        spec = deb.DebSpec(package, version, maintainer, description, _source_date_epoch(env))
        spec.check()
        by_kernel: dict = {}
        for result in env.Flatten([modules]):
            for module in result.modules:
                by_kernel.setdefault(module.kernel, (module.kernel_tree, []))[1].append(
                    (result.name, module.staged, module.staticlib[0]))
        made = [n for tree, pairs in by_kernel.values()
                for n in deb_stage.nodes(env, context.build_dir(env), spec, tree, pairs)]
        env.Alias("deb", made + [n for result in env.Flatten([modules]) for n in result.failing])
        env.Clean(_kos(env, modules), made)         # plain `scons -c` removes the packages too
        return made
    return _configured(env, package, packages, [])


def RustModulesDkms(env, modules, package, version, files=None, maintainer=None, description=None):
    """`scons dkms`: BUILD_DIR/dkms/<package>-<version>, the project's sources and a dkms.conf that
    builds and verifies the `modules` (RustModules) with rustkmod for each kernel DKMS builds for.
    The sources are what the build names (the crates, C sources, SConstruct and SConscripts, the
    project's site_scons/ and top README/LICENSE files), or exactly `files` (paths relative to the
    top SConstruct); never keys or credentials. With `maintainer` and `description`, `scons
    dkms-deb` makes BUILD_DIR/deb/<package>-dkms_<version>_all.deb of it, Debian's *-dkms layout.
    Returns the dkms.conf node."""
    from SCons.Script import COMMAND_LINE_TARGETS
    from rustkmod.kernel import deb
    build_dir = context.build_dir(env)
    state.registry().note_sconscripts()

    def tree():
        deb.check_name_and_version(package, version)
        if files is not None and (isinstance(files, str) or not all(isinstance(f, str) for f in files)):
            raise RustkmodError(f"files={files!r} is not a list of file names", 'give files=["src/lib.rs", ...]')
        # one kernel's nodes name the module's sources (every kernel's are the same files)
        built = [result.modules[0] if result.modules else RustModule(result.name, None, [], [], [], [], [])
                 for result in env.Flatten([modules])]
        wanted = bool(GetOption("clean")) or any(t in ("dkms", "dkms-deb") or "dkms" in t.split(os.sep)
                                                 or t.endswith("-dkms_" + version + "_all.deb") for t in COMMAND_LINE_TARGETS)
        made = dkms_stage.nodes(env, build_dir, package, version, built, files, wanted)
        env.Alias("dkms", made)
        env.Clean(_kos(env, modules), made[0].dir)  # plain `scons -c` removes the tree too
        if maintainer is not None or description is not None:
            spec = deb.DebSpec(package, version, maintainer or "", description or "", _source_date_epoch(env))
            spec.check()
            package_node = dkms_stage.deb_nodes(env, build_dir, spec, made)
            env.Alias("dkms-deb", package_node)
            env.Clean(_kos(env, modules), package_node)
        elif "dkms-deb" in COMMAND_LINE_TARGETS:
            raise RustkmodError(f"scons dkms-deb: RustModulesDkms(..., package=\"{package}\") has no maintainer= "
                                "and description=, which the package needs",
                                'add maintainer="Name <address>", description="one line" to RustModulesDkms')
        return made
    return _configured(env, package, tree, [])


def RustkmodDeb(env):
    """`scons rustkmod-deb`, in a rustkmod checkout: BUILD_DIR/deb/rustkmod_<version>_all.deb,
    rustkmod itself for `apt install` on machines with no checkout (root's DKMS, CI images,
    firmware build roots). Returns the .deb node."""
    from SCons.Script import COMMAND_LINE_TARGETS
    from rustkmod import CHECKOUT

    def package():
        wanted = bool(GetOption("clean")) or "rustkmod-deb" in COMMAND_LINE_TARGETS
        if not CHECKOUT:            # a copy of a checkout's SConstruct elsewhere: only the target is refused
            if "rustkmod-deb" in COMMAND_LINE_TARGETS:
                raise RustkmodError("rustkmod-deb packages rustkmod from its checkout, and this rustkmod is installed",
                                    "run scons rustkmod-deb in a rustkmod checkout")
            return []
        made = deb_stage.tool_nodes(env, context.build_dir(env), CHECKOUT, _source_date_epoch(env), wanted)
        env.Alias("rustkmod-deb", made)
        return made
    return _configured(env, "rustkmod-deb", package, [])


def _kos(env, modules) -> list:
    return [ko for result in env.Flatten([modules]) for ko in result.ko]


def _source_date_epoch(env) -> int:
    """SOURCE_DATE_EPOCH: the environment's, else the time of the last git commit of the top
    directory, else the top SConstruct's mtime: a time the sources give, never the build's, so a
    package is the same bytes every time. Kept across runs while git's HEAD log and the
    SConstruct stay the same (a no-op build runs no git)."""
    given = os.environ.get("SOURCE_DATE_EPOCH", "")
    if given.isdigit():
        return int(given)
    from rustkmod.kernel import deb
    top = env.Dir("#").abspath
    sconstruct = env.File("#SConstruct").abspath
    return state.memo().remember_files(("source date epoch", top), [os.path.join(top, ".git", "logs", "HEAD"),
                                                                  sconstruct], lambda: deb.source_date_epoch(top, sconstruct))


def RustHostTests(env, name, crate, standin=(), driver=None, args=()):
    """Tests `crate` on the host: cargo test, and with a `driver` a user-space insmod, against the
    C `standin`.

    `standin` implements, in user space, the functions the module's C side gives Rust; `driver`
    is a C main() that calls the module's init and exit as the C side does, run with `args`. A
    crate on the `kernel` crate needs neither: that crate has a host half of its own.
    """
    return _configured(env, name, lambda: host_stage.host_tests(env, context.build_dir(env), name, crate, standin, driver, args),
                       host_stage.HostTests(name))


# ---------------------------------------------------------------------------------------------
# `scons -h`: the targets, once the SConscripts have made them

# What the usual aliases build; an alias a project names otherwise is listed by its name.
TARGET_MEANINGS = {
    "check": "build, verify, then boot each kernel in QEMU: insmod, the expected lines, rmmod",
    "check-installed": "boot the installed modules: modprobe from INSTALL_MOD_PATH",
    "test-host": "the crates' tests on the host (cargo test, and the user-space insmod)",
    "install": "the verified modules into INSTALL_MOD_PATH/lib/modules/<release>, and depmod",
    "editor": "rust-project.json and compile_commands.json (build/compile_commands.json for clangd)",
    "flags": "each kernel's hardening as rustc flags",
    "deb": "a Debian package per kernel of the verified modules (BUILD_DIR/deb/)",
    "dkms": "the project as a DKMS source tree (BUILD_DIR/dkms/): rustkmod builds and verifies it per kernel",
    "rustkmod-deb": "rustkmod itself as a Debian package (BUILD_DIR/deb/rustkmod_<version>_all.deb), from its checkout",
    "dkms-deb": "that tree as Debian's <package>-dkms package (BUILD_DIR/deb/), for apt on machines without the project",
}


def print_targets() -> None:
    """Under `scons -h`, at exit: the aliases the build defines (SCons prints the Help() text
    before the SConscripts' aliases can be listed in it, so they follow it)."""
    if not GetOption("help"):
        return
    import SCons.Node.Alias
    names = sorted(SCons.Node.Alias.default_ans)
    if names:
        width = max(len(name) for name in names)
        lines = [f"  scons {name:<{width}}  {TARGET_MEANINGS.get(name, 'an alias of this build')}" for name in names]
        print("rustkmod targets (plain `scons` builds and verifies the default ones):\n" + "\n".join(lines))


# ---------------------------------------------------------------------------------------------
# The per-kernel summary at exit


def print_summary() -> None:
    """At exit, when several kernels were configured: per kernel, what became of each module."""
    from SCons.Script import GetBuildFailures
    summary = state.registry().summary
    if not any(len(r.modules) + len(r.unusable) > 1 for r in summary):
        return
    failures = GetBuildFailures()
    lines = ["rustkmod: per-kernel summary"]
    for result in summary:
        for module in result.modules:
            where = os.path.dirname(module.ko[0].abspath) + os.sep
            failed = [f for f in failures if _failed_path(f).startswith(where)]
            if failed:
                state_text = f"FAILED: {failed[0].node} ({failed[0].errstr})"
            elif module.verified and _done(module.verified[0]):
                state_text = "built, verified" + (", booted" if _done(module.check[0]) else "")
            else:
                state_text = "not built (not requested, or stopped by another failure)"
            lines.append(f"  {result.name} for {module.kernel}: {state_text}")
        for label, reason in result.unusable:
            lines.append(f"  {result.name} for {label}: FAILED: {reason}")
    print("\n".join(lines))


def _failed_path(failure) -> str:
    node = failure.node[0] if isinstance(failure.node, (list, tuple)) and failure.node else failure.node
    return str(getattr(node, "abspath", ""))


def _done(node) -> bool:
    """Whether this run built `node` or found it up to date (not: a stale file from earlier)."""
    import SCons.Node
    return node.get_state() in (SCons.Node.up_to_date, SCons.Node.executed)
