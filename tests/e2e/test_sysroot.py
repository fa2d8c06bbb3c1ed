"""The shared Rust sysroot and crates built as cargo builds them: `alloc`, registry dependencies
through the crate's own cargo configuration, a crate with no Cargo.lock yet, and `core` compiled
once per machine. The projects are module authors' own, outside the checkout (tests/projects/)."""

import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from helpers import ROOT, copy_project, fetch_kernels, outside_project, scons

pytestmark = pytest.mark.e2e

KALLOC_LINE = "kalloc: boxed 41 squares 285 words apple=3,kiwi=1,pear=2"


@pytest.fixture(scope="module")
def fetched():
    fetch_kernels("6.1", "6.12")


def test_alloc_crate_without_a_lock_file_builds_once_and_boots_on_61_and_612(tmp_path, fetched):
    project, env = outside_project("kalloc", tmp_path)
    assert not (project / "rust/Cargo.lock").exists()
    kernels = "KERNELS=6.1,6.12"
    run = scons(project, kernels, "OBJTOOL=strict", "-j2", "check", f"EXPECT={KALLOC_LINE}", env=env, timeout=1800)
    assert run.returncode == 0, run.output
    assert "LOCK" in run.steps() and (project / "rust/Cargo.lock").is_file()   # as `cargo build` would write it
    assert run.stdout.count(f"printed '{KALLOC_LINE}'") == 2
    assert "kalloc for 6.1.0" in run.stdout and "kalloc for 6.12" in run.stdout
    # 6.1 runs objtool on the Rust object itself, strict: alloc's noreturn paths passed it.
    assert re.search(r"^OBJTOOL .*6\.1\.0-\S+/kalloc/kalloc_rust\.o_shipped$", run.stdout, re.M)
    # The first build wrote Cargo.lock; the second finds everything up to date.
    assert scons(project, kernels, "-q", env=env).returncode == 0
    assert scons(project, kernels, env=env).steps() == []


def test_registry_dependencies_resolve_through_the_crates_own_cargo_config(tmp_path):
    """bitflags and crc from Debian's packaged crates, as rust/.cargo/config.toml says: no [patch],
    no source rustkmod configured; the config file is an input of the build."""
    project, env = outside_project("debdeps", tmp_path)
    line = f"debdeps: crc32={zlib.crc32(b'rustkmod'):08x} mode=101"
    run = scons(project, "check", f"EXPECT={line}", env=env)
    assert run.returncode == 0, run.output
    assert f"printed '{line}'" in run.stdout
    lock = (project / "rust/Cargo.lock").read_text()
    assert 'name = "bitflags"\nversion = "1.3.2"' in lock and 'name = "crc"\nversion = "1.8.1"' in lock
    config = project / "rust/.cargo/config.toml"
    config.write_text(config.read_text() + "# edited by the test\n")
    again = scons(project, env=env)
    assert again.returncode == 0 and again.steps()[:1] == ["CARGO"], again.output


def test_a_second_checkout_compiles_no_core(built_project, tmp_path):
    """The sysroot the first checkout built serves the second: no core compile at all."""
    other = copy_project(tmp_path / "second")
    run = scons(other)
    assert run.returncode == 0, run.output
    assert "SYSROOT" in run.steps() and "is already built: no core compile" in run.stdout
    assert "built the sysroot" not in run.stdout
    assert not list((other / "build").rglob("libcore-*.rlib"))
    assert not list((other / "build").rglob("*.rmeta"))     # no library compiled in the project at all


def test_two_builds_wanting_the_same_new_sysroot_build_it_once(tmp_path):
    cache = f"RUST_SYSROOT_CACHE={tmp_path / 'sysroots'}"
    projects = [copy_project(tmp_path / name) for name in ("one", "two")]
    runs = [subprocess.Popen([str(Path(sys.executable).with_name("scons")), cache], cwd=p, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for p in projects]
    outputs = [r.communicate(timeout=1800)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    joined = "".join(outputs)
    assert joined.count("built the sysroot") == 1, joined
    assert "waiting for it" in joined or "is already built: no core compile" in joined
    assert len(list((tmp_path / "sysroots").glob("*.json"))) == 1

    # A library cut short under a kept manifest is found before cargo meets it, and made again.
    core = next((tmp_path / "sysroots").glob("*/lib/rustlib/*/lib/libcore-*.rlib"))
    with open(core, "r+b") as handle:
        handle.truncate(1000)
    run = scons(projects[1], cache)
    assert run.returncode == 0, run.output
    assert f"is damaged ({core} has 1000 bytes, not " in run.stdout and "built the sysroot" in run.stdout
    assert scons(projects[1], cache, "-q").returncode == 0

    # `scons -c` leaves the shared sysroot alone; clear-sysroots empties it.
    assert scons(projects[0], cache, "-c").returncode == 0
    assert len(list((tmp_path / "sysroots").glob("*.json"))) == 1
    cleared = subprocess.run([sys.executable, "-m", "rustkmod", "clear-sysroots", "--cache", str(tmp_path / "sysroots")],
                             cwd=ROOT / "site_scons", capture_output=True, text=True)
    assert cleared.returncode == 0 and "removed 1 sysroot(s)" in cleared.stdout
    assert not list((tmp_path / "sysroots").iterdir())
    # With the sysroot gone, the next build makes it again (its node is missing, so out of date).
    run = scons(projects[1], cache)
    assert run.returncode == 0 and "built the sysroot" in run.stdout, run.output
