"""How the Rust staticlib is compiled for a kernel: target, codegen flags, and which `core`.

The trap this module exists for: the prebuilt `core` of a Rust toolchain and the host target's
defaults are position-independent, so calls go through the GOT (R_X86_64_GOTPCREL), which no x86
module loader applies. The kernel profile rebuilds `core` from source (`-Zbuild-std`) with the
flags the kernel's own Rust uses: static relocation model, kernel code model, no red zone, and
`-Zplt=yes` so calls to compiler libcalls (`memset`, `__udivti3`) are direct (R_X86_64_PLT32).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from typing import NamedTuple

from rustkmod import process, stamps
from rustkmod.errors import RustkmodError
from rustkmod.kernel.arch import ARCHES
from rustkmod.kernel.hardening import kernel_hardening
from rustkmod.kernel.tree import Kernel
from rustkmod.rust.cfgs import kernel_cfg_text, text_digest

# Per architecture: the bare-metal target that matches the kernel's ABI, and the codegen flags
# Kbuild's own Rust support passes (top-level Makefile, arch/*/Makefile), plus -Zplt=yes (arch.py
# says why each is what it is).
KERNEL_TARGETS = {arch.name: (arch.rust_target, list(arch.rust_flags)) for arch in ARCHES}


# Common to every kernel profile: no unwinding tables the kernel cannot use, panic aborts.
COMMON_KERNEL_FLAGS = ["-Cpanic=abort", "-Cforce-unwind-tables=n", "-Cdebug-assertions=n"]

PROFILES = ("kernel", "host-default", "pic")


class RustProfile(NamedTuple):
    """Everything that decides the bytes of the staticlib, apart from the crate's sources."""

    name: str                  # "kernel" or "host-default"
    target: str                # rustc target triple
    rustflags: tuple           # codegen flags passed to every crate, `core` included
    build_std: bool            # core, alloc, compiler_builtins built from source with those flags (sysroot.py)
    toolchain: str = ""        # `rustc -vV` of the compiler used
    kernel_cfg: str = ""       # digest of the kernel's --cfg list, given to the crate only
    kernel: str = ""           # the one kernel a crate with generated bindings is built for; "": shared

    @property
    def ident(self) -> str:
        """A short, stable directory name: target plus a digest of everything else."""
        digest = hashlib.sha256(self.signature().encode()).hexdigest()[:10]
        return f"{self.target}-{self.name}-{digest}"

    def signature(self) -> str:
        """The profile as one string: a Value node's content in the build graph."""
        fields = {"name": self.name, "target": self.target, "rustflags": list(self.rustflags),
                  "build_std": self.build_std, "toolchain": self.toolchain, "kernel_cfg": self.kernel_cfg}
        if self.kernel:             # only then: a profile shared by kernels keeps its directory
            fields["kernel"] = self.kernel
        return json.dumps(fields, sort_keys=True)


def kernel_profile(kernel: Kernel, toolchain: str, hardened: bool = True) -> RustProfile:
    """The profile that produces an object the configured kernel's loader can link, hardened as
    the kernel's .config hardens its C code (hardening.py)."""
    try:
        target, flags = KERNEL_TARGETS[kernel.arch]
    except KeyError:
        supported = ", ".join(sorted(KERNEL_TARGETS))
        raise RustkmodError(f"no Rust kernel target for ARCH {kernel.arch} (KDIR={kernel.kdir})",
                            f"rustkmod builds Rust for: {supported}") from None
    hardening = list(kernel_hardening(kernel).flags) if hardened else []
    cfg_digest = text_digest(kernel_cfg_text(kernel))
    return RustProfile("kernel" if hardened else "kernel-unhardened", target,
                       tuple(flags + COMMON_KERNEL_FLAGS + hardening), True, toolchain, cfg_digest)


def host_default_profile(toolchain: str) -> RustProfile:
    """The host target with its defaults (PIC, prebuilt core): the build that fails to load.

    Kept as a profile so that the verifier can be shown to catch what the loader refuses.
    """
    host = _host_triple(toolchain)
    return RustProfile("host-default", host, ("-Cpanic=abort",), False, toolchain)


def pic_profile(kernel: RustProfile) -> RustProfile:
    """The kernel target built position-independent, as rustc builds for Linux hosts: the wrong
    relocation model a hand-written cargo configuration ends up with, on any architecture (a
    cross kernel cannot take a host-target object at all). Kept, like host-default, to show the
    verifier and the kernel refusing the same relocation."""
    flags = tuple("-Crelocation-model=pic" if f == "-Crelocation-model=static" else f for f in kernel.rustflags)
    return kernel._replace(name="pic", rustflags=flags)


def toolchain_info(rustc: str) -> tuple[str, str]:
    """(`rustc -vV`, sysroot) of the compiler: its identity is part of every Rust signature."""
    try:
        version = process.run([rustc, "-vV"], capture_output=True, text=True, check=True).stdout
        sysroot = process.run([rustc, "--print", "sysroot"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise RustkmodError(f"RUSTC={rustc} cannot be run",
                            "install rustc-web cargo-web rust-web-src (./setup does) or set RUSTC") from None
    return version, sysroot


def cached_toolchain_info(rustc: str, cache_file: str) -> tuple[str, str]:
    """toolchain_info(), remembered in `cache_file` while the rustc binary stays the same file.

    Asking rustc costs two processes (~90 ms) on every no-op build; an upgrade replaces the
    binary, which changes its stamp (stamps.file_stamp) and so the key.
    """
    resolved = shutil.which(rustc) or rustc
    if not os.path.exists(resolved):
        return toolchain_info(rustc)
    version, sysroot = stamps.cached(cache_file, [resolved], ["rustc", os.path.realpath(resolved)],
                                     lambda: list(toolchain_info(rustc)))
    return version, sysroot


def select_profile(name: str, kernel: Kernel, rustc: str, toolchain: tuple[str, str],
                   hardened: bool = True) -> RustProfile:
    """The profile called `name` for `kernel`, checking the toolchain can build it."""
    version, sysroot = toolchain
    if name == "host-default":
        return host_default_profile(version)
    if name == "pic":
        return pic_profile(kernel_profile(kernel, version, hardened))
    library = library_source_dir(sysroot)
    if not os.path.isdir(os.path.join(library, "core")):
        raise RustkmodError(f"RUSTC={rustc} has no library sources ({library})",
                            "install rust-web-src and use /usr/bin/rustc (./setup does), or set RUSTC")
    return kernel_profile(kernel, version, hardened)


def _host_triple(toolchain: str) -> str:
    for line in toolchain.splitlines():
        if line.startswith("host: "):
            return line.split(": ", 1)[1].strip()
    raise RustkmodError("cannot tell the host target from `rustc -vV`", "check the RUSTC variable")


def library_source_dir(sysroot: str) -> str:
    """Where `-Zbuild-std` finds the standard library sources for this sysroot."""
    return os.path.join(sysroot, "lib/rustlib/src/rust/library")
