"""What a module author meets first, from a directory of their own: the docs' SConstruct as
written, a C file named like the module, and a Rust panic at init explained by `scons check`."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import PROJECTS, ROOT, scons

pytestmark = pytest.mark.e2e

def readme_block(after_heading: str, page: str = "docs/building.md") -> str:
    """The first ```python block after a heading of a docs page, as a user would copy it."""
    text = (ROOT / page).read_text()
    section = text.split(after_heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readmes_own_sconstruct_works_as_written(tmp_path):
    project = tmp_path / "mydrv"
    shutil.copytree(PROJECTS / "mydrv", project)
    sconstruct = readme_block("## In your own SConstruct")
    assert 'sources=["mydrv.c"]' in sconstruct          # the C file named like the module
    (project / "SConstruct").write_text(sconstruct.replace("/path/to/rustkmod", str(ROOT)))
    run = scons(project, "check")
    assert run.returncode == 0, run.output
    assert "mydrv: loaded, printed 'mydrv: ready', unloaded" in run.stdout
    assert not list(project.glob("*.o"))                    # built in build/, the sources stay clean
    # The crate's own #[used] .modinfo entry joined Kbuild's: one .modinfo, read whole by the loader
    # (the boot above fails on a forced load or a license taint).
    ko = next(project.glob("build/*/mydrv/mydrv.ko"))
    sections = subprocess.run(["readelf", "-SW", str(ko)], capture_output=True, text=True).stdout
    assert sections.count(" .modinfo ") == 1, sections
    info = subprocess.run(["modinfo", str(ko)], capture_output=True, text=True).stdout
    assert re.search(r"^author:\s+A Module Dev$", info, re.M) and re.search(r"^vermagic:\s+\S+", info, re.M), info
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


def readme_rust_block(after: str, page: str = "docs/crates.md") -> str:
    """The first ```rust block after `after` in a docs page, unindented (it sits in a list item)."""
    import textwrap
    section = (ROOT / page).read_text().split(after, 1)[1]
    return textwrap.dedent(re.search(r"( *)```rust\n(.*?)\n *```", section, re.S).group(2))


def test_the_readmes_allocator_example_works_as_written(tmp_path):
    """The README's #[global_allocator] snippet, verbatim, in a crate: Box and format! at init."""
    project = tmp_path / "readme_alloc"
    shutil.copytree(PROJECTS / "mydrv", project)
    snippet = readme_rust_block("- **`alloc`**")
    assert "#[global_allocator]" in snippet
    (project / "rust/src/lib.rs").write_text(snippet + '''
use alloc::{boxed::Box, format};

unsafe extern "C" {
    fn mydrv_log(msg: *const u8, len: usize);
    fn mydrv_bug(msg: *const u8, len: usize) -> !;
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    unsafe { mydrv_bug("mydrv: Rust panic".as_ptr(), 17) }
}

#[unsafe(no_mangle)]
pub extern "C" fn mydrv_init() -> i32 {
    let answer = Box::new(6 * 7);
    let line = format!("mydrv: allocated {answer}");
    unsafe { mydrv_log(line.as_ptr(), line.len()) };
    0
}
''')
    glue = project / "mydrv.c"
    glue.write_text(glue.read_text().replace("#include <linux/printk.h>", "#include <linux/printk.h>\n#include <linux/slab.h>\n\n"
        "void *my_kmalloc(size_t size);\nvoid *my_krealloc(void *ptr, size_t size);\nvoid my_kfree(void *ptr);\n"
        "void *my_kmalloc(size_t size) { return kmalloc(size, GFP_KERNEL); }\n"
        "void *my_krealloc(void *ptr, size_t size) { return krealloc(ptr, size, GFP_KERNEL); }\n"
        "void my_kfree(void *ptr) { kfree(ptr); }"))
    (project / "SConstruct").write_text(readme_block("## In your own SConstruct").replace("/path/to/rustkmod", str(ROOT))
                                        .replace('expect="mydrv: ready"', 'expect="mydrv: allocated 42"'))
    run = scons(project, "check", "OBJTOOL=strict")
    assert run.returncode == 0, run.output
    assert "printed 'mydrv: allocated 42'" in run.stdout
