"""Shared by the tests: project copies, running scons as a user does, and synthetic ELF files."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from rustkmod.kernel.tree import installed_headers_kdir
from rustkmod_scons.common import LABELS

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = ROOT / "tests" / "projects"       # module authors' own projects, outside the checkout's build
PROJECT_FILES = ("SConstruct", "site_scons", "hello", "kmod", "examples")
SCONS = str(Path(sys.executable).with_name("scons"))

# The progress labels of rustkmod's builders ($CARGOCOMSTR, ...), one line each in scons' output.
STEPS = tuple(LABELS)


def fetch_kernels(*names: str, timeout: int = 1800) -> dict:
    """{name: ProvisionedKernel} of Debian kernels fetched into the user's cache by the CLI, as a
    user does (a no-op once they are there)."""
    from rustkmod.kernel import debian
    result = subprocess.run([sys.executable, "-m", "rustkmod", "fetch-kernel", *names], cwd=ROOT / "site_scons",
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    cache = debian.default_cache()
    return {name: debian.lookup(debian.KernelSpec.parse(name), cache) for name in names}


def kernel_summary(run, module: str = "hello") -> dict:
    """{kernel: state} from the per-kernel summary scons prints at the end of a run."""
    import re
    import itertools
    lines = run.stdout.split("rustkmod: per-kernel summary\n", 1)[1].splitlines()
    summary = itertools.takewhile(lambda line: line.startswith("  "), lines)    # this run's, not a later one's
    return dict(re.match(rf"  {module} for (\S+): (.*)", line).groups() for line in summary
                if line.startswith(f"  {module} for"))


def outside_project(name: str, tmp_path: Path) -> tuple[Path, dict]:
    """A copy of tests/projects/NAME in a fresh directory, and the environment its SConstruct
    needs to find the tool (RUSTKMOD=the checkout)."""
    import os
    project = tmp_path / "author" / name
    shutil.copytree(PROJECTS / name, project)
    return project, dict(os.environ, RUSTKMOD=str(ROOT))


def built_outside_project(name: str, tmp_path: Path, *args: str, timeout: int = 1800) -> tuple[Path, dict, "Run"]:
    """outside_project(), then `scons -j2 ARGS` in it, which must succeed: (project, env, run)."""
    project, env = outside_project(name, tmp_path)
    run = scons(project, "-j2", *args, env=env, timeout=timeout)
    assert run.returncode == 0, run.output
    return project, env, run


def module_dir(project: Path) -> Path:
    """Where the hello module of `project` is built for the default kernel."""
    from rustkmod.kernel.tree import Kernel
    return project / "build" / Kernel.from_kdir(default_kdir()).name / "hello"


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
                            ignore=shutil.ignore_patterns("__pycache__", "target", "build", ".sconsign*"))
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


def one_error_line(run: Run) -> str:
    """The run failed with exactly one `scons: ***` line, no traceback, no SCons location line and
    no second "Error 1" line; returns that line."""
    assert run.returncode != 0, run.output
    assert "Traceback" not in run.output and 'File "' not in run.output, run.output
    errors = [line for line in run.stderr.splitlines() if line.startswith("scons: *** ")]
    assert len(errors) == 1, run.stderr
    assert "Error 1" not in run.output, run.output
    return errors[0]


def assemble(source: str, output: Path, assembler: str = "as") -> Path:
    """Assembles `source` into a relocatable object: any relocation type via .reloc directives."""
    asm = output.with_suffix(".s")
    asm.write_text(source)
    subprocess.run([assembler, "-o", str(output), str(asm)], check=True, capture_output=True)
    return output


# Per architecture: the assembler, and a relocation it knows that fills a pointer-sized slot.
ASSEMBLERS = {
    "x86_64": (["as"], "R_X86_64_64", ".quad 0"),
    "i386": (["as", "--32"], "R_386_32", ".long 0"),
    "arm64": (["aarch64-linux-gnu-as"], "R_AARCH64_ABS64", ".quad 0"),
    "arm": (["arm-linux-gnueabi-as"], "R_ARM_ABS32", ".long 0"),
    "riscv64": (["riscv64-linux-gnu-as", "-mno-relax"], "R_RISCV_64", ".quad 0"),
}


def assemble_for(arch: str, source: str, output: Path) -> Path:
    command, _, _ = ASSEMBLERS[arch]
    asm = output.with_suffix(".s")
    asm.write_text(source)
    subprocess.run([*command, "-o", str(output), str(asm)], check=True, capture_output=True)
    return output


def object_with_types(arch: str, types: list[int], output: Path, symbol: str = "ext",
                      extra: str = "") -> Path:
    """An object whose function `f` in .text holds one relocation of each number in `types`.

    The assembler writes placeholder relocations; their type fields are then set directly, so
    any number can be tested, including types the assembler has no name for.
    """
    _, placeholder, slot = ASSEMBLERS[arch]
    body = "".join(f"  .reloc ., {placeholder}, {symbol}\n  {slot}\n" for _ in types)
    source = f".text\n.globl f\n.type f, %function\nf:\n{body}.size f, .-f\n{extra}\n"
    obj = assemble_for(arch, source, output)
    set_types(obj, types)
    return obj


def set_types(path: Path, types: list[int]) -> None:
    """Sets the type of the i-th relocation of the file's first allocated relocation section."""
    from rustkmod.elf.reader import ElfTables
    with open(path, "r+b") as stream:
        tables = ElfTables(stream, str(path))
        table = next(tables.relocation_tables())
        assert len(table.types) == len(types)
        wide = tables.bits == 64
        word = table.entry_size // (3 if table.is_rela else 2)
        endian = tables.endian
        for i, number in enumerate(types):
            symbol = int(table.symbols[i])
            info = symbol << 32 | number if wide else symbol << 8 | number
            stream.seek(table.file_offset + i * table.entry_size + word)
            stream.write(struct.pack(endian + ("Q" if wide else "I"), info))


def with_first_relocation_repeated(path: Path, count: int, output: Path) -> Path:
    """`output`: the ELF64 object `path` with its first applied relocation section's first entry
    repeated `count` times (appended, the section header pointing there): a small object that
    holds as many relocations as wanted (the verifier's bounds, bench/verify.py)."""
    from rustkmod.elf.reader import ElfTables
    data = bytearray(path.read_bytes())
    section = ElfTables(bytes(data), str(path)).applied_relocation_sections()[0]
    entry = bytes(data[section.offset:section.offset + 24])
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, = struct.unpack_from("<H", data, 0x3A)
    struct.pack_into("<QQ", data, shoff + section.index * shentsize + 24, len(data), 24 * count)  # sh_offset, sh_size
    output.write_bytes(bytes(data) + entry * count)
    return output


def kbuild_modules(kernel, directory: Path) -> None:
    """`make -C KDIR M=directory modules` as rustkmod runs it for `kernel` (a tree.Kernel): in its
    build root where it has one, with its cross compiler and CC; the build must succeed."""
    from rustkmod.kernel import kbuild, suite_roots
    root = suite_roots.root_of(kernel.kdir)          # Debian 13's and 7.x kernels: Kbuild in their build root
    cross = kbuild.cross_compile_for(kernel, "")
    cc, _ = kbuild.kbuild_cc(kernel, cross, "")
    make = ["make", "-C", suite_roots.inside(root, kernel.kdir), f"M={directory}", *kbuild.make_variables(kernel, cross, cc),
            "-s", "-j2", "modules"]
    result = subprocess.run(suite_roots.command(root, make, str(directory), [str(directory)]), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
