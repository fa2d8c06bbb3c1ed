"""The Kbuild file, paths make cannot use, and reading a boot's console back."""

import pytest

from rustkmod import RustkmodError, boot, kbuild


def test_kbuild_text_lists_c_and_rust_objects():
    text = kbuild.kbuild_text("hello", ["module.o", "hello_rust.o"])
    assert "obj-m := hello.o\n" in text and "hello-y := module.o hello_rust.o\n" in text


@pytest.mark.parametrize("name, members, message", [
    ("hello", ["hello.o", "hello_rust.o"], "rename hello.o"),
    ("bad name", ["a.o"], "not a valid kernel module name"),
])
def test_module_name_clashes(name, members, message):
    with pytest.raises(RustkmodError, match=message):
        kbuild.check_module_name(name, members)


@pytest.mark.parametrize("path", ["/my project/build", "/a:b", "/x#y"])
def test_paths_make_cannot_use(path):
    with pytest.raises(RustkmodError, match="set BUILD_DIR to a path without them"):
        kbuild.check_path_for_make("BUILD_DIR", path)


CONSOLE = ("\x1bcSeaBIOS noise RUSTKMOD-BEGIN\r\n"
           "[    3.0] module: hello: Unknown rela relocation: 9\r\n"
           "insmod: can't insert '/modules/hello.ko': invalid module format\r\n"
           "RUSTKMOD-INSMOD hello rc=1\r\n"
           "rmmod: can't unload module 'hello': No such file or directory\r\n"
           "RUSTKMOD-RMMOD hello rc=1\r\n"
           "RUSTKMOD-DMESG-BEGIN\r\n[    3.0] module: hello: Unknown rela relocation: 9\r\nRUSTKMOD-DMESG-END\r\n")


def test_console_markers_give_exit_codes_and_kernel_log():
    result = boot.parse_console(CONSOLE)
    module = result.module("hello")
    assert result.booted and (module.insmod_rc, module.rmmod_rc) == (1, 1)
    assert "invalid module format" in module.insmod_output and "SeaBIOS" not in module.insmod_output
    assert result.kernel_log == ["[    3.0] module: hello: Unknown rela relocation: 9"]
    faults = boot.judge(result, "hello", "hello world")
    assert faults[0] == "hello: insmod failed: insmod: can't insert '/modules/hello.ko': invalid module format"


def test_judge_wants_the_expected_line_and_a_clean_unload():
    ok = CONSOLE.replace("rc=1", "rc=0").replace("Unknown rela relocation: 9", "hello world")
    assert boot.judge(boot.parse_console(ok), "hello", "hello world") == []
    assert boot.judge(boot.parse_console(ok), "hello", "goodbye") == \
        ["hello: loaded, but 'goodbye' is not in the kernel log"]
    assert "did not reach the test's init" in boot.judge(boot.parse_console("Kernel panic"), "hello", "x")[0]


def test_init_script_loads_in_order_and_unloads_in_reverse():
    script = boot.init_script(["/b/first.ko", "/b/second-mod.ko"])
    assert script.index("insmod /modules/first.ko") < script.index("insmod /modules/second-mod.ko")
    assert script.index("rmmod second_mod") < script.index("rmmod first")
