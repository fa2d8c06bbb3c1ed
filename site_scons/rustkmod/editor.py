"""Files an editor reads to understand a module as it is built: rust-project.json for
rust-analyzer (the kernel target, the library sources of the sysroot, the kernel's --cfgs) and
compile_commands.json for clangd (the C files with Kbuild's own command lines).
"""

from __future__ import annotations

import glob
import json
import os
import re
from typing import NamedTuple

from rustkmod import process
from rustkmod.errors import RustkmodError

_CFG = re.compile(r'^--cfg=?\s*(\S+?)(?:=(".*"))?$')


def kernel_cfgs(cfg_text: str) -> list[str]:
    """The kernel's --cfg arguments (rustc_cfg's form) as rust-project.json writes cfgs."""
    cfgs = []
    for line in cfg_text.splitlines():
        match = _CFG.match(line.strip())
        if match:
            cfgs.append(f"{match.group(1)}={match.group(2)}" if match.group(2) else match.group(1))
    return cfgs


class CrateInputs(NamedTuple):
    """What rust-project.json is made from for one crate and kernel target: the crate, the cargo
    that resolves it, the target, `library` (the sources the shared sysroot was built from, where
    rust-analyzer takes `core` and `alloc`), cargo's --config arguments (rustkmod-rt by version),
    and `host_deps`, where the build left the proc macros it compiled for the host (<target
    dir>/release/deps), which rust-analyzer loads to expand them."""
    crate_dir: str
    cargo: str
    target: str
    library: str
    config: tuple = ()
    host_deps: str = ""


def rust_project(inputs: CrateInputs, cfgs: list[str], environ: dict, bindings: dict | None = None) -> dict:
    """rust-project.json for the crate and its dependencies, as cargo resolves them for the target.

    Every crate gets the kernel's cfgs and its enabled features, as the build gives them (and,
    with `bindings`, {variable: bindings.rs}, what the build gives crates with bindings: the
    variables and the rustkmod_bindings cfg).
    """
    crate_dir, cargo, target, library, config, host_deps = inputs
    if bindings:
        cfgs = cfgs + ["rustkmod_bindings"]
    result = process.run([cargo, "metadata", "--format-version", "1", "--filter-platform", target, *config],
                          capture_output=True, text=True, cwd=crate_dir, env=environ)
    if result.returncode != 0:
        last = process.last_line(result.stderr)
        raise RustkmodError(f"cargo metadata failed in {crate_dir}: {last}", "check the crate builds with cargo")
    metadata = json.loads(result.stdout)
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = [n for n in metadata["resolve"]["nodes"] if _library(packages[n["id"]])]
    index = {node["id"]: i for i, node in enumerate(nodes)}
    members = set(metadata["workspace_members"])
    crates = []
    for node in nodes:
        package = packages[node["id"]]
        lib = _library(package)
        crates.append({
            "display_name": lib["name"],
            "root_module": lib["src_path"],
            "edition": lib.get("edition", package["edition"]),
            "deps": [{"crate": index[dep["pkg"]], "name": dep["name"]} for dep in node["deps"]
                     if dep["pkg"] in index and any(k["kind"] is None for k in dep["dep_kinds"])],
            "cfg": [f'feature="{f}"' for f in node["features"]] + cfgs,
            "target": target,
            "is_workspace_member": node["id"] in members,
            "is_proc_macro": "proc-macro" in lib["kind"],
        })
        dylib = _proc_macro_dylib(host_deps, lib["name"]) if "proc-macro" in lib["kind"] else ""
        if dylib:
            crates[-1]["proc_macro_dylib_path"] = dylib
        if bindings:
            # include!(env!(...)) reads a generated file: rust-analyzer loads files of the
            # directories a crate lists (its own, and the bindings' here) and no others
            crates[-1]["env"] = dict(bindings)
            crates[-1]["source"] = {"include_dirs": sorted({os.path.dirname(lib["src_path"]),
                                                            *(os.path.dirname(path) for path in bindings.values())}),
                                    "exclude_dirs": []}
    return {"sysroot_src": library, "crates": crates}


def _proc_macro_dylib(host_deps: str, name: str) -> str:
    """The newest lib<name>-<hash>.so cargo built into `host_deps`, or ""."""
    found = glob.glob(os.path.join(glob.escape(host_deps), f"lib{name.replace('-', '_')}-*.so")) if host_deps else []
    return max(found, key=os.path.getmtime) if found else ""


def _library(package: dict) -> dict | None:
    return next((t for t in package["targets"]
                 if {"lib", "rlib", "staticlib", "proc-macro"} & set(t["kind"])), None)


# Flags of the kernels' gcc command lines that clang (clangd) rejects as errors: gcc's own options,
# and clang's under another meaning. Dropped from compile_commands.json; the code means the same
# to clangd without them (they steer code generation, not the language).
_GCC_ONLY = re.compile(r"-mpreferred-stack-boundary=.*|-mindirect-branch(?:=.*|-register|-cs-prefix)|"
                       r"-mfunction-return=.*|-fno-allow-store-data-races|-fconserve-stack|-mrecord-mcount|"
                       r"-ftrivial-auto-var-init=zero|-fno-ipa-.*|-fmin-function-alignment=.*|"
                       r"-fno-var-tracking-assignments|-femit-struct-debug-baseonly|-fsanitize=bounds-strict|"
                       r"-fstrict-flex-arrays=.*|-fzero-init-padding-bits=.*|-fplugin.*|"
                       r"-mstack-protector-guard.*|-fno-tree-.*|-fdiagnostics-show-context.*|-Wa,--.*")


def clangd_arguments(command: str, originals: dict) -> list[str]:
    """Kbuild's command line as clangd takes it: the compile alone (Kbuild runs objtool after a
    `;`), without gcc-only flags, and the user's own file where Kbuild compiled rustkmod's copy
    (`originals`: {copy: original})."""
    import shlex
    words = shlex.split(re.split(r"\s;\s", command, maxsplit=1)[0])
    return [originals.get(word, word) for word in words if not _GCC_ONLY.fullmatch(word)]


_SAVED_COMMAND = re.compile(r"^(?:saved)?cmd_(\S+\.o) := (.*)$", re.M)


def compile_commands(module_dir: str, kdir: str, originals: dict | None = None) -> list[dict]:
    """compile_commands.json entries for the module's C files, from the `.NAME.o.cmd` files Kbuild
    wrote: Kbuild's command lines (clangd_arguments), run where Kbuild ran them. Up to 6.12 that is
    KDIR (make -C KDIR; the object is named by its absolute path); from 6.13 Kbuild changes into the
    module's directory (M=) and names the object and its source relative to it. Only the module's
    own C files (those in its directory) are listed, each under the name of the file the user
    edits (`originals`: {name in the module's directory: the user's file}), not rustkmod's copy."""
    originals = originals or {}
    entries = []
    for cmd_file in sorted(glob.glob(os.path.join(module_dir, ".*.o.cmd"))):
        with open(cmd_file, encoding="utf-8", errors="replace") as handle:
            match = _SAVED_COMMAND.search(handle.read())
        if not match:
            continue
        command = match.group(2).strip()
        sources = [word for word in command.split() if word.endswith(".c")]
        if not sources or " -c " not in f" {command} ":
            continue            # shipped objects and links compile no C file
        directory = kdir if os.path.isabs(match.group(1)) else module_dir
        source = os.path.normpath(os.path.join(directory, sources[-1]))
        if not source.startswith(os.path.abspath(module_dir) + os.sep):
            continue            # Kbuild's own (7.x's scripts/module-common.c): not the module's
        original = originals.get(os.path.basename(source), source)
        arguments = clangd_arguments(command, {sources[-1]: original})
        entries.append({"directory": directory, "file": original, "arguments": arguments})
    return entries


def merged_projects(projects: list[dict]) -> dict:
    """One rust-project.json of several modules' (each module's crate and its dependencies, for
    one kernel): a crate several list (the kernel crate) appears once, dependencies re-indexed."""
    crates, index_of = [], {}
    for project in projects:
        local = []
        for crate in project["crates"]:
            key = json.dumps({k: v for k, v in crate.items() if k != "deps"}, sort_keys=True)
            if key not in index_of:
                index_of[key] = len(crates)
                crates.append(dict(crate, deps=[]))
            local.append((index_of[key], crate["deps"]))
        for new, deps in local:
            if not crates[new]["deps"]:
                crates[new]["deps"] = [dict(dep, crate=local[dep["crate"]][0]) for dep in deps]
    return {"sysroot_src": projects[0]["sysroot_src"], "crates": crates} if projects else {"crates": []}
