"""What a module author meets first, from a directory of their own: the README's SConstruct as
written, a C file named like the module, and a Rust panic at init explained by `scons check`."""

import os
import re
import shutil
from pathlib import Path

import pytest

from helpers import ROOT, scons

pytestmark = pytest.mark.e2e

PROJECTS = Path(__file__).resolve().parent.parent / "projects"


def readme_block(after_heading: str) -> str:
    """The first ```python block after a README heading, as a user would copy it."""
    text = (ROOT / "README.md").read_text()
    section = text.split(after_heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readmes_own_sconstruct_works_as_written(tmp_path):
    project = tmp_path / "mydrv"
    shutil.copytree(PROJECTS / "mydrv", project)
    sconstruct = readme_block("### In your own SConstruct")
    assert 'sources=["mydrv.c"]' in sconstruct          # the C file named like the module
    (project / "SConstruct").write_text(sconstruct.replace("/path/to/rustkmod", str(ROOT)))
    run = scons(project, "check")
    assert run.returncode == 0, run.output
    assert "mydrv: loaded, printed 'mydrv: ready', unloaded" in run.stdout
    assert not list(project.glob("*.o"))                    # built in build/, the sources stay clean
    assert scons(project, "-q").returncode == 0


def test_a_rust_panic_at_init_is_explained(tmp_path):
    project = tmp_path / "kalloc"
    shutil.copytree(PROJECTS / "kalloc", project)
    env = dict(os.environ, RUSTKMOD=str(ROOT))
    run = scons(project, "check", "KCFLAGS=-DKALLOC_FAULT=6", env=env)
    assert run.returncode != 0
    assert "Traceback" not in run.output
    # The panic's message with the file and line, the demangled frames, and where the whole log is.
    assert re.search(r"kernel: .*kalloc: Rust panic: index out of bounds: the len is 10 but the index is 16 "
                     r"at src/lib\.rs:\d+", run.stderr), run.stderr
    assert re.search(r"kernel: .*core\[\w+\]::panicking::panic_bounds_check\+0x\w+/0x\w+ \[kalloc\]", run.stderr)
    log = re.search(r"console log: (\S+)\)", run.stderr).group(1)
    assert "Kernel panic - not syncing: kalloc: Rust panic" in Path(log).read_text()
