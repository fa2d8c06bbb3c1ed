"""The loader's checks on the ELF header and section table, read as the kernel reads the file;
compressed modules judged decompressed; files that are not regular refused unread."""

import gzip
import lzma
import os
import signal
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import assemble, assemble_for
from rustkmod import RustkmodError
from rustkmod.verify import LoaderTarget, check_file, policy_for
from rustkmod.verify import header

MODULE = ('.text\n.globl f\nf: ret\n.section .gnu.linkonce.this_module,"aw"\n.quad 0\n'
          '.section .modinfo,"a"\n.asciz "license=GPL"\n')


def target(arch="x86_64", version=(6, 1, 0)):
    return LoaderTarget(policy_for(arch), version)


@pytest.fixture
def module(tmp_path) -> Path:
    return assemble(MODULE, tmp_path / "probe.o").rename(tmp_path / "probe.ko")


def patched(path: Path, offset: int, fmt: str, value: int) -> Path:
    data = bytearray(path.read_bytes())
    struct.pack_into("<" + fmt, data, offset, value)
    path.write_bytes(bytes(data))
    return path


def refusal(path: Path, **kwargs) -> str:
    verdict = check_file(str(path), target(**kwargs))
    assert not verdict.loadable
    [problem] = verdict.problems
    assert problem.kind == "elf-header"
    return problem.loader_says


@pytest.fixture
def sound(tmp_path) -> Path:
    """A module the loader takes as it is: with the version magic Kbuild's .mod.c adds."""
    text = MODULE + '.asciz "vermagic=6.1.0 SMP mod_unload "\n'
    return assemble(text, tmp_path / "sound.o").rename(tmp_path / "sound.ko")


def test_a_sound_module_passes(sound):
    assert check_file(str(sound), target()).loadable


# Elf64_Ehdr: e_shoff at 40, e_shentsize at 58, e_shnum at 60, e_shstrndx at 62.
def test_no_sections_and_a_name_index_out_of_range(module):
    patched(patched(module, 60, "H", 0), 62, "H", 134)
    assert refusal(module) == "Invalid ELF section name index: 134 || e_shstrndx (134) >= e_shnum (0)"


def test_section_headers_at_offset_zero(module):
    """The kernel then reads the ELF header itself as section headers, as it did when booted."""
    assert refusal(patched(module, 40, "Q", 0)).startswith("Invalid ELF section hdr(type ")


def test_a_truncated_section_count_drops_the_module_section(module):
    from elftools.elf.elffile import ELFFile
    with open(module, "rb") as handle:
        elf = ELFFile(handle)
        names = [s.name for s in elf.iter_sections()]
    cut, strings = names.index(".gnu.linkonce.this_module"), names.index(".shstrtab")
    assert strings > cut                           # the assembler writes the name table last
    patched(module, 60, "H", cut)
    assert refusal(module) == f"Invalid ELF section name index: {strings} || e_shstrndx ({strings}) >= e_shnum ({cut})"



def test_x32_and_big_endian_objects_are_read_the_kernels_way(tmp_path):
    x32 = assemble_for("i386", ".text\nnop\n", tmp_path / "x32.o")
    patched(x32, 18, "H", 62)                                # ELFCLASS32 claiming EM_X86_64
    assert refusal(x32) == "Invalid ELF section header size"
    big = tmp_path / "be.o"
    assemble_for("arm64", ".text\nnop\n", tmp_path / "le.o")
    import subprocess
    subprocess.run(["aarch64-linux-gnu-as", "-EB", "-o", str(big), str(tmp_path / "le.s")], check=True)
    assert refusal(big, arch="arm64") == "Invalid ELF header type: 256 != 1"


def test_older_loaders_refuse_the_same_with_less_said(module):
    """5.10 makes the same checks (booted in the differential test) but logs less."""
    shentsize = module.with_name("shentsize.ko")
    shentsize.write_bytes(module.read_bytes())
    patched(shentsize, 58, "H", 63)
    assert refusal(shentsize, version=(5, 10, 0)) == "(no message) insmod: Invalid module format"
    assert refusal(shentsize) == "Invalid ELF section header size"
    patched(module, 62, "H", 0xFFF0)
    assert refusal(module, version=(5, 10, 0)) == "Module has invalid ELF structures"


def test_unterminated_section_names_and_a_bad_symbol_table_link(module):
    from elftools.elf.elffile import ELFFile
    with open(module, "rb") as handle:
        elf = ELFFile(handle)
        shoff, size = elf["e_shoff"], elf["e_shentsize"]
        strtab = elf.get_section(elf["e_shstrndx"])
        symtab_index = next(i for i, s in enumerate(elf.iter_sections()) if s.name == ".symtab")
        end = strtab["sh_offset"] + strtab["sh_size"] - 1
    data = bytearray(module.read_bytes())
    data[end] = ord("x")
    unterminated = module.with_name("unterminated.ko")
    unterminated.write_bytes(bytes(data))
    assert refusal(unterminated) == "ELF Spec violation: section name table isn't null terminated"
    patched(module, shoff + symtab_index * size + 40, "I", 0)     # sh_link of .symtab
    assert refusal(module).startswith("Invalid ELF sh_link!=SHN_UNDEF(0)")


def test_compressed_modules_are_judged_decompressed(sound, tmp_path):
    data = sound.read_bytes()
    import zstandard
    for suffix, packed in ((".ko.xz", lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)),
                           (".ko.gz", gzip.compress(data)), (".ko.zst", zstandard.ZstdCompressor().compress(data))):
        path = tmp_path / f"probe{suffix}"
        path.write_bytes(packed)
        verdict = check_file(str(path), target())
        assert verdict.loadable and verdict.compression == suffix.split(".")[-1].replace("zst", "zstd").replace("gz", "gzip")
    damaged = tmp_path / "damaged.ko.xz"
    damaged.write_bytes(lzma.compress(data)[:40])
    with pytest.raises(RustkmodError, match="a damaged xz file"):
        check_file(str(damaged), target())


def test_a_named_pipe_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "pipe.ko"
    os.mkfifo(fifo)
    signal.alarm(5)
    try:
        with pytest.raises(RustkmodError, match="is not a regular file"):
            check_file(str(fifo), target())
    finally:
        signal.alarm(0)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from([(16, "H"), (18, "H"), (40, "Q"), (58, "H"), (60, "H"), (62, "H")]),
       value=st.integers(min_value=0, max_value=0xFFFF))
def test_no_header_mutation_the_loader_refuses_comes_out_loadable(module, field, value):
    """Whatever the mutation, a file header.check refuses (the loader's own checks, in order) is
    never called loadable, and the checker never crashes."""
    offset, fmt = field
    data = bytearray(module.read_bytes())
    struct.pack_into("<" + fmt, data, offset, value)
    mutant = module.with_name("mutant.ko")
    mutant.write_bytes(bytes(data))
    try:
        header.check(bytes(data), "x86_64", (6, 1, 0), True)
        refused = False
    except header.Refusal:
        refused = True
    try:
        verdict = check_file(str(mutant), target())
    except RustkmodError as err:
        assert "\n" not in str(err) and not refused
        return
    if refused:
        assert not verdict.loadable and verdict.problems[0].kind == "elf-header"


def test_a_module_without_its_module_section(tmp_path):
    ko = assemble(".text\nf: ret\n", tmp_path / "plain.o").rename(tmp_path / "plain.ko")
    assert refusal(ko) == "MODULE: No module found in object"
    assert check_file(str(ko.rename(tmp_path / "plain.o")), target()).loadable     # an object need not have one


def compressed(data: bytes, suffix: str) -> bytes:
    import zstandard
    if suffix == ".ko.xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ)
    return gzip.compress(data) if suffix == ".ko.gz" else zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("suffix", [".ko.xz", ".ko.gz", ".ko.zst"])
def test_a_module_that_expands_past_the_bound_is_refused_without_expanding_it(tmp_path, monkeypatch, suffix):
    """A small file made to expand to gigabytes of zeros: refused at the bound (made small here),
    in one line, having expanded little more than that."""
    from rustkmod.verify import check
    monkeypatch.setattr(check, "MAX_DECOMPRESSED", 1 << 20)
    bomb = tmp_path / f"bomb{suffix}"
    bomb.write_bytes(compressed(bytes(8 << 20), suffix))
    with pytest.raises(RustkmodError, match=r"expands to more than 1 MiB; no module is that large"):
        check_file(str(bomb), target())


@pytest.mark.parametrize("suffix", [".ko.xz", ".ko.gz", ".ko.zst"])
def test_a_truncated_compressed_module_is_damaged(sound, tmp_path, suffix):
    packed = compressed(sound.read_bytes(), suffix)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(packed[:len(packed) // 2])
    with pytest.raises(RustkmodError, match=r"a damaged (xz|gzip|zstd) file"):
        check_file(str(cut), target())
