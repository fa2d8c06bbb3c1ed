"""The bindings stage's pure parts: the allowlist in the header, Kbuild's compile command as
clang takes it, bindgen's failure as one line, and libclang's dependency file."""

from rustkmod.rust import bindgen

# The first line of a .probe.o.cmd as Debian's 6.1 Kbuild writes it (shortened): the compile
# command, then objtool's, which clang must not see.
CMD_LINE = ("cmd_/m/probe.o :=  gcc-12 -Wp,-MMD,/m/.probe.o.d -nostdinc -I/k/common/arch/x86/include "
            "-I./arch/x86/include/generated -include /k/common/include/linux/kconfig.h -D__KERNEL__ "
            "-mindirect-branch=thunk-extern -mharden-sls=all -fno-allow-store-data-races -mrecord-mcount "
            "-fconserve-stack -fms-extensions -mcmodel=kernel -DMODULE -c -o /m/probe.o /m/probe.c  ; "
            "./tools/objtool/objtool --hacks=jump_label --orc --module /m/probe.o\n")


def test_the_allowlist_comes_from_the_headers_own_lines():
    text = "#include <linux/slab.h>\n// rustkmod-bindgen: allow kfree __kmalloc\n//rustkmod-bindgen: allow gfp_t\n"
    assert bindgen.allowlist(text) == ("kfree", "__kmalloc", "gfp_t")
    assert bindgen.allowlist("#include <linux/fs.h>\n") == ()


def test_kbuilds_command_is_kept_less_what_clang_refuses(tmp_path):
    flags = bindgen.clang_flags(CMD_LINE, "x86_64", "", "/k/amd64")
    assert flags[:6] == ["-nostdinc", "-I/k/common/arch/x86/include", "-I/k/amd64/arch/x86/include/generated",
                         "-include", "/k/common/include/linux/kconfig.h", "-D__KERNEL__"]
    for gone in ("-mindirect-branch=thunk-extern", "-mharden-sls=all", "-mrecord-mcount", "-c", "-o",
                 "/m/probe.c", "--orc", "-Wp,-MMD,/m/.probe.o.d"):
        assert gone not in flags
    assert "-fms-extensions" in flags and "-mcmodel=kernel" in flags and "--target=x86_64-linux-gnu" in flags


def test_paths_in_a_build_root_are_read_from_the_host():
    line = "cmd_/m/probe.o := gcc-16 -I/usr/src/h-common/include -include /usr/src/h-common/kconfig.h -I./include -c -o x.o x.c\n"
    flags = bindgen.clang_flags(line, "x86_64", "/cache/roots/sid", "/cache/roots/sid/usr/src/h-amd64")
    assert flags[:4] == ["-I/cache/roots/sid/usr/src/h-common/include", "-include",
                         "/cache/roots/sid/usr/src/h-common/kconfig.h", "-I/cache/roots/sid/usr/src/h-amd64/include"]


def test_a_failure_is_one_line_with_the_first_error_and_its_place():
    stderr = ("/p/kernel_api.h:5:12: error: expected parameter declarator\n/p/kernel_api.h:6:1: error: x\n"
              "thread 'main' panicked at 'Unable to generate bindings'\n")
    line = bindgen.error_block(stderr, "/p/kernel_api.h", "6.1.0-56-amd64")
    assert line == ("bindgen failed on /p/kernel_api.h for Linux 6.1.0-56-amd64: /p/kernel_api.h:5: "
                    "expected parameter declarator (and 1 more)")


def test_extern_blocks_are_marked_unsafe_for_edition_2024():
    rust = bindgen.unsafe_extern_blocks('extern "C" {\n    pub fn kfree(p: *const u8);\n}\n')
    assert rust.startswith('unsafe extern "C" {')


def test_an_allowed_name_bindgen_declared_nothing_for_is_named():
    rust = ('unsafe extern "C" {\n    pub fn kstrtoint(s: *const c_char) -> c_int;\n}\n'
            "pub struct file { _x: u8 }\npub const GFP_KERNEL: c_uint = 3264;\npub static mut jiffies: c_ulong;\n")
    assert bindgen.not_bound(rust, ("kstrtoint", "file", "GFP_KERNEL", "jiffies", "_printk")) == ["_printk"]


def test_gcc_only_flags_of_armhf_and_riscv64_do_not_reach_clang():
    """6.1 armhf's -mno-fdpic and Debian 13 riscv64's -mno-riscv-attribute stopped bindgen
    (`unknown argument`); `--param NAME=V` takes the next word with it."""
    line = ("cmd_/m/probe.o := gcc -mno-fdpic -mabi=aapcs-linux -mno-riscv-attribute -march=rv64imac "
            "-fplugin=./scripts/gcc-plugins/x.so -fplugin-arg-arm_ssp_per_task_plugin-offset=1 "
            "--param asan-globals=1 --param=allow-store-data-races=0 -mgeneral-regs-only -c -o x.o x.c\n")
    assert bindgen.clang_flags(line, "arm", "", "/k")[:2] == ["-mabi=aapcs-linux", "-march=rv64imac"]
    flags = bindgen.clang_flags(line.replace("rv64imac", "rv64imac_zicsr_zifencei"), "riscv64", "", "/k")
    assert "-march=rv64imac" in flags          # the z extensions libclang 14 refuses are dropped
    assert not [f for f in flags if "fdpic" in f or "riscv-attribute" in f or "plugin" in f or "param" in f
                or "asan" in f or "general-regs" in f]
