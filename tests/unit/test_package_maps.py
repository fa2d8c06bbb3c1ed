"""Each library package's __init__ docstring maps its modules, one line each: the map names every
module of the package and no module it does not have, so a newcomer can trust it."""

import ast
import re
from pathlib import Path

import pytest

PACKAGES = Path(__file__).resolve().parents[2] / "site_scons" / "rustkmod"


def mapped(init: Path) -> set[str]:
    doc = ast.get_docstring(ast.parse(init.read_text())) or ""
    return {m.group(1) for m in re.finditer(r"^([A-Za-z_][\w]*):", doc, re.M)}


@pytest.mark.parametrize("package", [PACKAGES, *(p for p in PACKAGES.iterdir() if (p / "__init__.py").is_file())],
                         ids=lambda p: p.name)
def test_the_map_names_every_module_and_only_those(package):
    modules = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {p.name for p in package.iterdir() if (p / "__init__.py").is_file()} - {"docs"}
    named = mapped(package / "__init__.py") - {package.name}     # "rustkmod: build ..." is the title
    if package == PACKAGES:                      # the top map names its subpackages on one line
        named |= {"rust", "kernel", "elf", "verify"}
    assert named == modules, f"missing: {sorted(modules - named)}, stale: {sorted(named - modules)}"
