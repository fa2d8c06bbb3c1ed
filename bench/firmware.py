#!/usr/bin/env python3
"""Firmware-sized build: 4 Rust modules x 2 kernels (the default headers and Debian's 6.12).

Prints, side by side:
  1. rustkmod, clean checkout, empty CacheDir and sysroot cache (`scons -j2 CACHE_DIR=...`)
  2. rustkmod, another clean checkout elsewhere, the CacheDir of run 1 warm
  3. the plain way: for each module and kernel, `cargo build` in the crate (its own target
     directory, as `cargo build` there does), `ld -r`, `make -C KDIR M=... modules`, one by one
and how many times `core` was compiled in each. Run from the venv: `./setup python bench/firmware.py`.
It takes 10 to 20 minutes on 2 cores; everything happens under a temporary directory.
"""

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "site_scons"))

from rustkmod.elf import symbols  # noqa: E402
from rustkmod.kernel import debian, kbuild  # noqa: E402
from rustkmod.rust import cargo, cfgs, profiles  # noqa: E402
from rustkmod.kernel.tree import Kernel, installed_headers_kdir  # noqa: E402
from plain import build_std_command  # noqa: E402

SCONS = str(Path(sys.executable).with_name("scons"))
MODULES = [f"rkbench{n}" for n in range(1, 5)]
TEMPLATE = ROOT / "examples" / "firmware" / "modules" / "counter"

SCONSTRUCT = """\
DefaultEnvironment(tools=[])
env = Environment(tools=["rustkmod_scons"], toolpath=[{tools!r}])
for n in range(1, 5):
    module = env.RustKernelModule(f"rkbench{{n}}", crate=f"bench{{n}}", sources=[f"bench{{n}}/module.c"])
    env.Default(module.verified)
"""


def make_tree(directory: Path) -> Path:
    """A checkout with four modules made from the rkcounter example, each with its own names."""
    directory.mkdir(parents=True)
    for n in range(1, 5):
        crate = directory / f"bench{n}"
        shutil.copytree(TEMPLATE, crate, ignore=shutil.ignore_patterns("target"))
        for path in [p for p in crate.rglob("*") if p.is_file()]:
            text = path.read_text().replace("rkcounter", f"rkbench{n}").replace('"counter"', f'"bench{n}"')
            path.write_text(text)
    (directory / "SConstruct").write_text(SCONSTRUCT.format(tools=str(ROOT / "site_scons" / "site_tools")))
    return directory


def timed(command, **kwargs) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, command))}\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return time.perf_counter() - start, result.stdout + result.stderr


def plain_way(tree: Path, kernels: list[Kernel]) -> tuple[float, int]:
    """cargo + ld -r + make for each module and kernel, one after the other."""
    rustc, total, cores = "/usr/bin/rustc", 0.0, 0
    info = profiles.toolchain_info(rustc)
    for n in range(1, 5):
        crate = cargo.Crate.from_manifest(str(tree / f"bench{n}"))
        for kernel in kernels:
            profile = profiles.select_profile("kernel", kernel, rustc, info)
            target_dir = tree / f"bench{n}" / "target"
            cfg = tree / f"cfg-{kernel.name}.args"
            cfg.write_text(cfgs.kernel_cfg_text(kernel))
            command, env = build_std_command(profile, crate, target_dir, tree, str(cfg) if profile.kernel_cfg else None)
            command = [c for c in command if c != "--quiet"]
            seconds, output = timed(command, env=env, cwd=crate.directory)
            cores += len(re.findall(r"Compiling core v", output))
            staticlib = target_dir / profile.target / "release" / crate.staticlib_name
            module_dir = tree / "plain" / kernel.name / f"rkbench{n}"
            module_dir.mkdir(parents=True, exist_ok=True)
            roots = symbols.exported_symbols(str(staticlib), crate.lib_name)
            obj = f"{crate.lib_name}_rust.o"
            start = time.perf_counter()
            subprocess.run(["ld", "-r", "--gc-sections", "-o", str(module_dir / (obj + "_shipped")),
                            *[a for r in roots for a in ("-u", r)], str(staticlib)], check=True)
            shutil.copy(tree / f"bench{n}" / "module.c", module_dir)
            (module_dir / f".{obj}.cmd").write_text(kbuild.SHIPPED_CMD_TEXT.format(name=obj))
            (module_dir / "Kbuild").write_text(kbuild.kbuild_text(f"rkbench{n}", ["module.o", obj]))
            cc, _ = kbuild.kbuild_cc(kernel, "", "")
            subprocess.run(["make", "-C", kernel.kdir, f"M={module_dir}", *kbuild.make_variables(kernel, "", cc),
                            "-s", "-j2", "modules"], check=True, capture_output=True)
            total += seconds + time.perf_counter() - start
    return total, cores


def main() -> None:
    fetched = subprocess.run([sys.executable, "-m", "rustkmod", "fetch-kernel", "6.12"], cwd=ROOT / "site_scons",
                             capture_output=True, text=True, check=True).stdout
    kdirs = [installed_headers_kdir(), re.search(r"KDIR=(\S+)", fetched).group(1)]
    kernels = [Kernel.from_kdir(k) for k in kdirs]
    with tempfile.TemporaryDirectory(prefix="rustkmod-bench-") as temp:
        temp = Path(temp)
        variables = [f"KERNELS={','.join(kdirs)}", "-j2", f"RUST_SYSROOT_CACHE={temp / 'sysroots'}"]
        cache = f"CACHE_DIR={temp / 'cache'}"
        first = make_tree(temp / "first")
        clean, output = timed([SCONS, *variables, cache], cwd=first)
        clean_cores = output.count("built the sysroot")
        again, _ = timed([SCONS, *variables, cache], cwd=first)
        second = make_tree(temp / "elsewhere" / "second")
        warm, output = timed([SCONS, *variables, cache], cwd=second)
        warm_steps = len(re.findall(r"^(CARGO|KBUILD) ", output, re.M))
        plain_tree = make_tree(temp / "plain")
        plain, plain_cores = plain_way(plain_tree, kernels)
    print(f"4 modules x 2 kernels ({', '.join(k.release for k in kernels)}), 2 cores")
    print(f"  rustkmod, clean checkout, empty CacheDir   {clean:7.1f} s   core compiled {clean_cores}x")
    print(f"  rustkmod, same checkout, no-op             {again:7.1f} s")
    print(f"  rustkmod, new checkout, warm CacheDir      {warm:7.1f} s   cargo/Kbuild steps run: {warm_steps}")
    print(f"  plain cargo + ld -r + make, one by one     {plain:7.1f} s   core compiled {plain_cores}x")
    print(f"  clean rustkmod / plain                     {clean / plain:7.2f}")


if __name__ == "__main__":
    debian.default_cache()
    main()
