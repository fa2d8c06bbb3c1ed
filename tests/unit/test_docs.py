"""The documentation that is generated or promised: docs/variables.md is what variables.py
defines, every link between the docs lands on a file, and the README stays a front door."""

import re

from helpers import ROOT
from rustkmod_scons import variables


def test_the_variables_page_is_what_the_tool_defines():
    written = (ROOT / "docs" / "variables.md").read_text()
    assert written == variables.docs_markdown(), (
        "docs/variables.md differs from variables.py; write it again with: PYTHONPATH=site_scons:"
        "site_scons/site_tools .venv/bin/python -m rustkmod_scons.variables > docs/variables.md")
    for name in variables.make_variables({}).keys():
        assert f"| `{name}`" in written


def test_every_link_between_the_docs_lands_on_a_file():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = [f"{page.name}: {target}" for page in pages
              for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text())
              if not (page.parent / target).is_file()]
    assert broken == []
    linked = {target for target in re.findall(r"\(docs/([^)#]+\.md)", (ROOT / "README.md").read_text())}
    assert linked == {page.name for page in (ROOT / "docs").glob("*.md")}, "the README links every page of docs/"


def test_the_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 180, len(lines)


def test_one_release_number_everywhere():
    """pyproject.toml, `rustkmod --version` and CHANGELOG.md's newest heading name one release;
    the crates keep the 0.1 series projects name them by (docs/compatibility.md)."""
    import tomllib
    import rustkmod
    root = ROOT
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    newest = re.search(r"^## (\d+\.\d+\.\d+)$", (root / "CHANGELOG.md").read_text(), re.M).group(1)
    assert project == rustkmod.__version__ == newest
    for crate in ("rustkmod_rt", "rustkmod_kernel"):
        version = tomllib.loads((root / "site_scons" / crate / "Cargo.toml").read_text())["package"]["version"]
        assert version.startswith("0.1."), crate


def test_the_builders_page_is_what_the_tool_defines():
    from rustkmod_scons import reference
    written = (ROOT / "docs" / "builders.md").read_text()
    assert written == reference.docs_markdown(), (
        "docs/builders.md differs from the builders; write it again with: PYTHONPATH=site_scons:"
        "site_scons/site_tools .venv/bin/python -m rustkmod_scons.reference > docs/builders.md")
    for keyword in ("exercise_programs", "exercise_files", "insmod_params", "device_tree", "files", "maintainer"):
        assert f"| `{keyword}` |" in written


def test_the_architecture_pages_tables_are_what_the_code_says():
    from rustkmod_scons import reference
    written = (ROOT / "docs" / "architecture.md").read_text()
    assert written == reference.with_generated_tables(written), (
        "docs/architecture.md's tables differ from the code; write them again with: PYTHONPATH=site_scons:"
        "site_scons/site_tools .venv/bin/python -m rustkmod_scons.reference docs/architecture.md")
    for name in ("DkmsDeb", "ToolDeb", "UnusableKernel", "`arch`", "`packaging.py`", "`deb`", "`dkms`"):
        assert name in written


def test_the_tools_own_table_names_every_builder():
    import rustkmod_scons
    table = rustkmod_scons.__doc__
    assert [name for name in rustkmod_scons.builders() if f" {name} " not in table] == []
