"""`scons dkms`: the project as a DKMS source tree, whose build runs rustkmod for each kernel.

  file                                             builder   runs
  BUILD_DIR/dkms/<package>-<version>/dkms.conf     DkmsTree  copies the project's files, writes dkms.conf (rustkmod.kernel.dkms)
  BUILD_DIR/deb/<package>-dkms_<version>_all.deb   DkmsDeb   the tree as /usr/src/<package>-<version>, dpkg-deb (scons dkms-deb)

The files are what the build names (the modules' crates, their C sources, the SConstruct and
SConscripts read, ...) or the SConstruct's explicit `files=`; never a key or credentials.
`dkms add BUILD_DIR/dkms/<package>-<version>`, then `dkms build -k <release>` on a machine with
the kernel's headers, Rust and rustkmod: scons with KDIR=<that kernel's tree> builds and verifies.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import SCons.Node.FS

from rustkmod import CHECKOUT, RustkmodError
from rustkmod.kernel import dkms

from . import state
from .common import builder, fail, files, remove, say, setting, settings_node


class DkmsSettings(NamedTuple):
    top: str
    files: tuple            # relative to top
    conf: str               # dkms.conf's text
    left_out: tuple = ()    # secrets the walk found and did not copy, with why


def _tree(target, source, env):
    settings = setting(source, DkmsSettings)
    destination = target[0].dir.abspath
    dkms.write_tree(settings.top, list(settings.files), destination, settings.conf)
    for item in settings.left_out:
        say(f"         left out {item}")
    say(f"         {len(settings.files)} file(s) and dkms.conf; add it with: dkms add {destination}")


class DkmsDebSettings(NamedTuple):
    spec: object            # rustkmod.kernel.deb.DebSpec
    rustkmod_version: str   # the rustkmod the package depends on (at least the one that made it)


def _deb(target, source, env):
    settings = setting(source, DkmsDebSettings)
    tree = files(source)[0].dir.abspath         # dkms.conf's directory, then the files it was made from
    try:
        dkms.build_deb(settings.spec, tree, target[0].abspath, settings.rustkmod_version)
    except RustkmodError as err:
        remove(target[0].abspath)
        fail(err)
    say(f"         /usr/src/{settings.spec.package}-{settings.spec.version}, built by DKMS with rustkmod for each kernel")


BUILDERS = {"DkmsTree": builder(_tree, "DKMS"), "DkmsDeb": builder(_deb, "DEB")}


def nodes(env, build_dir, package: str, version: str, modules: list, explicit, wanted: bool) -> list:
    """The tree's dkms.conf node for `modules` (RustModules records). The project's files are
    listed only when the tree is `wanted` (asked for on the command line): the walk would cost
    every other build."""
    top = env.Dir("#").abspath
    files, left_out = (), ()
    if wanted:
        named_dirs, named_files = _named(modules, top)
        listed, secrets = dkms.source_files(top, state.registry().build_dirs | {build_dir.abspath}, named_dirs,
                                            named_files + state.registry().sconscripts, explicit)
        files, left_out = tuple(listed), tuple(secrets)
        found = dkms.machine_path(top, listed, [top, CHECKOUT, os.path.expanduser("~")])
        if found:
            relative, line, path = found
            fix = ("a SConstruct finds rustkmod's tool with Environment(tools=[\"rustkmod_scons\"]) and no toolpath, "
                   "as rustkmod new writes it" if os.path.basename(relative).startswith(("SConstruct", "SConscript"))
                   else "name a path relative to the project, or leave the file out (RustModulesDkms(..., files=[...]))")
            raise RustkmodError(f"{relative}:{line} names {path}, a directory of this machine: the DKMS build on "
                                "another machine would look for it there", fix)
    conf = dkms.conf_text(package, version, [result.name for result in modules])
    target = build_dir.Dir("dkms").Dir(f"{package}-{version}").File("dkms.conf")
    tree = env.DkmsTree(target, [env.File(os.path.join(top, f)) for f in files]
                        + [settings_node(env, DkmsSettings(top, files, conf, left_out))])
    env.Clean(tree, target.dir)
    return tree


def deb_nodes(env, build_dir, spec, tree: list) -> list:
    """<package>-dkms_<version>_all.deb of the tree (`tree`: DkmsTree's node; the package takes the
    same files, so an edit to one remakes both)."""
    from rustkmod import __version__
    target = build_dir.Dir("deb").File(dkms.deb_file_name(spec.package, spec.version))
    made_from = [n for n in tree[0].sources if isinstance(n, SCons.Node.FS.File)]
    return env.DkmsDeb(target, tree + made_from + [settings_node(env, DkmsDebSettings(spec, __version__))])


def _named(modules: list, top: str) -> tuple[list, list]:
    """(the crates' directories, the other files) the modules take from the project: what each
    call named, and what its first kernel's nodes take (explicit edges only: no scanner has run
    yet; every kernel's are the same files). A crate's files are its whole directory."""
    dirs = {d for result in modules for d in result.named_dirs}
    files = {f for result in modules for f in result.named_files}
    seen = set()
    stack = [node for result in modules for module in result.modules[:1]
             for node in module.ko + module.check + module.staticlib]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SCons.Node.FS.File) and node.abspath.startswith(top + os.sep):
            files.add(node.abspath)     # built ones too (a Cargo.lock made for a crate that had none); outputs are dropped later
        if node.has_builder():
            stack.extend(node.sources + node.depends)
            crates = node.get_env().get("RUSTKMOD_CRATE_DIR") if node.get_env() else None
            dirs.update(crates.split(os.pathsep) if crates else ())
    return sorted(dirs), sorted(files)
