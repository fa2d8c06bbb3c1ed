"""`scons deb`: one Debian binary package per kernel of the project's verified modules.

  file                                                          builder     runs
  BUILD_DIR/deb/<package>-modules-<release>_<version>_<arch>.deb  DebPackage  dpkg-deb --build (rustkmod.kernel.deb)

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


BUILDERS = {"DebPackage": builder(_package, "DEB")}


def nodes(env, build_dir, spec: deb.DebSpec, kernel, modules: list) -> list:
    """The package of `modules` ([(name, staged install .ko node, staticlib node)]) for one kernel
    (a Kernel)."""
    kernel = deb.for_kernel(kernel)
    target = build_dir.Dir("deb").File(deb.file_name(spec, kernel))
    names = tuple(name for name, _, _ in modules)
    return env.DebPackage(target, [ko for _, ko, _ in modules] + [lib for _, _, lib in modules]
                          + [settings_node(env, DebSettings(spec, kernel, names))])
