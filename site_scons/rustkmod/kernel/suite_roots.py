"""Build roots: a Debian system of a kernel's own suite, for kernels whose Kbuild the host cannot run.

Debian 13's and 14's kernels name gcc-14 or gcc-16, and their Kbuild tools (modpost, objtool,
fixdep) need a newer C library than Debian 12 has. Such a kernel's headers are unpacked into a
root of its suite, made once with Debian's `mmdebstrap` in the kernel cache; Kbuild, modpost and
objtool then run inside it, and the Rust side stays on the host (the same sysroot and crate).

Each command runs in its own mount namespace (`unshare --mount`) that binds the directories it
works in at the same paths inside the root and then `chroot`s: the mounts exist only for that
process and vanish with it, even when scons is killed, so nothing is left mounted on the host.
(A systemd-nspawn container would need systemd in the root and a running machine manager; a
plain chroot with bind mounts on the host would leave mounts behind on a crash.)
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil

from rustkmod import process
from rustkmod.errors import RustkmodError

MARKER = ".rustkmod-root"     # in a root's top directory: the suite it was made of
# What Kbuild needs for an external module, besides the compiler the kernel names.
# pahole: Debian's kernels generate BTF for modules; xz, zstd: modules_install compresses.
PACKAGES = ("make", "libc6-dev", "binutils", "libelf-dev", "bc", "flex", "bison", "kmod", "dwarves", "xz-utils",
            "zstd")

# Runs "$@" chrooted into $1 with the directories before "--" bound at their own paths.
_ENTER = r"""
root=$1; shift; cwd=$1; shift
for dir in /dev /proc /sys; do mount --rbind "$dir" "$root$dir"; done
while [ "$1" != "--" ]; do mkdir -p "$root$1"; mount --bind "$1" "$root$1"; shift; done
shift
exec chroot "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$cwd" "$@"
"""


def root_of(path: str) -> str:
    """The build root holding `path` (a kernel tree unpacked into one), or ""."""
    path = os.path.abspath(path)
    while True:
        if os.path.isfile(os.path.join(path, MARKER)):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return ""
        path = parent


def inside(root: str, path: str) -> str:
    """`path` (on the host, under `root`) as seen inside the root."""
    return "/" + os.path.relpath(os.path.abspath(path), root) if root else path


def command(root: str, argv: list[str], cwd: str, binds: list[str]) -> list[str]:
    """`argv` to run inside `root` (or as it is, with no root), with `binds` visible there."""
    if not root:
        return argv
    binds = sorted({os.path.abspath(b) for b in binds if b and not os.path.abspath(b).startswith(root + os.sep)})
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-ec", _ENTER, "sh", root, cwd,
            *binds, "--", *argv]


def host_glibc() -> tuple:
    version = os.confstr("CS_GNU_LIBC_VERSION") or "glibc 0"
    return tuple(int(x) for x in version.split()[-1].split("."))


def needed_glibc(program: str) -> tuple:
    """The newest GLIBC_x.y symbol version `program` asks for (from its dynamic symbols)."""
    out = process.run(["objdump", "-T", program], capture_output=True, text=True).stdout
    versions = [tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_([0-9.]+[0-9])", out)]
    return max(versions, default=(0,))


def make(root: str, suite: str, compiler: str, mirror: str, log=print) -> None:
    """Makes the root of `suite` at `root` with `compiler` (e.g. gcc-14), once; concurrent
    callers wait for the first (a lock beside it). What the root lacks (another architecture's
    cross gcc, a package added to PACKAGES since) is added to it with apt inside the root."""
    os.makedirs(os.path.dirname(root), exist_ok=True)
    with open(root + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(os.path.join(root, MARKER), encoding="utf-8") as handle:
                made = re.split(r"[\s,]+", handle.read().strip())
        except OSError:
            made = []
        if made[:1] == [suite]:
            missing = sorted({compiler, *PACKAGES} - set(made[1:]))
            if missing:
                _add_packages(root, suite, made[1:], missing, log)
            return
        packages = ",".join(sorted({compiler, *PACKAGES}))
        if not shutil.which("mmdebstrap"):
            raise RustkmodError(f"a build root of Debian {suite} is needed and mmdebstrap is missing",
                                "install it: apt-get install mmdebstrap (./setup does)")
        log(f"making a build root of Debian {suite} with {compiler} in {root} (once)")
        shutil.rmtree(root, ignore_errors=True)
        # Valid-Until off: a mirror that is a snapshot serves Release files past their date (sid's).
        result = process.run(["mmdebstrap", "--mode=root", "--variant=minbase", "--quiet",
                               '--aptopt=Acquire::Check-Valid-Until "false"',
                               f"--include={packages}", suite, root, mirror],
                              capture_output=True, text=True, progress=f"mmdebstrap: making the {suite} build root")
        if result.returncode != 0:
            shutil.rmtree(root, ignore_errors=True)
            lines = result.stderr.strip().splitlines() or ["no output"]
            last = next((line for line in lines if line.startswith("E: ") and "failed to run" not in line), lines[-1])
            raise RustkmodError(f"mmdebstrap could not make the {suite} build root ({last})",
                                "check the machine reaches Debian's archive")
        with open(os.path.join(root, MARKER), "w") as handle:
            handle.write(f"{suite}\n" + "\n".join(packages.split(",")) + "\n")


def _add_packages(root: str, suite: str, made: list, packages: list, log) -> None:
    log(f"adding {', '.join(packages)} to the build root of Debian {suite} in {root}")
    for step in (["apt-get", "-q", "-o", "Acquire::Check-Valid-Until=false", "update"],
                 ["apt-get", "-q", "install", "-y", "--no-install-recommends", *packages]):
        result = process.run(command(root, step, "/", []), capture_output=True, text=True,
                              env=dict(process.environment(), DEBIAN_FRONTEND="noninteractive"),
                              progress=f"apt in the {suite} build root: {step[-1] if step[-1] == 'update' else 'install'}")
        if result.returncode != 0:
            last = process.last_line(result.stderr)
            raise RustkmodError(f"could not add {', '.join(packages)} to the {suite} build root ({last})",
                                "check the machine reaches Debian's archive")
    with open(os.path.join(root, MARKER), "w") as handle:
        handle.write(f"{suite}\n" + "\n".join(sorted({*made, *packages})) + "\n")
