"""The verifier's memory and time are bounded by the file: sections that share bytes are refused
before anything is read per section, and a file of a million refused relocations is judged
under a memory limit a small multiple of its size, its first sites named and the rest counted."""

import lzma
import resource
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, object_with_types, with_first_relocation_repeated
from rustkmod import RustkmodError
from rustkmod.elf.reader import ElfTables
from rustkmod.verify import LoaderTarget, check_file, format_report, policy_for
from rustkmod.verify.check import NAMED_SITES

GOTPCREL = 9


def with_section_header_copies(path: Path, index: int, copies: int) -> Path:
    """The file with `copies` more section headers equal to section `index`'s (same bytes)."""
    data = bytearray(path.read_bytes())
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    headers = bytes(data[shoff:shoff + shentsize * shnum])
    extra = bytes(data[shoff + index * shentsize:shoff + (index + 1) * shentsize]) * copies
    new_offset = len(data)
    data += headers + extra
    struct.pack_into("<Q", data, 0x28, new_offset)
    struct.pack_into("<H", data, 0x3C, shnum + copies)
    out = path.with_name("copies-" + path.name)
    out.write_bytes(data)
    return out


def with_relocations_repeated(path: Path, count: int) -> Path:
    return with_first_relocation_repeated(path, count, path.with_name(f"many-{path.name}"))


def test_sections_that_share_bytes_are_refused_in_one_line(tmp_path):
    obj = object_with_types("x86_64", [1] * 64, tmp_path / "a.o")
    rela = ElfTables(obj.read_bytes(), str(obj)).applied_relocation_sections()[0]
    crafted = with_section_header_copies(obj, rela.index, 5000)
    with pytest.raises(RustkmodError) as err:
        check_file(str(crafted), LoaderTarget(policy_for("x86_64"), (6, 1, 0)))
    assert "they overlap, which no linker makes; the file is damaged or crafted" in str(err.value)


def run_limited(path: Path, limit_bytes: int) -> subprocess.CompletedProcess:
    """`rustkmod check` on `path` in a process whose address space is limited to `limit_bytes`."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return subprocess.run([sys.executable, "-m", "rustkmod", "check", "--arch", "x86_64", "--kernel", "6.1", str(path)],
                          cwd=ROOT / "site_scons", capture_output=True, text=True, preexec_fn=limit, timeout=300)


MODULE_SECTIONS = ('.section .gnu.linkonce.this_module,"aw"\n.quad 0\n'
                   '.section .modinfo,"a"\n.asciz "license=GPL"\n')


def test_a_million_refused_relocations_are_judged_within_a_bounded_memory(tmp_path):
    obj = object_with_types("x86_64", [GOTPCREL], tmp_path / "g.o", extra=MODULE_SECTIONS)
    many = with_relocations_repeated(obj, 1_000_000)           # 24 MB of relocations
    compressed = tmp_path / "many.ko.xz"
    compressed.write_bytes(lzma.compress(many.read_bytes(), check=lzma.CHECK_CRC32))
    assert compressed.stat().st_size < 100_000                  # a small file that decompresses to 24 MB
    for path in (many, compressed):
        run = run_limited(path, 800 * 2**20)                   # the interpreter, numpy and ~25 times the file
        assert run.returncode == 1, run.stderr[-2000:]
        assert "R_X86_64_GOTPCREL (9): refused by the loader, 1000000 site(s)" in run.stdout
        assert f"... and {1_000_000 - NAMED_SITES} more entries, only counted (the first {NAMED_SITES} are named)" \
            in run.stdout
        assert "MemoryError" not in run.stderr and "Traceback" not in run.stderr


def test_the_named_sites_stop_at_the_limit_and_the_count_is_kept(tmp_path):
    obj = object_with_types("x86_64", [GOTPCREL], tmp_path / "g.o")
    verdict = check_file(str(with_relocations_repeated(obj, 3 * NAMED_SITES)), LoaderTarget(policy_for("x86_64"), (6, 1, 0)))
    named = [p for p in verdict.problems if p.count == 1]
    [rest] = [p for p in verdict.problems if p.count > 1]
    assert len(named) == NAMED_SITES and rest.count == 2 * NAMED_SITES and rest.kind == "unknown-type"
    assert f"{3 * NAMED_SITES} site(s)" in format_report(verdict.problems, "Linux test", "m")
