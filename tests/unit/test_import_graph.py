"""The import graph keeps the grouping: the library's packages form layers, and only module.py wires stages.

Run as a script (`./setup python tests/unit/test_import_graph.py`) it prints every edge that
crosses a package, which is the picture the layering below is checked against.

  top (errors, process, stamps, atomic, depfile, editor)  <-  elf  <-  kernel  <-  rust
                                                                  ^        ^
                                                                  +-- verify (the loader's verdict reads ELF and the tree)
"""

import ast
import collections
import os
import sys

SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "site_scons")

# What each library package may import besides itself. Why each edge exists:
#   elf -> top: errors, and readelf/c++filt run through process.
#   kernel -> elf: objtool patches the Rust object's ELF; boot demangles the names a trace shows.
#   rust -> kernel: a crate is compiled for a kernel (its tree, config, hardening, Kbuild's C flags
#                   for bindgen, objtool's dead-end records on the partial link).
#   rust -> elf: the partial link's roots and .modinfo edit; the stand-in's symbols.
#   verify -> elf, kernel: the verdict reads the module's ELF against the tree's loader and config.
ALLOWED = {"top": set(), "elf": {"top"}, "kernel": {"top", "elf"}, "rust": {"top", "elf", "kernel"},
           "verify": {"top", "elf", "kernel"}}
# Library modules above every package: the command line.
ENTRY_POINTS = {"rustkmod.__main__"}
# Stage files that use another stage's nodes, and why: the editor shows what the Rust stage builds;
# the host tests build the crate's staticlib with the Rust stage's builder.
STAGE_EDGES = {("rustkmod_scons.editor_stage", "rustkmod_scons.rust_stage"),
               ("rustkmod_scons.host_stage", "rustkmod_scons.rust_stage")}


def module_name(path: str) -> str:
    rel = os.path.relpath(path, SITE)[:-3].replace(os.sep, ".")
    rel = rel[len("site_tools."):] if rel.startswith("site_tools.") else rel
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def is_module(name: str) -> bool:
    base = os.path.join(SITE, *name.split("."))
    tool = os.path.join(SITE, "site_tools", *name.split("."))
    return any(os.path.isfile(p + ".py") or os.path.isdir(p) for p in (base, tool))


def imports() -> dict:
    """module -> the rustkmod and rustkmod_scons modules it imports (at any depth in the file)."""
    graph = collections.defaultdict(set)
    for top in (os.path.join(SITE, "rustkmod"), os.path.join(SITE, "site_tools", "rustkmod_scons")):
        for directory, _, files in os.walk(top):
            for name in (f for f in files if f.endswith(".py")):
                path = os.path.join(directory, name)
                here = module_name(path)
                package = here if name == "__init__.py" else here.rpartition(".")[0]
                with open(path, encoding="utf-8") as handle:
                    tree = ast.parse(handle.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.ImportFrom):
                        base = node.module or ""
                        if node.level:
                            parent = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                            base = ".".join(parent + ([base] if base else []))
                        if not base.startswith(("rustkmod", "SCons")):
                            continue
                        for alias in node.names:
                            full = f"{base}.{alias.name}"
                            graph[here].add(full if is_module(full) else base)
                    elif isinstance(node, ast.Import):
                        graph[here].update(a.name for a in node.names if a.name.startswith(("rustkmod", "SCons")))
    return graph


def side(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "rustkmod":
        return parts[0]
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else "top"


def test_the_library_packages_form_layers():
    wrong = [f"{m} -> {t}" for m, targets in imports().items() for t in targets
             if m.startswith("rustkmod.") and m not in ENTRY_POINTS and t.startswith("rustkmod.")
             and side(t) != side(m) and side(t) not in ALLOWED[side(m)]]
    assert wrong == []


def test_the_library_never_imports_scons():
    assert [m for m, targets in imports().items() if m.startswith("rustkmod.") or m == "rustkmod"
            if any(t.startswith("SCons") for t in targets)] == []


# The pseudo-builders: the files that wire stages together (the modules, the packages).
WIRING = {"rustkmod_scons", "rustkmod_scons.module", "rustkmod_scons.packaging"}


def test_only_the_pseudo_builders_wire_one_stage_to_another():
    edges = {(m, t) for m, targets in imports().items() for t in targets
             if m.startswith("rustkmod_scons.") and t.endswith("_stage") and m not in WIRING and t != m}
    assert edges == STAGE_EDGES


if __name__ == "__main__":
    graph = imports()
    crossing = collections.defaultdict(set)
    for module, targets in sorted(graph.items()):
        for target in targets:
            if target.startswith("rustkmod.") and side(module) != side(target):
                crossing[(side(module), side(target))].add(f"{module} -> {target}")
    for (source, target), edges in sorted(crossing.items()):
        print(f"{source} -> {target}")
        print("".join(f"    {edge}\n" for edge in sorted(edges)), end="")
    sys.exit(0)
