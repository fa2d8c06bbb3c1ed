"""The module's .modinfo as the loader reads it: the first allocated one, its version magic
compared as check_modinfo compares it, its license; a second one named with what defined it."""

import pytest

from helpers import assemble
from rustkmod.verify import LoaderTarget, check_file, format_report, policy_for
from rustkmod.verify.modinfo import entries, expected_vermagic, same_magic

DEBIAN_61 = {"CONFIG_SMP": "y", "CONFIG_PREEMPT_BUILD": "y", "CONFIG_PREEMPT_DYNAMIC": "y",
             "CONFIG_MODULE_UNLOAD": "y", "CONFIG_MODVERSIONS": "y", "CONFIG_X86_64": "y"}
RELEASE = "6.1.0-1-amd64"            # synthetic: a tree's UTS_RELEASE
MAGIC = f"{RELEASE} SMP preempt mod_unload modversions "


@pytest.mark.parametrize("arch, config, magic", [
    ("x86_64", DEBIAN_61, MAGIC),
    ("x86_64", {"CONFIG_SMP": "y", "CONFIG_PREEMPT": "y", "CONFIG_MODULE_UNLOAD": "y"},      # 5.10's option
     f"{RELEASE} SMP preempt mod_unload "),
    ("x86_64", {"CONFIG_SMP": "y", "CONFIG_PREEMPT_RT": "y", "CONFIG_PREEMPT_BUILD": "y"}, f"{RELEASE} SMP preempt_rt "),
    ("arm64", {"CONFIG_SMP": "y", "CONFIG_MODULE_UNLOAD": "y"}, f"{RELEASE} SMP mod_unload aarch64"),
    ("riscv64", {"CONFIG_SMP": "y"}, f"{RELEASE} SMP riscv"),
    ("i386", {"CONFIG_SMP": "y", "CONFIG_M686": "y"}, f"{RELEASE} SMP 686 "),
    ("arm", {"CONFIG_CPU_32v7": "y", "CONFIG_THUMB2_KERNEL": "y", "CONFIG_ARM_PATCH_PHYS_VIRT": "y"},
     f"{RELEASE} ARMv7 thumb2 p2v8 "),
])
def test_the_version_magic_is_built_as_vermagic_h_builds_it(arch, config, magic):
    assert expected_vermagic(RELEASE, arch, config) == magic


def test_with_symbol_versions_the_release_word_is_not_compared():
    other = MAGIC.replace("-1-", "-2-")
    assert same_magic(other, MAGIC, has_versions=True) and not same_magic(other, MAGIC, has_versions=False)
    assert not same_magic(MAGIC.replace("preempt ", ""), MAGIC, has_versions=True)


def test_entries_are_the_first_value_of_each_tag():
    assert entries(b"license=GPL\0\0name=x\0license=MIT\0junk\0") == {"license": "GPL", "name": "x"}


def module(tmp_path, modinfo: str, extra: str = "", name: str = "m") -> str:
    text = ('.text\n.globl init_module\ninit_module: ret\n.section .gnu.linkonce.this_module,"aw"\n.quad 0\n'
            f'.section .modinfo,"a"\n{modinfo}{extra}')
    return str(assemble(text, tmp_path / f"{name}.o").rename(tmp_path / f"{name}.ko"))


def judged(path: str, release: str = RELEASE, config=DEBIAN_61):
    target = LoaderTarget(policy_for("x86_64"), (6, 1, 0), config, None, description="Linux test", release=release)
    return [(p.kind, p.symbol, p.loader_says) for p in check_file(path, target).problems]


SOUND = f'.asciz "license=GPL"\n.asciz "vermagic={MAGIC}"\n.asciz "name=m"\n'


def test_a_module_with_its_kernels_magic_and_a_license_loads(tmp_path):
    assert judged(module(tmp_path, SOUND)) == []


def test_a_second_modinfo_is_refused_naming_what_made_it(tmp_path):
    """rustc's #[used] #[link_section = ".modinfo"] static: a section of its own, flagged retain."""
    rust = ('.section .modinfo,"aR"\n_ZN4kmod6AUTHOR17h0123456789abcdefE:\n'
            '.asciz "author=someone"\n')
    [(kind, symbol, says)] = judged(module(tmp_path, SOUND, rust))
    assert kind == "modinfo-twice" and symbol.startswith("kmod::AUTHOR") and "only the first .modinfo" in says


def test_no_vermagic_is_a_forced_load(tmp_path):
    [(kind, _, says)] = judged(module(tmp_path, '.asciz "license=GPL"\n'))
    assert kind == "no-vermagic" and "bad vermagic: kernel tainted." in says


def test_another_kernels_magic_names_both(tmp_path):
    other = MAGIC.replace("preempt ", "")
    [(kind, _, says)] = judged(module(tmp_path, f'.asciz "license=GPL"\n.asciz "vermagic={other}"\n'))
    assert kind == "wrong-vermagic" and says == f"MODULE: version magic '{other}' should be '{MAGIC}'"


def test_another_release_is_refused_unless_symbol_versions_decide(tmp_path):
    path = module(tmp_path, SOUND)
    [(kind, _, says)] = judged(path, release="6.1.0-2-amd64")
    assert kind == "wrong-vermagic" and "should be '6.1.0-2-amd64 SMP" in says
    versions = '.section __versions,"a"\n.quad 0x1234\n.ascii "module_layout"\n.fill 43, 1, 0\n'
    assert judged(module(tmp_path, SOUND, versions, name="v"), release="6.1.0-2-amd64") == []


@pytest.mark.parametrize("license, shown", [(None, "unspecified"), ("Proprietary", "Proprietary")])
def test_no_gpl_compatible_license_taints(tmp_path, license, shown):
    text = (f'.asciz "license={license}"\n' if license else "") + f'.asciz "vermagic={MAGIC}"\n'
    [(kind, _, says)] = judged(module(tmp_path, text))
    assert kind == "license-taint" and says == f"MODULE: module license '{shown}' taints kernel."


def test_an_unknown_kernel_is_not_compared_but_the_magic_must_be_there(tmp_path):
    assert judged(module(tmp_path, '.asciz "license=GPL"\n.asciz "vermagic=anything"\n'), release="") == []


def test_a_license_taint_loads_and_is_counted_as_a_taint_not_a_refusal(tmp_path):
    target = LoaderTarget(policy_for("x86_64"), (6, 1, 0), DEBIAN_61, None, description="Linux test", release=RELEASE)
    verdict = check_file(module(tmp_path, f'.asciz "license=MIT"\n.asciz "vermagic={MAGIC}"\n'), target)
    assert (verdict.taint, verdict.refusals, verdict.loadable) == ("P", [], False)
    report = format_report(verdict.problems, "Linux test", "m")
    assert "license 'MIT', not GPL-compatible (taint P): loads, but taints the kernel P" in report


def test_the_modules_name_replaces_the_placeholder_and_nothing_else(tmp_path):
    """No vermagic: the kernel's message names CONFIG_MODULE_FORCE_LOAD, which stays as it is."""
    target = LoaderTarget(policy_for("x86_64"), (6, 1, 0), DEBIAN_61, None, description="Linux test", release=RELEASE)
    verdict = check_file(module(tmp_path, '.asciz "license=GPL"\n'), target)
    report = format_report(verdict.problems, "Linux test", "hello")
    assert "the kernel says: hello: bad vermagic: kernel tainted. (refused where CONFIG_MODULE_FORCE_LOAD is off)" \
        in report


@pytest.mark.parametrize("license, refused", [("MIT", True), ("GPL", False), ("Dual MIT/GPL", False)])
def test_a_gpl_only_symbol_is_unknown_to_a_module_that_is_not_gpl_compatible(tmp_path, license, refused):
    text = ('.text\n.globl init_module\ninit_module: call ktime_get\ncall printk\nret\n'
            '.section .gnu.linkonce.this_module,"aw"\n.quad 0\n'
            f'.section .modinfo,"a"\n.asciz "license={license}"\n.asciz "vermagic={MAGIC}"\n')
    path = str(assemble(text, tmp_path / "g.o").rename(tmp_path / "g.ko"))
    target = LoaderTarget(policy_for("x86_64"), (6, 1, 0), DEBIAN_61, {"ktime_get": 1, "printk": 2},
                          description="Linux test", release=RELEASE, gpl_only=frozenset({"ktime_get"}))
    found = [(p.kind, p.symbol, p.loader_says) for p in check_file(path, target).problems if p.kind != "license-taint"]
    assert found == ([("gpl-only-symbol", "ktime_get", "MODULE: Unknown symbol ktime_get (err -2)")] if refused else [])
