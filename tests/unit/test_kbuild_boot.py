"""The Kbuild file, paths make cannot use, and reading a boot's console back."""

import re

import pytest

from rustkmod import RustkmodError
from rustkmod.kernel import boot, kbuild


def test_kbuild_text_lists_c_and_rust_objects():
    text = kbuild.kbuild_text("hello", ["module.o", "hello_rust.o"], ["hello_rust.o"])
    assert "obj-m := hello.o\n" in text and "hello-y := module.o hello_rust.o\n" in text
    # the shipped Rust object has its own copy rule (7.x's pattern rule misses it)
    assert "$(obj)/hello_rust.o: $(src)/hello_rust.o_shipped\n\t$(Q)cat $< > $@\n" in text
    assert "module.o_shipped" not in text


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
        ["hello: loaded, but 'goodbye' is not in the kernel log; the module logged nothing while loading"]
    assert "did not reach the test's init" in boot.judge(boot.parse_console("Kernel panic"), "hello", "x")[0]


MARKED = ("RUSTKMOD-BEGIN\nRUSTKMOD-INSMOD first rc=0\nRUSTKMOD-INSMOD hello rc=0\nRUSTKMOD-RMMOD hello rc=0\n"
          "RUSTKMOD-RMMOD first rc=0\nRUSTKMOD-DMESG-BEGIN\n[ 1.0] Linux version 6.1\n[ 2.0] RUSTKMOD-LOG first\n"
          "[ 2.1] first: ready\n[ 2.2] RUSTKMOD-LOG hello\n[ 2.3] hello: greeting 3 people\n"
          "[ 2.4] hello: done\nRUSTKMOD-DMESG-END\n")


def test_an_expect_miss_shows_what_the_module_logged_while_loading():
    faults = boot.judge(boot.parse_console(MARKED), "hello", "hello world")
    assert faults == ["hello: loaded, but 'hello world' is not in the kernel log; while loading, the kernel logged:",
                      "  kernel: [ 2.3] hello: greeting 3 people", "  kernel: [ 2.4] hello: done"]
    assert not boot.parse_console(MARKED).log_has("RUSTKMOD-LOG")


def test_a_panic_during_init_shows_the_panic_and_demangled_frames():
    console = ("RUSTKMOD-BEGIN\n[ 3.1] kalloc: Rust panic: index out of bounds: the len is 3 but the index is 6 "
               "at src/lib.rs:57\n[ 3.1] Kernel panic - not syncing: kalloc: Rust panic\n"
               "[ 3.1]  _RNvCs1234_6kalloc11kalloc_init+0x1f/0x60 [kalloc]\n")
    faults = boot.judge(boot.parse_console(console), "kalloc", "")
    assert faults[0] == "kalloc: insmod did not return (the kernel stopped during the module's init)"
    assert "  kernel: [ 3.1] kalloc: Rust panic: index out of bounds: the len is 3 but the index is 6 at src/lib.rs:57" \
        in faults
    assert any(re.search(r"kalloc\[\w+\]::kalloc_init\+0x1f/0x60 \[kalloc\]", line) for line in faults)


def test_init_script_loads_in_order_and_unloads_in_reverse():
    script = boot.init_script(["/b/first.ko", "/b/second-mod.ko"])
    assert script.index("insmod /modules/first.ko") < script.index("insmod /modules/second-mod.ko")
    assert script.index("rmmod second_mod") < script.index("rmmod first")


def test_module_parameters_go_to_the_module_itself_not_to_those_it_uses():
    script = boot.init_script(["/b/dep.ko", "/b/ringdev.ko"], params="ring_size=8 name=x")
    assert "insmod /modules/ringdev.ko ring_size=8 name=x 2>&1" in script
    assert "insmod /modules/dep.ko 2>&1" in script
    assert "modprobe ringdev ring_size=8 name=x 2>&1" in boot.init_script(["/b/ringdev.ko"], modprobe=True,
                                                                           params="ring_size=8 name=x")
    with pytest.raises(RustkmodError, match="is not NAME=VALUE words"):
        boot.init_script(["/b/ringdev.ko"], params="name=x; reboot")


FORCED = ("RUSTKMOD-BEGIN\nRUSTKMOD-KERNEL-TAINT before 0\nRUSTKMOD-INSMOD hello rc=0 taint={taint}\n"
          "RUSTKMOD-RMMOD hello rc=0\nRUSTKMOD-KERNEL-TAINT after {after}\nRUSTKMOD-DMESG-BEGIN\n"
          "[ 2.0] RUSTKMOD-LOG hello\n[ 2.1] hello: loading out-of-tree module taints kernel.\n"
          "[ 2.1] hello: module verification failed: signature and/or required key missing - tainting kernel\n"
          "{said}[ 2.2] hello world\n[ 2.3] RUSTKMOD-LOG rmmod-hello\n{unload}RUSTKMOD-DMESG-END\n")


def test_out_of_tree_and_unsigned_taints_are_a_clean_load():
    clean = FORCED.format(taint="OE", after=1 << 12 | 1 << 13, said="", unload="")
    result = boot.parse_console(clean)
    assert result.module("hello").taint == "OE" and result.kernel_taint == {"before": 0, "after": 12288}
    assert boot.judge(result, "hello", "hello world") == []


def test_a_forced_load_or_a_license_taint_fails_with_the_kernels_words():
    """Debian's kernels have MODULE_FORCE_LOAD: a module without vermagic loads, tainted."""
    forced = FORCED.format(taint="PFOE", after=1 << 0 | 1 << 1 | 1 << 12 | 1 << 13,
                           said="[ 2.1] hello: bad vermagic: kernel tainted.\n"
                                "[ 2.1] hello: module license 'unspecified' taints kernel.\n", unload="")
    faults = boot.judge(boot.parse_console(forced), "hello", "hello world")
    assert faults[0] == ("hello: loaded, but it tainted the kernel: P (no GPL-compatible license), "
                         "F (forced load (bad vermagic or symbol versions))")
    assert "  kernel: [ 2.1] hello: bad vermagic: kernel tainted." in faults
    assert "  kernel: [ 2.1] hello: module license 'unspecified' taints kernel." in faults
    assert faults[-1] == "hello: after rmmod the kernel is tainted P (no GPL-compatible license), " \
                         "F (forced load (bad vermagic or symbol versions))"


def test_a_declared_license_taint_is_accepted_exactly():
    """gpl_compatible=False: P and the kernel's license line are accepted, nothing else is; a
    declaration the kernel does not bear out (no P) fails."""
    licensed = FORCED.format(taint="POE", after=1 << 0 | 1 << 12 | 1 << 13, unload="",
                             said="[ 2.1] hello: module license 'MIT' taints kernel.\n")
    assert boot.judge(boot.parse_console(licensed), "hello", "hello world", "P") == []
    assert boot.judge(boot.parse_console(licensed), "hello", "hello world")[0].startswith(
        "hello: loaded, but it tainted the kernel: P")
    forced = FORCED.format(taint="PFOE", after=1 << 0 | 1 << 1 | 1 << 12 | 1 << 13, unload="",
                           said="[ 2.1] hello: bad vermagic: kernel tainted.\n")
    faults = boot.judge(boot.parse_console(forced), "hello", "hello world", "P")
    assert faults[0] == "hello: loaded, but it tainted the kernel: F (forced load (bad vermagic or symbol versions))"
    clean = FORCED.format(taint="OE", after=1 << 12 | 1 << 13, said="", unload="")
    assert boot.judge(boot.parse_console(clean), "hello", "hello world", "P") == [
        "hello: declared taint P (gpl_compatible=False), but the kernel did not set it (its taint: OE): its "
        "license is GPL-compatible after all"]


def test_a_warning_while_unloading_fails():
    warned = FORCED.format(taint="OE", after=1 << 9 | 1 << 12 | 1 << 13, said="",
                           unload="[ 2.4] WARNING: CPU: 0 PID: 50 at mm/slab.c:1 kfree+0x1/0x2\n")
    faults = boot.judge(boot.parse_console(warned), "hello", "hello world")
    assert faults == ["hello: loaded, but the kernel complained",
                      "  kernel: [ 2.4] WARNING: CPU: 0 PID: 50 at mm/slab.c:1 kfree+0x1/0x2",
                      "hello: after rmmod the kernel is tainted W (a kernel warning)"]


def test_what_must_be_gone_after_rmmod_runs_after_it():
    for modprobe in (False, True):
        script = boot.init_script(["/b/a.ko", "/b/b.ko"], modprobe=modprobe, exercise="cat /proc/kfw",
                                  after="test -e /proc/kfw || echo gone")
        during, unload, after = (script.index("cat /proc/kfw"), script.rindex("-RMMOD a rc="),
                                 script.index("test -e /proc/kfw || echo gone"))
        assert during < unload < after
        assert script.count("-EXERCISE-BEGIN") == 2
    console = f"{boot.MARK}-BEGIN\n{boot.MARK}-EXERCISE-BEGIN\ngone\n\n{boot.MARK}-EXERCISE-END\n"
    assert "gone" in boot.parse_console(console).exercise_output


def test_a_lock_key_outside_static_memory_is_a_boot_failure():
    """What lockdep prints for a lock class key not in static memory fails the boot test."""
    console = (f"{boot.MARK}-BEGIN\n{boot.MARK}-INSMOD knoc rc=0 taint=OE\n{boot.MARK}-RMMOD knoc rc=0\n"
               f"{boot.MARK}-DMESG-BEGIN\n[ 2.0] {boot.MARK}-LOG knoc\n[ 2.1] INFO: trying to register non-static key.\n"
               f"[ 2.2] knoc: up\n[ 2.3] {boot.MARK}-LOG rmmod-knoc\n{boot.MARK}-DMESG-END\n")
    faults = boot.judge(boot.parse_console(console), "knoc", "knoc: up")
    assert faults and faults[0] == "knoc: loaded, but the kernel complained"


@pytest.mark.parametrize("report", ["UBSAN: shift-out-of-bounds in drivers/x.c:3:10",
                                    "ODEBUG: free active (active state 0) object: 00000000 object type: timer_list",
                                    "list_add corruption. prev->next should be next (ffff8880), but was 0000",
                                    "BUG: KASAN: use-after-free in vfs_read+0x139/0x2a7"])
def test_the_debug_kernels_reports_are_boot_failures(report):
    """What UBSAN, DEBUG_OBJECTS, DEBUG_LIST and KASAN print while the module is loaded fails it."""
    console = (f"{boot.MARK}-BEGIN\n{boot.MARK}-INSMOD ksound rc=0 taint=OE\n{boot.MARK}-RMMOD ksound rc=0\n"
               f"{boot.MARK}-DMESG-BEGIN\n[ 2.0] {boot.MARK}-LOG ksound\n[ 2.1] ksound: up\n[ 2.2] {report}\n"
               f"[ 2.3] {boot.MARK}-LOG rmmod-ksound\n{boot.MARK}-DMESG-END\n")
    faults = boot.judge(boot.parse_console(console), "ksound", "ksound: up")
    assert faults == ["ksound: loaded, but the kernel complained", f"  kernel: [ 2.2] {report}"]


def fake_qemu(monkeypatch, stdout: bytes = b"", stderr: bytes = b"") -> list:
    """QEMU (and the files it needs) faked: the command lines it was run with, as they come."""
    seen = []
    monkeypatch.setattr(boot.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(boot.os.path, "isfile", lambda path: True)
    monkeypatch.setattr(boot.process, "run", lambda command, **kw: seen.append(command) or
                        type("R", (), {"stdout": stdout, "stderr": stderr})())
    return seen


def test_every_boot_has_a_log_large_enough_for_a_stress_run(monkeypatch):
    seen = fake_qemu(monkeypatch)
    boot.run_qemu(boot.BootPlan("x86_64", "/k/bzImage"), "/k/initrd")
    assert "log_buf_len=4M" in seen[0][seen[0].index("-append") + 1].split()


def test_a_drivers_qemu_devices_are_added_to_the_machine(monkeypatch):
    seen = fake_qemu(monkeypatch)
    boot.run_qemu(boot.BootPlan("arm64", "/k/Image", devices=("pci-testdev", "edu,dma_mask=0xffffffff")), "/k/initrd")
    command = seen[0]
    devices = [command[i + 1] for i, word in enumerate(command) if word == "-device"]
    assert devices == ["pci-testdev", "edu,dma_mask=0xffffffff"]


def test_qemus_own_complaint_reaches_the_evidence(monkeypatch):
    """A device model that gives up (QEMU's edu refusing a DMA range) ends the guest mid-init:
    QEMU's line, on its stderr, is what explains it."""
    complaint = "qemu: hardware error: EDU: DMA range 0x40000-0x40fff out of bounds"
    fake_qemu(monkeypatch, f"{boot.MARK}-BEGIN\n".encode(), f"{complaint}\nCPU #0:\n".encode())
    console = boot.run_qemu(boot.BootPlan("x86_64", "/k/bzImage", devices=("edu",)), "/k/initrd")
    monkeypatch.undo()                  # judge's demangler runs a program of its own
    faults = boot.judge(boot.parse_console(console), "edu", "edu: up")
    assert faults[0] == "edu: insmod did not return (the kernel stopped during the module's init)"
    assert f"  kernel: {complaint}" in faults and "  kernel: CPU #0:" not in faults


def test_with_devices_modprobe_loads_the_driver_by_their_modaliases_as_udev_would():
    """Not `modprobe kpci`: every device's modalias is modprobe'd, and the driver must be loaded
    after (modules.alias made it so); unloading is by name."""
    script = boot.init_script(["/b/kpci.ko"], modprobe=True, by_modalias=True)
    assert "modprobe kpci" not in script and "modprobe -r kpci" in script
    assert 'for alias in $(cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u); do modprobe -q "$alias"' in script
    assert f"grep -q '^kpci ' /proc/modules; rc=$?; echo {boot.MARK}-INSMOD kpci rc=$rc" in script
    assert "modprobe kpci 2>&1" in boot.init_script(["/b/kpci.ko"], modprobe=True)


def test_kbuilds_btf_line_is_dropped_and_its_warnings_kept():
    stderr = ("Skipping BTF generation for /b/m.ko due to unavailability of vmlinux\n"
              "/b/m.c:3:5: warning: unused variable 'x' [-Wunused-variable]\n")
    assert kbuild.without_btf_line(stderr) == "/b/m.c:3:5: warning: unused variable 'x' [-Wunused-variable]\n"


def test_qemu_devices_are_a_list_or_one_list_per_architecture():
    from rustkmod_scons import boot_stage
    assert boot_stage.qemu_devices_for(["pci-testdev"], "arm") == ("pci-testdev",)
    assert boot_stage.qemu_devices_for("edu", "x86_64") == ("edu",)
    assert boot_stage.qemu_devices_for({"x86_64": ["edu"]}, "arm64") == ()
    assert boot_stage.qemu_devices_for({"x86_64": ["edu"]}, "x86_64") == ("edu",)
    for bad in (5, [1], {"sparc": ["edu"]}, {"x86_64": 3}):
        with pytest.raises(RustkmodError, match=r"qemu_devices=.* is not a list of QEMU devices"):
            boot_stage.check_qemu_devices("kpci", bad)


def test_firmware_files_are_named_files_that_exist(tmp_path):
    """device_tree= is one file and acpi_tables= a list of them (or one), each present; else one
    line naming the argument or the missing file."""
    import SCons.Environment
    from rustkmod_scons import boot_stage
    env = SCons.Environment.Environment(tools=[])
    (tmp_path / "nodes.dts").write_text("/ { };\n")
    (tmp_path / "ssdt.asl").write_text("DefinitionBlock\n")
    dts, asl = str(tmp_path / "nodes.dts"), str(tmp_path / "ssdt.asl")
    boot_stage.check_firmware_files(env, "kplat", dts, [asl])
    boot_stage.check_firmware_files(env, "kplat", "", asl)
    with pytest.raises(RustkmodError, match=r"missing\.dts does not exist"):
        boot_stage.check_firmware_files(env, "kplat", str(tmp_path / "missing.dts"), ())
    for device_tree, tables in (([dts], ()), (dts, [5])):
        with pytest.raises(RustkmodError, match=r"expected a file name and a list of file names"):
            boot_stage.check_firmware_files(env, "kplat", device_tree, tables)
