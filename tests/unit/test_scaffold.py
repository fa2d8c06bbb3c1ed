"""`python -m rustkmod new DIR`: the project it writes, and the names and places it refuses."""

import pytest

from rustkmod import RustkmodError
from rustkmod.__main__ import main
from rustkmod.scaffold import new_project


def test_the_project_is_named_after_its_directory(tmp_path):
    written = new_project(str(tmp_path / "my_mod"))
    names = sorted(p.relative_to(tmp_path / "my_mod").as_posix() for p in map(type(tmp_path), written))
    assert names == [".gitignore", "Cargo.toml", "README.md", "SConstruct", "src/lib.rs"]
    sconstruct = (tmp_path / "my_mod" / "SConstruct").read_text()
    assert 'RustKernelModule("my_mod", crate=".", sources=[]' in sconstruct
    for text in (sconstruct, (tmp_path / "my_mod" / "README.md").read_text()):   # no path of this machine: DKMS builds it elsewhere
        assert "/" + str(tmp_path).split("/")[1] not in text and "/work/" not in text
    lib = (tmp_path / "my_mod" / "src" / "lib.rs").read_text()
    assert "type: MyMod," in lib and 'name: "my_mod",' in lib and "#![forbid(unsafe_code)]" in lib
    assert 'name = "my_mod"' in (tmp_path / "my_mod" / "Cargo.toml").read_text()
    ignored = (tmp_path / "my_mod" / ".gitignore").read_text().split()
    assert {"build/", ".sconsign.dblite", ".rustkmod.lock", ".rustkmod.memo"} <= set(ignored)   # what a build writes


@pytest.mark.parametrize("name", ["My-Mod", "9lives", "with space", "a" * 60])
def test_a_name_that_cannot_name_a_module_is_refused(tmp_path, name):
    with pytest.raises(RustkmodError, match="cannot name a module"):
        new_project(str(tmp_path / name))
    assert not (tmp_path / name).exists()


def test_an_existing_project_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "SConstruct").write_text("# mine\n")
    assert main(["new", str(tmp_path / "mine")]) == 2
    assert "exists and is not an empty directory" in capsys.readouterr().err
    assert (tmp_path / "mine" / "SConstruct").read_text() == "# mine\n"
    assert main(["new", str(tmp_path / "empty")]) == 0           # a new or empty directory is fine
    assert "build and boot it: cd " in capsys.readouterr().out


def test_the_printed_command_runs_as_written_from_a_path_with_a_space(tmp_path, capsys):
    assert main(["new", str(tmp_path / "a b" / "mod_x")]) == 0
    hint = capsys.readouterr().out.split("build and boot it: ", 1)[1].strip()
    assert hint.startswith(f"cd '{tmp_path}/a b/mod_x' && "), hint


def test_docs_prints_where_the_pages_are(capsys):
    assert main(["docs", "kernel-crate"]) == 0
    page = capsys.readouterr().out.strip()
    assert page.endswith("/kernel-crate.md") and "## Drivers" in open(page).read()
    assert main(["docs", "no-such-page"]) == 2
    assert "no page 'no-such-page'" in capsys.readouterr().err
