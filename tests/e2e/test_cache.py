"""A shared CacheDir: a second, clean checkout elsewhere builds without running cargo or make."""

import re
from pathlib import Path

import pytest

from helpers import copy_project, scons

pytestmark = pytest.mark.e2e


def test_second_checkout_is_built_from_the_cache(tmp_path):
    cache = f"CACHE_DIR={tmp_path / 'cache'}"
    first = copy_project(tmp_path / "first")
    run = scons(first, cache)
    assert run.returncode == 0, run.output
    assert "CARGO" in run.steps() and "KBUILD" in run.steps()

    second = copy_project(tmp_path / "elsewhere" / "second")
    run = scons(second, cache)
    assert run.returncode == 0, run.output
    # No cargo, no partial link, no Kbuild, no verify: only the look at the shared sysroot, and the
    # shared kernel cfg list written anew (whole, by a rename) rather than copied over in place
    # while other checkouts' cargo may read it.
    assert run.steps() == ["SYSROOT", "GEN"] and "is already built: no core compile" in run.stdout
    cfg = Path(re.search(r"^GEN +(\S+/cfgs/\w+\.args)$", run.stdout, re.M).group(1))
    retrieved = [line for line in run.stdout.splitlines() if line.startswith("Retrieved `")]
    assert not any(".args'" in line for line in retrieved)
    assert any(line.endswith("/hello.ko' from cache") for line in retrieved)
    assert any(line.endswith("/libhello.a' from cache") for line in retrieved)
    assert any(line.endswith("/hello.ko.verified' from cache") for line in retrieved)
    assert scons(second, cache, "-q").returncode == 0
    assert scons(second, cache, "-c").returncode == 0 and cfg.is_file()      # shared: scons -c leaves it


def test_checkouts_in_different_places_build_the_same_bytes(built_project, tmp_path):
    """No checkout path in the outputs (Kbuild runs with -ffile-prefix-map for the module's
    directory), so a cache filled anywhere serves everywhere and builds are reproducible."""
    other = copy_project(tmp_path / "somewhere" / "else")
    run = scons(other)
    assert run.returncode == 0, run.output
    for pattern in ("build/rust/*/*/release/libhello.a", "build/rust/*/hello_rust.o", "build/*/hello/hello.ko"):
        theirs = next(other.glob(pattern))
        ours = built_project / theirs.relative_to(other)     # the same profile's (built_project has several)
        assert ours.read_bytes() == theirs.read_bytes(), pattern
        assert str(other).encode() not in theirs.read_bytes()
