"""The bindings stage: the kernel API a crate uses, generated per kernel by bindgen.

  file                                              builder       runs
  BUILD_DIR/<kernel>/<module>/bindings.rs           RustBindings  bindgen on the module's header

The crate includes it with `include!(env!("RUSTKMOD_BINDINGS"))`; each kernel then has a
staticlib of its own (rust.staticlib). bindings.rs.d, libclang's dependency file, lists every
header read: they are the node's dependencies from then on.
"""

from __future__ import annotations

import os
import subprocess
from typing import NamedTuple

import SCons.Scanner

from rustkmod import RustkmodError, bindgen

from . import state
from .common import builder, fail, files, remove, rescan, setting, settings_node


class BindingsSettings(NamedTuple):
    kdir: str
    arch: str
    release: str
    make_variables: tuple
    allow: tuple            # names from the header's `// rustkmod-bindgen: allow` lines
    versions: str           # bindgen's and libclang's
    bindgen: str = "bindgen"
    extra_flags: tuple = ()  # BINDGEN_CLANG_FLAGS


def _bindings(target, source, env):
    settings = setting(source, BindingsSettings)
    header = files(source)[0].abspath
    output = target[0].abspath
    if not settings.allow:
        fail(f"{header} allows nothing", "list what the crate uses: // rustkmod-bindgen: allow kfree __kmalloc ...")
    try:
        flags = bindgen.kbuild_c_flags(settings.kdir, settings.arch, list(settings.make_variables))
    except RustkmodError as err:
        fail(err)
    command = bindgen.command(settings.bindgen, header, output, output + ".d", settings.allow,
                              flags + list(settings.extra_flags))
    try:
        result = subprocess.run(command, cwd=settings.kdir, capture_output=True, text=True)
    except OSError:
        fail(f"BINDGEN={settings.bindgen} cannot be run", "install Debian's bindgen and libclang1-14 (./setup does)")
    if result.returncode != 0 or not os.path.isfile(output):
        remove(output)
        fail(bindgen.error_block(result.stderr, header, settings.release),
             "fix the header, or the allowlist, for this kernel (#if LINUX_VERSION_CODE ...)")
    bindgen.mark_extern_blocks_unsafe(output)
    rescan(target[0])             # the headers bindgen read, known only now


def _depfile_scan(node, env, path):
    """The headers the last bindgen run read (none before the first run: it runs anyway);
    relative ones are KDIR's, where bindgen ran."""
    settings = setting(node.sources, BindingsSettings) if node.sources else None
    base = settings.kdir if settings else ""
    found = (os.path.join(base, p) for p in bindgen.read_depfile(node.abspath + ".d"))
    return [env.File(p) for p in found if os.path.isfile(p)]


BUILDERS = {
    "RustBindings": builder(_bindings, "BINDGEN", target_scanner=SCons.Scanner.Scanner(_depfile_scan, name="BindgenDeps")),
}


def bindings_node(env, kernel, module_dir, header: str, make_variables: list) -> list:
    """bindings.rs for one kernel from the module's header."""
    header_node = env.File(header).srcnode()
    with open(header_node.abspath, encoding="utf-8", errors="replace") as handle:
        allow = bindgen.allowlist(handle.read())
    program = env["BINDGEN"]
    versions = state.current().remember(("bindgen-versions", program), lambda: bindgen.versions(program))
    settings = BindingsSettings(kernel.kdir, kernel.arch, kernel.release, tuple(make_variables), allow, versions,
                                program, tuple(env["BINDGEN_CLANG_FLAGS"].split()))
    node = env.RustBindings(module_dir.File("bindings.rs"), [header_node, settings_node(env, settings)])
    env.SideEffect(module_dir.File("bindings.rs.d"), node)
    return node
