"""Failures end in one line and leave nothing that looks built: bad variables, a BUILD_DIR that
cannot be written, objtool's own failure, a scons killed while its children build."""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import SCONS, copy_project, default_kdir, fetch_kernels, one_error_line, scons

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "project")


@pytest.mark.parametrize("argument, says", [
    ("RELOCS=bogus", "Invalid value for enum variable 'RELOCS': 'bogus'"),
    ("OBJTOOL=bogus", "Invalid value for enum variable 'OBJTOOL': 'bogus'"),
    ("JOBS=0", "JOBS=0 is not a positive number"),
    ("JOBS=65536", "JOBS=65536 is more than the 4096 jobs a make jobserver can hand out here; pass JOBS=4096 or fewer"),
])
def test_bad_variable_is_one_line(project, argument, says):
    run = scons(project, argument, timeout=60)          # JOBS=65536 used to hang forever
    assert says in one_error_line(run)
    assert scons(project, "-q", timeout=60).returncode != 0       # nothing was built


def test_build_dir_under_a_regular_file(project):
    (project / "afile").write_text("")
    line = one_error_line(scons(project, "BUILD_DIR=afile/build"))
    assert "BUILD_DIR=afile/build is under" in line and "which is a file, not a directory" in line


@contextlib.contextmanager
def tmpfs(path: Path, options: str):
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)])


def test_build_dir_on_a_read_only_file_system(project, tmp_path):
    with tmpfs(tmp_path / "ro", "size=1m,ro") as readonly:
        line = one_error_line(scons(project, f"BUILD_DIR={readonly}/build"))
    assert f"BUILD_DIR={readonly}/build cannot be written (Read-only file system)" in line


def test_build_dir_on_a_full_file_system(project, tmp_path):
    with tmpfs(tmp_path / "full", "size=64k") as full:
        subprocess.run(["dd", "if=/dev/zero", f"of={full}/fill", "bs=4k", "count=64"], capture_output=True)
        line = one_error_line(scons(project, f"BUILD_DIR={full}/build"))
    assert "cannot be written (No space left on device); make room there" in line


def kdir_with_objtool(tmp_path: Path, script: str) -> Path:
    """A copy of the default kernel headers whose objtool is `script` (the real one is $REAL)."""
    original = Path(default_kdir())
    kdir = tmp_path / original.name
    shutil.copytree(original, kdir, symlinks=True)
    for link in ("scripts", "tools"):
        target = (original / link).resolve()
        (kdir / link).unlink()
        if link == "scripts":
            (kdir / link).symlink_to(target)
        else:
            shutil.copytree(target, kdir / link, symlinks=True)
    objtool = kdir / "tools/objtool/objtool"
    real = objtool.with_name("objtool.real")
    objtool.rename(real)
    objtool.write_text(f"#!/bin/sh\nREAL={real}\n{script}\n")
    objtool.chmod(0o755)
    return kdir


@pytest.mark.parametrize("mode", ["strict", "warn"])
def test_objtool_failing_itself_fails_the_step_in_every_mode(built_project, tmp_path, mode):
    """objtool that cannot write its output (here: a file-size limit, as a full disk would) fails
    the build naming objtool, never blames the code, and leaves no object that looks built."""
    kdir = kdir_with_objtool(tmp_path, 'ulimit -f 4\nexec "$REAL" "$@"')
    build = f"BUILD_DIR={tmp_path / 'build'}"
    run = scons(built_project, f"KDIR={kdir}", f"OBJTOOL={mode}", build)
    line = one_error_line(run)
    assert "the kernel's objtool failed on" in line and "objtool's own failure" in line, line
    assert "fix the named functions" not in run.output
    assert not list((tmp_path / "build").glob("*/hello/hello_rust.o_shipped"))
    assert scons(built_project, f"KDIR={kdir}", f"OBJTOOL={mode}", build, "-q").returncode != 0
    # objtool working again: the same build succeeds, with nothing to delete by hand.
    (kdir / "tools/objtool/objtool").write_text(f'#!/bin/sh\nexec {kdir}/tools/objtool/objtool.real "$@"\n')
    assert scons(built_project, f"KDIR={kdir}", f"OBJTOOL={mode}", build).returncode == 0


def test_killed_scons_children_keep_the_tree_locked(built_project, tmp_path):
    """A scons killed alone leaves its cargo running; the next run waits for that cargo too."""
    slow_rustc = tmp_path / "slow-rustc"
    slow_rustc.write_text(f"#!/bin/sh\nsleep 6\necho $$ >> {tmp_path}/rustc-pids\nexec \"$@\"\n")
    slow_rustc.chmod(0o755)
    source = built_project / "hello/src/lib.rs"
    original = source.read_text()
    source.write_text(original.replace('"goodbye after {} greeting(s)"', '"goodbye then, after {} greeting(s)"'))
    try:
        first = subprocess.Popen([SCONS, f"RUSTC_WRAPPER={slow_rustc}"], cwd=built_project,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in first.stdout:
            if line.startswith("CARGO"):
                break
        time.sleep(1)
        os.kill(first.pid, signal.SIGKILL)       # scons alone: its cargo goes on
        first.wait()
        started = time.monotonic()
        second = scons(built_project)
        waited = time.monotonic() - started
    finally:
        source.write_text(original)
    assert second.returncode == 0, second.output
    assert re.search(r"another scons run \(pid \d+, or the cargo and make it started\) is building", second.stdout)
    assert waited >= 3, waited                   # it waited for the orphaned cargo
    assert scons(built_project).returncode == 0


def test_a_hung_guest_keeps_its_console_and_names_its_first_trouble(tmp_path):
    """A guest that never powers off (here: a backtrace printed, then init sleeps) ends in a line
    naming the first sign of trouble, the kernel's lines from there on, and the whole console kept."""
    from rustkmod.kernel import boot
    found = fetch_kernels("6.1")["6.1"]
    with pytest.raises(boot.GuestHung) as hung:
        boot.boot_modules("x86_64", found.image, [], str(tmp_path / "boot"), timeout=40, busybox=found.busybox,
                          exercise="echo 8 > /proc/sys/kernel/printk; echo l > /proc/sysrq-trigger; sleep 600")
    assert "did not power off within 40 s (first sign of trouble: '" in str(hung.value)
    assert "Call Trace:" in str(hung.value) and f"console log: {tmp_path / 'boot' / 'console.log'}" in str(hung.value)
    assert hung.value.evidence[0].startswith("  kernel: ") and "Call Trace:" in hung.value.evidence[0]
    kept = (tmp_path / "boot" / "console.log").read_text()
    assert "sysrq: Show backtrace of all active CPUs" in kept and "SeaBIOS" in kept     # from its first line
