"""`scons test-host`: the module's Rust core tested in user space against the stand-in.

This is also the suite's hook for the crate's own tests: they run here, in .ci/run.
"""

import subprocess

import pytest

from helpers import copy_project, module_dir, scons

pytestmark = pytest.mark.e2e

STEPS_WITH_C = ("CC", "LINK", "STANDIN", "TEST", "RUN")


def host_steps(run):
    return [s for line in run.stdout.splitlines() for s in STEPS_WITH_C + ("CARGO",) if line.startswith(s + " ")]


def test_host_tests_pass_and_user_space_insmod_greets(built_project):
    run = scons(built_project, "test-host")
    assert run.returncode == 0, run.output
    assert host_steps(run) == ["CARGO", "CC", "STANDIN", "TEST", "CC", "LINK", "RUN"]
    summary = next(line for line in run.stdout.splitlines() if "test result:" in line)
    passed = int(summary.split("ok. ")[1].split(" passed")[0])
    assert passed >= 12 and " 0 failed" in summary
    assert "| hello world" in run.stdout and "| goodbye after 1 greeting(s)" in run.stdout
    # Content signatures: nothing is built twice.
    again = scons(built_project, "test-host")
    assert again.returncode == 0 and host_steps(again) == []
    assert scons(built_project, "-q", "test-host").returncode == 0


def test_user_space_insmod_takes_the_parameter(built_project):
    scons(built_project, "test-host")
    insmod = built_project / "build/host/hello/insmod-hello"
    ok = subprocess.run([str(insmod), "Ferris*2"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout == "hello Ferris\nhello Ferris\ngoodbye after 2 greeting(s)\n"
    bad = subprocess.run([str(insmod), "a\tb"], capture_output=True, text=True)
    assert bad.returncode == 1 and "hello: bad who parameter: byte 0x09 in name" in bad.stdout
    assert "init failed with -22" in bad.stderr


def test_a_broken_crate_fails_its_host_tests(tmp_path):
    project = copy_project(tmp_path / "project")
    greeting = project / "hello/src/greeting.rs"
    greeting.write_text(greeting.read_text().replace("count > MAX_COUNT", "count > MAX_COUNT + 1"))
    run = scons(project, "test-host")
    assert run.returncode != 0
    assert "greeting::tests::counts_are_small_decimal_numbers" in run.stderr
    assert "FAILED" in run.stderr and "scons: *** [build/host/hello/cargo-test.log] rustkmod: host tests of hello failed" in run.stderr
    assert "Traceback" not in run.output
    assert scons(project, "-q", "test-host").returncode != 0         # a failure is never up to date


def test_a_kernel_function_the_standin_lacks_is_named(built_project):
    kernel_rs = built_project / "hello/src/kernel.rs"
    lib = built_project / "hello/src/lib.rs"
    originals = kernel_rs.read_text(), lib.read_text()
    try:
        kernel_rs.write_text(originals[0] + '\nunsafe extern "C" {\n    pub fn rustkmod_msleep(ms: u32);\n}\n')
        lib.write_text(originals[1].replace(
            "pub extern \"C\" fn hello_exit() {", "pub extern \"C\" fn hello_exit() {\n    unsafe { kernel::rustkmod_msleep(1) };"))
        host = scons(built_project, "test-host")
        assert host.returncode != 0
        errors = [line for line in host.stderr.splitlines() if line.startswith("scons: *** ")]
        assert errors == ["scons: *** [build/host/hello/standin.checked] rustkmod: hello calls kernel functions the "
                          "user-space stand-in lacks: rustkmod_msleep; add them to kmod/host/standin.c with the "
                          "signatures the C side gives them"]
        # The kernel build refuses it too: no one exports it to the module (Kbuild's modpost says so).
        module = scons(built_project)
        assert module.returncode != 0
        assert 'modpost: "rustkmod_msleep"' in module.stderr and "undefined!" in module.stderr
    finally:
        kernel_rs.write_text(originals[0])
        lib.write_text(originals[1])
    assert scons(built_project).returncode == 0


def test_no_host_only_code_leaks_into_the_module(built_project):
    assert scons(built_project).returncode == 0
    symbols = subprocess.run(["readelf", "-sW", str(module_dir(built_project) / "hello.ko")],
                             capture_output=True, text=True, check=True).stdout
    assert "rustkmod_standin_take_log" not in symbols and "3std" not in symbols
    assert " hello\n" in symbols and " hello_exit\n" in symbols
