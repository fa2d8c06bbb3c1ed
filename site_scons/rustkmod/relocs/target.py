"""Everything a verification needs to know about one kernel, gathered from its tree."""

from __future__ import annotations

import os

from ..errors import RustkmodError
from ..kernel import Kernel
from .check import LoaderTarget
from .loader_source import read_accepted_types
from .policy import policy_for


def read_symvers(path: str) -> dict[str, int]:
    """Symbol -> CRC of a Module.symvers (crc, symbol, module, export type, ...)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return {fields[1]: int(fields[0], 16) for fields in (line.split("\t") for line in handle)
                    if len(fields) >= 3 and fields[0].startswith("0x")}
    except OSError as err:
        raise RustkmodError(f"{path}: cannot read it ({err.strerror})",
                            "give the Module.symvers of a built kernel tree") from None


def target_for_kernel(kernel: Kernel, kernel_src: str = "", extra_symvers: tuple = ()) -> LoaderTarget:
    """The loader of `kernel`, with its loader source (KERNEL_SRC or KDIR) and exports when present."""
    policy = policy_for(kernel.arch)
    symvers = os.path.join(kernel.kdir, "Module.symvers")
    exported = None
    if os.path.isfile(symvers):
        exported = read_symvers(symvers)
        for path in extra_symvers:
            exported.update(read_symvers(path))
    source = None
    for tree in (kernel_src, kernel.kdir):
        if tree:
            source = read_accepted_types(tree, kernel.arch, kernel.config)
            if source:
                break
        if kernel_src and tree == kernel_src and source is None:
            raise RustkmodError(f"KERNEL_SRC={kernel_src} has no {policy.loader_source}",
                                "point KERNEL_SRC at the kernel's source tree, or leave it unset")
    description = f"Linux {kernel.release} ({'.'.join(map(str, kernel.version))}, {kernel.arch})"
    return LoaderTarget(policy, kernel.version, kernel.config, exported,
                        source[0] if source else None, source[1] if source else "", description)
