"""The one process layer (process.run, failure, Children), the stamp cache, and the partial link."""

import os
import subprocess

import pytest

from rustkmod import RustkmodError, process, stamps
from rustkmod.rust import partial_link


def test_a_failed_child_is_named_with_its_last_line():
    result = process.run(["sh", "-c", "echo one >&2; echo 'the reason' >&2; exit 3"], capture_output=True, text=True)
    error = process.failure(result, "the step", "do this")
    assert str(error) == "the step failed (exit status 3): the reason; do this"
    silent = process.run(["sh", "-c", "exit 1"])
    assert str(process.failure(silent, "quiet")) == "quiet failed (exit status 1)"


def test_the_rerun_line_runs_the_child_as_it_ran(tmp_path, monkeypatch):
    """A failed child's line: cd to its directory, the variables it got and this process lacks (a
    control character quoted so a terminal shows it), the ones taken away unset. A child that
    succeeded has none (outside V=1): nothing prints it."""
    monkeypatch.setenv("RUSTFLAGS", "-Cdebuginfo=2")
    env = dict(process.environment(), FLAGS="-a\x1f-b c")
    result = process.run(["sh", "-c", 'printf "%s|%s|%s" "$FLAGS" "${RUSTFLAGS-unset}" "$PWD"; exit 3'], env=env,
                         cwd=tmp_path, capture_output=True, text=True)
    assert "FLAGS=$'-a\\x1f-b c'" in result.reproduce and "-u RUSTFLAGS" in result.reproduce
    again = subprocess.run(["bash", "-c", result.reproduce], capture_output=True, text=True, cwd="/")
    assert again.stdout == result.stdout == f"-a\x1f-b c|unset|{tmp_path}" and again.returncode == 3
    assert process.run(["true"], env=env).reproduce == ""


def test_a_long_child_says_what_it_does_while_it_runs(monkeypatch, capsys):
    monkeypatch.setattr(process, "PROGRESS_SECONDS", 0.2)
    process.run(["sleep", "0.7"], progress="sleeping for the test")
    ticks = capsys.readouterr().out.splitlines()
    assert 2 <= len(ticks) <= 4 and all(t.startswith("         sleeping for the test: 0m00s so far") for t in ticks), ticks
    process.run(["true"], progress="quick")
    assert capsys.readouterr().out == ""


def test_children_get_the_tree_lock_and_a_cleaned_environment(tmp_path, monkeypatch):
    children = process.reset_children()
    try:
        children.lock_tree(str(tmp_path))
        assert (tmp_path / ".rustkmod.lock").read_text().strip() == str(os.getpid())
        monkeypatch.setenv("RUSTFLAGS", "-Cdebuginfo=2")
        out = process.run(["sh", "-c", "ls /proc/self/fd; echo RUSTFLAGS=$RUSTFLAGS"],
                          capture_output=True, text=True).stdout.split()
        assert str(children.lock_fd) in out and "RUSTFLAGS=" in out
        # a second holder waits: a non-blocking attempt from another descriptor fails
        other = os.open(tmp_path / ".rustkmod.lock", os.O_RDWR)
        import fcntl
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(other)
    finally:
        process.reset_children()


def test_the_stamp_cache_recomputes_when_a_file_or_the_key_changes(tmp_path):
    watched, cache = tmp_path / "watched", str(tmp_path / "c" / "cache.json")
    watched.write_text("a")
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    assert stamps.cached(cache, [str(watched)], ["k"], compute) == {"n": 1}
    assert stamps.cached(cache, [str(watched)], ["k"], compute) == {"n": 1}
    assert stamps.cached(cache, [str(watched)], ["other key"], compute) == {"n": 2}
    watched.write_text("bb")
    assert stamps.cached(cache, [str(watched)], ["other key"], compute) == {"n": 3}
    watched.unlink()
    assert stamps.file_stamp(str(watched)) == ()
    assert stamps.cached(cache, [str(watched)], ["other key"], compute) == {"n": 4}
    with open(cache, "w") as handle:
        handle.write("{not json")
    assert stamps.cached(cache, [str(watched)], ["other key"], compute) == {"n": 5}


def archive(tmp_path, crate_text: str):
    """libdemo.a: the crate's member (demo-1.o) and a library member (core-2.o)."""
    for name, text in (("demo-1", crate_text),
                       ("core-2", ".section .text.used,\"ax\"\n.globl used\nused: ret\n"
                                  ".section .text.unused,\"ax\"\n.globl unused\nunused: ret\n")):
        (tmp_path / f"{name}.s").write_text(text)
        subprocess.run(["as", "--64", "-o", str(tmp_path / f"{name}.o"), str(tmp_path / f"{name}.s")], check=True)
    lib = tmp_path / "libdemo.a"
    subprocess.run(["ar", "rcs", str(lib), str(tmp_path / "demo-1.o"), str(tmp_path / "core-2.o")], check=True)
    return str(lib)


def test_the_partial_link_keeps_what_the_exports_reach(tmp_path):
    lib = archive(tmp_path, ".section .text.init,\"ax\"\n.globl demo_init\ndemo_init: call used\n ret\n"
                            ".section .modinfo,\"aR\"\n.asciz \"license=GPL\"\n")
    output = str(tmp_path / "demo_rust.o")
    assert partial_link.link(lib, "demo", output) == 0
    listing = subprocess.run(["readelf", "-SsW", output], capture_output=True, text=True).stdout
    assert "demo_init" in listing and " used" in listing and "unused" not in listing
    modinfo = next(line for line in listing.splitlines() if " .modinfo" in line)
    assert modinfo.split()[-4] == "A"      # SHF_GNU_RETAIN ("R") cleared: it joins Kbuild's .modinfo


def test_a_crate_that_exports_nothing_is_refused_and_nothing_is_left(tmp_path):
    lib = archive(tmp_path, ".section .text.x,\"ax\"\nlocal_only: ret\n")
    output = tmp_path / "demo_rust.o"
    with pytest.raises(RustkmodError, match="exports no C-callable symbol"):
        partial_link.link(lib, "demo", str(output))
    assert not output.exists()
    assert partial_link.command("l.a", "o.o", ["a", "b"], "x-") == \
        ["x-ld", "-r", "--gc-sections", "-o", "o.o", "-u", "a", "-u", "b", "l.a"]


def test_unwind_tables_go_where_the_kernels_c_has_none(tmp_path):
    """riscv64 and i386: `ld -r --gc-sections` leaves R_*_NONE in .eh_frame for dropped functions,
    which those loaders refuse; the partial link removes .eh_frame there."""
    crate = (".section .text.init,\"ax\"\n.globl demo_init\n.type demo_init,@function\ndemo_init:\n"
             ".cfi_startproc\n call used\n ret\n.cfi_endproc\n")
    lib = archive(tmp_path, crate)
    kept, dropped = str(tmp_path / "kept.o"), str(tmp_path / "dropped.o")
    partial_link.link(lib, "demo", kept)
    partial_link.link(lib, "demo", dropped, drop_unwind=True)
    sections = lambda path: subprocess.run(["readelf", "-SW", path], capture_output=True, text=True).stdout  # noqa: E731
    assert ".eh_frame" in sections(kept) and ".eh_frame" not in sections(dropped)
    assert "demo_init" in subprocess.run(["readelf", "-sW", dropped], capture_output=True, text=True).stdout
