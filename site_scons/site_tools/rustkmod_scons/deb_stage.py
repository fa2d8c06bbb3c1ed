"""`scons deb`: one Debian binary package per kernel of the project's verified modules.

  file                                                          builder     runs
  BUILD_DIR/deb/<package>-modules-<release>_<version>_<arch>.deb  DebPackage  dpkg-deb --build (rustkmod.kernel.deb)
  BUILD_DIR/deb/rustkmod_<version>_all.deb                      ToolDeb     rustkmod itself, from its checkout (rustkmod.tool_deb)

The package holds the staged install copies (verified, and signed when a key is known), so
nothing unverified can be packaged; SOURCE_DATE_EPOCH in the settings makes it byte for byte
the same on every build of the same inputs.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from rustkmod import RustkmodError
from rustkmod.kernel import deb
from rustkmod.rust import components

from .common import builder, fail, files, remove, say, setting, settings_node


class DebSettings(NamedTuple):
    spec: deb.DebSpec
    kernel: deb.DebKernel
    modules: tuple          # the module names, in the order of the .ko sources (then their staticlibs)


def _package(target, source, env):
    settings = setting(source, DebSettings)
    paths = [node.abspath for node in files(source)]
    kos, staticlibs = paths[:len(settings.modules)], paths[len(settings.modules):]
    # the crates in each module, as cargo's dep-info beside its staticlib lists them (debian/copyright)
    built_in = {c for lib in staticlibs for c in components.crates_built(os.path.splitext(lib)[0] + ".d")}
    built_in = sorted(built_in) + ([components.STANDARD_LIBRARY] if built_in else [])
    try:
        deb.build(settings.spec, settings.kernel, list(zip(settings.modules, kos)), target[0].abspath, built_in)
    except RustkmodError as err:
        remove(target[0].abspath)
        fail(err)
    kernel = settings.kernel
    say(f"         {', '.join(settings.modules)} in lib/modules/{kernel.release}/updates/ as .ko{kernel.suffix}")


class ToolDebSettings(NamedTuple):
    checkout: str
    epoch: int


def _tool_package(target, source, env):
    from rustkmod import tool_deb
    settings = setting(source, ToolDebSettings)
    try:
        tool_deb.build(settings.checkout, target[0].abspath, settings.epoch)
    except RustkmodError as err:
        remove(target[0].abspath)
        fail(err)
    say(f"         install it with: apt install {target[0].abspath}")


BUILDERS = {"DebPackage": builder(_package, "DEB"), "ToolDeb": builder(_tool_package, "DEB")}


def nodes(env, build_dir, spec: deb.DebSpec, kernel, modules: list) -> list:
    """The package of `modules` ([(name, staged install .ko node, staticlib node)]) for one kernel
    (a Kernel)."""
    kernel = deb.for_kernel(kernel)
    target = build_dir.Dir("deb").File(deb.file_name(spec, kernel))
    names = tuple(name for name, _, _ in modules)
    return env.DebPackage(target, [ko for _, ko, _ in modules] + [lib for _, _, lib in modules]
                          + [settings_node(env, DebSettings(spec, kernel, names))])


def tool_nodes(env, build_dir, checkout: str, epoch: int, wanted: bool) -> list:
    """rustkmod_<version>_all.deb of the checkout's rustkmod. Its files are listed (and so
    signed) only when it is `wanted`: the walk would cost every other build."""
    from rustkmod import __version__, tool_deb
    sources = []
    if wanted:
        sources = [env.File(os.path.join(checkout, "site_scons", path.split("site_scons/", 1)[1]))
                   for path in tool_deb.files_of(checkout, epoch) if path.startswith(tool_deb.SITE)]
        sources += [env.File(os.path.join(checkout, p)) for p in ("README.md", "CHANGELOG.md")]
        sources += env.Glob(os.path.join(checkout, "docs", "*.md"))
    return env.ToolDeb(build_dir.Dir("deb").File(f"rustkmod_{__version__}_all.deb"),
                       sources + [settings_node(env, ToolDebSettings(checkout, epoch))])
