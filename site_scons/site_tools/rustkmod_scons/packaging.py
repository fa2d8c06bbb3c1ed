"""The packaging pseudo-builders: `env.RustModulesDeb` (a Debian package of the modules per
kernel), `env.RustModulesDkms` (a DKMS tree, and its `-dkms` package) and `env.RustkmodDeb`
(rustkmod itself, from its checkout). Their nodes are deb_stage.py's and dkms_stage.py's."""

from __future__ import annotations

import os

from SCons.Script import GetOption

from rustkmod import RustkmodError

from . import context, deb_stage, dkms_stage, state
from .module import configured


def RustModulesDeb(env, modules, package, version, maintainer, description):
    """`scons deb`: for each kernel the `modules` (RustModules) are built for, one Debian binary
    package `<package>-modules-<release>` holding them, verified (and signed when a key is known),
    under lib/modules/<release>/updates/ as that kernel's own modules are compressed, depending
    on its image package, with depmod in its maintainer scripts. Returns the .deb nodes."""
    from rustkmod.kernel import deb

    def packages():
        spec = deb.DebSpec(package, version, maintainer, description, _source_date_epoch(env))
        spec.check()
        by_release: dict = {}       # one package per release: of two trees of one release, the first one's
        for result in env.Flatten([modules]):
            for module in result.modules:
                first, _, pairs = by_release.setdefault(module.kernel_tree.release, (module.kernel, module.kernel_tree, []))
                if module.kernel == first:
                    pairs.append((result.name, module.staged, module.staticlib[0]))
        made = [n for _, tree, pairs in by_release.values()
                for n in deb_stage.nodes(env, context.build_dir(env), spec, tree, pairs)]
        env.Alias("deb", made + [n for result in env.Flatten([modules]) for n in result.failing])
        env.Clean(_kos(env, modules), made)         # plain `scons -c` removes the packages too
        return made
    return configured(env, package, packages, [])


def RustModulesDkms(env, modules, package, version, files=None, maintainer=None, description=None):
    """`scons dkms`: BUILD_DIR/dkms/<package>-<version>, the project's sources and a dkms.conf that
    builds and verifies the `modules` (RustModules) with rustkmod for each kernel DKMS builds for.
    The sources are what the build names (the crates, C sources, SConstruct and SConscripts, the
    project's site_scons/ and top README/LICENSE files), or exactly `files` (paths relative to the
    top SConstruct); never keys or credentials. With `maintainer` and `description`, `scons
    dkms-deb` makes BUILD_DIR/deb/<package>-dkms_<version>_all.deb of it, Debian's *-dkms layout.
    Returns the dkms.conf node."""
    from SCons.Script import COMMAND_LINE_TARGETS
    from rustkmod.kernel import deb
    build_dir = context.build_dir(env)
    state.registry().note_sconscripts()

    def tree():
        deb.check_name_and_version(package, version)
        if files is not None and (isinstance(files, str) or not all(isinstance(f, str) for f in files)):
            raise RustkmodError(f"files={files!r} is not a list of file names", 'give files=["src/lib.rs", ...]')
        built = env.Flatten([modules])
        wanted = bool(GetOption("clean")) or any(t in ("dkms", "dkms-deb") or "dkms" in t.split(os.sep)
                                                 or t.endswith("-dkms_" + version + "_all.deb") for t in COMMAND_LINE_TARGETS)
        made = dkms_stage.nodes(env, build_dir, package, version, built, files, wanted)
        env.Alias("dkms", made)
        env.Clean(_kos(env, modules), made[0].dir)  # plain `scons -c` removes the tree too
        if maintainer is not None or description is not None:
            spec = deb.DebSpec(package, version, maintainer or "", description or "", _source_date_epoch(env))
            spec.check()
            package_node = dkms_stage.deb_nodes(env, build_dir, spec, made)
            env.Alias("dkms-deb", package_node)
            env.Clean(_kos(env, modules), package_node)
        elif "dkms-deb" in COMMAND_LINE_TARGETS:
            raise RustkmodError(f"scons dkms-deb: RustModulesDkms(..., package=\"{package}\") has no maintainer= "
                                "and description=, which the package needs",
                                'add maintainer="Name <address>", description="one line" to RustModulesDkms')
        return made
    return configured(env, package, tree, [])


def RustkmodDeb(env):
    """`scons rustkmod-deb`, in a rustkmod checkout: BUILD_DIR/deb/rustkmod_<version>_all.deb,
    rustkmod itself for `apt install` on machines with no checkout (root's DKMS, CI images,
    firmware build roots). Returns the .deb node."""
    from SCons.Script import COMMAND_LINE_TARGETS
    from rustkmod import CHECKOUT

    def package():
        wanted = bool(GetOption("clean")) or "rustkmod-deb" in COMMAND_LINE_TARGETS
        if not CHECKOUT:            # a copy of a checkout's SConstruct elsewhere: only the target is refused
            if "rustkmod-deb" in COMMAND_LINE_TARGETS:
                raise RustkmodError("rustkmod-deb packages rustkmod from its checkout, and this rustkmod is installed",
                                    "run scons rustkmod-deb in a rustkmod checkout")
            return []
        made = deb_stage.tool_nodes(env, context.build_dir(env), CHECKOUT, _source_date_epoch(env), wanted)
        env.Alias("rustkmod-deb", made)
        return made
    return configured(env, "rustkmod-deb", package, [])


def _kos(env, modules) -> list:
    return [ko for result in env.Flatten([modules]) for ko in result.ko]


def _source_date_epoch(env) -> int:
    """SOURCE_DATE_EPOCH: the environment's, else the time of the last git commit of the top
    directory, else the top SConstruct's mtime: a time the sources give, never the build's, so a
    package is the same bytes every time. Kept across runs while git's HEAD log and the
    SConstruct stay the same (a no-op build runs no git)."""
    given = os.environ.get("SOURCE_DATE_EPOCH", "")
    if given.isdigit():
        return int(given)
    from rustkmod.kernel import deb
    top = env.Dir("#").abspath
    sconstruct = env.File("#SConstruct").abspath
    return state.memo().remember_files(("source date epoch", top), [os.path.join(top, ".git", "logs", "HEAD"),
                                                                  sconstruct], lambda: deb.source_date_epoch(top, sconstruct))
