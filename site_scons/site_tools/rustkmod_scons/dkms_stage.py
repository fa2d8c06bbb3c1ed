"""`scons dkms`: the project as a DKMS source tree, whose build runs rustkmod for each kernel.

  file                                             builder   runs
  BUILD_DIR/dkms/<package>-<version>/dkms.conf     DkmsTree  copies the project's files, writes dkms.conf (rustkmod.kernel.dkms)

`dkms add BUILD_DIR/dkms/<package>-<version>`, then `dkms build -k <release>` on a machine with
the kernel's headers, Rust and rustkmod: scons with KDIR=<that kernel's tree> builds and verifies.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from rustkmod.kernel import dkms

from .common import builder, say, setting, settings_node


class DkmsSettings(NamedTuple):
    top: str
    files: tuple            # relative to top
    conf: str               # dkms.conf's text


def _tree(target, source, env):
    settings = setting(source, DkmsSettings)
    destination = target[0].dir.abspath
    dkms.write_tree(settings.top, list(settings.files), destination, settings.conf)
    say(f"         {len(settings.files)} file(s) and dkms.conf; add it with: dkms add {destination}")


BUILDERS = {"DkmsTree": builder(_tree, "DKMS")}


def nodes(env, build_dir, package: str, version: str, module_names: list, wanted: bool) -> list:
    """The tree's dkms.conf node. The project's files are listed only when the tree is `wanted`
    (asked for on the command line): a walk of the whole project would cost every other build."""
    top = env.Dir("#").abspath
    files = tuple(dkms.source_files(top, build_dir.abspath)) if wanted else ()
    conf = dkms.conf_text(package, version, list(module_names))
    target = build_dir.Dir("dkms").Dir(f"{package}-{version}").File("dkms.conf")
    tree = env.DkmsTree(target, [env.File(os.path.join(top, f)) for f in files]
                        + [settings_node(env, DkmsSettings(top, files, conf))])
    env.Clean(tree, target.dir)
    return tree
