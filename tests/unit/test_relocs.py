"""The verifier against synthetic objects: every x86_64 rule, each side of each version boundary."""

import random

import pytest

from helpers import assemble
from rustkmod import RustkmodError
from rustkmod.relocs import check_file, format_report, policy_for

X86 = policy_for("x86_64")


def object_with(tmp_path, relocs, name="t.o", extra=""):
    """An object whose function `f` (in .text) holds one 4- or 8-byte slot per relocation."""
    lines = [".text", ".globl f", ".type f,@function", "f:"]
    for rtype, symbol in relocs:
        lines.append(f"  .reloc ., {rtype}, {symbol}")
        lines.append("  .quad 0" if rtype in ("R_X86_64_64", "R_X86_64_PC64") else "  .long 0")
    lines += [".size f, .-f", extra, ""]
    return assemble("\n".join(lines), tmp_path / name)


def types_refused(path, version):
    return sorted({p.type_name for p in check_file(str(path), X86, version).problems})


@pytest.mark.parametrize("rtype, first_ok, last_refused", [
    ("R_X86_64_PLT32", (4, 16, 0), (4, 15, 0)),
    ("R_X86_64_PLT32", (4, 4, 126), (4, 4, 121)),      # stable backport bracket
    ("R_X86_64_PLT32", (4, 15, 11), (4, 15, 10)),
    ("R_X86_64_PC64", (4, 20, 0), (4, 19, 222)),       # never backported to 4.19.y
])
def test_version_boundaries(tmp_path, rtype, first_ok, last_refused):
    obj = object_with(tmp_path, [(rtype, "ext")])
    assert types_refused(obj, first_ok) == []
    assert types_refused(obj, last_refused) == [rtype]


@pytest.mark.parametrize("rtype", ["R_X86_64_GOTPCREL", "R_X86_64_GOTPCRELX", "R_X86_64_REX_GOTPCRELX",
                                   "R_X86_64_GOT32", "R_X86_64_TPOFF32", "R_X86_64_GOTPC32"])
def test_got_and_tls_types_are_refused_by_every_kernel(tmp_path, rtype):
    obj = object_with(tmp_path, [(rtype, "ext")])
    for version in [(4, 4, 0), (6, 1, 192), (7, 2, 13)]:
        assert types_refused(obj, version) == [rtype]


def test_accepted_types_pass_on_every_kernel(tmp_path):
    obj = object_with(tmp_path, [("R_X86_64_PC32", "ext"), ("R_X86_64_32S", "ext"),
                                 ("R_X86_64_64", "ext"), ("R_X86_64_NONE", "ext")])
    verdict = check_file(str(obj), X86, (4, 4, 0))
    assert verdict.loadable
    assert verdict.type_counts == {"R_X86_64_NONE": 1, "R_X86_64_64": 1, "R_X86_64_PC32": 1,
                                   "R_X86_64_32S": 1}


def test_r_x86_64_32_overflows_unless_absolute(tmp_path):
    obj = object_with(tmp_path, [("R_X86_64_32", "ext"), ("R_X86_64_32", "small_abs")],
                      extra=".globl small_abs\n.set small_abs, 0x10")
    problems = check_file(str(obj), X86, (6, 1, 0)).problems
    assert [(p.kind, p.symbol) for p in problems] == [("overflow", "ext")]
    assert "-Ccode-model=kernel" in problems[0].fix


def test_relocations_of_non_allocated_sections_never_count(tmp_path):
    obj = object_with(tmp_path, [], extra=(
        '.section .debug_info,"",@progbits\n.reloc ., R_X86_64_GOTPCREL, ext\n.long 0\n'
        '.section .comment,"",@progbits\n.reloc ., R_X86_64_TPOFF32, ext\n.long 0'))
    assert check_file(str(obj), X86, (6, 1, 0)).loadable


def test_problem_names_file_section_offset_function_symbol_type(tmp_path):
    obj = object_with(tmp_path, [("R_X86_64_PC32", "a"), ("R_X86_64_GOTPCREL", "rustkmod_log_info")])
    [problem] = check_file(str(obj), X86, (6, 1, 192)).problems
    assert (problem.file, problem.section, problem.offset) == (str(obj), ".rela.text", 4)
    assert (problem.function, problem.symbol) == ("f", "rustkmod_log_info")
    assert (problem.type_name, problem.type_number) == ("R_X86_64_GOTPCREL", 9)
    assert problem.accepted_by == "no x86_64 kernel"
    report = format_report([problem], "Linux 6.1")
    for words in (str(obj), "R_X86_64_GOTPCREL (9)", "in f -> rustkmod_log_info", ".rela.text+0x4",
                  "accepted by: no x86_64 kernel", "-Zplt=yes"):
        assert words in report


def test_identical_sites_are_counted_not_repeated(tmp_path):
    obj = object_with(tmp_path, [("R_X86_64_GOTPCREL", "memset")] * 50)
    problems = check_file(str(obj), X86, (6, 1, 0)).problems
    report = format_report(problems, "Linux 6.1")
    assert len(problems) == 50
    assert report.count("-> memset") == 1 and "(x50)" in report


def test_rust_names_are_demangled(tmp_path):
    mangled = "_RNvNtCsll0FuqfNz3F_5hello6kernel3bug"
    source = (f".text\n.globl {mangled}\n.type {mangled},@function\n{mangled}:\n"
              f"  .reloc ., R_X86_64_GOTPCREL, rustkmod_bug\n  .long 0\n.size {mangled}, .-{mangled}\n")
    [problem] = check_file(str(assemble(source, tmp_path / "r.o")), X86, (6, 1, 0)).problems
    assert problem.function.startswith("hello[") and problem.function.endswith("]::kernel::bug")


def test_wrong_machine_is_a_clear_error(tmp_path):
    obj = assemble(".text\nnop\n", tmp_path / "i386.o", assembler="as")
    with open(obj, "r+b") as handle:       # turn the object into an EM_386 file
        handle.seek(18)
        handle.write((3).to_bytes(2, "little"))
    with pytest.raises(RustkmodError, match="built for EM_386, but the kernel is x86_64"):
        check_file(str(obj), X86, (6, 1, 0))


def test_truncated_file_is_one_clear_error(tmp_path):
    obj = object_with(tmp_path, [("R_X86_64_PC32", "ext")])
    data = obj.read_bytes()
    for size in (0, 10, 63, 64, len(data) // 2, len(data) - 1):
        obj.write_bytes(data[:size])
        with pytest.raises(RustkmodError) as err:
            check_file(str(obj), X86, (6, 1, 0))
        assert str(obj) in str(err.value) and "\n" not in str(err.value)


def test_bit_flipped_files_give_a_verdict_or_one_clear_error(tmp_path):
    """Seeded mutations of a valid object: never a traceback. (Issue 3 asks for a larger fuzz.)"""
    obj = object_with(tmp_path, [("R_X86_64_PC32", "a"), ("R_X86_64_GOTPCREL", "b")])
    original = obj.read_bytes()
    rng = random.Random(2)
    outcomes = {"verdict": 0, "error": 0}
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        obj.write_bytes(bytes(data))
        try:
            check_file(str(obj), X86, (6, 1, 0))
            outcomes["verdict"] += 1
        except RustkmodError as err:
            assert "\n" not in str(err)
            outcomes["error"] += 1
    assert outcomes["verdict"] and outcomes["error"]
