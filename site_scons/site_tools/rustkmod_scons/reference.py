"""docs/builders.md: every method the tool adds to an Environment, with its keyword arguments and
their defaults, written from the functions themselves (a unit test compares the page with this),
so the reference cannot drift from the code.

  PYTHONPATH=site_scons:site_scons/site_tools .venv/bin/python -m rustkmod_scons.reference > docs/builders.md
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
            "RustkmodDeb": packaging.RustkmodDeb, "RustkmodArguments": arguments.RustkmodArguments}


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


if __name__ == "__main__":
    print(docs_markdown(), end="")
