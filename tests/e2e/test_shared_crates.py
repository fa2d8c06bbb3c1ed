"""Crates that many modules share (tests/projects/kfw, a team's tree outside the checkout): one
framework crate with its own bindings header, version-dependent code and rustkmod-rt by version,
three small modules on top of it; built, verified and booted on six kernels of five architectures
in one run, the framework compiled once per kernel, what must be gone after rmmod checked."""

import re
import shutil

import pytest

from helpers import built_outside_project, fetch_kernels, kernel_summary, outside_project, scons

pytestmark = pytest.mark.e2e

NAMES = ("5.10", "6.1", "7.2", "6.1-arm64", "6.1-armhf", "6.12-trixie-riscv64")
KERNELS = "KERNELS=" + ",".join(NAMES)
MODULES = ("mod_a", "mod_b", "mod_c")


@pytest.fixture(scope="module")
def fetched():
    return fetch_kernels(*NAMES)


@pytest.fixture(scope="module")
def kfw(tmp_path_factory, fetched):
    return built_outside_project("kfw", tmp_path_factory.mktemp("kfw"), "check", KERNELS, timeout=2400)


def test_every_module_is_built_verified_and_booted_on_every_kernel(kfw, fetched):
    project, _, run = kfw
    for number, name in enumerate(MODULES, 1):
        assert set(kernel_summary(run, name).values()) == {"built, verified, booted"}
        assert len(kernel_summary(run, name)) == len(NAMES)
        # its /proc entry (made through the framework's bindings) answered, and was gone after rmmod
        line = f"{name}: loaded, printed '{name}: up, entry {number}', 'kfw_{name}: {number}', 'kfw_{name} gone'"
        assert run.stdout.count(line) == len(NAMES)


def test_the_framework_has_one_set_of_bindings_and_one_build_per_kernel(kfw, fetched):
    project, _, run = kfw
    assert run.steps().count("BINDGEN") == len(NAMES)                 # per kernel, not per module
    assert run.steps().count("CARGO") == len(NAMES) * len(MODULES)
    for name in NAMES:
        crates = next((project / "build").glob(f"{fetched[name].release}*/crates/kfw"))
        bindings = (crates / "bindings.rs").read_text()
        assert 'pub const KERN_INFO: &[u8; 3usize] = b"\\x016\\0";' in bindings     # a string macro
        assert re.search(r"pub fn seq_write\([^)]*len: usize,\s*\)", bindings)       # size_t is usize
    target_dirs = list((project / "build" / "rust").iterdir())
    assert len(target_dirs) == len(NAMES)
    for target_dir in target_dirs:      # the framework crate compiled once for the three modules
        assert len(list(target_dir.glob("*/release/deps/libkfw-*.rlib"))) == 1, target_dir


def test_the_runtime_reached_through_the_framework_joins_every_module(kfw, fetched):
    project, _, run = kfw
    assert "rustkmod-rt" not in (project / "mod_a" / "Cargo.toml").read_text()
    lock = (project / "mod_a" / "Cargo.lock").read_text()           # made here, with no network
    assert 'name = "rustkmod-rt"' in lock and "crates.io" not in lock
    release = fetched["6.1"].release
    for name in MODULES:
        assert (project / "build" / release / name / "rustkmod_rt.c").is_file()
        assert (project / "build" / release / name / "kfw_bindings_helpers.c").is_file()


def test_a_second_run_does_nothing(kfw):
    project, env, _ = kfw
    again = scons(project, "check", KERNELS, env=env)
    assert again.returncode == 0 and again.steps() == [], again.output


def test_a_framework_edit_rebuilds_each_kernels_crates_once(kfw, fetched):
    project, env, _ = kfw
    source = project / "framework" / "src" / "lib.rs"
    text = source.read_text()
    source.write_text(text.replace("/// Logs `text`", "/// Logs the `text`"))
    try:
        run = scons(project, "-j2", "KERNELS=6.1,5.10", env=env, timeout=1200)
        assert run.returncode == 0, run.output
        assert run.steps().count("CARGO") == 2 * len(MODULES) and "BINDGEN" not in run.steps()
    finally:
        source.write_text(text)


def test_a_runtime_symbol_modpost_cannot_find_names_the_fix(tmp_path, fetched):
    """A crate calling rustkmod-rt's C half without rustkmod-rt in its graph: modpost's undefined
    symbol becomes one line saying how to name it."""
    project, env = outside_project("kfw", tmp_path)
    shutil.rmtree(project / "mod_b")
    shutil.rmtree(project / "mod_c")
    (project / "mod_a" / "Cargo.toml").write_text(
        (project / "mod_a" / "Cargo.toml").read_text().replace('kfw = { path = "../framework" }', ""))
    (project / "mod_a" / "src" / "lib.rs").write_text(
        "#![no_std]\nunsafe extern \"C\" { fn rustkmod_rt_log(level: i32, msg: *const u8, len: usize); }\n"
        "#[panic_handler]\nfn panic(_: &core::panic::PanicInfo) -> ! { loop {} }\n"
        "#[unsafe(no_mangle)]\npub extern \"C\" fn mod_a_init() -> i32 { unsafe { rustkmod_rt_log(6, b\"x\".as_ptr(), 1) }; 0 }\n"
        "#[unsafe(no_mangle)]\npub extern \"C\" fn mod_a_exit() {}\n")
    sconstruct = (project / "SConstruct").read_text()
    (project / "SConstruct").write_text(sconstruct.replace('(("mod_a", 1), ("mod_b", 2), ("mod_c", 3))', '(("mod_a", 1),)'))
    run = scons(project, env=env)
    assert run.returncode != 0
    assert "rustkmod_rt_log undefined" in run.stderr and 'rustkmod-rt = "0.1"' in run.stderr, run.output


def test_the_frameworks_own_bindgen_options_replace_a_default_and_a_wrong_one_is_one_line(tmp_path):
    """--ctypes-prefix given by the crate replaces rustkmod's (bindgen took it twice and failed);
    an option bindgen does not take is named while the SConscripts are read, so `scons -k check`
    ends in that line, not in SCons' "no cycle found" after a failed build; a warning of the
    framework, which every module's cargo build compiles, is printed once."""
    project, env = outside_project("kfw", tmp_path)
    manifest = project / "framework" / "Cargo.toml"
    text = manifest.read_text()
    manifest.write_text(text.replace("[package.metadata.rustkmod]\n",
                                     '[package.metadata.rustkmod]\nbindgen-options = ["--ctypes-prefix", "core::ffi", '
                                     '"--bogus"]\n'))
    run = scons(project, "-k", "check", "KERNELS=6.1", env=env)
    errors = [line for line in run.stderr.splitlines() if line.startswith("scons: *** ")]
    assert len(errors) == len(MODULES) and all("bindgen-options gives --bogus, which bindgen does not take" in line
                                               for line in errors), run.stderr
    assert "no cycle found" not in run.output and "Traceback" not in run.output
    manifest.write_text(text.replace("[package.metadata.rustkmod]\n",
                                     '[package.metadata.rustkmod]\nbindgen-options = ["--ctypes-prefix", "core::ffi"]\n'))
    source = project / "framework" / "src" / "lib.rs"
    source.write_text(source.read_text().replace("pub fn log(text: &str) {\n",
                                                 "pub fn log(text: &str) {\n    let unused_in_framework = 1;\n"))
    run = scons(project, "-j2", "KERNELS=6.1,6.12", env=env)
    assert run.returncode == 0, run.output
    assert run.stderr.count("unused variable: `unused_in_framework`") == 1        # 6 cargo builds
