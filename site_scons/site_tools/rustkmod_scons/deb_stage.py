"""`scons deb`: one Debian binary package per kernel of the project's verified modules.

  file                                                          builder     runs
  BUILD_DIR/deb/<package>-modules-<release>_<version>_<arch>.deb  DebPackage  dpkg-deb --build (rustkmod.kernel.deb)

The package holds the staged install copies (verified, and signed when a key is known), so
nothing unverified can be packaged; SOURCE_DATE_EPOCH in the settings makes it byte for byte
the same on every build of the same inputs.
"""

from __future__ import annotations

from typing import NamedTuple

from rustkmod import RustkmodError
from rustkmod.kernel import deb

from .common import builder, fail, files, remove, say, setting, settings_node


class DebSettings(NamedTuple):
    spec: deb.DebSpec
    kernel: deb.DebKernel
    modules: tuple          # the module names, in the order of the .ko sources


def _package(target, source, env):
    settings = setting(source, DebSettings)
    kos = [node.abspath for node in files(source)]
    try:
        deb.build(settings.spec, settings.kernel, list(zip(settings.modules, kos)), target[0].abspath)
    except RustkmodError as err:
        remove(target[0].abspath)
        fail(err)
    kernel = settings.kernel
    say(f"         {', '.join(settings.modules)} in lib/modules/{kernel.release}/updates/ as .ko{kernel.suffix}")


BUILDERS = {"DebPackage": builder(_package, "DEB")}


def nodes(env, build_dir, spec: deb.DebSpec, kernel, modules: list) -> list:
    """The package of `modules` ([(name, staged install .ko node)]) for one kernel (a Kernel)."""
    kernel = deb.for_kernel(kernel)
    target = build_dir.Dir("deb").File(deb.file_name(spec, kernel))
    names = tuple(name for name, _ in modules)
    return env.DebPackage(target, [ko for _, ko in modules] + [settings_node(env, DebSettings(spec, kernel, names))])
