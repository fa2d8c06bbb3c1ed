"""The kernel's objtool as rustkmod runs it, and the dead-end records written for it (x86_64)."""

import subprocess

import pytest

from rustkmod import RustkmodError
from rustkmod.elf.reader import ElfTables
from rustkmod.kernel import objtool

TWO_FUNCTIONS = """\
.section .text.dies,"ax",@progbits
.globl dies
.type dies,@function
dies:
  push %rbp
  call panic_here
.size dies, .-dies
.section .text.returns,"ax",@progbits
.globl returns
.type returns,@function
returns:
  call something
  ret
.size returns, .-returns
"""


def assemble(tmp_path, text, assembler=("as", "--64")):
    source, obj = tmp_path / "t.s", tmp_path / "t.o"
    source.write_text(text)
    subprocess.run([*assembler, "-o", str(obj), str(source)], check=True)
    return obj


def unreachable_records(obj) -> list:
    """(symbol name, addend) of each .discard.unreachable relocation."""
    with open(obj, "rb") as stream:
        tables = ElfTables(stream, str(obj))
        found = []
        for section in tables.sections:
            if section.name == ".rela.discard.unreachable":
                table = tables.decode(section)
                found += [(tables.sections[tables.symbols.shndx[s]].name, int(a))
                          for s, a in zip(table.symbols.tolist(), table.addends.tolist())]
    return found


def test_a_function_that_ends_in_a_call_is_marked_at_the_section_symbol(tmp_path):
    obj = assemble(tmp_path, TWO_FUNCTIONS)
    assert objtool.annotate_dead_ends(str(obj), workdir=str(tmp_path)) == 1
    # `dies` is 6 bytes: the record names the address after its call, through the section symbol
    assert unreachable_records(obj) == [(".text.dies", 6)]
    names = subprocess.run(["readelf", "-sW", str(obj)], capture_output=True, text=True).stdout
    assert "__rustkmod_dead_end_" not in names           # the helper symbols are gone again


def test_nothing_to_mark_leaves_the_object_as_it_was(tmp_path):
    obj = assemble(tmp_path, TWO_FUNCTIONS.split(".section .text.returns")[0].replace("call panic_here", "ret"))
    before = obj.read_bytes()
    assert objtool.annotate_dead_ends(str(obj)) == 0
    assert obj.read_bytes() == before


def test_other_architectures_are_left_alone(tmp_path):
    if subprocess.run(["which", "aarch64-linux-gnu-as"], capture_output=True).returncode:
        pytest.skip("aarch64 binutils not installed")
    obj = assemble(tmp_path, ".text\n.globl f\n.type f,%function\nf:\n bl g\n.size f, .-f\n",
                   ("aarch64-linux-gnu-as",))
    assert objtool.annotate_dead_ends(str(obj)) == 0


def test_a_damaged_object_is_named(tmp_path):
    obj = assemble(tmp_path, TWO_FUNCTIONS)
    obj.write_bytes(obj.read_bytes()[:100])
    with pytest.raises(RustkmodError, match="t.o"):
        objtool.annotate_dead_ends(str(obj))


def test_the_command_line_follows_objtools_version(tmp_path):
    """5.10's objtool takes `orc generate` and no --link; 5.19 on take --link for an ld -r output."""
    script = tmp_path / "objtool"
    script.write_text("#!/bin/sh\necho \"objtool: args: $*\" >&2\n")
    script.chmod(0o755)
    obj = str(tmp_path / "x.o")
    old = objtool.run(objtool.ObjtoolPlan((str(script), "orc", "generate"), False), obj)
    new = objtool.run(objtool.ObjtoolPlan((str(script), "--orc", "--retpoline"), False), obj)
    assert old.lines == (f"objtool: args: orc generate --module {obj}",) and old.status == 0
    assert new.lines == (f"objtool: args: --orc --retpoline --module --link {obj}",)
    missing = objtool.run(objtool.ObjtoolPlan((str(tmp_path / "absent"), "--orc"), False), obj)
    assert missing.status == 127 and "absent" in missing.lines[0]
