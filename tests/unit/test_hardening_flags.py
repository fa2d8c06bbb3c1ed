"""The kernel's hardening as rustc flags, and the verifier's check that no bare branch remains."""

from helpers import assemble
from rustkmod.kernel.hardening import kernel_hardening
from rustkmod.kernel.tree import Kernel
from rustkmod.verify import LoaderTarget, check_file, format_report, policy_for

DEBIAN_6_1 = {"CONFIG_RETPOLINE": "y", "CONFIG_RETHUNK": "y", "CONFIG_SLS": "y", "CONFIG_UNWINDER_ORC": "y",
              "CONFIG_STACKPROTECTOR_STRONG": "y", "CONFIG_MODVERSIONS": "y"}


def kernel(config, arch="x86_64"):
    return Kernel("/k", "6.1.0", (6, 1, 0), arch, config)


def test_debian_6_1_gets_thunks_and_sls():
    hardening = kernel_hardening(kernel(DEBIAN_6_1))
    assert hardening.flags == ("-Zretpoline-external-thunk", "-Cjump-tables=no", "-Zfunction-return=thunk-extern",
                               "-Ctarget-feature=+harden-sls-ret,+harden-sls-ijmp")
    assert [option for option, _ in hardening.unmatched] == ["CONFIG_STACKPROTECTOR_STRONG"]


def test_renamed_options_and_ibt_with_padding():
    config = {"CONFIG_MITIGATION_RETHUNK": "y", "CONFIG_X86_KERNEL_IBT": "y", "CONFIG_CALL_PADDING": "y",
              "CONFIG_FUNCTION_PADDING_BYTES": "16"}
    assert kernel_hardening(kernel(config)).flags == (
        "-Zfunction-return=thunk-extern", "-Zcf-protection=branch", "-Cjump-tables=no",
        "-Zpatchable-function-entry=16,16")


def test_a_kernel_without_the_options_gets_none_of_the_flags():
    hardening = kernel_hardening(kernel({"CONFIG_MODULES": "y", "CONFIG_RETPOLINE": "n"}))
    assert hardening.flags == () and hardening.unmatched == ()


def test_arm64_branch_protection_and_shadow_stack():
    config = {"CONFIG_ARM64_PTR_AUTH_KERNEL": "y", "CONFIG_ARM64_BTI_KERNEL": "y", "CONFIG_SHADOW_CALL_STACK": "y",
              "CONFIG_RETPOLINE": "y"}
    assert kernel_hardening(kernel(config, "arm64")).flags == (
        "-Zbranch-protection=pac-ret,bti", "-Zfixed-x18", "-Zsanitizer=shadow-call-stack")


BRANCHES = """.text
.globl unprotected, protected
.type unprotected,@function
unprotected:
  call *%rax
  jmp *8(%rdi)
  ret
.size unprotected, .-unprotected
.type protected,@function
protected:
  call __x86_indirect_thunk_rax
  jmp __x86_return_thunk
.size protected, .-protected
"""


def thunk_target(config):
    return LoaderTarget(policy_for("x86_64"), (6, 1, 0), config, description="Linux 6.1")


def test_bare_returns_and_indirect_branches_are_named(tmp_path):
    obj = assemble(BRANCHES, tmp_path / "b.o")
    problems = check_file(str(obj), thunk_target(DEBIAN_6_1)).problems
    assert sorted((p.kind, p.function, p.symbol) for p in problems) == [
        ("bare-indirect", "unprotected", "call rax"),
        ("bare-indirect", "unprotected", "jmp qword ptr [rdi + 8]"),
        ("bare-return", "unprotected", "ret")]
    report = format_report(problems, "Linux 6.1")
    assert "in unprotected: ret" in report and "runs without the kernel's return-thunk mitigation" in report


def test_only_what_the_kernel_asks_for_is_checked(tmp_path):
    obj = assemble(BRANCHES, tmp_path / "b.o")
    assert [p.kind for p in check_file(str(obj), thunk_target({"CONFIG_RETHUNK": "y"})).problems] == ["bare-return"]
    assert check_file(str(obj), thunk_target({})).loadable
    assert check_file(str(obj), thunk_target(None)).loadable       # unknown config: not judged


PARAVIRT = """.text
.globl unlock
.type unlock,@function
unlock:
  nop
771:
  call *pv_ops+8
772:
  call *%rax
  jmp __x86_return_thunk
.size unlock, .-unlock
.pushsection .parainstructions,"a"
  .balign 8
  .quad 771b
  .byte 0x51
  .byte 772b-771b
  .short 1
.popsection
"""


def test_a_paravirt_site_the_loader_patches_is_no_bare_branch(tmp_path):
    """spin_unlock on a paravirt kernel is `call *pv_ops+N` listed in .parainstructions; the loader
    patches it before the module runs. The bare call after it is still found."""
    obj = assemble(PARAVIRT, tmp_path / "pv.o")
    problems = check_file(str(obj), thunk_target(DEBIAN_6_1)).problems
    assert [(p.kind, p.function, p.symbol) for p in problems] == [("bare-indirect", "unlock", "call rax")]
    unlisted = assemble(PARAVIRT.replace(".parainstructions", ".other_table"), tmp_path / "plain.o")
    assert len(check_file(str(unlisted), thunk_target(DEBIAN_6_1)).problems) == 2


ALTERNATIVE = """.text
.globl irqsave
.type irqsave,@function
irqsave:
  nop
771:
  call *pv_ops+8(%rip)
772:
  call *%rax
  jmp __x86_return_thunk
.size irqsave, .-irqsave
.pushsection .altinstructions,"a"
  .long 771b - .
  .long 773f - .
  .long (FLAGS << 16) | 117
  .byte 772b-771b
  .byte 5
.popsection
.pushsection .altinstr_replacement,"ax"
773:
  call BUG_func
.popsection
"""


def test_a_paravirt_alternative_the_loader_makes_direct_is_no_bare_branch(tmp_path):
    """From Linux 6.8 a paravirt call (local_irq_save's) is an alternative flagged
    ALT_FLAG_DIRECT_CALL: apply_alternatives makes it a direct call before the module runs. An
    alternative without that flag may leave the indirect call in place, so it is still judged."""
    direct = assemble(ALTERNATIVE.replace("FLAGS", "2"), tmp_path / "alt.o")
    problems = check_file(str(direct), thunk_target(DEBIAN_6_1)).problems
    assert [(p.kind, p.function, p.symbol) for p in problems] == [("bare-indirect", "irqsave", "call rax")]
    other = assemble(ALTERNATIVE.replace("FLAGS", "1"), tmp_path / "not.o")
    assert [p.symbol for p in check_file(str(other), thunk_target(DEBIAN_6_1)).problems] == [
        "call qword ptr [rip]", "call rax"]
