"""The promise, end to end: scons builds, verifies and boots hello.ko, and rebuilds only what changed.

Real cargo, real Kbuild against the installed Debian headers, the real kernel in QEMU. The tests
share one built copy (conftest.built_project) and put it back as they found it.
"""

import json
import shutil

import pytest

from helpers import default_kdir, module_dir, scons

pytestmark = pytest.mark.e2e


def test_fresh_build_gives_a_verified_ko(built_project):
    stamp = module_dir(built_project) / "hello.ko.verified"
    assert (module_dir(built_project) / "hello.ko").is_file()
    verified = json.loads(stamp.read_text())
    assert set(verified["relocations"]) <= {"R_X86_64_64", "R_X86_64_PC32", "R_X86_64_PLT32", "R_X86_64_32S"}
    assert verified["relocations"]["R_X86_64_PLT32"] > 0
    # Only the needed members of the staticlib were linked: no float formatting from core.
    rust_object = next((built_project / "build" / "rust").glob("*/hello_rust.o"))
    assert rust_object.stat().st_size < 64 * 1024


def test_check_boots_the_kernel_and_sees_hello_world(built_project):
    run = scons(built_project, "check")
    assert run.returncode == 0, run.output
    # The boot's verdict is its stamp (printed when the boot runs; an earlier test may have booted
    # this very module already, and then `check` is up to date).
    stamp = (module_dir(built_project) / "hello.ko.booted").read_text()
    assert stamp.startswith("hello: loaded, printed 'hello world', unloaded on Linux ")
    assert scons(built_project, "-q", "check").returncode == 0
    log = (module_dir(built_project) / "hello.ko.booted.log").read_text()
    assert "hello world" in log and "goodbye after 1 greeting(s)" in log


def test_second_run_runs_nothing(built_project):
    assert scons(built_project, "-q").returncode == 0
    run = scons(built_project)
    assert run.returncode == 0 and run.steps() == []


def test_readme_edit_rebuilds_nothing(built_project):
    (built_project / "README.md").write_text("# notes\n")
    run = scons(built_project)
    assert run.returncode == 0 and run.steps() == []
    assert scons(built_project, "-q").returncode == 0


def test_touch_without_change_rebuilds_nothing(built_project):
    (built_project / "hello/src/lib.rs").touch()
    assert scons(built_project).steps() == []


def test_rust_edit_reruns_cargo_link_kbuild_verify(built_project):
    lib = built_project / "hello/src/greeting.rs"
    original = lib.read_text()
    try:
        lib.write_text(original.replace('"hello {}"', '"hello from an edited crate, {}"'))
        run = scons(built_project, "--debug=explain")
        assert run.returncode == 0, run.output
        assert run.steps() == ["CARGO", "LD -r", "OBJTOOL", "KBUILD", "VERIFY"]
        assert "because `hello/src/greeting.rs' changed" in run.stdout
        booted = scons(built_project, "check")
        assert booted.returncode != 0 and "'hello world' is not in the kernel log" in booted.stderr
        log = (module_dir(built_project) / "hello.ko.booted.log").read_text()
        assert "hello from an edited crate, world" in log        # the kernel ran the edited Rust
    finally:
        lib.write_text(original)
    run = scons(built_project)
    assert run.returncode == 0 and "CARGO" in run.steps() and "KBUILD" in run.steps()


def test_comment_edit_stops_at_the_unchanged_staticlib(built_project):
    kernel_rs = built_project / "hello/src/kernel.rs"
    original = kernel_rs.read_text()
    try:
        kernel_rs.write_text(original + "// a comment changes no code\n")
        assert scons(built_project).steps() == ["CARGO"]
    finally:
        kernel_rs.write_text(original)
    assert scons(built_project).steps() == ["CARGO"]


def test_another_kdir_rebuilds_for_it(built_project, tmp_path):
    other = tmp_path / "other-tree"
    shutil.copytree(default_kdir(), other)   # follows scripts/ and tools/ into linux-kbuild
    run = scons(built_project, f"KDIR={other}", "--debug=explain")
    assert run.returncode == 0, run.output
    assert "KBUILD" in run.steps() and "CARGO" not in run.steps()
    assert scons(built_project, f"KDIR={other}", "-q").returncode == 0
    assert scons(built_project, "-q").returncode != 0       # the default tree is now out of date
    assert "KBUILD" in scons(built_project).steps()


def test_old_kernel_refuses_plt32_and_relocs_fix_makes_a_module_that_loads(built_project):
    """Configured as for 4.15 (no PLT32 in its loader): strict fails naming PLT32; RELOCS=fix
    rewrites it to PC32 and the result loads and prints on the real 6.1 kernel."""
    strict = scons(built_project, "KERNELRELEASE=4.15.0")
    assert strict.returncode != 0
    assert "R_X86_64_PLT32 (4): refused by the loader" in strict.stderr
    assert "Linux 4.16 and later" in strict.stderr and "RELOCS=fix" in strict.stderr
    fixed = scons(built_project, "KERNELRELEASE=4.15.0", "RELOCS=fix", "check")
    assert fixed.returncode == 0, fixed.output
    assert fixed.steps() == ["FIX", "VERIFY", "BOOT"]                 # no cargo, no Kbuild
    assert "RELOCS=fix rewrote" in fixed.stdout and "R_X86_64_PLT32 -> R_X86_64_PC32" in fixed.stdout
    assert "hello: loaded, printed 'hello world', unloaded" in fixed.stdout
    import subprocess
    relocations = subprocess.run(["readelf", "-rW", str(module_dir(built_project) / "fixed/hello.ko")],
                                 capture_output=True, text=True, check=True).stdout
    assert "R_X86_64_PC32" in relocations and "R_X86_64_PLT32" not in relocations
    assert scons(built_project).returncode == 0                       # back to the default kernel
