"""The verifier against synthetic objects: every architecture's table, each side of each version
boundary, and each of the loader's other refusals that can be seen in the file."""

import pytest

from helpers import assemble, assemble_for, object_with_types
from rustkmod import RustkmodError
from rustkmod.verify import LoaderTarget, check_file, format_report, policy_for
from rustkmod.verify.names import TYPE_NAMES, number_of
from rustkmod.verify.policy import EVERY, POLICIES

X86 = policy_for("x86_64")
LATEST = (7, 2, 13)


def target(arch="x86_64", version=(6, 1, 0), config=None, exported=None):
    return LoaderTarget(policy_for(arch), version, config, exported, description=f"Linux {version}")


def refused(path, arch, version, config=None):
    return sorted({p.type_name for p in check_file(str(path), target(arch, version, config)).problems})


def single(tmp_path, arch, name, **kwargs):
    return object_with_types(arch, [number_of(arch, name)], tmp_path / f"{name}.o", **kwargs)


# -- every row of every table ----------------------------------------------------------------

# A PCREL_LO12 alone is refused whatever the version: it must name a HI20's place (test below).
ROWS = [(arch, name) for arch, policy in POLICIES.items() for name in sorted(policy.accepted)
        if name not in policy.overflow_unless_absolute and not name.startswith("R_RISCV_PCREL_LO12")]


@pytest.mark.parametrize("arch, name", ROWS)
def test_every_accepted_type_passes_on_todays_kernel_and_fails_before_its_version(tmp_path, arch, name):
    """The reader decodes each type of each table (REL/RELA, 32/64-bit) and the policy applies."""
    obj = single(tmp_path, arch, name)
    acceptance = POLICIES[arch].accepted[name]
    config = {acceptance.only_with[0]: "y"} if acceptance.only_with else {}
    if arch == "riscv64":
        config["CONFIG_MODULE_SECTIONS"] = "y"      # GOT_HI20 needs the module GOT (test below)
    assert refused(obj, arch, LATEST, config=config) == []
    if acceptance.since != EVERY:
        before = (acceptance.since[0], acceptance.since[1] - 1, 999) if acceptance.since[1] else (3, 99, 0)
        before_backports = [v for v in [before] if not any(v[:2] == b[:2] for b in acceptance.backports)]
        for version in before_backports:
            assert refused(obj, arch, version, config=config) == [name]
    if acceptance.only_with:        # its case is inside #ifdef: a kernel without the option refuses it
        assert refused(obj, arch, LATEST, config={}) == [name]


# Boundaries as the research notes give them, written out independently of the policy module.
BOUNDARIES = [
    ("x86_64", "R_X86_64_PLT32", (4, 16, 0), (4, 15, 0)),
    ("x86_64", "R_X86_64_PLT32", (4, 4, 126), (4, 4, 121)),
    ("x86_64", "R_X86_64_PLT32", (4, 15, 11), (4, 15, 10)),
    ("x86_64", "R_X86_64_PLT32", (4, 14, 67), (4, 14, 24)),
    ("x86_64", "R_X86_64_PC64", (4, 20, 0), (4, 19, 222)),
    ("i386", "R_386_PLT32", (5, 12, 0), (5, 11, 22)),
    ("i386", "R_386_PLT32", (5, 10, 21), (5, 10, 20)),
    ("i386", "R_386_PLT32", (4, 19, 222), (4, 9, 229)),
    ("riscv64", "R_RISCV_64", (4, 15, 0), (4, 14, 99)),
    ("riscv64", "R_RISCV_HI20", (4, 17, 0), (4, 16, 18)),
    ("riscv64", "R_RISCV_ADD64", (5, 9, 0), (5, 8, 18)),
    ("riscv64", "R_RISCV_ADD16", (6, 3, 0), (6, 1, 192)),
    ("riscv64", "R_RISCV_SET6", (6, 7, 0), (6, 6, 87)),
    ("riscv64", "R_RISCV_PLT32", (6, 7, 0), (6, 6, 87)),
    ("arm", "R_ARM_REL32", (5, 11, 0), (5, 10, 262)),
    ("arm", "R_ARM_ALU_PC_G0_NC", (6, 1, 0), (5, 15, 135)),
]


@pytest.mark.parametrize("arch, name, accepted_at, refused_at", BOUNDARIES)
def test_version_boundaries(tmp_path, arch, name, accepted_at, refused_at):
    obj = single(tmp_path, arch, name)
    assert refused(obj, arch, accepted_at) == []
    assert refused(obj, arch, refused_at) == [name]


NEVER = [("x86_64", "R_X86_64_GOTPCREL"), ("x86_64", "R_X86_64_REX_GOTPCRELX"), ("x86_64", "R_X86_64_GOTPCRELX"),
         ("x86_64", "R_X86_64_TPOFF32"), ("i386", "R_386_GOT32"), ("i386", "R_386_GOT32X"), ("i386", "R_386_NONE"),
         ("arm64", "R_AARCH64_ADR_GOT_PAGE"), ("arm64", "R_AARCH64_LD64_GOT_LO12_NC"), ("arm64", "R_AARCH64_PLT32"),
         ("arm64", "R_AARCH64_TLSLE_ADD_TPREL_HI12"), ("arm", "R_ARM_TARGET2"), ("arm", "R_ARM_GOT_PREL"),
         ("riscv64", "R_RISCV_NONE"), ("riscv64", "R_RISCV_TLS_GD_HI20"), ("riscv64", "R_RISCV_RELATIVE")]


@pytest.mark.parametrize("arch, name", NEVER)
def test_types_no_kernel_applies(tmp_path, arch, name):
    obj = single(tmp_path, arch, name)
    for version in [(4, 4, 0), (6, 1, 192), LATEST]:
        assert refused(obj, arch, version) == [name]


def test_riscv_align_is_refused_with_its_own_message(tmp_path):
    obj = single(tmp_path, "riscv64", "R_RISCV_ALIGN")
    [problem] = check_file(str(obj), target("riscv64", LATEST)).problems
    assert "The unexpected relocation type 'R_RISCV_ALIGN'" in problem.loader_says
    assert "-Ctarget-feature=-relax" in problem.fix


def test_unknown_type_numbers_are_named_as_such(tmp_path):
    obj = object_with_types("x86_64", [200], tmp_path / "u.o")
    [problem] = check_file(str(obj), target()).problems
    assert problem.type_name == "unknown type 200" and problem.loader_says.endswith("relocation: 200")


def test_names_pyelftools_lacks_are_added():
    assert TYPE_NAMES["x86_64"][41] == "R_X86_64_GOTPCRELX" and TYPE_NAMES["riscv64"][43] == "R_RISCV_ALIGN"
    assert TYPE_NAMES["arm64"][0] == "R_ARM_NONE" and TYPE_NAMES["i386"][43] == "R_386_GOT32X"


# -- the loader's other refusals --------------------------------------------------------------

def test_arm64_adrp_before_4_18_depends_on_erratum_843419(tmp_path):
    obj = single(tmp_path, "arm64", "R_AARCH64_ADR_PREL_PG_HI21")
    erratum = {"CONFIG_ARM64_ERRATUM_843419": "y"}
    assert refused(obj, "arm64", (4, 17, 0), erratum) == ["R_AARCH64_ADR_PREL_PG_HI21"]
    assert refused(obj, "arm64", (4, 17, 0), None) == ["R_AARCH64_ADR_PREL_PG_HI21"]  # default y
    assert refused(obj, "arm64", (4, 17, 0), {}) == []
    assert refused(obj, "arm64", (4, 18, 0), erratum) == []


@pytest.mark.parametrize("arch, name", [("x86_64", "R_X86_64_32"), ("arm64", "R_AARCH64_ABS32"),
                                        ("arm64", "R_AARCH64_ABS16")])
def test_narrow_absolute_types_overflow_unless_absolute(tmp_path, arch, name):
    against_symbol = single(tmp_path, arch, name)
    [problem] = check_file(str(against_symbol), target(arch)).problems
    assert (problem.kind, problem.symbol) == ("overflow", "ext")
    absolute = object_with_types(arch, [number_of(arch, name)], tmp_path / "abs.o", symbol="small",
                                 extra=".globl small\n.set small, 0x10")
    assert check_file(str(absolute), target(arch)).loadable


def test_x86_64_nonzero_target_bytes_from_4_14(tmp_path):
    obj = assemble(".text\nf:\n.reloc ., R_X86_64_PC32, ext\n.long 5\n", tmp_path / "nz.o")
    [problem] = check_file(str(obj), target(version=(4, 14, 0))).problems
    assert problem.kind == "nonzero-target" and "existing value is nonzero" in problem.loader_says
    assert check_file(str(obj), target(version=(4, 13, 0))).loadable
    assert not check_file(str(obj), target(version=(4, 9, 81))).loadable      # backported


def test_x86_64_two_relocations_at_one_place(tmp_path):
    obj = assemble(".text\nf:\n.reloc ., R_X86_64_PC32, a\n.reloc ., R_X86_64_PC32, b\n.long 0\n",
                   tmp_path / "twice.o")
    assert [p.kind for p in check_file(str(obj), target()).problems] == ["overlap"]


def test_rel_section_on_a_rela_architecture(tmp_path):
    obj = assemble(".text\n.reloc ., R_X86_64_64, a\n.quad 0\n.reloc ., R_X86_64_64, b\n.quad 0\n", tmp_path / "rel.o")
    from elftools.elf.elffile import ELFFile
    with open(obj, "rb") as handle:
        elf = ELFFile(handle)
        index = next(i for i, s in enumerate(elf.iter_sections()) if s.name == ".rela.text")
        header = elf["e_shoff"] + index * elf["e_shentsize"]
    with open(obj, "r+b") as handle:       # the same 64-bit object with its RELA section marked REL
        handle.seek(header + 4)
        handle.write((9).to_bytes(4, "little"))            # sh_type = SHT_REL
        handle.seek(header + 56)
        handle.write((16).to_bytes(8, "little"))           # sh_entsize of Elf64_Rel
    [problem] = check_file(str(obj), target()).problems
    assert problem.kind == "rel-format" and problem.loader_says == "module MODULE: REL relocation unsupported"


def test_a_32_bit_object_is_read_as_the_64_bit_kernel_reads_it(tmp_path):
    """An i386 object claiming x86_64: the loader reads an Elf64 header and finds its section
    header size wrong (the x32 case of the same)."""
    obj = assemble_for("i386", ".text\n.reloc ., R_386_32, ext\n.long 0\n", tmp_path / "x32.o")
    with open(obj, "r+b") as handle:
        handle.seek(18)
        handle.write((62).to_bytes(2, "little"))
    [problem] = check_file(str(obj), target()).problems
    assert problem.kind == "elf-header" and problem.loader_says == "Invalid ELF section header size"


def test_writable_executable_sections_from_5_8_with_strict_rwx(tmp_path):
    obj = assemble('.section .wx,"awx",@progbits\nnop\n', tmp_path / "wx.o")
    assert [p.kind for p in check_file(str(obj), target(version=(5, 8, 0))).problems] == ["wx-section"]
    assert check_file(str(obj), target(version=(5, 4, 0))).loadable
    assert check_file(str(obj), target(version=(6, 1, 0), config={"CONFIG_STRICT_MODULE_RWX": "n"})).loadable


def test_ctors_and_init_array_together(tmp_path):
    obj = assemble('.section .ctors,"aw"\n.quad 0\n.section .init_array,"aw"\n.quad 0\n', tmp_path / "c.o")
    assert [p.kind for p in check_file(str(obj), target()).problems] == ["ctors"]
    assert check_file(str(obj), target(config={"CONFIG_CONSTRUCTORS": "n"})).loadable


def test_common_symbols_and_tls_sections(tmp_path):
    obj = assemble('.comm shared_buf, 8\n.section .tbss,"awT",@nobits\n.zero 8\n', tmp_path / "ct.o")
    kinds = sorted(p.kind for p in check_file(str(obj), target()).problems)
    assert kinds == ["common-symbol", "tls-section"]


# A module's own section, and the .modinfo Kbuild gives every module (the loader reads both).
MODULE_SECTION = ('.section .gnu.linkonce.this_module,"aw"\n.quad 0\n'
                  '.section .modinfo,"a"\n.asciz "license=GPL"\n.asciz "vermagic=6.1.0 SMP mod_unload "\n')


def test_arm64_module_without_plt_sections(tmp_path):
    bare = assemble_for("arm64", MODULE_SECTION, tmp_path / "bare.ko")
    assert [p.kind for p in check_file(str(bare), target("arm64", (6, 5, 0))).problems] == ["missing-plt"]
    assert check_file(str(bare), target("arm64", (6, 1, 0), config={})).loadable
    with_plts = assemble_for("arm64", MODULE_SECTION + '.section .plt,"ax"\n.section .init.plt,"ax"\n',
                             tmp_path / "plts.ko")
    assert check_file(str(with_plts), target("arm64", (6, 5, 0))).loadable


def test_undefined_symbols_must_be_exported(tmp_path):
    source = MODULE_SECTION + ".text\n.weak maybe\ncall printk_like\ncall missing_fn\ncall maybe\n"
    obj = assemble(source, tmp_path / "u.ko")
    verdict = check_file(str(obj), target(exported={"printk_like": 0x1234}))
    assert [(p.kind, p.symbol) for p in verdict.problems] == [("undefined-symbol", "missing_fn")]
    assert "Unknown symbol missing_fn" in verdict.problems[0].loader_says
    assert check_file(str(obj), target(exported=None)).loadable     # no Module.symvers: unchecked


def test_relocations_of_non_allocated_sections_never_count(tmp_path):
    obj = assemble('.section .debug_info,"",@progbits\n.reloc ., R_X86_64_GOTPCREL, ext\n.long 0\n'
                   '.section .comment,"",@progbits\n.reloc ., R_X86_64_TPOFF32, ext\n.long 0\n', tmp_path / "d.o")
    assert check_file(str(obj), target()).loadable


# -- the report -------------------------------------------------------------------------------

def test_problem_names_file_section_offset_function_symbol_type(tmp_path):
    obj = assemble(".text\n.globl f\n.type f,@function\nf:\n.reloc ., R_X86_64_PC32, a\n.long 0\n"
                   ".reloc ., R_X86_64_GOTPCREL, rustkmod_log_info\n.long 0\n.size f, .-f\n", tmp_path / "t.o")
    [problem] = check_file(str(obj), target(version=(6, 1, 192))).problems
    assert (problem.file, problem.section, problem.offset) == (str(obj), ".rela.text", 4)
    assert (problem.function, problem.symbol) == ("f", "rustkmod_log_info")
    assert (problem.type_name, problem.type_number) == ("R_X86_64_GOTPCREL", 9)
    report = format_report([problem], "Linux 6.1", "hello")
    for words in (str(obj), "R_X86_64_GOTPCREL (9)", "in f -> rustkmod_log_info", ".rela.text+0x4",
                  "accepted by: no x86_64 kernel", "-Zplt=yes", "the kernel says: module: hello: Unknown rela relocation: 9"):
        assert words in report


def test_identical_sites_are_counted_not_repeated(tmp_path):
    obj = object_with_types("x86_64", [9] * 1000, tmp_path / "many.o", symbol="memset")
    problems = check_file(str(obj), target()).problems
    report = format_report(problems, "Linux 6.1")
    assert len(problems) == 1000
    assert report.count("-> memset") == 1 and "(x1000)" in report


def test_rust_functions_are_demangled_with_their_crate(tmp_path):
    mangled = "_RNvNtCsll0FuqfNz3F_5hello6kernel3bug"
    source = (f".text\n.globl {mangled}\n.type {mangled},@function\n{mangled}:\n"
              f"  .reloc ., R_X86_64_GOTPCREL, rustkmod_bug\n  .long 0\n.size {mangled}, .-{mangled}\n")
    [problem] = check_file(str(assemble(source, tmp_path / "r.o")), target()).problems
    assert problem.function.startswith("hello[") and problem.function.endswith("]::kernel::bug")
    assert problem.crate == "hello"
    assert "(crate hello) -> rustkmod_bug" in format_report([problem], "Linux 6.1")


def test_loader_source_overrides_the_table(tmp_path):
    obj = single(tmp_path, "x86_64", "R_X86_64_PLT32")
    backported = LoaderTarget(X86, (4, 4, 0), None, None, frozenset({"R_X86_64_PC32", "R_X86_64_PLT32"}),
                              "arch/x86/kernel/module.c")
    assert check_file(str(obj), backported).loadable
    assert "this kernel's arch/x86/kernel/module.c has a case for it" in backported.accepted_by(4)


# -- bad files ---------------------------------------------------------------------------------

def test_a_file_for_another_machine_is_refused_as_the_loader_refuses_it(tmp_path):
    obj = assemble_for("arm64", ".text\nnop\n", tmp_path / "arm64.o")
    [problem] = check_file(str(obj), target()).problems
    assert problem.kind == "elf-header" and problem.type_name == "built for EM_AARCH64, not for this x86_64 kernel"
    assert problem.loader_says == "Invalid architecture in ELF header: 183"


def test_truncated_file_is_refused_or_one_clear_error(tmp_path):
    obj = single(tmp_path, "x86_64", "R_X86_64_PC32")
    data = obj.read_bytes()
    for size in (0, 10, 63, 64, len(data) // 2, len(data) - 1):
        obj.write_bytes(data[:size])
        try:
            verdict = check_file(str(obj), target())
        except RustkmodError as err:
            assert str(obj) in str(err) and "\n" not in str(err)
            continue
        assert [p.kind for p in verdict.problems] == ["elf-header"], size
    obj.write_bytes(data[:63])
    assert check_file(str(obj), target()).problems[0].loader_says == "Invalid ELF header len 63"


@pytest.mark.parametrize("function, crate", [
    ("hello::kernel::bug::h79088dbafbeadea8", "hello"),
    ("hello[f88c13d2f7b4fa99]::kernel::bug", "hello"),
    ("<hello::fmtbuf::FixedBuf<_> as core::fmt::Write>::write_str", "hello"),
    ("<&T as core::fmt::Display>::fmt::h0ad57f02e2947530", "core"),
    ("<*const mydrv::Ring as core::fmt::Debug>::fmt", "mydrv"),
    ("init_module", "C or #[no_mangle]"),
    ("?", ""),
])
def test_the_crate_a_function_comes_from(function, crate):
    from rustkmod.verify.check import Problem
    assert Problem("unknown-type", "f", "s", 0, function, "x", 9, "t", "", "", "").crate == crate


def test_symbol_versions_must_match_the_kernels(tmp_path):
    versions = ('.section __versions,"a"\n'
                '.quad 0x1234\n.ascii "printk_like"\n.fill 45, 1, 0\n'
                '.quad 0xdead\n.ascii "memcpy"\n.fill 50, 1, 0\n')
    obj = assemble(MODULE_SECTION + ".text\n.globl init_module\ninit_module: nop\n" + versions, tmp_path / "v.ko")
    kernel_crcs = {"printk_like": 0x1234, "memcpy": 0xbeef}
    [problem] = check_file(str(obj), target(exported=kernel_crcs)).problems
    assert (problem.kind, problem.symbol) == ("symbol-version", "memcpy")
    assert problem.loader_says == "MODULE: disagrees about version of symbol memcpy"
    assert check_file(str(obj), target(exported={**kernel_crcs, "memcpy": 0xdead})).loadable
    assert check_file(str(obj), target(exported=kernel_crcs, config={"CONFIG_MODVERSIONS": "n"})).loadable


def test_a_huge_unknown_type_number_is_refused_at_once(tmp_path):
    """The bulk zero-target check sizes its tables by the types it knows, not by what the file says."""
    import time
    obj = object_with_types("x86_64", [0xFFFFFFF0, 2], tmp_path / "huge.o")
    start = time.perf_counter()
    [problem] = check_file(str(obj), target()).problems
    assert problem.kind == "unknown-type" and time.perf_counter() - start < 2


def test_riscv64_pcrel_lo12_needs_its_hi20_and_got_hi20_a_module_got(tmp_path):
    """The riscv64 loader finds a PCREL_LO12's value at the HI20 relocation its symbol names
    ("Can not find HI20 relocation information" otherwise), and emits GOT entries only with
    CONFIG_MODULE_SECTIONS (Debian 13's riscv64 6.12 has it off: booted, tests/e2e)."""
    paired = assemble_for("riscv64", ".text\n.globl f\n.type f, %function\nf:\n"
                          "1: auipc a0, %pcrel_hi(ext)\n   addi a0, a0, %pcrel_lo(1b)\n   ret\n.size f, .-f\n",
                          tmp_path / "paired.o")
    assert refused(paired, "riscv64", LATEST, {}) == []
    lone = single(tmp_path, "riscv64", "R_RISCV_PCREL_LO12_I")
    problems = check_file(str(lone), target("riscv64", LATEST, {})).problems
    assert [p.loader_says for p in problems] == ["MODULE: Can not find HI20 relocation information"]
    got = single(tmp_path, "riscv64", "R_RISCV_GOT_HI20")
    assert refused(got, "riscv64", LATEST, {"CONFIG_MODULE_SECTIONS": "y"}) == []
    assert refused(got, "riscv64", LATEST, {}) == ["R_RISCV_GOT_HI20"]
    assert refused(got, "riscv64", LATEST, None) == []          # no .config: assumed on
