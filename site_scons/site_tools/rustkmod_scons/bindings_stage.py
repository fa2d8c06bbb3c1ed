"""The bindings stage: the kernel API a crate uses, generated per kernel by bindgen.

  file                                              builder       runs
  BUILD_DIR/<kernel>/<module>/bindings.rs           RustBindings  libclang, then bindgen, on the module's header
  BUILD_DIR/<kernel>/<module>/bindings_helpers.c    (the same)    C helpers for static inline functions
  BUILD_DIR/<kernel>/crates/<package>/bindings.rs   RustBindings  the same for a crate declaring its own header,
                                                                  once per kernel for every module using it

The module's crate includes bindings.rs with `include!(env!("RUSTKMOD_BINDINGS"))`, a crate of
its own with RUSTKMOD_BINDINGS_<LIB>; each kernel then has a staticlib of its own
(rust_stage.staticlib). Kbuild compiles bindings_helpers.c into the module
(inline_helpers says what goes in it). bindings.rs.d, libclang's dependency file, lists every
header read: they are the node's dependencies from then on.
"""

from __future__ import annotations

import os
import shutil
from typing import NamedTuple

import SCons.Scanner

from rustkmod import RustkmodError, inputs

from . import state
from .common import builder, fail, files, library_code, rescan, say, setting, settings_node, sysroot_cache


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
    scope: str = ""         # a crate's bindings (not a module's own): the crate's name
    options: tuple = ()     # bindgen's options (bindgen.resolve_options: the defaults and the crate's own)


HELPERS_C = "bindings_helpers.c"


def _bindings(target, source, env):
    """bindings.rs and bindings_helpers.c for one kernel (rustkmod.rust.bindgen.generate)."""
    from rustkmod.rust import bindgen, bindings_cache
    settings = setting(source, BindingsSettings)
    request = bindgen.Request(settings.kdir, settings.arch, settings.release, settings.make_variables, settings.allow,
                              settings.bindgen, settings.extra_flags, settings.libclang, settings.scope,
                              settings.options)
    header, output, helpers_c = files(source)[0].abspath, target[0].abspath, target[1].abspath
    cache, entry = sysroot_cache(env), bindings_cache.key(header, request, settings.versions)
    remarks = bindings_cache.fetch(cache, entry, output, helpers_c)
    if remarks is None:
        try:
            remarks = bindgen.generate(header, output, helpers_c, request)
        except RustkmodError as err:
            fail(err)
        bindings_cache.store(cache, entry, output, helpers_c, settings.kdir, remarks)
    else:
        say(f"         the machine's bindings {entry[:12]} for Linux {settings.release}: no bindgen run")
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
    """One set of bindings for one kernel: what a crate includes, what Kbuild compiles."""

    rs: object               # bindings.rs
    helpers_c: object        # bindings_helpers.c beside it
    header: object           # the header they were made from, which bindings_helpers.c includes
    variable: str = "RUSTKMOD_BINDINGS"   # how the crate finds bindings.rs: include!(env!(...))
    helpers_name: str = HELPERS_C         # the helpers' file name in each module's Kbuild directory


def nodes(build, header: str, crate) -> list[BindingsNodes]:
    """The bindings a module's crate graph includes for this kernel: the module's own (`header`,
    RustKernelModule(bindings=...)), made in the module's directory, and those of each crate of
    the graph that declares them ([package.metadata.rustkmod] bindings = "..."), made once per
    kernel in BUILD_DIR/<kernel>/crates/<package>/ for every module that uses the crate. (bindgen
    and inline_helpers are imported here and in the actions: a project without bindings, the
    common case, never loads them.)"""
    env = build.env
    made = []
    if header:
        made.append(_bindings_nodes(build, env.File(header).srcnode(), build.module_dir, "", crate.bindgen,
                                    crate.manifest))
    for declared in crate.bindings:
        if not os.path.isfile(declared.header):
            raise RustkmodError(f"the crate {declared.package} declares bindings = {declared.header}, which does not "
                                "exist", "fix [package.metadata.rustkmod] bindings in its Cargo.toml")
        directory = build.out.Dir(build.dir_name).Dir("crates").Dir(declared.package)
        made.append(_bindings_nodes(build, env.File(declared.header), directory, declared.lib_name,
                                    (declared.options, declared.removed),
                                    f"the Cargo.toml of {declared.package}")._replace(variable=declared.variable,
                                                               helpers_name=f"{declared.lib_name}_{HELPERS_C}"))
    names = [b.header.name for b in made]
    for header in names:        # copied beside the C helpers, which #include it: a word for make
        inputs.kbuild_file(header, "bindings header")
    if len(set(names)) < len(names):
        raise RustkmodError(f"{build.name}: two bindings headers are called the same ({', '.join(names)}); Kbuild "
                            "compiles their C helpers beside copies of them", "rename one")
    return made


def _bindings_nodes(build, header_node, directory, scope: str, choices: tuple, manifest: str) -> BindingsNodes:
    """bindings.rs and bindings_helpers.c in `directory` for the build's kernel: once per run.
    `choices`: the crate's (bindgen-options, bindgen-remove), from `manifest`: a conflict, or an
    option this bindgen does not take, is one line now, while the SConscripts are read."""
    def made():
        from rustkmod.rust import bindgen
        env, kernel = build.env, build.kernel
        options = bindgen.resolve_options(choices[0], choices[1], manifest)
        found = shutil.which(env["BINDGEN"]) if choices[0] else None
        if found:               # the flags it takes, read again only when the program changes
            known = state.memo().remember_files(("bindgen-flags", found), [found],
                                                lambda: bindgen.known_flags(found))
            bindgen.check_known(options, known, manifest, env["BINDGEN"])

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
        settings = BindingsSettings(kernel.kdir, kernel.arch, kernel.release, tuple(build.make_variables), allow,
                                    versions, program, tuple(env["BINDGEN_CLANG_FLAGS"].split()), env["LIBCLANG_PATH"],
                                    header_node.name, scope, options)
        targets = env.RustBindings([directory.File("bindings.rs"), directory.File(HELPERS_C)],
                                   [header_node, settings_node(env, settings)])
        env.SideEffect([directory.File(f"bindings.rs.{x}") for x in ("d", "h", "flags")], targets)
        env.Clean(targets, directory)       # with its side files: `scons -c` leaves nothing of it
        # What bindgen is asked and what is done with its output live in these two modules.
        env.Depends(targets, library_code(env, "rust/bindgen.py", "rust/inline_helpers.py", "rust/bindings_cache.py"))
        return BindingsNodes(targets[0], targets[1], header_node)
    return state.memo().remember(("bindings", directory.abspath), made)
