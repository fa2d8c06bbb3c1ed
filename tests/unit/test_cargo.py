"""Crate manifests, cargo's dep-info, and the symbols a staticlib exports to the C side."""

import os
import subprocess

import pytest

from helpers import assemble
from rustkmod import RustkmodError
from rustkmod.elf.symbols import exported_symbols, imported_symbols
from rustkmod.rust.cargo import Crate, crate_source_files
from rustkmod.rust.standin import missing_from_standin


def write_manifest(directory, text):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Cargo.toml").write_text(text)
    return directory


def test_manifest_names_the_staticlib(tmp_path):
    crate = Crate.from_manifest(str(write_manifest(tmp_path / "c", (
        '[package]\nname = "my-driver"\nversion = "0.1.0"\n[lib]\ncrate-type = ["staticlib"]\n'))))
    assert (crate.package, crate.lib_name, crate.staticlib_name) == ("my-driver", "my_driver", "libmy_driver.a")


@pytest.mark.parametrize("manifest, message", [
    ('[package]\nname = "x"\n', 'does not build a staticlib; add crate-type = ["staticlib"] under [lib]'),
    ('[package]\nname = "x"\n[lib]\ncrate-type = ["rlib"]\n', "does not build a staticlib"),
    ('[lib]\ncrate-type = ["staticlib"]\n', "has no [package] name"),
    ('[package\nname = "x"\n', "is not valid TOML"),
])
def test_unusable_manifests_are_named(tmp_path, manifest, message):
    directory = write_manifest(tmp_path / "c", manifest)
    with pytest.raises(RustkmodError) as err:
        Crate.from_manifest(str(directory))
    assert message in str(err.value) and str(directory / "Cargo.toml") in str(err.value)


def test_missing_manifest_is_named(tmp_path):
    with pytest.raises(RustkmodError, match=r"Cargo.toml does not exist"):
        Crate.from_manifest(str(tmp_path))


def test_crate_sources_skip_target_and_hidden_dirs(tmp_path):
    crate = write_manifest(tmp_path / "c", "")
    for name in ("src/lib.rs", "src/m/n.rs", "build.rs", "target/debug/x.rs", ".git/y.rs", "Cargo.lock"):
        (crate / name).parent.mkdir(parents=True, exist_ok=True)
        (crate / name).write_text("")
    found = [p[len(str(crate)) + 1:] for p in crate_source_files(str(crate))]
    assert found == ["Cargo.toml", "build.rs", "src/lib.rs", "src/m/n.rs"]   # Cargo.lock: lock_file()


def test_crate_sources_skip_build_directories_and_cargo_target_directories(tmp_path):
    crate = write_manifest(tmp_path / "c", "")
    for name in ("src/lib.rs", "build/6.1/crates/k/bindings.rs", "out/debug/CACHEDIR.TAG", "out/debug/x.rs"):
        (crate / name).parent.mkdir(parents=True, exist_ok=True)
        (crate / name).write_text("")
    found = [p[len(str(crate)) + 1:] for p in crate_source_files(str(crate), [str(crate / "build")])]
    assert found == ["Cargo.toml", "src/lib.rs"]
    assert "build/6.1/crates/k/bindings.rs" in [p[len(str(crate)) + 1:] for p in crate_source_files(str(crate))]


def test_cargo_config_files_are_the_ones_cargo_reads_from_the_crate_directory(tmp_path):
    from rustkmod.rust.cargo import config_files
    crate = write_manifest(tmp_path / "top/crate", "")
    for config in ("top/crate/.cargo/config.toml", "top/.cargo/config", "home/config.toml", "top/elsewhere/.cargo/config.toml"):
        (tmp_path / config).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / config).write_text("")
    assert config_files(str(crate), {"CARGO_HOME": str(tmp_path / "home")}) == [
        str(tmp_path / "top/crate/.cargo/config.toml"), str(tmp_path / "top/.cargo/config"),
        str(tmp_path / "home/config.toml")]


def test_lock_file_of_a_crate_a_workspace_and_a_new_crate(tmp_path):
    from rustkmod.rust.cargo import Crate, lock_file
    package = '[package]\nname = "{}"\nversion = "0.1.0"\n[lib]\ncrate-type = ["staticlib"]\n'
    write_manifest(tmp_path / "ws", '[workspace]\nmembers = ["member"]\n')
    member = write_manifest(tmp_path / "ws/member", package.format("member"))
    (member / "src").mkdir()
    (member / "src/lib.rs").write_text("")
    (tmp_path / "ws/Cargo.lock").write_text("version = 3\n")
    assert lock_file(Crate.from_manifest(str(member))) == (str(tmp_path / "ws/Cargo.lock"), True)
    (tmp_path / "ws/Cargo.lock").unlink()
    assert lock_file(Crate.from_manifest(str(member)), "/usr/bin/cargo") == (str(tmp_path / "ws/Cargo.lock"), False)
    alone = write_manifest(tmp_path / "alone", package.format("alone"))
    assert lock_file(Crate.from_manifest(str(alone)), "/usr/bin/cargo") == (str(alone / "Cargo.lock"), False)


def test_exported_symbols_are_the_crates_own_unmangled_globals(tmp_path):
    own = assemble(".text\n.globl hello, _RNvCs1_5hello3foo\nhello: ret\n_RNvCs1_5hello3foo: ret\n"
                   "local: ret\n", tmp_path / "hello-0123.hello.cgu.0.rcgu.o")
    other = assemble(".text\n.globl memcpy_like\nmemcpy_like: ret\n", tmp_path / "core-4567.core.cgu.0.rcgu.o")
    archive = tmp_path / "libhello.a"
    subprocess.run(["ar", "rcs", str(archive), str(own), str(other)], check=True)
    assert exported_symbols(str(archive), "hello") == ["hello"]


def test_unreadable_archive_is_named(tmp_path):
    bogus = tmp_path / "libx.a"
    bogus.write_text("not an archive")
    with pytest.raises(RustkmodError, match="libx.a: readelf cannot read it"):
        exported_symbols(str(bogus), "x")


def test_imports_are_what_the_crate_calls_and_the_archive_lacks(tmp_path):
    own = assemble(".text\n.globl hello\nhello: call rustkmod_log_info\ncall core_fmt\ncall memcpy\n"
                   "call rustkmod_sleep\nret\n", tmp_path / "hello-0123.hello.cgu.0.rcgu.o")
    core = assemble(".text\n.globl core_fmt\ncore_fmt: call memset\nret\n", tmp_path / "core-4567.core.cgu.0.rcgu.o")
    standin = assemble(".text\n.globl rustkmod_log_info\nrustkmod_log_info: ret\n", tmp_path / "standin.o")
    archive = tmp_path / "libhello.a"
    subprocess.run(["ar", "rcs", str(archive), str(own), str(core)], check=True)
    assert imported_symbols(str(archive), "hello") == ["memcpy", "rustkmod_log_info", "rustkmod_sleep"]
    assert missing_from_standin(str(archive), "hello", [str(standin)]) == ["rustkmod_sleep"]


STATICLIB = '[package]\nname = "{name}"\nversion = "0.1.0"\n[lib]\ncrate-type = ["staticlib"]\n'


def test_the_graph_of_path_dependencies_brings_bindings_and_the_runtime(tmp_path):
    """A framework crate reached by path (also through a workspace's [workspace.dependencies])
    declares bindings and names rustkmod-rt by version; the module's record has both."""
    from rustkmod.rust import cargo
    write_manifest(tmp_path / "kfw", '[package]\nname = "k-fw"\nversion = "0.1.0"\n'
                   '[lib]\nname = "kfw"\n[package.metadata.rustkmod]\nbindings = "api/kfw.h"\n'
                   'bindgen-options = ["--no-derive-debug"]\n'
                   '[target.\'cfg(target_os = "none")\'.dependencies]\nrustkmod-rt = { version = "0.1" }\n')
    write_manifest(tmp_path, '[workspace]\nmembers = ["mod1"]\n[workspace.dependencies]\nk-fw = { path = "kfw" }\n')
    module = write_manifest(tmp_path / "mod1", STATICLIB.format(name="mod1") +
                            '[dependencies]\nk-fw.workspace = true\n[dev-dependencies]\nrustkmod-rt = { path = "/x" }\n')
    crate = Crate.from_manifest(str(module))
    assert crate.uses_runtime and crate.by_version == ("rustkmod-rt",)
    [bound] = crate.bindings
    assert (bound.package, bound.lib_name, bound.options) == ("k-fw", "kfw", ("--no-derive-debug",))
    assert bound.header == str(tmp_path / "kfw" / "api" / "kfw.h") and bound.variable == "RUSTKMOD_BINDINGS_KFW"
    # every manifest read is watched: the workspace root whose [workspace.dependencies] gave the
    # framework's path, the framework, rustkmod's copy of rustkmod-rt
    assert crate.manifests == (str(module / "Cargo.toml"), str(tmp_path / "Cargo.toml"), str(tmp_path / "kfw" / "Cargo.toml"),
                               os.path.join(cargo.RUNTIME_DIR, "Cargo.toml"))
    config = cargo.runtime_config(crate)
    assert config[0] == "--config" and config[1].startswith("patch.crates-io.rustkmod-rt.path=")
    assert cargo.RUNTIME_DIR in config[1]


def test_a_crate_without_the_runtime_gets_no_patch_and_a_path_to_it_is_enough(tmp_path):
    from rustkmod.rust import cargo
    plain = Crate.from_manifest(str(write_manifest(tmp_path / "a", STATICLIB.format(name="a"))))
    assert not plain.uses_runtime and cargo.runtime_config(plain) == [] and plain.bindings == []
    by_path = Crate.from_manifest(str(write_manifest(tmp_path / "b", STATICLIB.format(name="b") +
                                                     f'[dependencies]\nrt = {{ path = "{cargo.RUNTIME_DIR}", '
                                                     'package = "rustkmod-rt" }\n')))
    assert by_path.uses_runtime and not by_path.by_version


def test_bindgen_options_must_be_strings(tmp_path):
    write_manifest(tmp_path / "f", '[package]\nname = "f"\n[package.metadata.rustkmod]\nbindings = "f.h"\n'
                   'bindgen-options = "--no-derive-debug"\n')
    module = write_manifest(tmp_path / "m", STATICLIB.format(name="m") + '[dependencies]\nf = { path = "../f" }\n')
    with pytest.raises(RustkmodError, match="bindgen-options is not a list of strings"):
        Crate.from_manifest(str(module))


def test_the_cfg_argfile_declares_every_option_the_config_names():
    from rustkmod.rust.cfgs import check_cfg_text
    text = check_cfg_text("CONFIG_SMP=y\n# CONFIG_PREEMPT is not set\nCONFIG_NAME=\"x\"\n")
    lines = text.splitlines()
    assert "--check-cfg=cfg(CONFIG_PREEMPT, values(any()))" in lines and len(lines) == 6
    assert lines[:3] == ["--check-cfg=cfg(kernel_version, values(any()))",
                         "--check-cfg=cfg(kernel_version_at_least, values(any()))",
                         "--check-cfg=cfg(rustkmod_bindings, values(any()))"]


def test_a_runtime_symbol_modpost_misses_is_found():
    from rustkmod.kernel.kbuild import missing_runtime_symbols
    output = ('ERROR: modpost: "rustkmod_rt_krealloc" [/b/m/m.ko] undefined!\n'
              'ERROR: modpost: "rustkmod_rt_log" [/b/m/m.ko] undefined!\nERROR: modpost: "other" [/b/m/m.ko] undefined!\n')
    assert missing_runtime_symbols(output) == ["rustkmod_rt_krealloc", "rustkmod_rt_log"]


def test_the_kernel_crate_by_version_brings_the_runtime_it_uses(tmp_path):
    """`kernel = { package = "rustkmod-kernel", version = "0.1" }`: rustkmod's copy is read, and
    the rustkmod-rt it depends on by path is found through it (its C half joins the module)."""
    from rustkmod.rust import cargo
    module = write_manifest(tmp_path / "m", STATICLIB.format(name="m") +
                            '[dependencies]\nkernel = { package = "rustkmod-kernel", version = "0.1" }\n')
    crate = Crate.from_manifest(str(module))
    assert crate.by_version == ("rustkmod-kernel",) and crate.uses_runtime
    config = cargo.runtime_config(crate)
    assert config == ["--config", f'patch.crates-io.rustkmod-kernel.path="{cargo.OWN_CRATES["rustkmod-kernel"]}"']


# rustc 1.96's words for a kernel target, as a failed build printed them here
NEEDS_STD = """error[E0463]: can't find crate for `std`
  |
  = note: the `x86_64-unknown-none` target may not support the standard library
  = note: `std` is required by `stdy` because it does not declare `#![no_std]`
  = help: consider building the standard library from source with `cargo build -Zbuild-std`

error: could not compile `stdy` (lib) due to 3 previous errors; 2 warnings emitted
"""
NO_ALLOCATOR = """error: no global memory allocator found but one is required; link to std or add `#[global_allocator]` to a static item that implements the GlobalAlloc trait

error: could not compile `m` (lib) due to 1 previous error; 2 warnings emitted
"""


def test_a_std_crate_and_a_missing_allocator_name_their_fix():
    from rustkmod.rust.cargo import failure_hint
    what, fix = failure_hint(NEEDS_STD)
    assert what == "the crate `stdy` needs the standard library, which a kernel module does not have"
    assert "default-features = false" in fix and "-Zbuild-std hint does not apply" in fix
    what, fix = failure_hint(NO_ALLOCATOR)
    assert "no global allocator" in what and 'features = ["global-allocator"' in fix
    assert failure_hint("error[E0308]: mismatched types\n") is None


def test_code_written_for_size_t_bindings_gets_one_line_naming_the_new_form():
    from rustkmod.rust.cargo import failure_hint
    what, fix = failure_hint("error[E0412]: cannot find type `size_t` in module `bindings`\n --> src/lib.rs:9:20\n")
    assert "names bindings::size_t" in what and "--size_t-is-usize" in what
    assert 'bindgen-remove = ["--size_t-is-usize"]' in fix and "write usize" in fix
    assert failure_hint("error[E0412]: cannot find type `foo` in module `bindings`\n") is None
