"""Verdicts as the loader's, tainting included: a module whose license is not GPL-compatible
loads and taints the kernel P; the build says so ("would taint", not "refused") and passes once
the module declares it (gpl_compatible=False), the boot then accepting exactly that taint; a
GPL-only symbol such a module uses is refused by the verifier and by the booted kernel alike."""

import subprocess

import pytest

from helpers import ROOT, copy_project, default_kdir, one_error_line, scons
from rustkmod.kernel import boot
from rustkmod.kernel.tree import Kernel

pytestmark = pytest.mark.e2e


@pytest.fixture
def mit_project(tmp_path):
    project = copy_project(tmp_path / "project")
    glue = project / "kmod" / "module.c"
    glue.write_text(glue.read_text().replace('MODULE_LICENSE("GPL");', 'MODULE_LICENSE("MIT");'))
    return project


def declare_not_gpl(project):
    sconstruct = project / "SConstruct"
    sconstruct.write_text(sconstruct.read_text().replace('expect="hello world")',
                                                         'expect="hello world", gpl_compatible=False)'))


def test_a_license_taint_is_named_as_a_taint_not_a_refusal(mit_project):
    run = scons(mit_project)
    line = one_error_line(run)
    assert "would taint Linux" in line and "P: license 'MIT', not GPL-compatible (taint P)" in line
    assert "gpl_compatible=False" in line and "refused" not in line
    assert "loads, but taints the kernel P (proprietary module)" in run.stderr
    assert "the kernel says: hello: module license 'MIT' taints kernel." in run.stderr
    assert not (mit_project / "build" / Kernel.from_kdir(default_kdir()).name / "hello" / "hello.ko.verified").exists()


def test_a_declared_taint_builds_and_boots_with_exactly_that_taint(mit_project):
    declare_not_gpl(mit_project)
    run = scons(mit_project, "check")
    assert run.returncode == 0, run.output
    assert "which it taints P (declared: gpl_compatible=False)" in run.stdout
    assert "hello: loaded, printed 'hello world', unloaded" in run.stdout
    log = next(mit_project.glob("build/*/hello/hello.ko.booted.log")).read_text()
    assert "module license 'MIT' taints kernel" in log           # the kernel did taint it


def test_a_declaration_that_is_not_true_is_refused(tmp_path):
    project = copy_project(tmp_path / "project")
    declare_not_gpl(project)
    line = one_error_line(scons(project))
    assert "is declared gpl_compatible=False, but its license is GPL-compatible" in line
    assert "leave out gpl_compatible=False" in line


def test_a_gpl_only_symbol_is_refused_by_the_verifier_and_by_the_kernel(tmp_path):
    """Kbuild's modpost refuses a GPL-only symbol in a module it builds; a module that reaches the
    verifier otherwise (prebuilt, relicensed after the build: here its .modinfo edited from GPL to
    MIT) is refused by the verifier as by the booted kernel."""
    project = copy_project(tmp_path / "project")
    glue = project / "kmod" / "module.c"
    glue.write_text(glue.read_text().replace("#include <linux/printk.h>",
                                             "#include <linux/printk.h>\n#include <linux/timekeeping.h>")
                    .replace("static int __init hello_module_init(void)\n{",
                             "static int __init hello_module_init(void)\n{\n\tpr_info(\"at %lld\\n\", ktime_get());"))
    assert scons(project).returncode == 0         # GPL: ktime_get (EXPORT_SYMBOL_GPL) is its to use
    kernel = Kernel.from_kdir(default_kdir())
    built = (project / "build" / kernel.name / "hello" / "hello.ko").read_bytes()
    assert built.count(b"license=GPL\0") == 1
    ko = tmp_path / "mit" / "hello.ko"
    ko.parent.mkdir()
    ko.write_bytes(built.replace(b"license=GPL\0", b"license=MIT\0"))
    checked = subprocess.run([str(ROOT / "rustkmod"), "check", "--kdir", default_kdir(), "--symvers",
                              f"{default_kdir()}/Module.symvers", str(ko)], capture_output=True, text=True)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "GPL-only symbol: refused by the loader for a module that is not GPL-compatible" in checked.stdout
    assert "the kernel says: hello: Unknown symbol ktime_get (err -2)" in checked.stdout
    assert "license 'MIT', not GPL-compatible (taint P): loads, but taints the kernel P" in checked.stdout
    result = boot.boot_modules("x86_64", f"/boot/vmlinuz-{kernel.release}", [str(ko)], str(tmp_path / "boot"))
    assert result.module("hello").insmod_rc != 0
    assert result.log_has("hello: Unknown symbol ktime_get (err -2)")
