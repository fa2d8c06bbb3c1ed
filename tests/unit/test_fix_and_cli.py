"""RELOCS=fix's rewriter and `python -m rustkmod check`, on synthetic objects."""

import json
import subprocess
import sys

from helpers import ROOT, object_with_types
from rustkmod.verify import LoaderTarget, check_file, policy_for
from rustkmod.verify.fix import needed_rewrites, rewrite_types


def readelf_relocs(path):
    lines = subprocess.run(["readelf", "-rW", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in lines.splitlines() if line[:1] in "0123456789abcdef" and "R_" in line]


def test_plt32_becomes_pc32_and_nothing_else_changes(tmp_path):
    obj = object_with_types("x86_64", [4, 2, 4, 11], tmp_path / "p.o", symbol="callee")
    target_4_15 = LoaderTarget(policy_for("x86_64"), (4, 15, 0))
    assert needed_rewrites(target_4_15) == {4: 2}
    assert needed_rewrites(LoaderTarget(policy_for("x86_64"), (4, 16, 0))) == {}
    fixed = tmp_path / "fixed.o"
    assert rewrite_types(str(obj), str(fixed), {4: 2}) == {4: 2}
    before, after = readelf_relocs(obj), readelf_relocs(fixed)
    assert [r[2] for r in after] == ["R_X86_64_PC32", "R_X86_64_PC32", "R_X86_64_PC32", "R_X86_64_32S"]
    assert [(r[0], r[4:]) for r in before] == [(r[0], r[4:]) for r in after]     # offsets, symbols, addends
    assert not check_file(str(obj), target_4_15).loadable and check_file(str(fixed), target_4_15).loadable


def test_i386_plt32_rewrite_in_a_rel_object(tmp_path):
    obj = object_with_types("i386", [4, 1], tmp_path / "p.o")
    target = LoaderTarget(policy_for("i386"), (5, 4, 0))
    assert needed_rewrites(target) == {4: 2}
    rewrite_types(str(obj), str(tmp_path / "f.o"), needed_rewrites(target))
    assert check_file(str(tmp_path / "f.o"), target).loadable


def cli(*args):
    result = subprocess.run([sys.executable, "-m", "rustkmod", "check", *args], capture_output=True, text=True,
                            cwd=ROOT / "site_scons")
    return result.returncode, result.stdout, result.stderr


def test_cli_exit_codes_and_json(tmp_path):
    good = object_with_types("x86_64", [2], tmp_path / "good.o")
    bad = object_with_types("x86_64", [9], tmp_path / "bad.o")
    assert cli(str(good), "--arch", "x86_64", "--kernel", "6.1")[0] == 0
    code, out, _ = cli(str(good), str(bad), "--arch", "x86_64", "--kernel", "6.1")
    assert code == 1 and "R_X86_64_GOTPCREL (9)" in out and "module: bad: Unknown rela relocation: 9" in out
    code, out, _ = cli(str(bad), "--arch", "amd64", "--kernel", "6.1.0-13-amd64", "--json")
    verdict = json.loads(out)
    assert code == 1 and verdict["loadable"] is False
    assert verdict["files"][str(bad)]["problems"][0]["type_name"] == "R_X86_64_GOTPCREL"


def test_cli_bad_input_is_exit_2_with_one_line(tmp_path):
    good = object_with_types("x86_64", [2], tmp_path / "good.o")
    for args in ([str(good)], [str(tmp_path / "missing.o"), "--arch", "x86_64", "--kernel", "6.1"],
                 [str(good), "--arch", "sparc", "--kernel", "6.1"], [str(good), "--kdir", str(tmp_path)]):
        code, out, err = cli(*args)
        assert code == 2 and err.startswith("rustkmod: ") and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err


def test_cli_refuses_what_it_cannot_judge_and_says_why(tmp_path):
    import os
    good = object_with_types("x86_64", [2], tmp_path / "good.o")
    code, _, err = cli(str(good), "--arch", "x86_64", "--kernel", "99.99")
    assert code == 2 and "--kernel 99.99 is not a Linux release rustkmod's loader tables know" in err
    assert "pass --assume 7.3" in err
    assert cli(str(good), "--arch", "x86_64", "--kernel", "5.25")[0] == 2          # 5.x ended at 5.19
    assert cli(str(good), "--arch", "x86_64", "--kernel", "6.25")[0] == 2          # 6.x ended at 6.19
    assert cli(str(good), "--arch", "x86_64", "--kernel", "6.19")[0] == 0
    code, out, _ = cli(str(good), "--arch", "x86_64", "--kernel", "99.99", "--assume", "6.12")
    assert code == 0 and "loadable by" in out
    binary = tmp_path / "Module.symvers"
    binary.write_bytes(bytes(range(256)) * 4)
    code, _, err = cli(str(good), "--arch", "x86_64", "--kernel", "6.1", "--symvers", str(binary))
    assert code == 2 and "is not a Module.symvers (line 1" in err
    fifo = tmp_path / "pipe.ko"
    os.mkfifo(fifo)
    code, _, err = cli(str(fifo), "--arch", "x86_64", "--kernel", "6.1")       # refused unread: no hang
    assert code == 2 and "pipe.ko is not a regular file" in err


def test_cli_judges_a_compressed_module_as_the_kernel_loads_it(tmp_path):
    import lzma
    good = object_with_types("x86_64", [2], tmp_path / "good.o")
    packed = tmp_path / "good.o.xz"
    packed.write_bytes(lzma.compress(good.read_bytes()))
    code, out, _ = cli(str(packed), "--arch", "x86_64", "--kernel", "6.1")
    assert code == 0 and "(decompressed from xz, as the kernel loads it)" in out
