"""A kernel built here from Debian's linux-source-6.1, small, with module signing enforced-able and
the kernel's own checkers on: lockdep, KASAN, UBSAN, KFENCE, list and object debugging.

Debian's kernels trust only Debian's signing key, so a module signed here can never load under
`module.sig_enforce=1` on them. This tree is configured from `tinyconfig` plus what the QEMU boot
test needs and module signing: building it makes its own key (certs/signing_key.pem), which
rustkmod then signs modules with by default, and its bzImage trusts exactly that key.

Debian's kernels have no lockdep either, so this one proves locking (CONFIG_PROVE_LOCKING): a
module's locks are checked at run time, and `struct mutex` and `spinlock_t` have their debug
layouts, which the kernel crate must follow. It is also the debug kernel every module of the
kernel crate boots on: KASAN (generic, inline) reports a use after free or an out-of-bounds access
by the kernel's C code (the C the module links included), KFENCE samples the heap for the same,
UBSAN reports undefined behaviour, DEBUG_LIST a corrupt list, DEBUG_OBJECTS a freed live object
(a timer, a work item), DEBUG_ATOMIC_SLEEP sleeping with a spinlock held; the boot test fails on
any of their reports. KASAN needs SLUB (tinyconfig picks SLOB). The configuration's digest is kept
with the built kernel (`config_digest`): a kernel built from another configuration is built again.
"""

from __future__ import annotations

import glob
import os
import shutil

from rustkmod import process
from rustkmod.errors import RustkmodError
from rustkmod.kernel.tree import BOOT_IMAGES

SOURCE_TARBALLS = "/usr/src/linux-source-*.tar.xz"       # Debian's linux-source-<series> package

# On top of tinyconfig: a serial console, an initramfs, busybox's needs, ACPI power-off for QEMU,
# and signed, versioned, unloadable modules.
CONFIG = """\
CONFIG_64BIT=y
CONFIG_PRINTK=y
CONFIG_TTY=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_BINFMT_ELF=y
CONFIG_BINFMT_SCRIPT=y
CONFIG_DEVTMPFS=y
CONFIG_PROC_FS=y
CONFIG_SYSFS=y
CONFIG_MULTIUSER=y
CONFIG_FUTEX=y
CONFIG_PCI=y
CONFIG_ACPI=y
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_MODVERSIONS=y
CONFIG_MODULE_SIG=y
CONFIG_MODULE_SIG_ALL=y
CONFIG_MODULE_SIG_SHA256=y
CONFIG_MODULE_SIG_KEY="certs/signing_key.pem"
CONFIG_SYSTEM_TRUSTED_KEYRING=y
CONFIG_DEBUG_KERNEL=y
CONFIG_PROVE_LOCKING=y
CONFIG_DEBUG_LOCK_ALLOC=y
CONFIG_DEBUG_SPINLOCK=y
CONFIG_DEBUG_MUTEXES=y
CONFIG_LOCKDEP=y
CONFIG_DEBUG_ATOMIC_SLEEP=y
CONFIG_SLUB=y
# CONFIG_SLOB is not set
CONFIG_SLUB_DEBUG=y
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
CONFIG_KASAN_INLINE=y
CONFIG_UBSAN=y
CONFIG_UBSAN_BOUNDS=y
CONFIG_UBSAN_SHIFT=y
CONFIG_KFENCE=y
CONFIG_DEBUG_LIST=y
CONFIG_DEBUG_OBJECTS=y
CONFIG_DEBUG_OBJECTS_FREE=y
CONFIG_DEBUG_OBJECTS_TIMERS=y
CONFIG_DEBUG_OBJECTS_WORK=y
CONFIG_DEBUG_FS=y
"""


def config_digest() -> str:
    """What the built kernel was configured with, as a short digest."""
    import hashlib
    return hashlib.sha256(CONFIG.encode()).hexdigest()[:16]


def source_tarball(series: str) -> str:
    path = SOURCE_TARBALLS.replace("*", series)
    if not os.path.isfile(path):
        found = ", ".join(sorted(glob.glob(SOURCE_TARBALLS))) or "none"
        raise RustkmodError(f"{path} not found (installed: {found})", f"install linux-source-{series} (./setup does)")
    return path


def build_signing_kernel(series: str, root: str, jobs: int, log=print) -> tuple[str, str, str]:
    """Unpacks, configures and builds the kernel in `root`; returns (tree, image, release)."""
    tarball = source_tarball(series)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    log(f"building a small Linux {series} with module signing from {tarball} in {root} (several minutes)")
    _run(["tar", "xf", tarball, "-C", root], root, "unpack")
    tree = os.path.join(root, f"linux-source-{series}")
    fragment = os.path.join(root, "rustkmod.config")
    with open(fragment, "w", encoding="utf-8") as handle:
        handle.write(CONFIG)
    _run(["make", "-s", "tinyconfig"], tree, "configure")
    _run(["scripts/kconfig/merge_config.sh", "-m", ".config", fragment], tree, "configure")
    _run(["make", "-s", "olddefconfig"], tree, "configure")
    with open(os.path.join(tree, ".config"), encoding="utf-8") as handle:
        config = handle.read().splitlines()
    missing = [line for line in CONFIG.splitlines() if line not in config]
    if missing:
        raise RustkmodError(f"{tree}: the configuration lost {', '.join(missing)}", "report this kernel version")
    # `modules` writes Module.symvers, which external modules are checked against.
    _run(["make", f"-j{jobs}", "-s", "bzImage", "modules"], tree, "build")
    with open(os.path.join(tree, "include/config/kernel.release"), encoding="utf-8") as handle:
        release = handle.read().strip()
    return tree, os.path.join(tree, BOOT_IMAGES["x86_64"]), release


def _run(command: list[str], cwd: str, what: str) -> None:
    result = process.run(command, cwd=cwd, capture_output=True, text=True,
                         progress=f"the signing kernel: {what} ({' '.join(command[:2])})")
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
        raise RustkmodError(f"kernel {what} failed ({' '.join(command)} in {cwd}):\n{tail}",
                            "install the kernel build dependencies (./setup does: bc flex bison libelf-dev libssl-dev)")
