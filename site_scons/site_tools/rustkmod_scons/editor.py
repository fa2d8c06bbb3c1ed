"""The editor stage: what rust-analyzer and clangd read to see a module as it is built.

  file                                                  builder          runs
  BUILD_DIR/<kernel>/<module>/rust-project.json         RustProject      cargo metadata for the kernel target
  BUILD_DIR/<kernel>/<module>/compile_commands.json     CompileCommands  reads Kbuild's .NAME.o.cmd files

Built by `scons editor` (module.editor in a SConstruct), per kernel: the kernel's cfgs and
Kbuild's flags differ between kernels.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from rustkmod import RustkmodError, childenv

from .common import builder, fail, files, setting, settings_node, write_text


class RustProjectSettings(NamedTuple):
    crate_dir: str
    cargo: str
    target: str
    library: str          # the library sources the sysroot was built from
    bindings: str = ""    # the module's bindings.rs for this kernel, if it has bindings


class CompileCommandsSettings(NamedTuple):
    kdir: str


def _rust_project(target, source, env):
    """rust-project.json: the crate and its dependencies for the kernel target, with its cfgs."""
    from rustkmod import editor         # the actions only: not loaded by a build without `scons editor`
    settings = setting(source, RustProjectSettings)
    cfg_file = files(source)[-1]
    with open(cfg_file.abspath, encoding="utf-8", errors="replace") as handle:
        cfgs = editor.kernel_cfgs(handle.read())
    try:
        project = editor.rust_project(settings.crate_dir, settings.cargo, settings.target, settings.library, cfgs,
                                      childenv.environment(), settings.bindings)
    except RustkmodError as err:
        fail(err)
    write_text(target[0].abspath, json.dumps(project, indent=1) + "\n")


def _compile_commands(target, source, env):
    """compile_commands.json from the .cmd files Kbuild left beside the module."""
    from rustkmod import editor
    settings = setting(source, CompileCommandsSettings)
    entries = editor.compile_commands(target[0].dir.abspath, settings.kdir)
    if not entries:
        fail(f"Kbuild left no compile commands in {target[0].dir}", "build the module first (scons)")
    write_text(target[0].abspath, json.dumps(entries, indent=1) + "\n")


BUILDERS = {
    "RustProject": builder(_rust_project, "EDITOR"),
    "CompileCommands": builder(_compile_commands, "EDITOR"),
}


def editor_nodes(env, kernel, module_dir, manifest, profile, lock: list, cfg: list, library: str, ko,
                 bindings: list = ()) -> list:
    """rust-project.json and compile_commands.json for one module and kernel."""
    bindings_path = bindings[0].abspath if bindings else ""
    project = env.RustProject(module_dir.File("rust-project.json"), [env.File(manifest.manifest)] + lock + cfg + [
        settings_node(env, RustProjectSettings(manifest.directory, env["CARGO"], profile.target, library,
                                               bindings_path))])
    env.Depends(project, list(bindings))     # rust-analyzer reads it: the editor target makes it
    commands = env.CompileCommands(module_dir.File("compile_commands.json"),
                                   [ko, settings_node(env, CompileCommandsSettings(kernel.kdir))])
    return project + commands
