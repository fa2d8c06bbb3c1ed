"""The module pseudo-builders: `env.RustKernelModule` wires one module across the configured
kernels (Rust stages, Kbuild stages, verification, boot, install) and returns its records;
`env.RustHostTests` the host tests. The packages are packaging.py's, the kernels' fan-out
fan_out.py's, the run's summary and `scons -h` targets run_report.py's."""

from __future__ import annotations

import os
import sys

from SCons.Script import Exit, GetOption

from rustkmod import RustkmodError

from . import (bindings_stage, boot_stage, context, editor_stage, fan_out, host_stage, install_stage, kbuild_stage, rust_stage,
               scons_api, state, verify_stage)

# ---------------------------------------------------------------------------------------------
# What a call returns


class RustModule:
    """The nodes of one module for one kernel; `verified` is what a build should depend on.

    (Plain classes here and in state.py: a dataclass costs the no-op build 0.6 ms to define.)"""

    def __init__(self, name: str, target, *, staticlib: list = (), rust_object: list = (), ko: list = (),
                 verified: list = (), check: list = (), flags=None, load_order=None, install=None,
                 check_installed=None, editor=None, staged=None):
        self.name = name
        self.target = target                 # the kernel as the build targets it (context.KernelTarget)
        self.staticlib, self.rust_object = list(staticlib), list(rust_object)
        self.ko = list(ko)                   # the verified .ko (or RELOCS=fix's), Module.symvers, modules.order
        self.verified, self.check = verified, check
        self.flags = flags               # () -> the kernel's hardening as rustc flags, for `scons flags` only
        self.load_order = load_order or []   # verified .ko files to load, dependencies first
        self.install = install or []         # the module in INSTALL_MOD_PATH, and depmod's index
        self.check_installed = check_installed or []  # boot test of the installed modules (modprobe)
        self.editor = editor or []           # rust-project.json, compile_commands.json
        self.staged = staged                 # the verified (and signed) copy a package or an install takes

    kernel_tree = property(lambda self: self.target.kernel)    # the kernel (rustkmod.kernel.tree.Kernel)
    kernel = property(lambda self: self.target.dir_name)       # its build directory's name
    kdir = property(lambda self: self.target.kernel.kdir)

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
        self.named_dirs = []   # the crate's directories and the files the call names, from the project:
        self.named_files = []  # what its DKMS tree carries, even with no usable kernel here

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
# Configuration


def _rust_kernel_module(env, name: str, crate: str, sources: list, uses, bindings: str,
                        boot: boot_stage.BootOptions) -> RustModule:
    """One module for the kernel `env` is configured for: each stage makes its own nodes."""
    build = context.for_kernel(env, name, uses)
    manifest = rust_stage.crate(build, crate)               # the crate and its path dependencies
    bound = bindings_stage.nodes(build, bindings, manifest)  # per kernel: each bindings.rs and its C helpers
    rust = rust_stage.nodes(build, manifest, bound)         # shared by kernels of one profile
    ko = kbuild_stage.nodes(build, sources, rust, bound)    # the module's own directory per kernel, and make
    module_ko, verified = verify_stage.nodes(build, ko.ko, boot.allowed_taint)
    installed = install_stage.nodes(build, module_ko, verified, ko.order)
    booted = boot_stage.nodes(build, module_ko, verified, installed, boot)
    made_from = kbuild_stage.originals(build.env, name, kbuild_stage.c_source_nodes(build.env, sources, manifest))
    editor_files = editor_stage.nodes(build, rust, ko.ko, bound, made_from)
    kernel = build.kernel

    def flags() -> str:
        from rustkmod.kernel.hardening import describe, kernel_hardening
        off = "\n  RUST_HARDENING=off: none of these flags is used" if env["RUST_HARDENING"] == "off" else ""
        return describe(kernel, kernel_hardening(kernel)) + off
    return RustModule(name, build.target, staticlib=rust.staticlib, rust_object=rust.rust_object,
                      ko=[module_ko, ko.symvers, ko.order], verified=verified, check=booted.check, flags=flags,
                      load_order=booted.load_order, install=installed.nodes, check_installed=booted.check_installed,
                      editor=editor_files, staged=installed.staged)


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


def configured(env, name, build, empty):
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
    merged into the QEMU machine's own tree on the architectures that boot with one (the arm and
    RISC-V ones); `acpi_tables` are ASL files (an SSDT with `Device (MYDV) { Name (_HID, "ACME0001") }`)
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
    _name_inputs(env, result, crate, [source] if source else [], sources, bindings, exercise_files, exercise_programs,
                 device_tree, acpi_tables)
    boot = boot_stage.BootOptions(expect, exercise, exercise_after, insmod_params, exercise_files, exercise_programs,
                                  "" if gpl_compatible else "P", qemu_devices, device_tree,
                                  tuple([acpi_tables] if isinstance(acpi_tables, str) else acpi_tables))
    entries = [e.strip() for e in env["KERNELS"].replace(" ", ",").split(",") if e.strip()]
    if not entries:
        module = configured(env, name, lambda: _rust_kernel_module(env, name, crate, sources, uses, bindings, boot), None)
        result.modules += [module] if module else []
        editor_stage.alias(env, result)
        return result
    for label, kernel_env, reason in fan_out.kernel_envs(env, entries):
        if kernel_env is not None:
            try:
                result.modules.append(_rust_kernel_module(kernel_env, name, crate, sources, uses, bindings, boot))
                continue
            except RustkmodError as err:
                reason = str(err)
        result.unusable.append((label, reason))     # said once, by the UnusableKernel step below
    editor_stage.alias(env, result)
    for label, reason in result.unusable:
        failing = env.UnusableKernel(context.build_dir(env).Dir("unusable").File(f"{name}-{fan_out.safe(label)}"),
                                     env.Value(f"{name} for kernel {label}: {reason}"))
        env.Requires(failing, [n for m in result.modules for n in m.verified])   # after the others
        result.failing += failing
    return result


def _name_inputs(env, result: RustModules, crate: str, *given) -> None:
    """The project's files a module is made from, as the call names them (scons dkms ships them)."""
    try:
        directory = rust_stage.crate_directory(env, crate)
        result.named_dirs = [directory, *rust_stage.read_crate(directory).source_directories]
    except RustkmodError:
        pass                    # said by the module's own configuration
    for names in given:
        for item in env.Flatten([names] if isinstance(names, str) else list(names)):
            if item and isinstance(item, str) and not item.startswith("$"):
                result.named_files.append(env.File(item).srcnode().abspath)


def RustHostTests(env, name, crate, standin=(), driver=None, args=()):
    """Tests `crate` on the host: cargo test, and with a `driver` a user-space insmod, against the
    C `standin`.

    `standin` implements, in user space, the functions the module's C side gives Rust; `driver`
    is a C main() that calls the module's init and exit as the C side does, run with `args`. A
    crate on the `kernel` crate needs neither: that crate has a host half of its own.
    """
    return configured(env, name, lambda: host_stage.host_tests(env, context.build_dir(env), name, crate, standin, driver, args),
                       host_stage.HostTests(name))


