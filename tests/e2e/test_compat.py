"""Compatibility as a promise: the projects of tests/compat, written against earlier releases and
never edited, build and boot from outside the checkout as they are; one whose form was migrated
on purpose gets the one line CHANGELOG.md names, and builds once that line is applied."""

import os
import shutil
from pathlib import Path

import pytest

from helpers import ROOT, one_error_line, scons

pytestmark = pytest.mark.e2e

CORPUS = ROOT / "tests" / "compat"
# project -> what its boot prints
UNCHANGED = {"counter-0.1": "misc counter: ready", "rtglue-0.1": "rtglue: 4 squares, sum 30",
             "fwbind-0.1": "drv: parsed 4096"}


def copied(name: str, tmp_path: Path) -> tuple[Path, dict]:
    project = tmp_path / "author" / name
    shutil.copytree(CORPUS / name, project)
    return project, dict(os.environ, RUSTKMOD=str(ROOT))


def test_the_corpus_lists_every_project_it_holds():
    listed = (CORPUS / "README.md").read_text()
    projects = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
    assert projects and all(f"`{name}`" in listed for name in projects)
    assert set(UNCHANGED) | {"sizet-0.1"} == set(projects)


@pytest.mark.parametrize("name", sorted(UNCHANGED))
def test_a_project_of_an_earlier_release_builds_and_boots_unchanged(name, tmp_path):
    project, env = copied(name, tmp_path)
    run = scons(project, "check", env=env)
    assert run.returncode == 0, run.output
    assert f"loaded, printed '{UNCHANGED[name]}', unloaded" in run.stdout
    original = [p for p in (CORPUS / name).rglob("*") if p.is_file()]
    assert all((project / p.relative_to(CORPUS / name)).read_bytes() == p.read_bytes() for p in original)  # unedited


def test_size_t_bindings_get_the_line_naming_the_new_form_and_build_with_it(tmp_path):
    """0.2.0 binds size_t as usize: code written for 0.1's bindings (bindings::size_t) fails with
    one line naming both ways on; the one bindgen-remove line keeps it as written."""
    project, env = copied("sizet-0.1", tmp_path)
    line = one_error_line(scons(project, env=env))
    assert "the crate names bindings::size_t, which its bindings no longer have" in line
    assert 'bindgen-remove = ["--size_t-is-usize"]' in line
    assert 'bindgen-remove = ["--size_t-is-usize"]' in (ROOT / "CHANGELOG.md").read_text()
    manifest = project / "Cargo.toml"
    manifest.write_text(manifest.read_text() + '\n[package.metadata.rustkmod]\nbindgen-remove = ["--size_t-is-usize"]\n')
    run = scons(project, "check", env=env)
    assert run.returncode == 0, run.output
    assert "loaded, printed 'sizet: length 10', unloaded" in run.stdout
