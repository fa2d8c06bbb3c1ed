"""Build-farm engines: sccache as cargo's rustc wrapper and distcc under Kbuild's C compiler,
both as real daemons on 127.0.0.1; and two scons runs in one tree at once."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from helpers import ROOT, SCONS, copy_project, scons

pytestmark = pytest.mark.e2e


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def distccd():
    """A distcc server on 127.0.0.1. It drops root for its own user, so its log lives in a
    directory that user can reach (pytest's tmp_path is private to root)."""
    logs = Path(tempfile.mkdtemp(prefix="rustkmod-distccd-"))
    logs.chmod(0o777)
    port = free_port()
    server = subprocess.Popen(["distccd", "--no-detach", "--daemon", "--allow", "127.0.0.1", "--listen", "127.0.0.1",
                               "--port", str(port), "--log-file", str(logs / "log"), "--log-level", "info"])
    time.sleep(1)
    yield {"DISTCC_HOSTS": f"127.0.0.1:{port}", "DISTCC_FALLBACK": "0", "DISTCC_SKIP_LOCAL_RETRY": "1"}, logs / "log"
    server.terminate()
    server.wait(timeout=30)
    shutil.rmtree(logs, ignore_errors=True)


@pytest.fixture
def sccache(tmp_path):
    environment = {"SCCACHE_DIR": str(tmp_path / "sccache"), "SCCACHE_SERVER_PORT": str(free_port())}
    env = dict(os.environ, **environment)
    subprocess.run(["sccache", "--start-server"], env=env, check=True, capture_output=True)
    yield environment, lambda: subprocess.run(["sccache", "--show-stats"], env=env, capture_output=True,
                                              text=True, check=True).stdout
    subprocess.run(["sccache", "--stop-server"], env=env, capture_output=True)


def stat(stats: str, name: str) -> int:
    """A counter of `sccache --show-stats` (per-language lines appear once they are not 0)."""
    found = re.search(rf"^{re.escape(name)}\s+(\d+)", stats, re.M)
    return int(found.group(1)) if found else 0


def test_rustc_through_sccache_and_c_through_distcc(tmp_path, distccd, sccache):
    distcc_env, distcc_log = distccd
    sccache_env, stats = sccache
    env = dict(os.environ, **distcc_env, **sccache_env)
    project = copy_project(tmp_path / "project")
    sysroots = tmp_path / "sysroots"          # a new sysroot: its core compiles go through sccache too
    env["RUST_SYSROOT_CACHE"] = str(sysroots)
    run = scons(project, "RUSTC_WRAPPER=sccache", "CC_WRAPPER=distcc", env=env, timeout=1800)
    assert run.returncode == 0, run.output
    compiled = distcc_log.read_text()
    # Kbuild's compiles of the module's C side went through the server (DISTCC_FALLBACK=0: no local retry).
    assert re.search(r"COMPILE_OK .*hello/module\.c", compiled), compiled[-2000:]
    assert re.search(r"COMPILE_OK .*hello\.mod\.c", compiled), compiled[-2000:]
    first = stats()
    assert stat(first, "Compile requests executed") >= 2 and stat(first, "Cache misses (Rust)") >= 1, first
    # The wrappers are not inputs: without them, nothing is out of date.
    assert scons(project, env=env).steps() == []

    # Cleaned, the shared sysroot emptied too, and built again: rustc's work comes from sccache's cache.
    assert scons(project, "-c").returncode == 0
    subprocess.run([sys.executable, "-m", "rustkmod", "clear-sysroots", "--cache", str(sysroots)],
                   cwd=ROOT / "site_scons", check=True, capture_output=True)
    run = scons(project, "RUSTC_WRAPPER=sccache", env=env, timeout=1800)
    assert run.returncode == 0, run.output
    assert "CARGO" in run.steps() and stat(stats(), "Cache hits") >= 1, stats()


def test_two_runs_in_one_tree_take_turns(built_project):
    source = built_project / "hello" / "src" / "lib.rs"
    original = source.read_text()
    source.write_text(original.replace('"goodbye after {} greeting(s)"', '"goodbye, after {} greeting(s)"'))
    try:
        first = subprocess.Popen([SCONS], cwd=built_project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
        lines = []
        for line in first.stdout:           # the first holds the tree's lock while it builds
            lines.append(line)
            if line.startswith("CARGO"):
                break
        second = scons(built_project)
        output = "".join(lines) + first.communicate(timeout=900)[0]
    finally:
        source.write_text(original)
    assert first.returncode == 0 and second.returncode == 0, output + second.output
    assert "KBUILD" in output
    assert re.search(r"another scons run \(pid \d+[^)]*\) is building in .*; waiting for it to finish", second.stdout)
    assert second.steps() == []             # it found the first run's work done, and did none again
    assert "KBUILD" in scons(built_project).steps()       # the edit undone: built back
