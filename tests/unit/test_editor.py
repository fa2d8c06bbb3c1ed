"""The editor files' pure parts: the kernel's cfgs as rust-project.json writes them, and
compile_commands.json from the command lines Kbuild saved (6.1's `cmd_` and 7.x's `savedcmd_`)."""

from rustkmod import editor


def test_the_kernels_cfg_arguments_become_rust_project_cfgs():
    text = '--cfg=CONFIG_SMP\n--cfg=CONFIG_HZ="250"\n--cfg CONFIG_X86_64\n--cfg=kernel_version="6.1.9"\n# note\n'
    assert editor.kernel_cfgs(text) == ["CONFIG_SMP", 'CONFIG_HZ="250"', "CONFIG_X86_64", 'kernel_version="6.1.9"']


def test_compile_commands_hold_kbuilds_c_compiles_only_each_where_kbuild_ran_it(tmp_path):
    """6.1 names objects by absolute path and compiles from KDIR; 7.x (6.13 on) compiles in the
    module's directory with relative names."""
    module = tmp_path / "m"
    module.mkdir()
    (module / ".module.o.cmd").write_text(
        f"cmd_{module}/module.o :=  gcc-12 -Wp,-MMD,x.d -nostdinc -DMODULE -c -o {module}/module.o {module}/module.c\n"
        f"source_{module}/module.o := {module}/module.c\n")
    (module / ".glue.o.cmd").write_text("savedcmd_glue.o := x86_64-linux-gnu-gcc-16 -nostdinc -c -o glue.o glue.c\n")
    (module / ".m.o.cmd").write_text(f"cmd_{module}/m.o := ld -m elf_x86_64 -r -o {module}/m.o @{module}/m.mod\n")
    (module / ".m_rust.o.cmd").write_text("cmd_m_rust.o := cat m_rust.o_shipped > m_rust.o\n")
    (module / "..module-common.o.cmd").write_text(      # 7.x: Kbuild's own, from its headers
        "savedcmd_.module-common.o := gcc-16 -c -o .module-common.o /usr/src/linux-headers-7/scripts/module-common.c\n")
    entries = editor.compile_commands(str(module), "/k")
    assert [(e["directory"], e["file"]) for e in entries] == [(str(module), f"{module}/glue.c"),
                                                              ("/k", f"{module}/module.c")]
    assert entries[1]["arguments"][:5] == ["gcc-12", "-Wp,-MMD,x.d", "-nostdinc", "-DMODULE", "-c"]


def test_compile_commands_are_what_clangd_takes_at_the_users_files(tmp_path):
    """Kbuild's objtool run after `;` and gcc-only flags go; the copy Kbuild compiled is named by
    the user's file it was made from."""
    module = tmp_path / "m"
    module.mkdir()
    (module / ".m_c.o.cmd").write_text(
        f"cmd_{module}/m_c.o := gcc-12 -nostdinc -mpreferred-stack-boundary=3 -mindirect-branch=thunk-extern "
        f"-mno-red-zone -fconserve-stack -DKBUILD_BASENAME='\"m_c\"' -c -o {module}/m_c.o {module}/m_c.c   ; "
        f"./tools/objtool/objtool --orc --retpoline --module {module}/m_c.o\n")
    entries = editor.compile_commands(str(module), "/k", {"m_c.c": "/home/me/m/m.c"})
    assert entries == [{"directory": "/k", "file": "/home/me/m/m.c", "arguments": [
        "gcc-12", "-nostdinc", "-mno-red-zone", '-DKBUILD_BASENAME="m_c"', "-c", "-o", f"{module}/m_c.o", "/home/me/m/m.c"]}]
