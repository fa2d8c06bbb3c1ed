#!/usr/bin/env python3
"""Modules on the kernel crate against their C-glue forms: the size of each `.ko` (the file, and
what the kernel allocates for it: its SHF_ALLOC sections, debug info aside), and the first build
of a module crate on a warm machine (the shared sysroot built, cargo's registry at hand; the
crate's own target directory empty).

  examples/minimal   (module! + Module + pr_info!, no C)    against hello/ + kmod/ (C glue)
  examples/ringdev   (a misc device with no C)              against examples/ringdev-c
  examples/edu       (a PCI driver: MMIO, an interrupt, DMA; no C, nothing to compare it with)

Run it from the venv: `./setup python bench/kernel_crate.py`. Each project is copied to a
temporary directory and built for the default kernel (or KDIR).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

ROOT = Path(__file__).resolve().parent.parent
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
SCONS = str(Path(sys.executable).with_name("scons"))

# (label, files of the checkout to copy, directory to build in, the .ko's name)
PROJECTS = [
    ("minimal (kernel crate, no C)", ["examples/minimal"], "examples/minimal", "minimal"),
    ("hello (C glue, rustkmod-rt)", ["SConstruct", "site_scons", "hello", "kmod"], ".", "hello"),
    ("ringdev (kernel crate, no C)", ["examples/ringdev"], "examples/ringdev", "ringdev"),
    ("ringdev-c (C glue, bindings)", ["site_scons", "examples/ringdev-c"], "examples/ringdev-c", "ringdev"),
    ("edu (PCI driver, kernel crate)", ["examples/edu"], "examples/edu", "edu"),
]


def allocated(ko: Path) -> int:
    """The bytes the loader allocates: every SHF_ALLOC section (what `size` calls text+data+bss)."""
    with open(ko, "rb") as handle:
        return sum(s["sh_size"] for s in ELFFile(handle).iter_sections() if s["sh_flags"] & SH_FLAGS.SHF_ALLOC)


def build(work: Path, files: list[str], directory: str, name: str) -> tuple[float, Path]:
    for item in files:
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(source, work / item, ignore=shutil.ignore_patterns("build", "target", ".sconsign*", "__pycache__"))
        else:
            (work / item).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, work / item)
    start = time.perf_counter()
    subprocess.run([SCONS, "-Q", "-j2"], cwd=work / directory, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=dict(os.environ, RUSTKMOD=str(ROOT)))
    elapsed = time.perf_counter() - start
    return elapsed, next((work / directory / "build").glob(f"*/{name}/{name}.ko"))


def main() -> None:
    print(f"{'module':<32} {'.ko file':>10} {'allocated':>10} {'first build':>12}")
    with tempfile.TemporaryDirectory(prefix="rustkmod-bench-kernel-crate-") as temporary:
        for label, files, directory, name in PROJECTS:
            work = Path(temporary) / label.split()[0]
            elapsed, ko = build(work, files, directory, name)
            print(f"{label:<32} {ko.stat().st_size:>9,}B {allocated(ko):>9,}B {elapsed:>11.1f}s")


if __name__ == "__main__":
    main()
