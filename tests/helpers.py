"""Shared by the tests: project copies, running scons as a user does, and synthetic ELF files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from rustkmod.kernel import installed_headers_kdir

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("SConstruct", "site_scons", "hello", "kmod")
SCONS = str(Path(sys.executable).with_name("scons"))

# The progress labels of rustkmod's builders, one line each in scons' output.
STEPS = ("CARGO", "LD -r", "STAGE", "GEN", "KBUILD", "VERIFY", "BOOT")


def default_kdir() -> str:
    kdir = installed_headers_kdir()
    assert kdir, "the default kernel headers are missing: run ./setup"
    return kdir


def copy_project(destination: Path) -> Path:
    """A fresh copy of the project's sources, as a user's checkout (no build outputs)."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name,
                            ignore=shutil.ignore_patterns("__pycache__", "target"))
        else:
            shutil.copy2(source, destination / name)
    return destination


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def steps(self) -> list[str]:
        """The builder steps that ran, in order: ['CARGO', 'LD -r', ...]."""
        return [s for line in self.stdout.splitlines() for s in STEPS if line.startswith(s + " ")]


def scons(project: Path, *args: str, timeout: int = 900, env: dict | None = None) -> Run:
    result = subprocess.run([SCONS, *args], cwd=project, capture_output=True, text=True,
                            timeout=timeout, env=env)
    return Run(result.returncode, result.stdout, result.stderr)


def assemble(source: str, output: Path, assembler: str = "as") -> Path:
    """Assembles `source` into a relocatable object: any relocation type via .reloc directives."""
    asm = output.with_suffix(".s")
    asm.write_text(source)
    subprocess.run([assembler, "-o", str(output), str(asm)], check=True, capture_output=True)
    return output
