"""Crate manifests, cargo's dep-info, and the symbols a staticlib exports to the C side."""

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
