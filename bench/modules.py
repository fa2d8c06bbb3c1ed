#!/usr/bin/env python3
"""Many modules in one SConstruct: first build, no-op and a one-module edit for N = 1, 10, 30 small
modules (rustkmod-rt, a Vec, the default kernel), each its own crate or all on one shared framework
crate, against a trivial SConstruct and the plain way (`cargo build` then `make -C KDIR M=...`
per module). It first prints SCons' own floor: the no-op of a SConstruct of N chains of 1 and 4
Command nodes with no rustkmod in it, what SCons costs for that many nodes whatever the tool.

Run it from the venv: `./setup python bench/modules.py [N ...]` (default 1 10 30). A tree is
generated in a temporary directory per (N, shape); the figures are medians of a few runs.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)      # timed as users run it, with bytecode caches
sys.path.insert(0, str(ROOT / "site_scons"))
sys.path.insert(0, str(ROOT / "bench"))

from rustkmod.kernel.tree import installed_headers_kdir  # noqa: E402

SCONS = str(Path(sys.executable).with_name("scons"))
RUNTIME = ROOT / "site_scons" / "rustkmod_rt"
MODULE_RS = """#![no_std]
extern crate alloc;
{use_runtime}
#[unsafe(no_mangle)]
pub extern "C" fn m{n}_init() -> i32 {{
    let mut values = alloc::vec::Vec::new();
    values.push({n}i32);
    {log}
    0
}}
"""
MODULE_C = """#include <linux/module.h>
int m{n}_init(void);
static int __init start(void) {{ return m{n}_init(); }}
static void __exit stop(void) {{ }}
module_init(start);
module_exit(stop);
MODULE_LICENSE("GPL");
"""
FRAMEWORK_RS = """#![no_std]
extern crate rustkmod_rt;
pub fn log(n: i32) { rustkmod_rt::pr_info!("module {} up", n); }
"""
RUNTIME_DEP = 'rustkmod-rt = {{ path = "{path}", features = ["global-allocator", "panic-handler"] }}\n'


def make_tree(root: Path, count: int, framework: bool) -> Path:
    """A project of `count` modules m0..m{count-1}; with `framework`, all on one crate `fw`."""
    root.mkdir(parents=True)
    runtime = RUNTIME_DEP.format(path=RUNTIME)
    if framework:
        (root / "fw" / "src").mkdir(parents=True)
        (root / "fw" / "Cargo.toml").write_text('[package]\nname = "fw"\nversion = "0.1.0"\nedition = "2024"\n'
                                                 f"[dependencies]\n{runtime}")
        (root / "fw" / "src" / "lib.rs").write_text(FRAMEWORK_RS)
    for n in range(count):
        crate = root / f"m{n}"
        (crate / "src").mkdir(parents=True)
        dependency = 'fw = { path = "../fw" }\n' if framework else runtime
        (crate / "Cargo.toml").write_text(f'[package]\nname = "m{n}"\nversion = "0.1.0"\nedition = "2024"\n'
                                          '[lib]\ncrate-type = ["staticlib"]\n[profile.release]\npanic = "abort"\n'
                                          f"[dependencies]\n{dependency}")
        (crate / "src" / "lib.rs").write_text(MODULE_RS.format(
            n=n, use_runtime="" if framework else "extern crate rustkmod_rt;",
            log=f"fw::log({n});" if framework else f'rustkmod_rt::pr_info!("module {{}} up", {n});'))
        (crate / f"m{n}.c").write_text(MODULE_C.format(n=n))
    (root / "SConstruct").write_text(
        "import os\nDefaultEnvironment(tools=[])\n"
        f"env = Environment(tools=['rustkmod_scons'], toolpath=[{str(ROOT / 'site_scons' / 'site_tools')!r}])\n"
        f"for n in range({count}):\n"
        "    env.Default(env.RustKernelModule(f'm{n}', crate=f'm{n}', sources=[f'm{n}/m{n}.c']).verified)\n")
    return root


def scons_floor(root: Path, count: int, chain: int) -> Path:
    """A SConstruct with no rustkmod in it: `count` chains of `chain` Command nodes, each node with
    five source files and a Value, as a module's graph has. Its no-op is what SCons itself costs
    for that many nodes: the floor under any tool that keeps one node per step."""
    root.mkdir(parents=True)
    for n in range(count):
        for f in range(5):
            (root / f"s{n}-{f}").write_text(f"{n} {f}\n")
    (root / "SConstruct").write_text(
        "DefaultEnvironment(tools=[])\nenv = Environment(tools=[])\n"
        f"for n in range({count}):\n"
        "    step = [f's{n}-{f}' for f in range(5)]\n"
        f"    for s in range({chain}):\n"
        "        step = env.Command(f'out/{n}/{s}', step + [Value(f'settings {n} {s}')],"
        " Copy('$TARGET', '${SOURCES[0]}'))\n"
        "    env.Default(step)\n")
    return root


def timed(command, cwd, runs: int = 1) -> float:
    """The median of `runs` runs of `command`, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plain(root: Path, count: int, kdir: str) -> float:
    """The plain way, once: for each module `cargo build -Zbuild-std` (bench/plain.py: the kernel
    profile's flags; one target directory for all, as a cargo workspace has it, so core is
    compiled once) then `make -C KDIR M=<module dir> modules` (the Rust object's
    link into it, `ld -r` rooted at its init function, and rustkmod-rt's C half included).
    Returns its wall time."""
    from plain import build_std_command
    from rustkmod.kernel.tree import Kernel
    from rustkmod.rust import profiles
    from rustkmod.rust.cargo import Crate
    profile = profiles.select_profile("kernel", Kernel.from_kdir(kdir), "/usr/bin/rustc",
                                      profiles.toolchain_info("/usr/bin/rustc"))
    start = time.perf_counter()
    for n in range(count):
        crate = root / f"m{n}"
        command, env = build_std_command(profile, Crate.from_manifest(str(crate)), root / "target-plain", root / "work")
        subprocess.run(command, cwd=crate, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the plain module: the staticlib linked into one object Kbuild ships, and rustkmod-rt's C half
        library = root / "target-plain" / "x86_64-unknown-none" / "release" / f"libm{n}.a"
        subprocess.run(["ld", "-r", "--gc-sections", "-u", f"m{n}_init", "-o", str(crate / f"m{n}_rust.o_shipped"),
                        str(library)], check=True)
        (crate / f".m{n}_rust.o.cmd").write_text(f"cmd_{crate}/m{n}_rust.o := cp $< $@\n")
        shutil.copyfile(RUNTIME / "c" / "rustkmod_rt.c", crate / "rustkmod_rt.c")
        (crate / "Kbuild").write_text(f"obj-m := m{n}_mod.o\nm{n}_mod-y := m{n}.o m{n}_rust.o rustkmod_rt.o\n")
        subprocess.run(["make", "-s", "-C", kdir, f"M={crate}", "modules"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(counts: list[int]) -> None:
    kdir = os.environ.get("KDIR") or installed_headers_kdir()
    work = Path(tempfile.mkdtemp(prefix="rustkmod-bench-modules-"))
    try:
        trivial = work / "trivial"
        trivial.mkdir()
        (trivial / "SConstruct").write_text("DefaultEnvironment(tools=[])\nenv = Environment(tools=[])\n"
                                            "env.Default(env.Command('a', [], Touch('$TARGET')))\n")
        timed([SCONS, "-Q"], trivial)
        base = timed([SCONS, "-Q"], trivial, runs=9)
        print(f"trivial SConstruct, no-op: {base * 1000:.0f} ms")
        for count in counts:
            for chain in (1, 4):
                floor = scons_floor(work / f"floor-{count}-{chain}", count, chain)
                timed([SCONS, "-Q"], floor)
                noop = timed([SCONS, "-Q"], floor, runs=5)
                print(f"SCons alone, {count} x {chain} Command node(s) (5 files and a Value each), no-op: "
                      f"{noop * 1000:.0f} ms ({noop / base:.1f}x trivial)")
        print(f"{'modules':>7} {'shape':<10} {'first build':>12} {'no-op':>8} {'x trivial':>9} {'edit one':>9}"
              f" {'plain no-op':>12}")
        for count in counts:
            for framework in (False, True):
                tree = make_tree(work / f"n{count}-{'fw' if framework else 'own'}", count, framework)
                first = timed([SCONS, "-Q", "-j2"], tree)
                noop = timed([SCONS, "-Q"], tree, runs=5)
                edited = tree / "m0" / "src" / "lib.rs"        # a code change: cargo, ld -r, Kbuild, verify
                edited.write_text(edited.read_text().replace("values.push(0i32);", "values.push(0i32 + 1);"))
                edit = timed([SCONS, "-Q", "-j2"], tree)
                plain_noop = float("nan")
                if not framework:
                    plain(tree, count, kdir)                     # builds
                    plain_noop = plain(tree, count, kdir)        # the second pass is the no-op
                plain_text = f"{plain_noop:>11.1f}s" if plain_noop == plain_noop else f"{'-':>12}"
                print(f"{count:>7} {'framework' if framework else 'own crate':<10} {first:>11.1f}s "
                      f"{noop * 1000:>6.0f}ms {noop / base:>8.1f}x {edit:>8.1f}s {plain_text}")
                shutil.rmtree(tree)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 10, 30])
