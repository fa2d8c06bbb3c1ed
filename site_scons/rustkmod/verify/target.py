"""Everything a verification needs to know about one kernel, gathered from its tree."""

from __future__ import annotations

import os

from rustkmod.errors import RustkmodError
from rustkmod.kernel.tree import Kernel
from rustkmod.verify.check import LoaderTarget
from rustkmod.verify.loader_source import read_accepted_types
from rustkmod.verify.policy import policy_for


def read_symvers(path: str, gpl_only: set | None = None) -> dict[str, int]:
    """Symbol -> CRC of a Module.symvers (crc, symbol, module, export type, ...); the symbols
    exported with EXPORT_SYMBOL_GPL are added to `gpl_only` when it is given.

    Anything else (a binary file, another table) is refused naming the first line that is not
    one, rather than read as a list of nothing exported.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as err:
        raise RustkmodError(f"{path}: cannot read it ({err.strerror})",
                            "give the Module.symvers of a built kernel tree") from None
    exported = {}
    for number, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        fields = line.split(b"\t")
        try:
            if len(fields) < 3 or not fields[0].startswith(b"0x"):
                raise ValueError
            exported[fields[1].decode("utf-8")] = int(fields[0], 16)
            if gpl_only is not None and len(fields) > 3 and fields[3] == b"EXPORT_SYMBOL_GPL":
                gpl_only.add(fields[1].decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise RustkmodError(f"{path} is not a Module.symvers (line {number} is not "
                                "'0xCRC<tab>symbol<tab>module...')", "give the Module.symvers of a built kernel tree") from None
    return exported


def target_for_kernel(kernel: Kernel, kernel_src: str = "", extra_symvers: tuple = ()) -> LoaderTarget:
    """The loader of `kernel`, with its loader source (KERNEL_SRC or KDIR) and exports when present."""
    policy = policy_for(kernel.arch)
    symvers = os.path.join(kernel.kdir, "Module.symvers")
    exported, gpl_only = None, set()
    if os.path.isfile(symvers):
        exported = read_symvers(symvers, gpl_only)
        for path in extra_symvers:
            exported.update(read_symvers(path, gpl_only))
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
    return LoaderTarget(policy, kernel.version, kernel.config, exported, source[0] if source else None,
                        source[1] if source else "", description, kernel.release, frozenset(gpl_only))
