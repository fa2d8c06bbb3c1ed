"""What a module author meets in the first hour, beyond the happy path: errors at the files they
edit, a build that shows what it runs and how to rerun what failed, and editors that understand
the module (clangd on compile_commands.json, rust-analyzer on rust-project.json)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT, SCONS, copy_project, one_error_line, scons

pytestmark = pytest.mark.e2e

CLANGD = shutil.which("clangd-14") or "/usr/bin/clangd-14"


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    """`rustkmod new` outside the checkout, built with `scons editor` (no alias in its SConstruct)."""
    base = tmp_path_factory.mktemp("first")
    new = subprocess.run([str(ROOT / "rustkmod"), "new", "firstmod"], cwd=base, capture_output=True, text=True)
    assert new.returncode == 0, new.stderr
    project = base / "firstmod"
    assert '"editor"' not in (project / "SConstruct").read_text()
    run = scons(project, "editor")
    assert run.returncode == 0, run.output
    return project


def clangd_errors(source: Path, cwd: Path) -> tuple[int, str]:
    """clangd's own check of one file, as an editor opening it would run it: the number of errors
    it reports (compile_commands.json found by clangd itself, from the file's place)."""
    result = subprocess.run([CLANGD, f"--check={source}"], cwd=cwd, capture_output=True, text=True, timeout=300)
    found = re.search(r"All checks completed, (\d+) errors", result.stderr)
    assert found, result.stderr[-3000:]
    return int(found.group(1)), "\n".join(line for line in result.stderr.splitlines() if line.startswith("E["))


def test_clangd_accepts_every_c_file_of_a_scaffolded_module(scaffolded):
    """The generated C (module glue, bindings helpers, rustkmod-rt's C half) under clangd-14."""
    commands = json.loads((scaffolded / "build" / "compile_commands.json").read_text())
    assert len(commands) >= 2
    for entry in commands:
        count, errors = clangd_errors(Path(entry["file"]), scaffolded)
        assert count == 0, f"{entry['file']}:\n{errors}"


def test_clangd_accepts_ringdev_c_at_the_users_own_file(tmp_path):
    ringdev = copy_project(tmp_path / "checkout") / "examples" / "ringdev-c"
    run = scons(ringdev, "editor")
    assert run.returncode == 0, run.output
    count, errors = clangd_errors(ringdev / "ringdev.c", ringdev)
    assert count == 0, errors


def test_rust_project_lists_the_generated_bindings_directories(scaffolded):
    project = json.loads(next(scaffolded.glob("build/*/firstmod/rust-project.json")).read_text())
    kernel = next(c for c in project["crates"] if c["display_name"] == "kernel")
    bindings = Path(kernel["env"]["RUSTKMOD_BINDINGS_KERNEL"])
    assert bindings.is_file() and str(bindings.parent) in kernel["source"]["include_dirs"]
    assert str(Path(kernel["root_module"]).parent) in kernel["source"]["include_dirs"]


def test_rust_analyzer_finds_the_project_where_it_looks(scaffolded):
    """rust-project.json at the top, which rust-analyzer takes before the Cargo.toml beside it:
    the module's crate on the kernel crate, its proc macros as the build compiled them; run by
    rust-analyzer itself where the machine has one (Debian 12 has none)."""
    project = json.loads((scaffolded / "rust-project.json").read_text())
    names = [c["display_name"] for c in project["crates"]]
    assert len(names) == len(set(names)) and {"firstmod", "kernel", "macros"} <= set(names), names
    module = next(c for c in project["crates"] if c["display_name"] == "firstmod")
    kernel_index = names.index("kernel")
    assert {"crate": kernel_index, "name": "kernel"} in module["deps"]
    assert all(Path(c["root_module"]).is_file() for c in project["crates"])
    macros = next(c for c in project["crates"] if c["display_name"] == "macros")
    assert macros["is_proc_macro"] and Path(macros["proc_macro_dylib_path"]).is_file(), macros
    assert "rust-project.json" in (scaffolded / ".gitignore").read_text()
    analyzer = shutil.which("rust-analyzer")
    if analyzer and subprocess.run([analyzer, "--version"], capture_output=True).returncode == 0:
        stats = subprocess.run([analyzer, "diagnostics", str(scaffolded)], capture_output=True, text=True, timeout=900)
        assert stats.returncode == 0 and "severity: Error" not in stats.stdout, stats.stdout[-3000:]


def test_scons_c_removes_the_top_rust_project(tmp_path):
    new = subprocess.run([str(ROOT / "rustkmod"), "new", "cleanmod"], cwd=tmp_path, capture_output=True, text=True)
    assert new.returncode == 0, new.stderr
    assert scons(tmp_path / "cleanmod", "editor").returncode == 0
    assert (tmp_path / "cleanmod" / "rust-project.json").is_file()
    assert scons(tmp_path / "cleanmod", "-c").returncode == 0
    assert not (tmp_path / "cleanmod" / "rust-project.json").exists()


def test_a_c_error_names_the_users_file_from_where_scons_runs(project):
    source = project / "kmod" / "module.c"
    lines = source.read_text().splitlines()
    lines.insert(10, "static int broken = undeclared_thing;")
    source.write_text("\n".join(lines) + "\n")
    run = scons(project)
    assert run.returncode != 0
    assert re.search(r"^kmod/module\.c:11:\d+: error: .undeclared_thing. undeclared", run.stderr, re.M), run.stderr


def test_a_rust_error_names_the_crates_file_and_the_line_that_reruns_cargo(project):
    """rustc's location as seen from where scons runs; then the rerun line, run as printed."""
    lib = project / "hello" / "src" / "lib.rs"
    lib.write_text(lib.read_text() + "\nfn broken() -> u32 { \"text\" }\n")
    run = scons(project)
    assert re.search(r"--> hello/src/lib\.rs:\d+:\d+$", run.stderr, re.M), run.stderr
    one_error_line(run)
    rerun = re.search(r"^ +to rerun it: (.*)$", run.stderr, re.M).group(1)
    assert "cargo build" in rerun and "CARGO_ENCODED_RUSTFLAGS=$'" in rerun
    again = subprocess.run(["bash", "-c", rerun], cwd="/", capture_output=True, text=True, timeout=600)
    assert again.returncode == 101 and "mismatched types" in again.stderr, again.stderr[-2000:]


def test_v1_prints_every_childs_command_line(project):
    run = scons(project, "V=1")
    assert run.returncode == 0, run.output
    commands = [line for line in run.stdout.splitlines() if line.startswith("         $ ")]
    assert any("cargo build --lib" in line for line in commands), run.stdout
    assert any(re.search(r"\bmake -C \S+ M=\S+ .* V=1 --no-print-directory modules$", line) for line in commands), run.stdout
    # Kbuild's own command lines: its compile of the C side and the final link of the .ko
    assert re.search(r"^\s*gcc\S* -Wp,-MMD,\S+/hello/\.module\.o\.d .* -c -o ", run.stdout, re.M), run.stdout
    assert re.search(r"^\s*ld -r .* -o \S+/hello/hello\.ko ", run.stdout, re.M), run.stdout
    assert "Compiling hello v0.1.0" in run.stderr and "Running `/usr/bin/rustc --crate-name hello" in run.stderr
    quiet = scons(project, "-c")
    assert quiet.returncode == 0
    quiet = scons(project)
    assert not [line for line in quiet.stdout.splitlines() if line.startswith("         $ ")]


def test_rustkmod_verbose_in_the_environment_is_v1(project):
    run = scons(project, env=dict(os.environ, RUSTKMOD_VERBOSE="1"))
    assert run.returncode == 0, run.output
    assert "         $ " in run.stdout


def readme_command_blocks() -> list[list[str]]:
    """The README's shell blocks that start with `scons` or `rustkmod`, as lists of commands
    (comments dropped): what a user types in a module's project."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    commands = [[re.split(r"\s+#", line, maxsplit=1)[0].strip() for line in block.splitlines() if line.strip()]
                for block in blocks]
    return [block for block in commands if block[0].startswith(("scons", "rustkmod"))]


def test_the_readmes_commands_run_as_written_in_a_scaffolded_project(tmp_path):
    blocks = readme_command_blocks()
    assert len(blocks) >= 2 and any("scons check" in c for b in blocks for c in b)
    new = subprocess.run([str(ROOT / "rustkmod"), "new", "readmemod"], cwd=tmp_path, capture_output=True, text=True)
    assert new.returncode == 0, new.stderr
    tools = tmp_path / "bin"                 # `rustkmod` on PATH, as pip or a link to the checkout's script gives it
    tools.mkdir()
    (tools / "rustkmod").symlink_to(ROOT / "rustkmod")
    env = dict(os.environ, PATH=f"{tools}:{Path(SCONS).parent}:{os.environ['PATH']}")
    for block in blocks:
        for command in block:
            run = subprocess.run(["bash", "-c", command], cwd=tmp_path / "readmemod", env=env, capture_output=True,
                                 text=True, timeout=1800)
            assert run.returncode == 0, f"{command}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"



def test_help_lists_the_targets_with_what_they_do(scaffolded):
    run = scons(scaffolded, "-h")
    assert run.returncode == 0, run.output
    targets = run.stdout.split("rustkmod targets", 1)[1]
    for name, meaning in (("check", "boot each kernel in QEMU"), ("editor", "compile_commands.json"),
                          ("test-host", "tests on the host"), ("flags", "hardening")):
        assert re.search(rf"^  scons {name} +.*{meaning}", targets, re.M), targets
