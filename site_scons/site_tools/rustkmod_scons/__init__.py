"""rustkmod_scons: the SCons tool that builds Linux kernel modules whose core is a Rust staticlib.

Normally loaded with `Environment(tools=['rustkmod_scons'])` (site_scons/site_tools, or a toolpath).
It is not called `rustkmod` because SCons registers a tool module in sys.modules under the tool's
name, which would shadow the `rustkmod` package this tool wires. `env.RustKernelModule(name,
crate=..., sources=[...])` wires the builders below into one graph: module.py makes one
context.ModuleBuild per kernel and hands it to each stage file's `nodes()`:

  file                                                   builder         label    stage file
  RUST_SYSROOT_CACHE/<triple>-<key>.json (+ the sysroot) RustSysroot     SYSROOT  rust_stage.py
  <crate>/Cargo.lock, for a crate that has none yet      CargoLock       LOCK     rust_stage.py
  BUILD_DIR/<kernel>/{<module>,crates/<package>}/bindings.rs, bindings_helpers.c  RustBindings  BINDGEN  bindings_stage.py
  BUILD_DIR/rust/<profile>/<triple>/release/lib<crate>.a RustStaticLib   CARGO    rust_stage.py
  BUILD_DIR/rust/<profile>/<crate>_rust.o                RustObject      LD -r    rust_stage.py
  RUST_SYSROOT_CACHE/cfgs/<digest>.args                  KernelCfgFile   GEN      rust_stage.py
  BUILD_DIR/<kernel>/<module>/<name>.c                   KbuildSource    STAGE    kbuild_stage.py
  BUILD_DIR/<kernel>/<module>/<name>.h, <obj>_shipped  KbuildStage     STAGE    kbuild_stage.py
  BUILD_DIR/<kernel>/<module>/Kbuild, .<crate>_rust.o.cmd, <module>_c.c  GeneratedFile  GEN  kbuild_stage.py
  BUILD_DIR/<kernel>/<module>/<crate>_rust.o_shipped     Objtool         OBJTOOL  kbuild_stage.py
  BUILD_DIR/<kernel>/<module>/<module>.ko, Module.symvers, modules.order  KernelModule  KBUILD  kbuild_stage.py
  BUILD_DIR/<kernel>/<module>/fixed/<module>.ko          FixRelocs       FIX      verify_stage.py
  BUILD_DIR/<kernel>/<module>/<module>.ko.verified       VerifyRelocs    VERIFY   verify_stage.py
  BUILD_DIR/<kernel>/<module>/<module>.ko.booted         BootCheck       BOOT     boot_stage.py
  BUILD_DIR/<kernel>/<module>/<module>.ko.modprobed      BootCheck       BOOT     boot_stage.py
  BUILD_DIR/<kernel>/<module>/bin/<program>             UserProgram     CC       boot_stage.py
  BUILD_DIR/<kernel>/<module>/install/<module>.ko        StageInstall    STAGE    install_stage.py
  INSTALL_MOD_PATH/lib/modules/<release>/extra/<module>.ko  ModulesInstall  INSTALL  install_stage.py
  INSTALL_MOD_PATH/lib/modules/<release>/modules.dep     Depmod          DEPMOD   install_stage.py
  BUILD_DIR/<kernel>/<module>/rust-project.json          RustProject     EDITOR   editor_stage.py
  BUILD_DIR/<kernel>/<module>/compile_commands.json      CompileCommands EDITOR   editor_stage.py
  BUILD_DIR/compile_commands.json (every module's)       CompileCommandsIndex  EDITOR  editor_stage.py
  <top>/rust-project.json (every module's)               RustProjectIndex  EDITOR  editor_stage.py
  BUILD_DIR/host/<name>/standin.checked                  StandinCheck    STANDIN  host_stage.py
  BUILD_DIR/host/<name>/cargo-test.log                   CargoTest       TEST     host_stage.py
  BUILD_DIR/host/<name>/insmod-<name>.out                HostRun         RUN      host_stage.py
  BUILD_DIR/deb/<package>-modules-<release>_<version>_<arch>.deb  DebPackage  DEB  deb_stage.py
  BUILD_DIR/dkms/<package>-<version>/dkms.conf (+ the project's files)  DkmsTree  DKMS  dkms_stage.py
  BUILD_DIR/deb/<package>-dkms_<version>_all.deb         DkmsDeb         DEB      dkms_stage.py
  BUILD_DIR/deb/rustkmod_<version>_all.deb               ToolDeb         DEB      deb_stage.py
  BUILD_DIR/unusable/<module>-<kernel>                   UnusableKernel  KERNEL   fan_out.py

Each label is a construction variable ($CARGOCOMSTR, ...: common.LABELS), set by default and
changeable as for any SCons tool. Build variables are in variables.py; the run's memo and
registry (summary, notes) in state.py; the children's tree lock and jobserver are
rustkmod.process's. Every edge carries a content signature; nothing is AlwaysBuild, so a no-op
build runs neither cargo nor make. Every command line lives in the plain `rustkmod` package; this
tool makes nodes and settings, and its actions call the package.
"""

from __future__ import annotations

import os
import sys

from SCons.Script import ARGUMENTS, GetOption

_CHECKOUT_PACKAGES = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.isfile(os.path.join(_CHECKOUT_PACKAGES, "rustkmod", "__init__.py")):
    # a checkout's tool (site_tools/ or a toolpath): the rustkmod package beside site_tools/, before
    # any other the interpreter knows. SCons restores sys.path once the tool is imported, so the
    # package is imported now, while it is found.
    sys.path.insert(0, _CHECKOUT_PACKAGES)
import rustkmod  # noqa: E402
del rustkmod

_BUILDERS: dict = {}


def builders() -> dict:
    """Every builder of the tool by name. The first call of a process does what the tool does
    once per run, before any Environment gets it:
      - gc.freeze(): SCons, loaded by now, out of the collector's walks while the stages load
        (state.settle says why that matters to a no-op build);
      - the stage modules imported;
      - at exit, the per-kernel summary printed and the cross-run memo saved (state.Memo.save)."""
    if not _BUILDERS:
        import atexit
        import gc
        gc.freeze()
        from . import (bindings_stage, boot_stage, deb_stage, dkms_stage, editor_stage, fan_out, host_stage, install_stage,
                       kbuild_stage, run_report)
        from . import rust_stage, state, verify_stage
        _BUILDERS.update({**rust_stage.BUILDERS, **kbuild_stage.BUILDERS, **verify_stage.BUILDERS,
                          **boot_stage.BUILDERS, **host_stage.BUILDERS, **install_stage.BUILDERS,
                          **editor_stage.BUILDERS, **bindings_stage.BUILDERS, **deb_stage.BUILDERS, **dkms_stage.BUILDERS,
                          **fan_out.BUILDERS})
        atexit.register(run_report.print_summary)
        atexit.register(run_report.print_targets)
        atexit.register(lambda: state.memo().save())
    return _BUILDERS


def generate(env, **kwargs):
    """Add Builders and construction variables for Rust kernel modules to an Environment."""
    all_builders = builders()
    from . import arguments, fan_out, module, packaging, state
    from .common import DEFAULT_COMSTR
    from .variables import apply_variables
    if not GetOption("help"):       # first: the lock also names the tree's memo, which variables use
        state.current().lock_tree(env.Dir("#").abspath)
    arguments.declare(*DEFAULT_COMSTR)      # scons CARGOCOMSTR=... is read below
    apply_variables(env)
    from rustkmod import process
    from .common import verbose
    process.set_verbose(verbose(env))      # V=1: every child's command line, as a shell line
    if env["CACHE_DIR"]:
        env.CacheDir(os.path.abspath(env["CACHE_DIR"]))
    env.SetDefault(**DEFAULT_COMSTR)
    from rustkmod.kernel.boot import KSTRESS
    env.SetDefault(RUSTKMOD_KSTRESS=KSTRESS)     # the stress exerciser, for exercise_programs=
    env.Replace(**{name: ARGUMENTS[name] for name in DEFAULT_COMSTR if name in ARGUMENTS})   # scons CARGOCOMSTR=
    fan_out.add_flags_alias(env)
    env.Append(BUILDERS=all_builders)
    env.AddMethod(module.RustKernelModule, "RustKernelModule")
    env.AddMethod(module.RustHostTests, "RustHostTests")
    env.AddMethod(packaging.RustModulesDeb, "RustModulesDeb")
    env.AddMethod(packaging.RustModulesDkms, "RustModulesDkms")
    env.AddMethod(packaging.RustkmodDeb, "RustkmodDeb")
    env.AddMethod(arguments.RustkmodArguments, "RustkmodArguments")
    env.AddMethod(arguments.RustkmodCheckArguments, "RustkmodCheckArguments")
    state.settle()


def exists(env):
    return bool(env.WhereIs("make") and (env.WhereIs("cargo") or os.path.exists("/usr/bin/cargo")))
