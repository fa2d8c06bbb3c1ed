"""Host tests under AddressSanitizer: `cargo test` of a crate over the kernel crate's host half,
instrumented, so a use after free, a double free, an overflow or a leak in the host half (or in
a module's logic) fails the run, as KASAN fails a boot.

Debian's rustc ships no ASan runtime of its own: the instrumented tests link clang's
(`libclang-rt-19-dev`, which ./setup installs) with `-Zexternal-clangrt`, and run with it
preloaded (the shared runtime must come first; its static one does not link into a PIE with
GNU ld). The target is named so that build scripts stay uninstrumented.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = Path("/usr/lib/llvm-19/lib/clang/19/lib/linux/libclang_rt.asan-x86_64.so")
HOST = "x86_64-unknown-linux-gnu"
RUSTKMOD_CRATES = {"rustkmod-kernel": ROOT / "site_scons" / "rustkmod_kernel",
                   "rustkmod-rt": ROOT / "site_scons" / "rustkmod_rt"}


def cargo_test(manifest: Path, target_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """`cargo test` of `manifest` under ASan; rustkmod's crates named by version resolve to the
    checkout's, as rustkmod hands them to cargo."""
    if not RUNTIME.is_file():
        raise FileNotFoundError(f"{RUNTIME} missing: install libclang-rt-19-dev (./setup does)")
    patches = [arg for name, path in RUSTKMOD_CRATES.items()
               for arg in ("--config", f'patch.crates-io.{name}.path="{path}"')]
    env = dict(os.environ, RUSTC="/usr/bin/rustc", RUSTDOC="/usr/bin/rustdoc", RUSTC_BOOTSTRAP="1",
               CARGO_TARGET_DIR=str(target_dir),
               RUSTFLAGS=f"-Zsanitizer=address -Zexternal-clangrt -Clink-arg={RUNTIME}",
               CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER=f"env LD_PRELOAD={RUNTIME}",
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0")
    return subprocess.run(["/usr/bin/cargo", "test", "--offline", "--target", HOST, *patches,
                           "--manifest-path", str(manifest), *args],
                          cwd=manifest.parent, env=env, capture_output=True, text=True, timeout=900)
