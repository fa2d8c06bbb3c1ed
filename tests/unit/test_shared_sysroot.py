"""The shared sysroot's publication and its check before use: a file cut short, changed or deleted
under a kept manifest is found by a stat per file, and the next build makes the sysroot again
instead of handing rustc a broken library. cargo is replaced by a stand-in that writes the rlibs
(the real build is the end-to-end tests')."""

import os
import shutil
import types

from rustkmod.rust import sysroot

SPEC = sysroot.SysrootSpec("x86_64-unknown-none", ("-Ccode-model=kernel",), "rustc 1.96.0", "/library")


def fake_cargo(calls):
    """A `run` for sysroot.ensure that writes one rlib per crate where cargo would."""
    def run(command, env, cwd, progress=""):
        calls.append(command)
        deps = os.path.join(env["CARGO_TARGET_DIR"], SPEC.target, "release", "deps")
        os.makedirs(deps, exist_ok=True)
        for crate in sysroot.CRATES:
            with open(os.path.join(deps, f"lib{crate}-0123.rlib"), "wb") as handle:
                handle.write(crate.encode() * 1000)
        return types.SimpleNamespace(returncode=0)
    return run


def built(tmp_path, calls):
    cache = str(tmp_path / "sysroots")
    assert sysroot.ensure(SPEC, cache, "cargo", "rustc", {}, log=calls.append, run=fake_cargo(calls))
    return cache


def rlib(cache, crate="core"):
    return os.path.join(cache, SPEC.key, "lib", "rustlib", SPEC.target, "lib", f"lib{crate}-0123.rlib")


def test_a_published_sysroot_is_used_as_it_is(tmp_path):
    calls = []
    cache = built(tmp_path, calls)
    assert sysroot.damage(cache, SPEC) == ""
    assert not sysroot.ensure(SPEC, cache, "cargo", "rustc", {}, log=calls.append, run=fake_cargo(calls))
    assert len([c for c in calls if isinstance(c, list)]) == 1


def test_a_file_cut_short_is_found_and_the_sysroot_built_again(tmp_path):
    calls = []
    cache = built(tmp_path, calls)
    with open(rlib(cache), "r+b") as handle:
        handle.truncate(100)
    assert sysroot.damage(cache, SPEC) == f"{rlib(cache)} has 100 bytes, not 4000"
    assert sysroot.ensure(SPEC, cache, "cargo", "rustc", {}, log=calls.append, run=fake_cargo(calls))
    assert any("is damaged" in str(c) and "building it again" in str(c) for c in calls)
    assert sysroot.damage(cache, SPEC) == ""


def test_a_changed_or_deleted_file_is_found(tmp_path):
    calls = []
    cache = built(tmp_path, calls)
    with open(rlib(cache, "alloc"), "r+b") as handle:
        handle.write(b"X")                             # same size, other bytes, a newer mtime
    assert sysroot.damage(cache, SPEC) == f"{rlib(cache, 'alloc')} was changed"
    os.utime(rlib(cache, "alloc"))
    shutil.rmtree(os.path.join(cache, SPEC.key))     # the directory gone, the manifest kept
    assert sysroot.damage(cache, SPEC).endswith("is missing")


def test_a_file_touched_but_unchanged_is_intact(tmp_path):
    calls = []
    cache = built(tmp_path, calls)
    os.utime(rlib(cache), (1, 1))
    assert sysroot.damage(cache, SPEC) == ""
