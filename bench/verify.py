#!/usr/bin/env python3
"""Verification speed: `rustkmod check` versus `readelf -rW FILE > /dev/null` on the same files.

Files: hello.ko as the build makes it, a partial link of a debug build of `core` (tens of
thousands of relocations), and a synthetic object of 600,000 applied relocations made with `as`,
both built once into build/bench/. Prints the median of RUNS timings of: the check in-process
against the default kernel's whole target (exports, thunk disassembly), the whole
`python -m rustkmod check --arch x86_64 --kernel 6.1` command, and readelf; the ratio is the
command's to readelf's. Run from the venv: `./setup python bench/verify.py [RUNS]`.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Timed as users run it: with Python's bytecode cache (this machine's environment turns it off).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.path[:0] = [str(ROOT / "site_scons"), str(ROOT / "site_scons" / "site_tools"), str(ROOT / "tests")]

from rustkmod.rust import profiles  # noqa: E402
from rustkmod.rust.cargo import Crate  # noqa: E402
from rustkmod.kernel.tree import Kernel, installed_headers_kdir  # noqa: E402
from rustkmod.verify import check_file, target_for_kernel  # noqa: E402
from plain import build_std_command  # noqa: E402
from helpers import with_first_relocation_repeated  # noqa: E402

SCONS = str(Path(sys.executable).with_name("scons"))


def large_object(kernel: Kernel) -> Path:
    """ld -r of every object in a debug (unoptimised) build of core for the kernel target."""
    out = ROOT / "build" / "bench" / "core-debug.o"
    if out.exists():
        return out
    rustc = "/usr/bin/rustc"
    toolchain = profiles.toolchain_info(rustc)
    profile = profiles.select_profile("kernel", kernel, rustc, toolchain)
    target_dir = ROOT / "build" / "bench" / "cargo"
    crate = Crate.from_manifest(str(ROOT / "hello"))
    command, env = build_std_command(profile, crate, target_dir, target_dir, release=False)
    subprocess.run(command, env=env, check=True, cwd=crate.directory)
    rlib = next((target_dir / profile.target / "debug" / "deps").glob("libcore-*.rlib"))
    members = target_dir / "core-members"
    members.mkdir(exist_ok=True)
    subprocess.run(["ar", "x", str(rlib)], cwd=members, check=True)
    subprocess.run(["ld", "-r", "-o", str(out), *sorted(str(p) for p in members.glob("*.o"))], check=True)
    return out


def synthetic_object(count: int = 300_000) -> Path:
    """An object with 2 x `count` relocations, most of them applied (`call eN@PLT`, `.quad eN`)."""
    out = ROOT / "build" / "bench" / f"relocs-{2 * count}.o"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    source = out.with_suffix(".s")
    with open(source, "w") as handle:
        handle.write(".text\n.globl f\n.type f,@function\nf:\n")
        handle.writelines(f"call e{i}@PLT\n" for i in range(count))
        handle.write(".size f, .-f\n.data\n")
        handle.writelines(f".quad e{i}\n" for i in range(count))
    subprocess.run(["as", "-o", str(out), str(source)], check=True)
    return out


def peak_memory_mib(command: list, cwd) -> float:
    """The peak resident memory of one run of `command`, read by a small Python parent of its own
    (a child forked from this process would count the pages it shares with it)."""
    measure = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", measure, *command], cwd=cwd, capture_output=True, text=True,
                            check=True)
    return int(result.stdout) / 1024


def refused_object(count: int) -> Path:
    """A module of `count` R_X86_64_GOTPCREL entries (one entry repeated): every one refused, the
    worst case for the report's memory."""
    out = ROOT / "build" / "bench" / f"refused-{count}.ko"
    if out.exists():
        return out
    source = out.with_suffix(".s")
    source.write_text(".text\nf: mov e@GOTPCREL(%rip), %rax\n.section .gnu.linkonce.this_module,\"aw\"\n.quad 0\n"
                      ".section .modinfo,\"a\"\n.asciz \"license=GPL\"\n")
    obj = out.with_suffix(".o")
    subprocess.run(["as", "-o", str(obj), str(source)], check=True)
    return with_first_relocation_repeated(obj, count, out)


def median_seconds(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(runs: int) -> None:
    subprocess.run([SCONS, "-Q"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    kernel = Kernel.from_kdir(os.environ.get("KDIR") or installed_headers_kdir())
    target = target_for_kernel(kernel)
    files = [ROOT / "build" / kernel.name / "hello" / "hello.ko", large_object(kernel), synthetic_object(),
             refused_object(5_000_000)]
    print(f"verification vs readelf -rW, median of {runs} runs ({target.description})")
    for path in files:
        relocations = sum(check_file(str(path), target).type_counts.values())
        size_mib = path.stat().st_size / 2**20
        ours = median_seconds(lambda: check_file(str(path), target), runs)
        command = [sys.executable, "-m", "rustkmod", "check", str(path), "--arch", "x86_64", "--kernel", "6.1"]
        cli = median_seconds(lambda: subprocess.run(command, cwd=ROOT / "site_scons", stdout=subprocess.DEVNULL), runs)
        peak = peak_memory_mib(command, ROOT / "site_scons")
        readelf = median_seconds(lambda: subprocess.run(["readelf", "-rW", str(path)], check=True,
                                                        stdout=subprocess.DEVNULL), runs)
        print(f"  {path.name:<16} {relocations:>8} relocations   check {ours * 1000:7.1f} ms   "
              f"python -m rustkmod check {cli * 1000:7.1f} ms, peak {peak:5.0f} MiB ({size_mib:5.1f} MiB file)   "
              f"readelf {readelf * 1000:7.1f} ms   "
              f"ratio {cli / readelf:5.2f} (whole command; target <= 1.0)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
