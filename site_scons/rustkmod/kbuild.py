"""The Kbuild side of a module: the `Kbuild` file and the `make` command for an external module.

Kbuild builds external modules in place (`M=DIR`), so rustkmod stages the C sources and the Rust
object into a build directory of their own and leaves the source tree clean. The Rust object goes
in as a prebuilt ("shipped") object: Kbuild copies `X.o_shipped` to `X.o`, on every kernel from
5.10 to 6.12, and links it into the composite module beside the C objects.
"""

from __future__ import annotations

import os
import re

from .errors import RustkmodError
from .kernel import Kernel

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

# What Kbuild's own modpost needs for a shipped object on 6.x (".NAME.cmd: No such file or
# directory" otherwise); Kbuild never writes it itself.
SHIPPED_CMD_TEXT = "# Written by rustkmod: {name} is prebuilt from Rust and shipped to Kbuild.\n"


def check_module_name(name: str, members: list[str]) -> None:
    """A composite module's name must differ from each of its members' object names."""
    if not _MODULE_NAME.match(name):
        raise RustkmodError(f"module name '{name}' is not a valid kernel module name",
                            "use letters, digits and '_' only")
    for member in members:
        if os.path.splitext(member)[0] == name:
            raise RustkmodError(f"module '{name}' has a member file named {member}",
                                f"rename {member}: Kbuild cannot link {name}.ko from an object of the same name")


def kbuild_text(name: str, objects: list[str]) -> str:
    """The Kbuild file of a composite module made of `objects` (C objects and the Rust object)."""
    return ("# Written by rustkmod: edit the SConstruct, not this file.\n"
            f"obj-m := {name}.o\n"
            f"{name}-y := {' '.join(objects)}\n")


def check_path_for_make(variable: str, path: str) -> None:
    """make splits words on spaces, so Kbuild cannot build in (or from) such a directory."""
    if re.search(r"\s", path) or any(c in path for c in ":#$"):
        raise RustkmodError(f"{variable}={path} contains a space or one of ':#$', which Kbuild (make) "
                            "cannot handle", f"set {variable} to a path without them")


def make_variables(kernel: Kernel, cross_compile: str = "", cc: str = "", llvm: str = "") -> list[str]:
    """The variables passed to Kbuild's make for this kernel."""
    variables = [f"ARCH={kernel.kbuild_arch}"]
    if cross_compile:
        variables.append(f"CROSS_COMPILE={cross_compile}")
    if cc:
        variables.append(f"CC={cc}")
    if llvm:
        variables.append(f"LLVM={llvm}")
    return variables
