"""The pseudo-builders: `env.RustKernelModule` wires one module across the configured kernels
(Rust stages, Kbuild stages, verification, boot, install); `env.RustHostTests` the host tests.

  file                                    builder          runs
  BUILD_DIR/unusable/<module>-<kernel>    UnusableKernel   fails, naming why a kernel of KERNELS cannot be used
  (alias) flags                           -                prints the kernels' hardening as rustc flags
"""

from __future__ import annotations

import hashlib
import os
import sys

import SCons.Action
from SCons.Script import Exit, GetOption, Help

from rustkmod import RustkmodError, kbuild
from rustkmod.kernel import Kernel

from . import bindings as bindings_stage, boot, editor, host, install, kbuild as kbuild_stage, relocs, rust, state
from .common import builder, fail, settings_node

# ---------------------------------------------------------------------------------------------
# What a call returns


class RustModule:
    """The nodes of one module for one kernel; `verified` is what a build should depend on.

    (Plain classes here and in state.py: a dataclass costs the no-op build 0.6 ms to define.)"""

    def __init__(self, name: str, kernel: str, kdir: str, staticlib: list, rust_object: list, ko: list,
                 verified: list, check: list, flags=None, load_order=None, install=None, check_installed=None,
                 editor=None):
        self.name, self.kernel, self.kdir = name, kernel, kdir
        self.staticlib, self.rust_object, self.ko = staticlib, rust_object, ko
        self.verified, self.check = verified, check
        self.flags = flags               # () -> the kernel's hardening as rustc flags, for `scons flags` only
        self.load_order = load_order or []   # verified .ko files to load, dependencies first
        self.install = install or []         # the module in INSTALL_MOD_PATH, and depmod's index
        self.check_installed = check_installed or []  # boot test of the installed modules (modprobe)
        self.editor = editor or []           # rust-project.json, compile_commands.json

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
    texts = sorted({m.flags() for result in state.current().summary for m in result.modules})
    print("\n".join(texts) if texts else "no kernel module is configured")


BUILDERS = {"UnusableKernel": builder(_unusable_kernel, "KERNEL")}


def add_flags_alias(env) -> None:
    """`scons flags` prints information only, so it is always "built"."""
    run_state = state.current()
    if not run_state.flags_alias:
        run_state.flags_alias.append(env.AlwaysBuild(env.Alias("flags", [], SCons.Action.Action(_print_flags, None))))


# ---------------------------------------------------------------------------------------------
# Configuration


def build_dir(env):
    return env.Dir(env["BUILD_DIR"] if os.path.isabs(env["BUILD_DIR"]) else "#" + env["BUILD_DIR"])


def _kernel(env) -> Kernel:
    key = ("kernel", env["KDIR"], env["ARCH"], env["KERNELRELEASE"])
    files = Kernel.input_files(os.path.abspath(env["KDIR"])) if env["KDIR"] else []
    return state.current().remember_files(
        key, files, lambda: Kernel.from_kdir(env["KDIR"], env["ARCH"] or None, env["KERNELRELEASE"] or None), Kernel)


def _kernel_dir_name(kernel: Kernel) -> str:
    """The release names the directory; a second tree of the same release adds its path's digest."""
    owner = state.current().kernel_dirs.setdefault(kernel.name, kernel.kdir)
    if owner == kernel.kdir:
        return kernel.name
    return f"{kernel.name}-{hashlib.sha256(kernel.kdir.encode()).hexdigest()[:8]}"


def _provider_for(provider, kernel: Kernel, user: str) -> RustModule:
    """The module `user` uses, as built for the same kernel."""
    found = [m for m in getattr(provider, "modules", []) if m.kdir == kernel.kdir]
    if not found:
        what = getattr(provider, "name", repr(provider))
        raise RustkmodError(f"{user} uses {what}, which is not built for Linux {kernel.release}",
                            f"build {what} for the same kernels (KERNELS) as {user}, before it")
    return found[0]


def _rust_kernel_module(env, name: str, crate: str, sources: list, expect, uses=(), exercise: str = "",
                        bindings: str = "") -> RustModule:
    from .variables import check_build_dir
    check_build_dir(env)
    kernel = _kernel(env)
    out = build_dir(env)
    profile = rust.profile_for(env, out, kernel)
    manifest = rust.read_crate(env.Dir(crate).srcnode().abspath)
    c_sources = [env.File(s).srcnode() for s in env.Flatten([sources])]
    providers = [_provider_for(p, kernel, name) for p in env.Flatten([uses])]
    extra_symvers = [p.symvers for p in providers]
    kbuild.check_path_for_make("KDIR", kernel.kdir)

    cross_compile = kbuild.cross_compile_for(kernel, env["CROSS_COMPILE"])
    cc, cc_note = kbuild.kbuild_cc(kernel, cross_compile, env["KBUILD_CC"])
    if cc_note:
        state.current().note(cc_note)
    kernel_dir_name = _kernel_dir_name(kernel)
    module_dir = out.Dir(kernel_dir_name).Dir(name)
    kbuild.check_path_for_make("BUILD_DIR", module_dir.abspath)
    make_variables = kbuild.make_variables(kernel, cross_compile, cc, env["LLVM"])

    # Rust: one staticlib and one partially linked object per (crate, profile), shared by kernels;
    # a crate with generated bindings has one per kernel, as its bindings differ.
    bindings_rs, helpers = [], ()
    if bindings:
        rs, helpers_c = bindings_stage.bindings_node(env, kernel, module_dir, bindings, make_variables)
        bindings_rs, helpers = [rs], (helpers_c, env.File(bindings).srcnode())  # Kbuild compiles it; it includes the header
        profile = profile._replace(kernel=kernel_dir_name)
    staticlib = rust.staticlib(env, out, manifest, profile, kernel, bindings_rs)
    rust_object = rust.rust_object(env, out, manifest, profile, staticlib, cross_compile)

    # Kbuild: the module's own directory per kernel, holding copies of every input.
    settings = kbuild_stage.KbuildSettings(
        kernel.kdir, kernel.release,
        tuple(make_variables + kbuild.extra_symbols_variable([s.abspath for s in extra_symvers])),
        cc or kbuild.default_cc(cross_compile, env["LLVM"]), env["KCFLAGS"])
    ko = kbuild_stage.module_nodes(env, kernel, name, module_dir, c_sources, rust_object,
                                   rust.object_name(manifest), settings, extra_symvers, manifest.uses_runtime,
                                   helpers)
    module_ko, verified = relocs.verify_nodes(env, kernel, name, module_dir, ko[0], extra_symvers)
    load_order = list(dict.fromkeys([n for p in providers for n in p.load_order] + [module_ko]))

    # Boot: insmod the verified modules; then the installed ones through modprobe.
    image = env["KERNEL_IMAGE"] or kernel.image()
    kernel_text = f"Linux {kernel.release} ({'.'.join(map(str, kernel.version))}, {kernel.arch})"
    expected = tuple(line for line in ([expect] if isinstance(expect, str) else expect) if line)
    boot_settings = boot.BootSettings(kernel.arch, image, expected, kernel_text, env.get("RUSTKMOD_BUSYBOX", ""),
                                      exercise=exercise)
    check = env.BootCheck(module_dir.File(f"{name}.ko.booted"), load_order + [env.File(image), settings_node(env, boot_settings)])
    env.Depends(check, verified + [n for p in providers for n in p.verified])
    root = install.install_root(env, out, kernel, kernel_dir_name)
    installed, signed = install.install_nodes(env, kernel, name, module_dir, module_ko, verified, ko[2],
                                              make_variables, root)
    # The installed modules booted: modprobe loads this one and, through modules.dep, what it
    # uses; signed modules under module.sig_enforce=1, so a key the kernel does not trust fails.
    check_installed = env.BootCheck(module_dir.File(f"{name}.ko.modprobed"), load_order + [env.File(image), settings_node(env,
        boot_settings._replace(root=root.abspath, append="module.sig_enforce=1" if signed else ""))])
    env.Depends(check_installed, installed + [n for p in providers for n in p.install])

    editor_files = []
    if profile.build_std:           # kernel profiles: the target, sysroot sources and cfgs to show
        editor_files = editor.editor_nodes(
            env, kernel, module_dir, manifest, profile, rust.lock_node(env, manifest),
            rust.kernel_cfg_node(env, profile, kernel),
            rust.library_dir(env, out), ko[0], bindings_rs)

    def flags() -> str:
        from rustkmod.hardening import describe, kernel_hardening
        off = "\n  RUST_HARDENING=off: none of these flags is used" if env["RUST_HARDENING"] == "off" else ""
        return describe(kernel, kernel_hardening(kernel)) + off
    return RustModule(name, kernel.name, kernel.kdir, staticlib, rust_object, [module_ko] + ko[1:], verified, check,
                      flags, load_order, installed, check_installed, editor_files)


def _configured(env, name, build, empty):
    """Runs a pseudo-builder's body; bad input stops the build with one line (or notes it in -h)."""
    try:
        result = build()
        state.settle()
        return result
    except RustkmodError as err:
        if GetOption("help"):
            Help(f"\nrustkmod: cannot build {name} as configured: {err}\n", append=True, local_only=True)
            return empty
        print(f"scons: *** rustkmod: {err}", file=sys.stderr)
        Exit(2)


def _kernel_envs(env, entries: list[str]):
    """(label, env for that kernel or None, why not) for each entry of KERNELS."""
    from rustkmod import provision      # only for kernels given by name
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
        lost = provision.lost_root(found, env["KERNEL_CACHE"]) if found else ""
        if found is None:
            yield entry, None, (f"kernel {entry} has not been fetched into {env['KERNEL_CACHE']}; run "
                                f"'python -m rustkmod fetch-kernel {entry}' (site_scons/ on PYTHONPATH)")
        elif lost:
            yield entry, None, (f"kernel {entry}: {lost}; fetch it again: "
                                f"'python -m rustkmod fetch-kernel {entry}' (site_scons/ on PYTHONPATH)")
        else:
            yield entry, env.Clone(KDIR=found.kdir, KERNEL_IMAGE=found.image, RUSTKMOD_BUSYBOX=found.busybox), ""


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in ".-_" else "_" for c in label)


def RustKernelModule(env, name, crate, sources, expect="", uses=(), exercise="", bindings=""):
    """Builds module `name` from the Rust `crate` directory and the C `sources`, for each kernel.

    `uses`: the RustModules (returned by earlier calls) whose exported symbols this module calls;
    their Module.symvers go to Kbuild as KBUILD_EXTRA_SYMBOLS and to the verifier, and the boot
    test loads them first. `expect`: a line, or a list of lines, the boot test wants in the kernel
    log or in the output of `exercise`, shell commands the boot test runs while the module is
    loaded (device I/O, say: `echo hi > /dev/mydev; cat /dev/mydev`). `bindings`: a header of
    the module's whose `// rustkmod-bindgen: allow NAME ...` lines name the kernel API the crate
    uses; bindgen makes bindings.rs from it for each kernel (`include!(env!("RUSTKMOD_BINDINGS"))`).

    The kernels are KERNELS (several, each into its own directory) or else KDIR. Returns a
    RustModules: `verified` (the build's goal) and `check` (the QEMU boot tests) are the targets
    to depend on. With one kernel, bad input stops the build with one line naming the fix; with
    several, an unusable kernel is reported by name and the others still build.
    """
    result = RustModules(name)
    state.current().summary.append(result)
    entries = [e.strip() for e in env["KERNELS"].replace(" ", ",").split(",") if e.strip()]
    if not entries:
        module = _configured(env, name, lambda: _rust_kernel_module(env, name, crate, sources, expect, uses, exercise,
                                                                    bindings), None)
        result.modules += [module] if module else []
        return result
    for label, kernel_env, reason in _kernel_envs(env, entries):
        if kernel_env is not None:
            try:
                result.modules.append(_rust_kernel_module(kernel_env, name, crate, sources, expect, uses, exercise,
                                                          bindings))
                continue
            except RustkmodError as err:
                reason = str(err)
        state.current().note(f"{name} is not built for kernel {label}: {reason}")
        result.unusable.append((label, reason))
    for label, reason in result.unusable:
        failing = env.UnusableKernel(build_dir(env).Dir("unusable").File(f"{name}-{_safe(label)}"),
                                     env.Value(f"{name} for kernel {label}: {reason}"))
        env.Requires(failing, [n for m in result.modules for n in m.verified])   # after the others
        result.failing += failing
    return result


def RustHostTests(env, name, crate, standin, driver, args=()):
    """Tests `crate` on the host: cargo test and a user-space insmod, against the C `standin`.

    `standin` implements, in user space, the functions the module's C side gives Rust; `driver`
    is a C main() that calls the module's init and exit as the C side does, run with `args`.
    """
    return _configured(env, name, lambda: host.host_tests(env, build_dir(env), name, crate, standin, driver, args),
                       host.HostTests(name))


# ---------------------------------------------------------------------------------------------
# The per-kernel summary at exit


def print_summary() -> None:
    """At exit, when several kernels were configured: per kernel, what became of each module."""
    from SCons.Script import GetBuildFailures
    summary = state.current().summary
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
