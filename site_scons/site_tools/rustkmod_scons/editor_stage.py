"""The editor stage: what rust-analyzer and clangd read to see a module as it is built.

  file                                                  builder          runs
  BUILD_DIR/<kernel>/<module>/rust-project.json         RustProject      cargo metadata for the kernel target
  BUILD_DIR/<kernel>/<module>/compile_commands.json     CompileCommands  reads Kbuild's .NAME.o.cmd files
  BUILD_DIR/compile_commands.json                       CompileCommandsIndex  every module's, for clangd
  <top>/rust-project.json                               RustProjectIndex every module's, where rust-analyzer looks

Built by `scons editor` (module.editor in a SConstruct), per kernel: the kernel's cfgs and
Kbuild's flags differ between kernels.
"""

from __future__ import annotations

import json
import os
from typing import NamedTuple

from rustkmod import RustkmodError, process

from .common import builder, fail, files, setting, settings_node, write_text


class RustProjectSettings(NamedTuple):
    crate_dir: str
    cargo: str
    target: str
    library: str          # the library sources the sysroot was built from
    bindings: tuple = ()  # (variable, bindings.rs) of the module's and its crates' bindings for this kernel
    config: tuple = ()    # cargo --config arguments (rustkmod-rt by version)
    host_deps: str = ""   # where the build's proc macros for the host are (rust-analyzer expands with them)


class CompileCommandsSettings(NamedTuple):
    kdir: str
    originals: tuple = ()  # (name in the module's directory, the user's C file it was made from)


def _rust_project(target, source, env):
    """rust-project.json: the crate and its dependencies for the kernel target, with its cfgs."""
    from rustkmod import editor         # the actions only: not loaded by a build without `scons editor`
    settings = setting(source, RustProjectSettings)
    cfg_file = files(source)[-1]
    with open(cfg_file.abspath, encoding="utf-8", errors="replace") as handle:
        cfgs = editor.kernel_cfgs(handle.read())
    try:
        inputs = editor.CrateInputs(settings.crate_dir, settings.cargo, settings.target, settings.library,
                                    settings.config, settings.host_deps)
        project = editor.rust_project(inputs, cfgs, process.environment(), dict(settings.bindings))
    except RustkmodError as err:
        fail(err)
    write_text(target[0].abspath, json.dumps(project, indent=1) + "\n")


def _compile_commands(target, source, env):
    """compile_commands.json from the .cmd files Kbuild left beside the module."""
    from rustkmod import editor
    settings = setting(source, CompileCommandsSettings)
    entries = editor.compile_commands(target[0].dir.abspath, settings.kdir, dict(settings.originals))
    if not entries:
        fail(f"Kbuild left no compile commands in {target[0].dir}", "build the module first (scons)")
    write_text(target[0].abspath, json.dumps(entries, indent=1) + "\n")


BUILDERS = {
    "RustProject": builder(_rust_project, "EDITOR"),
    "CompileCommands": builder(_compile_commands, "EDITOR"),
}


def nodes(build, rust, ko, bindings=(), made_from=()) -> list:
    """rust-project.json and compile_commands.json for one module and kernel; none for a profile
    without the kernel's target, sysroot sources and cfgs to show (the host-default probe).
    `made_from`: kbuild_stage.originals, the user's C files by the names Kbuild compiled."""
    from . import rust_stage        # what the editor shows is what the Rust stage builds
    env, kernel, module_dir, manifest, profile = build.env, build.kernel, build.module_dir, rust.manifest, rust.profile
    if not profile.build_std:
        return []
    lock, cfg = rust_stage.lock_node(env, manifest), rust_stage.kernel_cfg_node(env, profile, kernel)
    library = rust_stage.library_dir(env, build.out)
    from rustkmod.rust.cargo import runtime_config
    given = tuple((b.variable, b.rs.abspath) for b in bindings)
    project = env.RustProject(module_dir.File("rust-project.json"), [env.File(manifest.manifest)] + lock + cfg + [
        settings_node(env, RustProjectSettings(manifest.directory, env["CARGO"], profile.target, library, given,
                                               tuple(runtime_config(manifest)), _host_deps(rust.staticlib[0])))])
    env.Depends(project, [b.rs for b in bindings])     # rust-analyzer reads them: the editor target makes them
    env.Depends(project, rust.staticlib)                # and the proc macros, which the crate's build compiles
    commands = env.CompileCommands(module_dir.File("compile_commands.json"),
                                   [ko, settings_node(env, CompileCommandsSettings(kernel.kdir, made_from))])
    return project + commands


def _host_deps(staticlib) -> str:
    """<target dir>/release/deps of a staticlib at <target dir>/<triple>/release/lib<crate>.a."""
    return os.path.join(os.path.dirname(os.path.dirname(staticlib.dir.abspath)), "release", "deps")


def _index(target, source, env):
    """BUILD_DIR/compile_commands.json: every module's entries (of its first kernel), where clangd
    finds them for a source anywhere under the top directory (it looks in `build/` of each parent)."""
    entries, seen = [], set()
    for node in source:
        with open(node.abspath, encoding="utf-8") as handle:
            for entry in json.load(handle):
                if entry["file"] not in seen:
                    seen.add(entry["file"])
                    entries.append(entry)
    write_text(target[0].abspath, json.dumps(entries, indent=1) + "\n")


BUILDERS["CompileCommandsIndex"] = builder(_index, "EDITOR", multi=True)


def _project_index(target, source, env):
    """rust-project.json in the top directory, where rust-analyzer looks when the project is opened
    (before any Cargo.toml there): every module's crates for its first kernel."""
    from rustkmod import editor
    projects = []
    for node in source:
        with open(node.abspath, encoding="utf-8") as handle:
            projects.append(json.load(handle))
    write_text(target[0].abspath, json.dumps(editor.merged_projects(projects), indent=1) + "\n")


BUILDERS["RustProjectIndex"] = builder(_project_index, "EDITOR", multi=True)


def alias(env, modules) -> None:
    """`scons editor`, in every project that uses the tool: the editor files of each module for
    every kernel, and the index clangd finds by itself (the first kernel's, for each module)."""
    from . import context
    first = modules.modules[0].editor if modules.modules else []
    commands = [n for n in first if n.name == "compile_commands.json"]
    index = env.CompileCommandsIndex(context.build_dir(env).File("compile_commands.json"), commands) if commands else []
    projects = [n for n in first if n.name == "rust-project.json"]
    if projects:
        top_project = env.RustProjectIndex(env.File("#rust-project.json"), projects)
        env.Clean(modules.ko, top_project)      # written into the project's sources: scons -c removes it
        index += top_project
    env.Alias("editor", modules.editor + index)
