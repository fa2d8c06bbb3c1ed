"""examples/ringdev-c: ringdev as it was before the kernel crate, a driver-shaped module (a misc character device whose logic is Rust, on
rustkmod-rt's allocator, log macros and panic handler, copying the user's buffers itself through
bindings generated per kernel) built, verified and booted with device I/O on 5.10, 6.1, 6.12 and
arm64 6.1 in one run; its Rust logic tested on the host."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from helpers import copy_project, fetch_kernels, scons

pytestmark = pytest.mark.e2e

KERNELS = ["5.10", "6.1", "6.12", "6.1-arm64"]


@pytest.fixture(scope="module")
def ringdev(tmp_path_factory):
    fetch_kernels(*KERNELS)
    return copy_project(tmp_path_factory.mktemp("ringdev") / "checkout") / "examples" / "ringdev-c"


def test_the_device_works_on_every_kernel(ringdev):
    run = scons(ringdev, "-j2", "check", f"KERNELS={','.join(KERNELS)}", timeout=1800)
    assert run.returncode == 0, run.output
    summary = run.stdout.split("rustkmod: per-kernel summary\n", 1)[1]
    assert len(re.findall(r"ringdev for \S+: built, verified, booted", summary)) == 4, summary
    # Written to and read back through /dev/ringdev, statistics from the Rust side, on each kernel.
    assert run.stdout.count("printed 'ringdev: ready, 64 bytes', 'hello, ring', 'opens=4 writes=2 reads=4 "
                            "written=11 read=11 dropped=0 commands=1'") == 4
    # rustkmod-rt's C half joined the module without the SConstruct naming it.
    assert len(list(ringdev.glob("build/*/ringdev/rustkmod_rt.c"))) == 4
    # The C file is named like the module: compiled through the generated wrapper.
    assert all('#include "ringdev.c"' in p.read_text() for p in ringdev.glob("build/*/ringdev/ringdev_c.c"))
    # The user copies are Rust's, through each kernel's bindings: copy_to_user (a static inline
    # function) through its C helper, EFAULT (a macro) as a constant.
    modules = list(ringdev.glob("build/*/ringdev/ringdev.ko"))
    assert len(modules) == 4
    for module in modules:
        symbols = subprocess.run(["nm", str(module)], capture_output=True, text=True).stdout
        assert re.search(r" T rustkmod_helper_copy_to_user$", symbols, re.M), symbols
        assert re.search(r" T ringdev_write_user$", symbols, re.M) and " U memdup_user" in symbols
        bindings = (module.parent / "bindings.rs").read_text()
        assert '#[link_name = "rustkmod_helper_copy_to_user"]' in bindings and "pub const EFAULT:" in bindings


def test_the_rust_logic_on_the_host(ringdev):
    run = scons(ringdev, "test-host")
    assert run.returncode == 0, run.output
    assert re.search(r"test result: ok\. [1-9]\d* passed; 0 failed", run.stdout)
    assert "| read 11 bytes: hello, ring" in run.stdout
    assert "| <6> done: opens=1 writes=2 reads=2 written=11 read=11 dropped=0 commands=1" in run.stdout


def test_a_wrong_expectation_shows_what_the_device_did(ringdev):
    sconstruct = ringdev / "SConstruct"
    original = sconstruct.read_text()
    sconstruct.write_text(original.replace('"hello, ring",', '"hello, world",'))
    try:
        run = scons(ringdev, "check")
    finally:
        sconstruct.write_text(original)
    assert run.returncode != 0
    assert "'hello, world' is not in the kernel log nor in the exercise's output" in run.stderr
    assert "  output: hello, ring" in run.stderr and "  kernel: " in run.stderr


def test_editor_files_describe_the_build(ringdev):
    run = scons(ringdev, "editor")
    assert run.returncode == 0, run.output
    module_dir = next(ringdev.glob("build/6.1.0-*-amd64/ringdev"))
    project = json.loads((module_dir / "rust-project.json").read_text())
    crates = {c["display_name"]: c for c in project["crates"]}
    assert crates["ringdev"]["root_module"] == str(ringdev / "rust/src/lib.rs")
    assert crates["ringdev"]["target"] == "x86_64-unknown-none" and "CONFIG_X86_64" in crates["ringdev"]["cfg"]
    # What cargo gives the crate, rust-analyzer sees: the kernel's version cfgs, the bindings.
    assert 'kernel_version_at_least="6.1"' in crates["ringdev"]["cfg"] and "rustkmod_bindings" in crates["ringdev"]["cfg"]
    assert crates["ringdev"]["env"]["RUSTKMOD_BINDINGS"] == str(module_dir / "bindings.rs")
    runtime = project["crates"][crates["ringdev"]["deps"][0]["crate"]]
    assert runtime["display_name"] == "rustkmod_rt" and 'feature="global-allocator"' in runtime["cfg"]
    assert "CONFIG_X86_64" in runtime["cfg"]            # the kernel's cfgs go to every crate, as the build gives them
    assert (Path(project["sysroot_src"]) / "core/src/lib.rs").is_file()
    commands = {Path(c["file"]).name: c for c in json.loads((module_dir / "compile_commands.json").read_text())}
    assert {"ringdev.c", "rustkmod_rt.c"} <= set(commands)
    # the file the user edits, not the copy Kbuild compiled through its wrapper (ringdev_c.c)
    assert commands["ringdev.c"]["file"] == str(ringdev / "ringdev.c")
    assert commands["ringdev.c"]["arguments"][-1] == str(ringdev / "ringdev.c")
    for entry in commands.values():
        assert (Path(entry["directory"]) / "Makefile").is_file() and "-D__KERNEL__" in entry["arguments"]
        assert ";" not in entry["arguments"] and "--orc" not in entry["arguments"]    # no objtool command
    assert scons(ringdev, "-q", "editor").returncode == 0


def test_editor_files_of_a_7x_kernel_name_what_kbuild_compiled_where_it_ran(ringdev):
    """From 6.13 Kbuild compiles in the module's directory with relative names: compile_commands.json
    then runs each command there, and names files that exist."""
    fetch_kernels("7.2")
    run = scons(ringdev, "editor", "KERNELS=7.2")
    assert run.returncode == 0, run.output
    module_dir = next(ringdev.glob("build/7.2.*/ringdev"))
    commands = json.loads((module_dir / "compile_commands.json").read_text())
    assert {Path(c["file"]).name for c in commands} >= {"ringdev.c", "rustkmod_rt.c"}
    for entry in commands:
        assert entry["directory"] == str(module_dir) and Path(entry["file"]).is_file(), entry["file"]
