"""Kernel bindings generated per kernel (tests/projects/kbind, a module author's own project):
bindgen on the module's header with each kernel's own C flags, C helpers for static inline
functions, macro numbers as constants, the kernel's version as cfgs (printk before 5.15), the
headers read as dependencies, one staticlib per kernel, and a clear line when the header is wrong."""

import re
import shutil
import subprocess

import pytest

from helpers import built_outside_project, fetch_kernels, kernel_summary, outside_project, scons

pytestmark = pytest.mark.e2e

NAMES = ("5.10", "6.1", "7.2", "6.1-arm64")
KERNELS = "KERNELS=" + ",".join(NAMES)
LINE = ("kbind: loaded, printed 'kbind: parsed 4096 from kmalloc memory, PAGE_ALIGN(5000) = 8192, "
        "/nonexistent: -2', unloaded")


@pytest.fixture(scope="module")
def fetched():
    return fetch_kernels(*NAMES)


@pytest.fixture(scope="module")
def kbind(tmp_path_factory, fetched):
    return built_outside_project("kbind", tmp_path_factory.mktemp("kbind"), "check", KERNELS)


def releases(fetched) -> list[str]:
    """The releases Debian served when the kernels were fetched, in NAMES' order (never typed in:
    Debian's point releases move every week or two)."""
    return [fetched[name].release for name in NAMES]


def test_each_kernel_gets_its_bindings_and_loads_the_module(kbind, fetched):
    project, _, run = kbind
    assert run.steps().count("BINDGEN") == 4 and run.steps().count("CARGO") == 4     # a staticlib per kernel
    assert set(kernel_summary(run, "kbind").values()) == {"built, verified, booted"}
    assert run.stdout.count(LINE) == 4
    for release in releases(fetched):
        module_dir = project / "build" / release / "kbind"
        bindings = (module_dir / "bindings.rs").read_text()
        assert "pub fn kstrtoint(" in bindings and 'unsafe extern "C"' in bindings
        assert "kstrtox.h" in (module_dir / "bindings.rs.d").read_text() or release.startswith("5.10")
        # Static inline functions through C helpers Kbuild compiled into the module, under their own names.
        assert '#[link_name = "rustkmod_helper_IS_ERR"]\n    pub fn IS_ERR(' in bindings
        assert "pub const GFP_KERNEL: core::ffi::c_uint = " in bindings
        helpers = (module_dir / "bindings_helpers.c").read_text()
        assert "return kbind_page_align(n);" in helpers and "rustkmod_helper_PTR_ERR(const void * ptr)" in helpers
        symbols = subprocess.run(["nm", str(module_dir / "kbind.ko")], capture_output=True, text=True).stdout
        assert re.search(r" T rustkmod_helper_kbind_alloc$", symbols, re.M), symbols
    # printk is a function in 5.10 and a macro from 5.15: the crate chose by its version cfg.
    assert "pub fn printk(" in (project / "build" / fetched["5.10"].release / "kbind" / "bindings.rs").read_text()
    assert f"printk is a function-like macro in Linux {fetched['6.1'].release}: not bound" in run.stdout
    # _printk came with 5.15: an allowed name the kernel lacks is said, not dropped in silence.
    assert f"_printk is not declared in Linux {fetched['5.10'].release}" in run.stdout
    assert f"_printk is not declared in Linux {fetched['6.1'].release}" not in run.stdout


def test_nothing_reruns_when_nothing_changed(kbind):
    project, env, _ = kbind
    assert scons(project, "-q", "check", KERNELS, env=env).returncode == 0
    assert scons(project, "check", KERNELS, env=env).steps() == []


def test_a_header_edited_in_one_kernel_tree_reruns_that_kernel_only(kbind, fetched, tmp_path):
    project, env, _ = kbind
    original = fetched["6.1"].kdir.split("/usr/src/")[0]
    copy = tmp_path / "6.1-copy"                   # a second tree of 6.1, with common headers of its own
    shutil.copytree(original, copy, symlinks=True)
    kdir = next(copy.glob("usr/src/linux-headers-*-amd64"))
    makefile = kdir / "Makefile"                   # it includes the common tree by absolute path
    makefile.write_text(makefile.read_text().replace(original, str(copy)))
    kernels = f"KERNELS=6.1,{kdir}"
    assert scons(project, kernels, env=env).returncode == 0
    # IS_ERR, a static inline function, with its parameter renamed: the bindings (a parameter
    # name) and the C helper change, so bindgen, cargo and Kbuild rerun, for this tree only.
    header = next(copy.glob("usr/src/linux-headers-*-common/include/linux/err.h"))
    header.write_text(header.read_text().replace(
        "IS_ERR(__force const void *ptr)\n{\n\treturn IS_ERR_VALUE((unsigned long)ptr);",
        "IS_ERR(__force const void *pointer)\n{\n\treturn IS_ERR_VALUE((unsigned long)pointer);", 1))
    run = scons(project, kernels, env=env)
    assert run.returncode == 0, run.output
    steps = run.steps()
    assert steps.count("BINDGEN") == 1 and steps.count("CARGO") == 1 and steps.count("KBUILD") == 1, run.output
    rerun = [line.split()[1] for line in run.stdout.splitlines() if line.startswith(("BINDGEN", "KBUILD"))]
    own = fetched["6.1"].release
    assert all(path.split("/")[1] != own for path in rerun), rerun   # the copy's, not 6.1's own
    helpers = next(p for p in project.glob("build/*/kbind/bindings_helpers.c") if f"{own}/" not in str(p)
                   and "pointer" in p.read_text())
    assert "return IS_ERR(pointer);" in helpers.read_text()


def test_a_wrong_header_is_one_line_naming_it_and_its_line(kbind, fetched, tmp_path):
    project, env, _ = kbind
    broken = tmp_path / "broken"
    shutil.copytree(project, broken, ignore=shutil.ignore_patterns("build", ".sconsign*", ".rustkmod*"))
    api = broken / "kernel_api.h"
    text = api.read_text().replace("#include <linux/printk.h>\n", "#include <linux/printk.h>\nint broken(;\n")
    api.write_text(text)
    number = text.splitlines().index("int broken(;") + 1
    run = scons(broken, "KERNELS=6.1", env=env)
    assert run.returncode != 0 and "Traceback" not in run.output
    line = next(l for l in run.stderr.splitlines() if "bindgen failed" in l)
    assert f"{api}:{number}: expected parameter declarator" in line and f"Linux {fetched['6.1'].release}" in line


def test_a_missing_bindgen_is_named_with_its_packages(kbind):
    project, env, _ = kbind
    run = scons(project, "KERNELS=", "BINDGEN=no-such-bindgen", env=env)
    assert run.returncode != 0 and "Traceback" not in run.output
    assert "BINDGEN=no-such-bindgen is not installed" in run.stderr and "libclang1-14" in run.stderr
    run = scons(project, "KERNELS=", "LIBCLANG_PATH=/no/such/libclang.so", env=env)
    assert run.returncode != 0 and "Traceback" not in run.output
    assert "libclang cannot be loaded (/no/such/libclang.so); install Debian's libclang1-14" in run.stderr


def test_what_clang_and_gcc_read_from_the_environment_changes_nothing(kbind, fetched, tmp_path):
    """bindgen appends BINDGEN_EXTRA_CLANG_ARGS to clang's arguments (an `#undef CONFIG_SECURITY`
    there changes struct file's layout), gcc writes make rules where DEPENDENCIES_OUTPUT says:
    outside every signature, so no child may see them. The build is up to date with them set,
    and what is built again with them set is what was built without."""
    project, env, _ = kbind
    extra = tmp_path / "extra.h"
    extra.write_text("#undef CONFIG_SECURITY\n#define RUSTKMOD_EXTRA_WAS_READ 1\n")
    include = tmp_path / "include"
    (include / "linux").mkdir(parents=True)
    polluted = dict(env, BINDGEN_EXTRA_CLANG_ARGS=f"-include {extra}",
                    BINDGEN_EXTRA_CLANG_ARGS_x86_64_unknown_linux_gnu=f"-include {extra}",
                    CPATH=str(include), C_INCLUDE_PATH=str(include), SOURCE_DATE_EPOCH="1",
                    DEPENDENCIES_OUTPUT=str(tmp_path / "gcc.d"), SUNPRO_DEPENDENCIES=str(tmp_path / "sun.d"))
    module_dir = project / "build" / fetched["6.1"].release / "kbind"
    assert scons(project, "KERNELS=6.1", env=env).returncode == 0    # as built, whatever ran before
    before = (module_dir / "bindings.rs").read_bytes()
    assert scons(project, "-q", "KERNELS=6.1", env=polluted).returncode == 0
    for name in ("bindings.rs", "kbind.ko"):
        (module_dir / name).unlink()
    run = scons(project, "KERNELS=6.1", env=polluted)
    assert run.returncode == 0, run.output
    assert "BINDGEN" in run.steps() and "KBUILD" in run.steps()
    assert (module_dir / "bindings.rs").read_bytes() == before
    assert not (tmp_path / "gcc.d").exists() and not (tmp_path / "sun.d").exists()
    assert "BINDGEN_EXTRA_CLANG_ARGS" in run.stdout and "do(es) not reach" in run.stdout   # named once
    assert scons(project, "-q", "KERNELS=6.1", env=env).returncode == 0


def test_another_libclang_is_in_the_bindings_signature(kbind, fetched, tmp_path):
    """LIBCLANG_PATH names the library bindgen and the helpers load, and its digest is signed:
    another library at the same path (here a copy given other bytes) reruns bindgen, so no result,
    nor a CacheDir entry, made with one libclang is taken for another's."""
    from rustkmod.rust.inline_helpers import libclang_file
    project, env, _ = kbind
    library = tmp_path / "lib" / "libclang-14.so.1"
    library.parent.mkdir()
    shutil.copyfile(libclang_file(), library)
    variable = f"LIBCLANG_PATH={library.parent}"
    run = scons(project, "KERNELS=6.1", variable, env=env)
    assert run.returncode == 0, run.output
    assert scons(project, "-q", "KERNELS=6.1", variable, env=env).returncode == 0
    with open(library, "ab") as handle:
        handle.write(b"\0" * 16)                 # trailing bytes: it still loads, and is another file
    assert scons(project, "-q", "KERNELS=6.1", variable, env=env).returncode != 0
    run = scons(project, "KERNELS=6.1", variable, env=env)
    assert run.returncode == 0, run.output
    assert run.steps().count("BINDGEN") == 1 and "CARGO" not in run.steps()   # the same bindings came out
    assert scons(project, "KERNELS=6.1", env=env).returncode == 0              # back to Debian's, as it was


def test_a_header_in_a_directory_with_a_space_is_built(kbind, tmp_path):
    """make splits words on spaces, but the header reaches Kbuild as a staged copy in the module's
    directory: a project under "my kernel" builds with BUILD_DIR elsewhere, and is then up to date."""
    project, env, _ = kbind
    spaced = tmp_path / "my kernel" / "kbind"
    shutil.copytree(project, spaced, ignore=shutil.ignore_patterns("build", ".sconsign*", ".rustkmod*"))
    out = f"BUILD_DIR={tmp_path / 'out'}"
    run = scons(spaced, "KERNELS=6.1", out, env=env)
    assert run.returncode == 0, run.output
    assert "BINDGEN" in run.steps() and "KBUILD" in run.steps()
    assert scons(spaced, "-q", "KERNELS=6.1", out, env=env).returncode == 0


def test_a_header_moved_to_a_file_of_the_same_content_is_another_input(kbind, tmp_path):
    """bindings_helpers.c includes the header by name: the same text under another name reruns
    bindgen, and the next run is up to date."""
    project, env, _ = kbind
    moved = tmp_path / "moved"
    shutil.copytree(project, moved, ignore=shutil.ignore_patterns("build", ".sconsign*", ".rustkmod*"))
    assert scons(moved, "KERNELS=6.1", env=env).returncode == 0
    (moved / "kernel_api.h").rename(moved / "kernel_api2.h")
    sconstruct = moved / "SConstruct"
    sconstruct.write_text(sconstruct.read_text().replace('bindings="kernel_api.h"', 'bindings="kernel_api2.h"'))
    run = scons(moved, "KERNELS=6.1", env=env)
    assert run.returncode == 0, run.output
    assert "BINDGEN" in run.steps()
    helpers = next(moved.glob("build/*/kbind/bindings_helpers.c")).read_text()
    assert '#include "kernel_api2.h"' in helpers
    assert scons(moved, "-q", "KERNELS=6.1", env=env).returncode == 0


OTHERS = ("6.12", "6.1-i386", "6.12-trixie", "6.12-trixie-arm64", "7.2-arm64", "7.3", "7.3-arm64", "6.1-signing")


def test_bindings_build_and_verify_on_every_other_kernel(tmp_path):
    """With the kernels above and test_shared_crates' (armhf, riscv64): every kernel rustkmod
    fetches gets its bindings (gcc-only flags of each architecture kept from clang)."""
    fetch_kernels(*OTHERS)
    project, env = outside_project("kbind", tmp_path)
    run = scons(project, "-j2", "KERNELS=" + ",".join(OTHERS), env=env, timeout=2400)
    assert run.returncode == 0, run.output
    assert run.steps().count("BINDGEN") == len(OTHERS)
    assert set(kernel_summary(run, "kbind").values()) == {"built, verified"}


def test_a_second_project_takes_the_kernel_crates_bindings_and_build_from_the_machine(tmp_path):
    """The kernel crate's bindings (kernel_api.h) are made once per machine: a second project on
    the crate copies the first one's (same bytes, no bindgen run), and its later no-op is one.
    BINDGEN is a link of this test's own: it is in the key, so the first project makes them.
    The kernel crate itself is compiled once per machine too: the second project's cargo copies
    it, and its module is the same bytes as the first's."""
    import os
    from helpers import ROOT
    link = tmp_path / "bin" / "bindgen"
    link.parent.mkdir()
    link.symlink_to(shutil.which("bindgen"))
    env = dict(os.environ, RUSTKMOD=str(ROOT))
    runs, made = [], []
    for name in ("first", "second"):
        project = tmp_path / name
        shutil.copytree(ROOT / "examples" / "minimal", project, ignore=shutil.ignore_patterns("build", ".sconsign*"))
        run = scons(project, f"BINDGEN={link}", env=env)
        assert run.returncode == 0 and "BINDGEN" in run.steps(), run.output
        runs.append(run)
        made.append(next(project.glob("build/*/crates/rustkmod-kernel")))
    assert "no bindgen run" not in runs[0].stdout and "no bindgen run" in runs[1].stdout, runs[1].output
    shared = next(line for line in runs[1].stdout.splitlines() if "the machine's builds" in line)
    assert {"kernel", "macros", "rustkmod_rt"} <= set(shared.split(":")[0].strip().split(", ")), runs[1].output
    modules = [next((tmp_path / name).glob("build/*/minimal/minimal.ko")).read_bytes() for name in ("first", "second")]
    assert modules[0] == modules[1]
    for name in ("bindings.rs", "bindings_helpers.c", "bindings.rs.h"):
        assert (made[0] / name).read_bytes() == (made[1] / name).read_bytes(), name
    headers = (made[1] / "bindings.rs.d").read_text()
    assert str(made[1] / "bindings.rs.h") in headers and "first" not in headers      # its own paths
    assert scons(tmp_path / "second", "-q", f"BINDGEN={link}", env=env).returncode == 0
