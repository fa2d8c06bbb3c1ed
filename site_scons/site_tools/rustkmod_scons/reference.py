"""The pages written from the code, so that they cannot drift from it (unit tests compare them):
docs/builders.md, every method the tool adds to an Environment with its keyword arguments and
their defaults; and docs/architecture.md's tables (the library's modules from each package's map,
the tool's files from their docstrings, every builder from BUILDERS with its label and file).

  PYTHONPATH=site_scons:site_scons/site_tools .venv/bin/python -m rustkmod_scons.reference > docs/builders.md
  PYTHONPATH=site_scons:site_scons/site_tools .venv/bin/python -m rustkmod_scons.reference docs/architecture.md
"""

from __future__ import annotations

import inspect
import textwrap

INTRO = """\
# Builder reference

The methods `Environment(tools=["rustkmod_scons"])` adds, as a SConstruct calls them
(`env.RustKernelModule(...)`). Each keyword's default is what a call without it gets; the text
after the table is the method's own description. Build variables (`scons NAME=VALUE`) are in
[variables.md](variables.md). This page is generated from the code (`rustkmod_scons/reference.py`).
"""


def methods() -> dict:
    """{name: function} of the pseudo-builders, in the order a SConstruct meets them."""
    from . import arguments, module, packaging
    return {"RustKernelModule": module.RustKernelModule, "RustHostTests": module.RustHostTests,
            "RustModulesDeb": packaging.RustModulesDeb, "RustModulesDkms": packaging.RustModulesDkms,
            "RustkmodDeb": packaging.RustkmodDeb, "RustkmodArguments": arguments.RustkmodArguments,
            "RustkmodCheckArguments": arguments.RustkmodCheckArguments}


def docs_markdown() -> str:
    parts = [INTRO]
    for name, function in methods().items():
        signature = inspect.signature(function)
        parameters = list(signature.parameters.values())[1:]        # env is the Environment itself
        shown = ", ".join(str(p) for p in parameters)
        parts.append(f"\n## {name}\n\n```python\nenv.{name}({shown})\n```\n\n")
        if parameters:
            rows = ["| argument | default |", "|---|---|"]
            for parameter in parameters:
                if parameter.kind is parameter.VAR_POSITIONAL:
                    default = "(any number)"
                elif parameter.default is parameter.empty:
                    default = "required"
                else:
                    default = f"`{parameter.default!r}`"
                rows.append(f"| `{parameter.name}` | {default} |")
            parts.append("\n".join(rows) + "\n")
        parts.append("\n" + textwrap.dedent(inspect.getdoc(function) or "") + "\n")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# docs/architecture.md's tables, between `<!-- generated: NAME -->` and `<!-- end -->`

STAGE_FILES = ("rust_stage", "bindings_stage", "kbuild_stage", "verify_stage", "boot_stage", "install_stage",
               "editor_stage", "host_stage", "deb_stage", "dkms_stage", "fan_out")


def _first_paragraph(module) -> str:
    return " ".join((inspect.getdoc(module) or "").split("\n\n")[0].split()).replace("|", "\\|")


def library_table() -> str:
    import ast
    import os
    import rustkmod
    top = os.path.dirname(rustkmod.__file__)
    rows = ["| package | module | what |", "|---|---|---|"]
    for package in ("", "rust", "kernel", "elf", "verify"):
        doc = ast.get_docstring(ast.parse(open(os.path.join(top, package, "__init__.py")).read())) or ""
        for name, text in _mapped_lines(doc):
            if name not in ("rustkmod", "rust, kernel, elf, verify"):
                rows.append(f"| `{package or 'rustkmod'}/` | `{name}` | {text} |")
    return "\n".join(rows)


def _mapped_lines(doc: str):
    """(module, what) from a package map: the first paragraph after the title whose lines are
    `name: text` (continued on indented lines)."""
    import re
    for paragraph in doc.split("\n\n")[1:]:
        entries = []
        for line in paragraph.splitlines():
            found = re.match(r"^([\w/, ]+):\s+(.*)$", line)
            if found:
                entries.append([found.group(1), found.group(2)])
            elif entries and line.startswith(" "):
                entries[-1][1] += " " + line.strip()
            else:
                break
        else:
            if entries:
                return [(name, " ".join(text.split()).replace("|", "\\|")) for name, text in entries]
    return []


def tool_table() -> str:
    import importlib
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    rows = ["| file | what |", "|---|---|"]
    for name in sorted(n[:-3] for n in os.listdir(here) if n.endswith(".py")):
        module = importlib.import_module(__package__ if name == "__init__" else f"{__package__}.{name}")
        rows.append(f"| `{name}.py` | {_first_paragraph(module)} |")
    return "\n".join(rows)


def builder_table() -> str:
    import importlib
    rows = ["| builder | label | file |", "|---|---|---|"]
    for name in STAGE_FILES:
        module = importlib.import_module(f"{__package__}.{name}")
        for builder_name, made in module.BUILDERS.items():
            rows.append(f"| `{builder_name}` | `{made.rustkmod_label}` | `{name}.py` |")
    return "\n".join(rows)


def with_generated_tables(text: str) -> str:
    """`text` (docs/architecture.md) with each generated block written again."""
    import re
    blocks = {"library": library_table, "tool": tool_table, "builders": builder_table}

    def fill(match):
        return f"<!-- generated: {match.group(1)} -->\n{blocks[match.group(1)]()}\n<!-- end -->"
    return re.sub(r"<!-- generated: (\w+) -->\n.*?<!-- end -->", fill, text, flags=re.S)


if __name__ == "__main__":
    import sys
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as handle:
            page = handle.read()
        with open(sys.argv[1], "w", encoding="utf-8") as handle:
            handle.write(with_generated_tables(page))
    else:
        print(docs_markdown(), end="")
