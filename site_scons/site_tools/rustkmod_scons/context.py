"""One module for one kernel: the records every stage configures itself from.

`KernelTarget` is one kernel as the build targets it (made once per kernel of KERNELS, or KDIR);
module.py makes one `ModuleBuild` per (module, kernel) holding it; each stage file's
`nodes(build, ...)` reads what it needs from it and makes its own settings and nodes, so a
stage's details stay in its file.
"""

from __future__ import annotations

import hashlib
import os
from typing import NamedTuple

from rustkmod import RustkmodError
from rustkmod.kernel import kbuild
from rustkmod.kernel.tree import Kernel

from . import state


class KernelTarget(NamedTuple):
    """One kernel as the build targets it: its tree, its directory under BUILD_DIR, what boots it,
    and what every make of it gets."""

    kernel: Kernel
    dir_name: str               # the kernel's directory under BUILD_DIR (its release; a digest for a second tree)
    image: str                  # the image `scons check` boots (KERNEL_IMAGE, a fetched kernel's, or the tree's)
    busybox: str                # a static busybox for its architecture ("" = the host's)
    cross_compile: str          # CROSS_COMPILE as given, or Debian's cross prefix for a foreign tree
    cc: str                     # Kbuild's C compiler; "" when Kbuild's own choice works
    make_variables: tuple       # ARCH, CROSS_COMPILE, CC, LLVM: what every make of this kernel gets


class ModuleBuild:
    """What every stage of one module for one kernel shares.

    (A plain class, as the result types: a dataclass costs the no-op build 0.6 ms to define.)"""

    def __init__(self, env, name: str, target: KernelTarget, out, providers: list):
        self.env, self.name, self.target = env, name, target
        self.out = out                        # BUILD_DIR's node: the Rust builds, shared by kernels, are under it
        self.module_dir = out.Dir(target.dir_name).Dir(name)
        self.providers = providers            # the RustModules this one uses, as built for this kernel

    kernel = property(lambda self: self.target.kernel)
    dir_name = property(lambda self: self.target.dir_name)
    cross_compile = property(lambda self: self.target.cross_compile)
    cc = property(lambda self: self.target.cc)
    make_variables = property(lambda self: list(self.target.make_variables))

    @property
    def extra_symvers(self) -> list:
        """The Module.symvers of the modules this one uses: KBUILD_EXTRA_SYMBOLS, and the verifier's."""
        return [p.symvers for p in self.providers]


def for_kernel(env, name: str, uses=()) -> ModuleBuild:
    """The ModuleBuild of module `name` for the kernel `env` is configured for (KDIR, ARCH, ...).
    Bad input (no KDIR, an unconfigured tree, a path make cannot take) raises RustkmodError."""
    from .variables import check_build_dir
    check_build_dir(env)
    kernel = _kernel(env)
    out = build_dir(env)
    providers = [_provider_for(p, kernel, name) for p in env.Flatten([uses])]
    kbuild.check_path_for_make("KDIR", kernel.kdir)
    build = ModuleBuild(env, name, kernel_target(env, kernel), out, providers)
    kbuild.check_path_for_make("BUILD_DIR", build.module_dir.abspath)
    return build


def kernel_target(env, kernel: Kernel) -> KernelTarget:
    """The KernelTarget of the kernel `env` is configured for (KDIR, and a fetched kernel's
    KERNEL_IMAGE and busybox, as fan_out resolves KERNELS)."""
    cross_compile = kbuild.cross_compile_for(kernel, env["CROSS_COMPILE"])
    cc, cc_note = kbuild.kbuild_cc(kernel, cross_compile, env["KBUILD_CC"])
    if cc_note:
        state.registry().note(cc_note)
    return KernelTarget(kernel, _kernel_dir_name(kernel), env["KERNEL_IMAGE"] or kernel.image(),
                        env.get("RUSTKMOD_BUSYBOX", ""), cross_compile, cc,
                        tuple(kbuild.make_variables(kernel, cross_compile, cc, env["LLVM"])))


def build_dir(env):
    node = env.Dir(env["BUILD_DIR"] if os.path.isabs(env["BUILD_DIR"]) else "#" + env["BUILD_DIR"])
    state.registry().build_dirs.add(node.abspath)      # a crate inside it does not take its files as sources
    return node


def _kernel(env) -> Kernel:
    key = ("kernel", env["KDIR"], env["ARCH"], env["KERNELRELEASE"])
    files = Kernel.input_files(os.path.abspath(env["KDIR"])) if env["KDIR"] else []
    return state.memo().remember_files(
        key, files, lambda: Kernel.from_kdir(env["KDIR"], env["ARCH"] or None, env["KERNELRELEASE"] or None), Kernel)


def _kernel_dir_name(kernel: Kernel) -> str:
    """The release names the directory; a second tree of the same release adds its path's digest."""
    owner = state.registry().kernel_dirs.setdefault(kernel.name, kernel.kdir)
    if owner == kernel.kdir:
        return kernel.name
    return f"{kernel.name}-{hashlib.sha256(kernel.kdir.encode()).hexdigest()[:8]}"


def _provider_for(provider, kernel: Kernel, user: str):
    """The module `user` uses, as built for the same kernel."""
    found = [m for m in getattr(provider, "modules", []) if m.kdir == kernel.kdir]
    if not found:
        what = getattr(provider, "name", repr(provider))
        raise RustkmodError(f"{user} uses {what}, which is not built for Linux {kernel.release}",
                            f"build {what} for the same kernels (KERNELS) as {user}, before it")
    return found[0]
