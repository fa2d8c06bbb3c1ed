"""Every input that changes an output is in a signature: KCFLAGS is a build variable, and what
cargo, rustc or Kbuild would read from the environment outside every signature never reaches them."""

import os

import pytest

from helpers import copy_project, scons

pytestmark = pytest.mark.e2e

# Each would change the staticlib or the .ko if it reached cargo, rustc or make.
OUTSIDE_EVERY_SIGNATURE = {
    "RUSTFLAGS": "-Copt-level=0", "CARGO_PROFILE_RELEASE_OPT_LEVEL": "0", "CARGO_PROFILE_RELEASE_DEBUG": "true",
    "CARGO_BUILD_RUSTFLAGS": "-Cdebug-assertions=y", "KCPPFLAGS": "-DRUSTKMOD_FROM_ENV=1",
    "KBUILD_EXTRA_SYMBOLS": "/no/such/Module.symvers", "CFLAGS_MODULE": "-O0",
}


def test_kcflags_is_an_input_of_the_kbuild_step(built_project):
    run = scons(built_project, "KCFLAGS=-DRUSTKMOD_TEST_FLAG=1")
    assert run.returncode == 0, run.output
    assert run.steps()[:1] == ["KBUILD"] and "CARGO" not in run.steps()     # Kbuild again, no Rust step
    assert scons(built_project, "KCFLAGS=-DRUSTKMOD_TEST_FLAG=1").steps() == []
    from_env = scons(built_project, env=dict(os.environ, KCFLAGS="-DRUSTKMOD_TEST_FLAG=2"))
    assert from_env.steps()[:1] == ["KBUILD"]           # the environment's KCFLAGS is the variable's default
    assert scons(built_project).steps()[:1] == ["KBUILD"]
    assert scons(built_project, "-q").returncode == 0


def test_environment_outside_the_signatures_does_not_reach_the_tools(built_project, tmp_path):
    env = dict(os.environ, **OUTSIDE_EVERY_SIGNATURE)
    run = scons(built_project, env=env)
    assert run.returncode == 0 and run.steps() == [], run.output
    assert "RUSTFLAGS" in run.stdout and "do(es) not reach cargo or Kbuild" in run.stdout   # said once

    # Built from scratch with them set, the outputs are the bytes a clean environment gives.
    cache = f"CACHE_DIR={tmp_path / 'cache'}"
    first = copy_project(tmp_path / "first")
    run = scons(first, cache, env=env)
    assert run.returncode == 0, run.output
    for pattern in ("build/rust/*/*/release/libhello.a", "build/*/hello/hello.ko"):
        ours = next(first.glob(pattern))            # the same file in the built project (which has more profiles)
        assert ours.read_bytes() == (built_project / ours.relative_to(first)).read_bytes(), pattern

    # And a KCFLAGS that differs is never served from another checkout's cache entry.
    second = copy_project(tmp_path / "second")
    run = scons(second, cache, "KCFLAGS=-DRUSTKMOD_TEST_FLAG=3")
    assert run.returncode == 0, run.output
    assert "KBUILD" in run.steps() and "CARGO" not in run.steps()
    assert not any(line.endswith("/hello.ko' from cache") for line in run.stdout.splitlines())
