"""The kernel as rustc --cfg arguments: its configuration and its version, for `#[cfg(...)]`.

A crate writes `#[cfg(CONFIG_SMP)]` or `#[cfg(kernel_version_at_least = "6.10")]` as C code tests
IS_ENABLED() and LINUX_VERSION_CODE; the text is one rustc @argfile per kernel, given to every crate
of the module's graph (CARGO_ENCODED_RUSTFLAGS). It declares what it sets with --check-cfg, so
rustc warns about a misspelt option (CONFIG_SMPP) and not about these.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

from rustkmod.kernel.tree import LAST_MINOR, Kernel


def kernel_cfg_text(kernel: Kernel) -> str:
    """The kernel's config and version as rustc --cfg arguments, one per line (a rustc @argfile).

    The config: the tree's own include/generated/rustc_cfg where it has one (6.1 on); otherwise
    made from its config in the same form: `--cfg=CONFIG_X` for y and m, `--cfg=CONFIG_X="value"`
    for all. Then the version, for API changes between kernels, as C's LINUX_VERSION_CODE tests
    are written: `kernel_version="6.12.117"`, and `kernel_version_at_least="M.N"` for every
    release up to this one, so `#[cfg(kernel_version_at_least = "6.10")]` reads as it says.
    """
    generated = kernel.path("include/generated/rustc_cfg")
    if os.path.isfile(generated):
        with open(generated, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    else:
        lines = []
        for key, value in sorted(kernel.config.items()):
            if value in ("y", "m"):
                lines.append(f"--cfg={key}")
            lines.append(f"--cfg={key}={json.dumps(value)}")
        text = "\n".join(lines) + "\n"
    return text + version_cfg_text(tuple(kernel.version)) + check_cfg_text(_config_text(kernel))


def text_digest(text: str) -> str:
    """The argfile's name: a digest of its text (cargo hashes its path into output names)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# The cfgs rustkmod sets besides the kernel's options: the version ones, and rustkmod_bindings
# (a crate built with its bindings.rs, which host builds are without).
RUSTKMOD_CFGS = ("kernel_version", "kernel_version_at_least", "rustkmod_bindings")


def check_cfg_text(config_text: str) -> str:
    """--check-cfg lines for every option the .config names, set or not (`# CONFIG_SMP is not
    set` names an option this kernel has, so `#[cfg(CONFIG_SMP)]` is expected), and for rustkmod's."""
    names = sorted(set(re.findall(r"\bCONFIG_[A-Za-z0-9_]+", config_text)))
    return "".join(f"--check-cfg=cfg({name}, values(any()))\n" for name in [*RUSTKMOD_CFGS, *names])


def _config_text(kernel: Kernel) -> str:
    try:
        with open(kernel.path(".config"), encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return "\n".join(kernel.config)


def version_cfg_text(version: tuple) -> str:
    return "".join(f"--cfg={line}\n" for line in version_cfgs(version))


def version_cfgs(version: tuple) -> list:
    """`kernel_version="X.Y.Z"` and `kernel_version_at_least="M.N"` for every release from 3.0 to X.Y."""
    major, minor = version[0], version[1]
    releases = [(m, n) for m in range(3, major) for n in range(LAST_MINOR[m] + 1)]
    releases += [(major, n) for n in range(minor + 1)]
    return [f'kernel_version="{".".join(map(str, version))}"'] + \
        [f'kernel_version_at_least="{m}.{n}"' for m, n in releases]
