"""The bindings stage: the kernel API a crate uses, generated per kernel by bindgen.

  file                                              builder       runs
  BUILD_DIR/<kernel>/<module>/bindings.rs           RustBindings  libclang, then bindgen, on the module's header
  BUILD_DIR/<kernel>/<module>/bindings_helpers.c    (the same)    C helpers for static inline functions

The crate includes bindings.rs with `include!(env!("RUSTKMOD_BINDINGS"))`; each kernel then has
a staticlib of its own (rust_stage.staticlib). Kbuild compiles bindings_helpers.c into the module
(inline_helpers says what goes in it). bindings.rs.d, libclang's dependency file, lists every
header read: they are the node's dependencies from then on.
"""

from __future__ import annotations

import os
import shutil
from typing import NamedTuple

import SCons.Scanner

from rustkmod import RustkmodError

from . import state
from .common import builder, fail, files, library_code, rescan, say, setting, settings_node


class BindingsSettings(NamedTuple):
    kdir: str
    arch: str
    release: str
    make_variables: tuple
    allow: tuple            # names from the header's `// rustkmod-bindgen: allow` lines
    versions: str           # bindgen's and libclang's
    bindgen: str = "bindgen"
    extra_flags: tuple = ()  # BINDGEN_CLANG_FLAGS
    libclang: str = ""      # LIBCLANG_PATH, for the helpers' reading of the header
    header_name: str = ""   # what bindings_helpers.c includes: a header moved to a file of the same
    #                         content is another input


HELPERS_C = "bindings_helpers.c"


def _bindings(target, source, env):
    """bindings.rs and bindings_helpers.c for one kernel (rustkmod.rust.bindgen.generate)."""
    from rustkmod.rust import bindgen
    settings = setting(source, BindingsSettings)
    try:
        remarks = bindgen.generate(files(source)[0].abspath, target[0].abspath, target[1].abspath, settings.kdir,
                                   settings.arch, settings.release, list(settings.make_variables), settings.allow,
                                   settings.bindgen, settings.extra_flags, settings.libclang)
    except RustkmodError as err:
        fail(err)
    say("".join(f"         {remark}\n" for remark in remarks))
    rescan(target[0])             # the headers bindgen read, known only now


def _depfile_scan(node, env, path):
    """The headers the last bindgen run read (none before the first run: it runs anyway);
    relative ones are KDIR's, where bindgen ran."""
    from rustkmod import depfile
    settings = setting(node.sources, BindingsSettings) if node.sources else None
    base = settings.kdir if settings else ""
    found = (os.path.join(base, p) for p in depfile.read(node.abspath + ".d"))
    ours = node.abspath + ".h"     # bindgen's input, which this step writes
    return [env.File(p) for p in found if p != ours and os.path.isfile(p)]


BUILDERS = {
    "RustBindings": builder(_bindings, "BINDGEN", target_scanner=SCons.Scanner.Scanner(_depfile_scan, name="BindgenDeps")),
}


class BindingsNodes(NamedTuple):
    """One module's bindings for one kernel: what the crate includes, what Kbuild compiles."""

    rs: object               # bindings.rs, for include!(env!("RUSTKMOD_BINDINGS"))
    helpers_c: object        # bindings_helpers.c, made in the module's directory
    header: object           # the module's header, which bindings_helpers.c includes


def nodes(build, header: str) -> BindingsNodes | None:
    """bindings.rs and bindings_helpers.c for one module and kernel from the module's header, or
    None without one. (bindgen and inline_helpers are imported here and in the actions: a project
    without bindings, the common case, never loads them.)"""
    if not header:
        return None
    from rustkmod.rust import bindgen
    env, kernel, module_dir = build.env, build.kernel, build.module_dir
    header_node = env.File(header).srcnode()

    def read_allowlist():
        with open(header_node.abspath, encoding="utf-8", errors="replace") as handle:
            return bindgen.allowlist(handle.read())
    allow = state.memo().remember(("bindgen-allowlist", header_node.abspath), read_allowlist)   # once, for every kernel
    from rustkmod.rust.inline_helpers import libclang_file
    program, libclang = env["BINDGEN"], libclang_file(env["LIBCLANG_PATH"])
    # bindgen's version and libclang's digest, worked out again only when either file changes
    versions = state.memo().remember_files(("bindgen-versions", program, libclang),
                                              [shutil.which(program) or program, libclang],
                                              lambda: bindgen.versions(program, libclang))
    settings = BindingsSettings(kernel.kdir, kernel.arch, kernel.release, tuple(build.make_variables), allow, versions,
                                program, tuple(env["BINDGEN_CLANG_FLAGS"].split()), env["LIBCLANG_PATH"],
                                header_node.name)
    made = env.RustBindings([module_dir.File("bindings.rs"), module_dir.File(HELPERS_C)],
                            [header_node, settings_node(env, settings)])
    env.SideEffect([module_dir.File(f"bindings.rs.{x}") for x in ("d", "h", "flags")], made)
    # What bindgen is asked and what is done with its output live in these two modules.
    env.Depends(made, library_code(env, "rust/bindgen.py", "rust/inline_helpers.py"))
    return BindingsNodes(made[0], made[1], header_node)
