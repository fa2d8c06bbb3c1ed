"""Bad input ends in one clear line naming the variable or file and the fix: no traceback."""

import pytest

from helpers import copy_project, one_error_line, scons

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "project")


def test_kdir_that_does_not_exist(project):
    line = one_error_line(scons(project, "KDIR=/no/such/kernel"))
    assert "KDIR=/no/such/kernel does not exist; pass KDIR=" in line


def test_kdir_that_is_not_a_kernel_tree(project, tmp_path):
    line = one_error_line(scons(project, f"KDIR={tmp_path}"))
    assert f"KDIR={tmp_path} is not a kernel tree" in line


def test_kdir_from_the_environment(project):
    import os
    line = one_error_line(scons(project, env=dict(os.environ, KDIR="/from/the/environment")))
    assert "KDIR=/from/the/environment does not exist" in line


def test_crate_without_staticlib(project):
    manifest = project / "hello/Cargo.toml"
    manifest.write_text(manifest.read_text().replace('crate-type = ["staticlib"]', 'crate-type = ["rlib"]'))
    line = one_error_line(scons(project))
    assert f"{manifest}: the crate does not build a staticlib" in line
    assert 'add crate-type = ["staticlib"] under [lib]' in line


def test_missing_cargo_toml(project):
    (project / "hello/Cargo.toml").unlink()
    line = one_error_line(scons(project))
    assert f"{project}/hello/Cargo.toml does not exist" in line


def test_unknown_rust_profile(project):
    line = one_error_line(scons(project, "RUST_PROFILE=fast"))
    assert "RUST_PROFILE" in line and "fast" in line


def test_jobs_that_is_not_a_count(project):
    line = one_error_line(scons(project, "JOBS=many"))
    assert "JOBS=many is not a positive number" in line and "leave it unset" in line


def test_project_path_with_a_space_names_build_dir_and_the_fix_works(tmp_path):
    project = copy_project(tmp_path / "my project")
    line = one_error_line(scons(project))
    assert "BUILD_DIR=" in line and "set BUILD_DIR to a path without them" in line
    elsewhere = tmp_path / "out"
    run = scons(project, f"BUILD_DIR={elsewhere}")
    assert run.returncode == 0, run.output
    assert (next(elsewhere.glob("*/hello")) / "hello.ko.verified").is_file()


def test_help_lists_every_variable_even_when_kdir_is_bad(project):
    run = scons(project, "-h", "KDIR=/no/such/kernel")
    assert run.returncode == 0, run.output
    for variable in ("KDIR", "ARCH", "CROSS_COMPILE", "KBUILD_CC", "LLVM", "KERNELRELEASE", "RUST_PROFILE",
                     "CARGO", "RUSTC", "BUILD_DIR", "KERNEL_IMAGE", "RELOCS", "KERNEL_SRC", "KCFLAGS",
                     "BINDGEN", "LIBCLANG_PATH", "BINDGEN_CLANG_FLAGS"):
        assert f"\n{variable}: " in run.stdout
    assert "aliases: ['CC']" in run.stdout
    assert "cannot build hello as configured: KDIR=/no/such/kernel does not exist" in run.stdout


@pytest.mark.parametrize("args, typo, meant", [(("check", "KERNEL=5.10"), "KERNEL=5.10", "KERNELS"),
                                               (("KDIRR=/usr/src",), "KDIRR=/usr/src", "KDIR"),
                                               (("-q", "CARGOCOMSTRR=x"), "CARGOCOMSTRR=x", "CARGOCOMSTR")])
def test_an_unknown_variable_fails_naming_the_nearest(project, args, typo, meant):
    """A typo must not be a silent success ("`check' is up to date", exit 0): nothing is built."""
    run = scons(project, *args)
    line = one_error_line(run)
    assert run.returncode == 2 and f"{typo}: no such build variable; did you mean {meant}?" in line
    assert run.steps() == [] and not list(project.glob("build/**/*.ko*"))


def test_variables_the_project_reads_stay_usable(project):
    """A Variables of the project's own, a name given to the check, and a declared name are the
    project's; a SConstruct without the check (written before it existed) builds unchecked."""
    sconstruct = project / "SConstruct"
    original = sconstruct.read_text()
    assert original.rstrip().endswith("env.RustkmodCheckArguments()")
    unchecked = original.replace("env.RustkmodCheckArguments()", "")
    sconstruct.write_text(unchecked + """
if ARGUMENTS.get("SHOW"):
    print("show:", ARGUMENTS["SHOW"])
mine = Variables(None, ARGUMENTS)
mine.Add(BoolVariable("VERBOSE_BOARD", "the project's own", False))
mine.Update(env)
env.RustkmodArguments("LATE")
env.RustkmodCheckArguments(mine, "SHOW")
""")
    run = scons(project, "-n", "SHOW=yes", "VERBOSE_BOARD=1", "LATE=1", "CARGOCOMSTR=building $TARGET")
    assert run.returncode == 0, run.output
    assert "show: yes" in run.stdout
    line = one_error_line(scons(project, "-n", "SHOWW=yes"))
    assert "SHOWW=yes: no such build variable; did you mean SHOW?" in line
    sconstruct.write_text(unchecked)
    assert scons(project, "-n", "SHOWW=yes").returncode == 0


def test_crate_given_as_a_file(project):
    """crate= naming the crate's Cargo.toml is its directory; any other file is one line."""
    sconstruct = project / "SConstruct"
    original = sconstruct.read_text()
    sconstruct.write_text(original.replace('crate="hello"', 'crate="hello/Cargo.toml"'))
    assert scons(project, "-n").returncode == 0
    sconstruct.write_text(original.replace('crate="hello"', 'crate="hello/src/lib.rs"'))
    line = one_error_line(scons(project))
    assert "crate='hello/src/lib.rs' names a file, not a crate; give the directory that holds" in line


def test_a_dependency_that_needs_std_is_named(project):
    """rustc's own words end in a -Zbuild-std hint, wrong for a kernel: the line names the crate."""
    (project / "stdy" / "src").mkdir(parents=True)
    (project / "stdy" / "Cargo.toml").write_text('[package]\nname = "stdy"\nversion = "0.1.0"\nedition = "2024"\n')
    (project / "stdy" / "src" / "lib.rs").write_text("pub fn f() -> usize { std::env::args().count() }\n")
    manifest = project / "hello" / "Cargo.toml"
    manifest.write_text(manifest.read_text() + '\n[dependencies]\nstdy = { path = "../stdy" }\n')
    line = one_error_line(scons(project))
    assert "failed: the crate `stdy` needs the standard library, which a kernel module does not have" in line
    assert "default-features = false" in line


def test_a_crate_that_allocates_without_an_allocator_is_told_the_feature(project):
    lib = project / "hello" / "src" / "lib.rs"
    lib.write_text(lib.read_text() + '\nextern crate alloc;\n#[unsafe(no_mangle)]\n'
                   'pub extern "C" fn hello_boxed() -> usize { alloc::vec![1u8, 2].len() }\n')
    line = one_error_line(scons(project))
    assert "no global allocator is linked in; enable rustkmod-rt's allocator" in line
    assert 'features = ["global-allocator"' in line


def test_a_stand_in_without_a_driver(project):
    sconstruct = project / "SConstruct"
    sconstruct.write_text(sconstruct.read_text().replace('driver="kmod/host/insmod.c"', "driver=None"))
    line = one_error_line(scons(project, "test-host"))
    assert "RustHostTests('hello'): a stand-in needs a driver" in line and 'pass driver="' in line


def test_a_kernel_name_rustkmod_cannot_fetch_is_said_once(project):
    run = scons(project, "KERNELS=6.2")
    line = one_error_line(run)
    assert "kernel '6.2' is not one rustkmod can fetch; use one of 5.10, 6.1" in line
    assert run.output.count("kernel '6.2' is not one") == 1, run.output


def test_a_package_field_debian_would_refuse(project):
    sconstruct = project / "SConstruct"
    sconstruct.write_text(sconstruct.read_text().replace('maintainer="rustkmod <rustkmod@example.com>"',
                                                         'maintainer="rustkmod@example.com"'))
    line = one_error_line(scons(project, "deb"))
    assert "maintainer='rustkmod@example.com' is not 'Name <address>'" in line
    assert 'maintainer="Jo Dev <jo@example.com>"' in line


def test_a_c_file_whose_name_is_shell_code_is_refused_not_run(project):
    """A Glob picks up every .c file; one named like a command line must not reach make's shell."""
    hostile = project / "kmod" / "x.o;cd;touch PWNED;.c"
    hostile.write_text("int x;\n")
    sconstruct = project / "SConstruct"
    sconstruct.write_text(sconstruct.read_text().replace('sources=["kmod/module.c"]', 'sources=Glob("kmod/*.c")'))
    line = one_error_line(scons(project))
    assert "C source 'x.o;cd;touch PWNED;.c' is not a file name Kbuild can take" in line
    assert "rename it" in line
    assert not list(project.rglob("PWNED")) and not (project.home() / "PWNED").exists()


def test_a_module_given_both_a_crate_and_one_rs_file_is_one_line(project):
    sconstruct = project / "SConstruct"
    sconstruct.write_text(sconstruct.read_text().replace('crate="hello",', 'crate="hello", source="hello/src/lib.rs",'))
    line = one_error_line(scons(project))
    assert "RustKernelModule('hello'): give crate= (a crate's directory) or source= (one .rs file), one of them" in line


@pytest.mark.parametrize("call, named", [
    ('env.RustKernelModule("one file", source="hello/src/lib.rs")', "module name 'one file' is not a valid kernel module name"),
    ('env.RustKernelModule("onefile", source="missing.rs")', "source='missing.rs' does not exist"),
])
def test_a_one_file_module_given_badly_is_one_line(project, call, named):
    sconstruct = project / "SConstruct"
    sconstruct.write_text(sconstruct.read_text() + call + "\n")
    assert named in one_error_line(scons(project))
