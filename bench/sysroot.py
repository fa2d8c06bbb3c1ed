#!/usr/bin/env python3
"""First build of a fresh checkout: rustkmod with a warm sysroot cache, with a cold one, and the
plain way (`cargo build -Zbuild-std` in the crate, `ld -r`, `make -C KDIR M=... modules`).

Each rustkmod run is `scons` in a new copy of this checkout (no build directory); the warm run
uses the sysroot the cold run left. Run it from the venv: `./setup python bench/sysroot.py`.
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "site_scons"))

from rustkmod.elf import symbols  # noqa: E402
from rustkmod.kernel import kbuild  # noqa: E402
from rustkmod.rust import cargo, cfgs, profiles  # noqa: E402
from rustkmod.kernel.tree import Kernel, installed_headers_kdir  # noqa: E402
from plain import build_std_command  # noqa: E402

SCONS = str(Path(sys.executable).with_name("scons"))


def checkout(directory: Path) -> Path:
    for name in ("SConstruct", "site_scons", "hello", "kmod"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, directory / name, ignore=shutil.ignore_patterns("target", "__pycache__"))
        else:
            directory.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, directory / name)
    return directory


def timed(command, **kwargs) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, command))}\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return time.perf_counter() - start


def plain_way(tree: Path, kernel: Kernel) -> float:
    rustc = "/usr/bin/rustc"
    profile = profiles.select_profile("kernel", kernel, rustc, profiles.toolchain_info(rustc))
    crate = cargo.Crate.from_manifest(str(tree / "hello"))
    cfg = tree / "kernel-cfg.args"
    cfg.write_text(cfgs.kernel_cfg_text(kernel))
    command, env = build_std_command(profile, crate, tree / "hello" / "target", tree, str(cfg))
    start = time.perf_counter()
    timed(command, env=env, cwd=crate.directory)
    staticlib = tree / "hello" / "target" / profile.target / "release" / crate.staticlib_name
    module_dir = tree / "plain"
    module_dir.mkdir()
    obj = f"{crate.lib_name}_rust.o"
    roots = symbols.exported_symbols(str(staticlib), crate.lib_name)
    timed(["ld", "-r", "--gc-sections", "-o", str(module_dir / (obj + "_shipped")),
           *[a for r in roots for a in ("-u", r)], str(staticlib)])
    shutil.copy(tree / "kmod" / "module.c", module_dir)
    (module_dir / f".{obj}.cmd").write_text(kbuild.SHIPPED_CMD_TEXT.format(name=obj))
    (module_dir / "Kbuild").write_text(kbuild.kbuild_text("hello", ["module.o", obj]))
    cc, _ = kbuild.kbuild_cc(kernel, "", "")
    timed(["make", "-C", kernel.kdir, f"M={module_dir}", *kbuild.make_variables(kernel, "", cc), "-s", "modules"])
    return time.perf_counter() - start


def main() -> None:
    kernel = Kernel.from_kdir(installed_headers_kdir())
    with tempfile.TemporaryDirectory(prefix="rustkmod-bench-sysroot-") as temp:
        temp = Path(temp)
        cache = f"RUST_SYSROOT_CACHE={temp / 'sysroots'}"
        cold = timed([SCONS, "-Q", cache], cwd=checkout(temp / "cold"))
        warm = timed([SCONS, "-Q", cache], cwd=checkout(temp / "warm"))
        noop = timed([SCONS, "-Q", cache], cwd=temp / "warm")
        plain = plain_way(checkout(temp / "plain"), kernel)
    print(f"first build of a fresh checkout of hello ({kernel.release}), 2 cores")
    print(f"  rustkmod, warm sysroot cache        {warm:7.1f} s   (target: <= 10 s)")
    print(f"  rustkmod, cold sysroot cache        {cold:7.1f} s   (builds core, alloc, compiler_builtins)")
    print(f"  rustkmod, then a no-op              {noop:7.1f} s")
    print(f"  plain cargo -Zbuild-std + ld + make {plain:7.1f} s   (compiles core in the crate)")


if __name__ == "__main__":
    main()
