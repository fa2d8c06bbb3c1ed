"""rustkmod installed with pip, as a team that does not keep a checkout uses it: the `rustkmod`
command, the SCons tool found with no toolpath, rustkmod's crates from where pip put them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT, default_kdir


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with `pip install <a copy of the checkout's files>`; the copy is deleted
    afterwards, so nothing can reach back into a checkout."""
    base = tmp_path_factory.mktemp("pip")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    source = base / "src"
    for name in files:
        if (ROOT / name).is_file() and not name.startswith(("build/", "tests/")):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)     # on the base Python, not this venv
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                          "-c", str(ROOT / "requirements.txt"), str(source)],
                         capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    shutil.rmtree(source)
    env = {k: v for k, v in os.environ.items() if k not in ("RUSTKMOD", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:" + ":".join(p for p in env["PATH"].split(":") if not p.startswith(str(ROOT)))
    return base, venv, env


def test_pip_installs_the_command_the_tool_and_the_crates(installed):
    _, venv, env = installed
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import rustkmod, rustkmod_scons, SCons.Tool.rustkmod_scons as shim\n"
                            "from rustkmod.rust.cargo import OWN_CRATES\n"
                            "print(rustkmod.CHECKOUT or '-', rustkmod.COMMAND, *OWN_CRATES.values())"],
                           capture_output=True, text=True, env=env, check=True).stdout.split()
    assert where[:2] == ["-", "rustkmod"], where
    site = str(venv / "lib")
    assert all(path.startswith(site) and os.path.isfile(os.path.join(path, "Cargo.toml")) for path in where[2:]), where


def test_a_project_from_the_installed_command_builds_and_boots_with_no_toolpath(installed):
    """`rustkmod new pmod` then the command it prints, with nothing of a checkout on any path."""
    base, venv, env = installed
    new = subprocess.run(["rustkmod", "new", "pmod"], cwd=base, capture_output=True, text=True, env=env)
    assert new.returncode == 0, new.stderr
    assert str(base) not in (base / "pmod" / "SConstruct").read_text()
    hint = new.stdout.split("build and boot it: ", 1)[1].strip()
    assert hint == "cd pmod && scons check", hint           # the venv's scons is the one on PATH
    docs = subprocess.run(["rustkmod", "docs", "kernel-crate"], capture_output=True, text=True, env=env)
    assert docs.stdout.startswith(str(venv)) and "## Drivers" in open(docs.stdout.strip()).read(), docs
    checked = subprocess.run(hint, shell=True, cwd=base, capture_output=True, text=True, timeout=1800, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "pmod: loaded, printed 'pmod: hello from Rust', 'pmod: goodbye', unloaded" in checked.stdout
    ko = next((base / "pmod" / "build").glob("*/pmod/pmod.ko"))
    judged = subprocess.run(["rustkmod", "check", str(ko), "--kdir", default_kdir()], capture_output=True,
                            text=True, env=env)
    assert judged.returncode == 0 and "loadable by Linux" in judged.stdout, judged.stdout + judged.stderr

