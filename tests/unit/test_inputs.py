"""No input is executed: each sink (make's Kbuild file, the boot's /init, a Debian control file,
dkms.conf, the initramfs' /bin) refuses a hostile name with one error naming it, and takes an
ordinary one verbatim."""

import sys

import pytest

from rustkmod import RustkmodError
from rustkmod.kernel import boot, deb, dkms, kbuild

HOSTILE = ["x.o;cd;id>PWNED;", "a$(id)", "a`id`", "q'uote", 'q"uote', "new\nline", "trailing\n", "two words",
           "-rf", ""]
SPEC = deb.DebSpec("hello", "1.0.0", "Jo Dev <jo@example.com>", "hello world module")
KERNEL = deb.DebKernel("6.12.99-test-amd64", "amd64", "")


def refused(call) -> str:
    with pytest.raises(RustkmodError) as err:
        call()
    assert "\n" not in str(err.value)          # one line: a newline in the name is shown escaped
    return str(err.value)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_make_takes_no_hostile_module_or_object_name(hostile):
    assert "is not a valid kernel module name" in refused(lambda: kbuild.kbuild_text(hostile, ["a.o"]))
    assert "is not a file name Kbuild can take" in refused(lambda: kbuild.kbuild_text("m", [hostile + ".o"]))
    assert "is not a file name Kbuild can take" in refused(lambda: kbuild.kbuild_text("m", ["a.o"], [hostile + ".o"]))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_boots_init_takes_no_hostile_module_file_or_parameter(hostile):
    assert "module" in refused(lambda: boot.init_script([f"/b/{hostile}.ko"]))
    if hostile not in ("-rf", ""):          # a value may start with '-' (a negative number) or be empty
        assert "is not NAME=VALUE words" in refused(lambda: boot.init_script(["/b/m.ko"], params=f"x={hostile} y=1"))
    assert "is not NAME=VALUE words" in refused(lambda: boot.init_script(["/b/m.ko"], params=f"{hostile}"
                                                                         if hostile else "x y"))


@pytest.mark.parametrize("hostile", [h for h in HOSTILE if h])
def test_the_initramfs_takes_no_hostile_program_name(hostile, tmp_path):
    program = tmp_path / hostile.replace("\n", "_").replace("/", "_")
    plan = boot.BootPlan("x86_64", "/k/bzImage", ("/b/m.ko",), busybox=sys.executable, files=(str(tmp_path / hostile),))
    message = refused(lambda: boot.make_initramfs(plan, str(tmp_path / "i.gz")))
    assert "exercise program" in message
    assert not (tmp_path / "i.gz").exists() and not program.exists()


@pytest.mark.parametrize("field", ["package", "version", "maintainer", "description"])
@pytest.mark.parametrize("hostile", ["Jo\nPre-Depends: evil <jo@example.com>", "1.0.0\n", "x\n Depends: evil", ""])
def test_a_control_file_gets_no_field_of_a_hostile_value(field, hostile):
    message = refused(lambda: deb.control_text(SPEC._replace(**{field: hostile}), KERNEL, 10))
    assert f"{field}=" in message


def test_a_control_file_of_ordinary_fields_has_them_verbatim():
    text = deb.control_text(SPEC, KERNEL, 10)
    assert "Maintainer: Jo Dev <jo@example.com>\n" in text and "Version: 1.0.0\n" in text
    assert [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")] == [
        "Package", "Version", "Architecture", "Maintainer", "Installed-Size", "Depends", "Section", "Priority",
        "Description"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_dkms_conf_takes_no_hostile_package_version_or_module(hostile):
    for call in (lambda: dkms.conf_text(hostile, "1.0", ["m"]), lambda: dkms.conf_text("pkg", hostile, ["m"]),
                 lambda: dkms.conf_text("pkg", "1.0", [hostile])):
        refused(call)
    assert 'BUILT_MODULE_NAME[0]="m"' in dkms.conf_text("pkg", "1.0", ["m"])


def test_ordinary_names_pass_every_sink():
    assert "obj-m := my-drv.o\nmy-drv-y := a_b.o c+d.o x.y.o my_drv_rust.o\n" in kbuild.kbuild_text(
        "my-drv", ["a_b.o", "c+d.o", "x.y.o", "my_drv_rust.o"])
    assert "insmod /modules/ringdev.ko ring_size=8 path=/dev/x,y:z -5" not in boot.init_script(["/b/ringdev.ko"])
    assert "insmod /modules/ringdev.ko ring_size=-8 path=/dev/x,y:z 2>&1" in boot.init_script(
        ["/b/ringdev.ko"], params="ring_size=-8 path=/dev/x,y:z")
