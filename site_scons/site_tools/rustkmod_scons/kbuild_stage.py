"""The Kbuild stages: the module's own directory of inputs, objtool on the Rust object, and make.

  file                                              builder         runs
  BUILD_DIR/<kernel>/<module>/<name>.c              KbuildSource    copies a C source behind a #line naming it
  BUILD_DIR/<kernel>/<module>/<name>.h, ..._shipped  KbuildStage     copies a file (fresh mtime for make)
  BUILD_DIR/<kernel>/<module>/{Kbuild,.<obj>.cmd}   GeneratedFile   writes a Value node's text
  BUILD_DIR/<kernel>/<module>/<crate>_rust.o_shipped  Objtool       the kernel's objtool, as Kbuild runs it
  BUILD_DIR/<kernel>/<module>/<module>.ko, Module.symvers, modules.order  KernelModule  make -C KDIR M=... modules
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import NamedTuple

from rustkmod import RustkmodError, inputs
from rustkmod.kernel import kbuild
from rustkmod.elf import symbols
from rustkmod.rust import cargo

from .common import (builder, check_status, fail, files, jobs, remove, run, say, setting, settings_node, verbose,
                     write_text)


class KbuildSettings(NamedTuple):
    """What decides the .ko besides its staged inputs and the kernel tree's own files."""

    kdir: str
    release: str
    make_variables: tuple          # ARCH, CROSS_COMPILE, CC, LLVM, KBUILD_EXTRA_SYMBOLS, ...
    cc: str                        # the compiler CC_WRAPPER goes in front of
    kcflags: str = ""              # the KCFLAGS build variable


class ObjtoolSettings(NamedTuple):
    mode: str                      # OBJTOOL: strict or warn
    kdir: str
    release: str
    make_variables: tuple


def _write_value(target, source, env):
    """Writes Value nodes' text (and files') to a file, in order: the Kbuild file, a .cmd file,
    the kernel's cfg list."""
    write_text(target[0].abspath, "".join(s.get_text_contents() for s in source))


def _stage_copy(target, source, env):
    """Copies a source into the Kbuild directory with a fresh mtime, so make sees it as new."""
    shutil.copyfile(source[0].abspath, target[0].abspath)


def _stage_c_source(target, source, env):
    """Copies a C source into the Kbuild directory behind a #line naming the original, so gcc's
    diagnostics (and __FILE__) point at the file the user edits, not at this copy. The name is
    relative to the top directory, where scons runs, so the .ko does not depend on where the tree
    is (see kbuild.modules_command); a source outside the tree is copied as it is."""
    relative = in_tree(env, source[0])
    with open(source[0].abspath, "rb") as handle:
        text = handle.read()
    marker = kbuild.line_marker(relative) if relative else ""
    write_text(target[0].abspath, marker.encode() + text)


def in_tree(env, node) -> str:
    """`node`'s path relative to the top directory, or "" when it lies outside that tree."""
    relative = os.path.relpath(node.abspath, env.Dir("#").abspath)
    return "" if relative == os.pardir or relative.startswith(os.pardir + os.sep) else relative


def _objtool(target, source, env):
    """The Rust object as Kbuild would ship a C object: checked and annotated by the kernel's objtool.

    objtool rewrites the copy in place. Its own failure (non-zero exit: a full disk, a damaged
    object) fails the step in every mode and removes the copy; warnings about the code fail it
    in strict mode only.
    """
    from rustkmod.kernel import objtool
    settings = setting(source, ObjtoolSettings)
    output = target[0].abspath
    try:
        plan = objtool.plan(settings.kdir, list(settings.make_variables))
    except RustkmodError as err:
        fail(err)
    shutil.copyfile(files(source)[0].abspath, output)
    if plan is None:
        say(f"         Linux {settings.release} runs no objtool on modules")
        return
    if plan.delayed:
        say(f"         Linux {settings.release}: Kbuild runs objtool on the linked module, Rust included")
        return
    result = objtool.run(plan, output)
    lines = symbols.demangle(result.lines)
    if lines:
        say("\n".join(lines), error=True)
    if result.status != 0:
        remove(output)
        fail(f"the kernel's objtool failed on {target[0]} (exit status {result.status}: {result.command})",
             "this is objtool's own failure, not a finding about the code: check the disk has room, then "
             "rebuild")
    if result.warnings and settings.mode == "strict":
        remove(output)
        fail(f"the kernel's objtool warns about the Rust object ({len(result.warnings)} warning(s) above)",
             "fix the named functions, or pass OBJTOOL=warn to build anyway")


def _kbuild(target, source, env):
    settings = setting(source, KbuildSettings)
    module_dir = target[0].dir.abspath
    loud = verbose(env)
    command = kbuild.modules_command(settings.kdir, module_dir, list(settings.make_variables), settings.cc,
                                     env["CC_WRAPPER"], settings.kcflags, verbose=loud)
    result = run(command, jobs=jobs(env), stderr=subprocess.PIPE, text=True)
    say(result.stderr if loud else kbuild.without_btf_line(result.stderr), error=True)
    if result.returncode != 0:
        remove(target[0].abspath)
        missing = kbuild.missing_runtime_symbols(result.stderr)
        if missing:
            fail(f"Kbuild: {', '.join(missing)} undefined: the module's crate calls rustkmod-rt, whose C half "
                 "rustkmod adds only when it finds rustkmod-rt among the crate's path dependencies",
                 'name it in the crate\'s [dependencies]: rustkmod-rt = "0.1" (rustkmod points cargo at its copy)')
    check_status(result, f"Kbuild (make -C {settings.kdir} M={module_dir} modules)")
    if not os.path.exists(target[0].abspath):
        fail(f"Kbuild succeeded but wrote no {target[0]}")


BUILDERS = {
    "KbuildStage": builder(_stage_copy, "STAGE"),
    "KbuildSource": builder(_stage_c_source, "STAGE"),
    "GeneratedFile": builder(_write_value, "GEN"),
    "Objtool": builder(_objtool, "OBJTOOL"),
    "KernelModule": builder(_kbuild, "KBUILD"),
}


def c_source_nodes(env, sources, manifest) -> list:
    """The module's C sources: the user's, and rustkmod-rt's C half when the crate uses it. Each
    name reaches make and the shell of Kbuild's recipes: only names that are one word for both."""
    nodes = [env.File(s).srcnode() for s in env.Flatten([sources])]
    for node in nodes:
        inputs.kbuild_file(node.name, "C source")
    return nodes + [env.File(cargo.RUNTIME_C)] if manifest.uses_runtime else nodes


def originals(env, name: str, c_sources: list) -> tuple:
    """(name in the module's directory, the file it was made from) of each C source in the top
    directory's tree (those _stage_c_source marks with #line); the one named like the module also
    under its wrapper's name, which is what Kbuild compiles. A source outside the tree (rustkmod-rt's)
    keeps its copy's name, under the build directory where clangd finds the index."""
    ours = [source for source in c_sources if in_tree(env, source)]
    pairs = [(source.name, source.abspath) for source in ours]
    pairs += [(kbuild.renamed_member(name) + ".c", source.abspath) for source in ours
              if os.path.splitext(source.name)[0] == name]
    return tuple(pairs)


class KbuildNodes(NamedTuple):
    """What `make modules` writes for one module: the .ko, its exports, its modules.order."""

    ko: object
    symvers: object
    order: object


def nodes(build, sources: list, rust, bindings=()) -> KbuildNodes:
    """The staged inputs of one module for one kernel, and Kbuild's outputs (.ko, Module.symvers,
    modules.order): the C `sources`, the crate's object (`rust`: rust_stage.RustNodes), rustkmod-rt's
    C half when the crate uses it, and the bindings' C helpers with the header they include."""
    env, kernel, name, module_dir = build.env, build.kernel, build.name, build.module_dir
    extra_symvers = build.extra_symvers
    settings = KbuildSettings(
        kernel.kdir, kernel.release,
        tuple(build.make_variables + kbuild.extra_symbols_variable([s.abspath for s in extra_symvers])),
        build.cc or kbuild.default_cc(build.cross_compile, env["LLVM"]), env["KCFLAGS"])
    c_sources = c_source_nodes(env, sources, rust.manifest)
    rust_object, object_name = rust.rust_object, rust.object_name
    staged, c_objects = [env.KbuildSource(module_dir.File(s.name), s) for s in c_sources], []
    for source in c_sources:
        stem = os.path.splitext(source.name)[0]
        if stem == name:
            # Kbuild links <name>.ko from <name>.o, so no member may be <name>.o: the C file
            # named like the module (as Kbuild users name it) is compiled through a wrapper that
            # includes it, so diagnostics and __FILE__ still name it.
            stem = kbuild.renamed_member(name)
            staged += env.GeneratedFile(module_dir.File(stem + ".c"),
                                        env.Value(kbuild.INCLUDE_WRAPPER_TEXT.format(source=source.name)))
        c_objects.append(stem + ".o")
    for bound in bindings:      # the C helpers of each set of bindings, beside a copy of their header
        helpers = bound.helpers_c
        if helpers.dir.abspath != module_dir.abspath or helpers.name != bound.helpers_name:
            helpers = env.KbuildStage(module_dir.File(bound.helpers_name), helpers)
        staged += [helpers, env.KbuildStage(module_dir.File(bound.header.name), bound.header)]
        c_objects.append(os.path.splitext(bound.helpers_name)[0] + ".o")
    kbuild.check_module_name(name, c_objects + [object_name])
    shipped = module_dir.File(object_name + "_shipped")
    kernel_files = [env.File(f) for f in kernel.signature_files()]
    if env["OBJTOOL"] == "off":
        staged += env.KbuildStage(shipped, rust_object)
    else:
        checked = env.Objtool(shipped, rust_object + [settings_node(env, ObjtoolSettings(
            env["OBJTOOL"], settings.kdir, settings.release, settings.make_variables))])
        env.Depends(checked, kernel_files)
        staged += checked
    staged += env.GeneratedFile(module_dir.File(f".{object_name}.cmd"),
                                env.Value(kbuild.SHIPPED_CMD_TEXT.format(name=object_name)))
    staged += env.GeneratedFile(module_dir.File("Kbuild"), env.Value(kbuild.kbuild_text(name, c_objects + [object_name], [object_name])))
    ko = env.KernelModule([module_dir.File(f"{name}.ko"), module_dir.File("Module.symvers"),
                           module_dir.File("modules.order")], env.Flatten(staged) + extra_symvers + [settings_node(env, settings)])
    env.Depends(ko, kernel_files)
    env.Clean(ko, module_dir)
    return KbuildNodes(*ko)
