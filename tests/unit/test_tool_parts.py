"""The tool's shared parts: settings records read by type, labels for every builder, the child
environment, the run state."""

import io
import os
import re
import sys
import threading

import pytest
import SCons.Environment
import SCons.Errors
import SCons.Node.Python
import SCons.Util

from rustkmod import process
from rustkmod_scons import builders, common, state
from rustkmod_scons.kbuild_stage import KbuildSettings, ObjtoolSettings
from rustkmod_scons.verify_stage import VerifySettings


@pytest.fixture(scope="module")
def env():
    return SCons.Environment.Environment(tools=[])


def test_a_record_is_read_back_by_type_whatever_its_position(env):
    kbuild = KbuildSettings("/k", "6.1.0", ("ARCH=x86",), "gcc", "-DX")
    verify = VerifySettings("/k", "x86_64", (6, 1, 0), "", "", "strict")
    source = [env.File("a.c"), common.settings_node(env, verify), env.File("b.c"), common.settings_node(env, kbuild)]
    assert common.setting(source, KbuildSettings) == kbuild
    assert common.setting(source, VerifySettings) == verify
    assert [n.name for n in common.files(source)] == ["a.c", "b.c"]
    with pytest.raises(SCons.Errors.BuildError, match="0 ObjtoolSettings among the sources"):
        common.setting(source, ObjtoolSettings)


def test_a_record_node_is_the_one_sconsign_names(env):
    """--debug=explain rebuilds old dependencies from their stored names: the same node must come back."""
    record = KbuildSettings("/k", "6.1.0", ("ARCH=x86",), "gcc")
    node = common.settings_node(env, record)
    assert common.settings_node(env, KbuildSettings("/k", "6.1.0", ("ARCH=x86",), "gcc")) is node
    assert SCons.Node.Python.ValueNodeInfo().str_to_node(node.name) is node
    assert node.get_text_contents() == repr(record)          # the signature is the whole record
    assert common.settings_node(env, KbuildSettings("/k", "6.1.0", ("ARCH=x86",), "gcc", "-O1")) is not node


def test_every_builder_has_a_label_variable():
    announced = set()
    for name, builder in builders().items():
        text = builder.action.strfunction([], [], SCons.Environment.Environment(tools=[], **common.DEFAULT_COMSTR))
        announced.add(text.split()[0])
    assert announced <= {label.split()[0] for label in common.LABELS}
    assert all(value.endswith(" $TARGET") for value in common.DEFAULT_COMSTR.values())


def test_failing_is_one_build_error_line():
    with pytest.raises(SCons.Errors.BuildError) as raised:
        common.fail("the thing is wrong", "do this instead")
    assert str(raised.value) == "rustkmod: the thing is wrong; do this instead"
    assert raised.value.exc_info == (None, None, None)      # SCons prints no traceback for it


def test_child_environment_drops_what_changes_outputs():
    environ = {"PATH": "/bin", "HOME": "/root", "RUSTFLAGS": "-Copt-level=0", "CARGO_PROFILE_RELEASE_LTO": "true",
               "KCFLAGS": "-O0", "KBUILD_EXTRA_SYMBOLS": "x", "ARCH": "arm", "CARGO_HOME": "/c",
               "DISTCC_HOSTS": "localhost", "SCCACHE_DIR": "/s", "CARGO_TERM_COLOR": "never"}
    assert process.clean(environ) == {"PATH": "/bin", "HOME": "/root", "CARGO_HOME": "/c",
                                       "DISTCC_HOSTS": "localhost", "SCCACHE_DIR": "/s", "CARGO_TERM_COLOR": "never"}
    assert process.ignored(environ) == ["ARCH", "CARGO_PROFILE_RELEASE_LTO", "KBUILD_EXTRA_SYMBOLS", "KCFLAGS",
                                         "RUSTFLAGS"]


def test_jobserver_refuses_more_tokens_than_a_pipe_holds():
    children = state.reset().children
    with pytest.raises(ValueError, match="outside 1..4096"):
        children.jobserver(65536)
    flags, fds = children.jobserver(3)
    assert flags["MAKEFLAGS"].startswith("-j3 --jobserver-auth=")
    assert os.read(fds[0], 10) == b"++"                       # jobs - 1 tokens
    state.reset()


def test_remembered_across_runs_until_a_file_changes(tmp_path):
    """remember_files(): the value comes from the memo while the files are the same, and is
    worked out again when one changes, appears or goes; a failure is never kept."""
    config = tmp_path / "config"
    config.write_text("CONFIG_A=y\n")
    calls = []

    def parse():
        calls.append(1)
        return {"text": config.read_text()}

    def remember_in_new_run():
        memo = state.reset().memo
        memo.saved_path = str(tmp_path / ".rustkmod.memo")
        value = memo.remember_files(("config",), [str(config), str(tmp_path / "absent")], parse)
        memo.save()
        return value

    assert remember_in_new_run() == {"text": "CONFIG_A=y\n"}
    assert remember_in_new_run() == {"text": "CONFIG_A=y\n"} and len(calls) == 1
    config.write_text("CONFIG_A=m\n")
    assert remember_in_new_run() == {"text": "CONFIG_A=m\n"} and len(calls) == 2
    (tmp_path / "absent").write_text("")
    assert remember_in_new_run() == {"text": "CONFIG_A=m\n"} and len(calls) == 3

    memo = state.reset().memo
    memo.saved_path = str(tmp_path / ".rustkmod.memo")
    config.write_text("CONFIG_B=y\n")
    with pytest.raises(ValueError):
        memo.remember_files(("config",), [str(config)], lambda: (_ for _ in ()).throw(ValueError("bad")))
    (tmp_path / ".rustkmod.memo").write_bytes(b"\x00garbage")
    assert remember_in_new_run() == {"text": "CONFIG_B=y\n"}

    # a run keeps only what it used: the memo does not grow with every kernel ever built for
    memo = state.reset().memo
    memo.saved_path = str(tmp_path / ".rustkmod.memo")
    memo.remember_files(("other",), [str(config)], lambda: "other")
    memo.save()
    memo = state.reset().memo
    memo.saved_path = str(tmp_path / ".rustkmod.memo")
    assert set(memo._saved()) == {("other",)}
    state.reset()


def test_progress_from_parallel_steps_keeps_whole_lines(monkeypatch):
    # Under -j, steps print from SCons' job threads while SCons prints the next step's label; a
    # line written in two parts (print's text, then its newline) gets another line glued inside.
    # A tiny switch interval makes the threads trade the interpreter between any two writes.
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", SCons.Util.Unbuffered(out))  # as SCons' Main sets it
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        def step(name):
            for i in range(3000):
                common.say(f"         {name} {i}")
        threads = [threading.Thread(target=step, args=(name,)) for name in ("cargo", "kbuild", "boot")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    lines = out.getvalue().splitlines()
    assert len(lines) == 9000 and all(re.fullmatch(r" {9}(cargo|kbuild|boot) \d+", line) for line in lines)


def test_an_actions_signature_follows_its_code_across_runs(tmp_path, monkeypatch):
    """A step's contents (what SCons signs a Python action by) come from the memo while the
    function's source file is unchanged, and follow an edit of it."""
    import importlib.util

    source = tmp_path / "stage_under_test.py"
    read = []
    original = SCons.Action._callable_contents
    monkeypatch.setattr(SCons.Action, "_callable_contents", lambda f: read.append(f) or original(f))

    def contents_in_new_run(body: str) -> bytes:
        text = f"def step(target, source, env):\n    return {body}\n"
        if not source.exists() or source.read_text() != text:      # an unchanged file keeps its stamp
            source.write_text(text)
        spec = importlib.util.spec_from_file_location("stage_under_test", source)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        memo = state.reset().memo
        memo.saved_path = str(tmp_path / ".rustkmod.memo")
        contents = common._Step(module.step).get_contents([], [], None)
        memo.save()
        return contents

    first = contents_in_new_run("1")
    assert contents_in_new_run("1") == first and len(read) == 1      # the second run: from the memo
    assert contents_in_new_run("2") != first and len(read) == 2      # the code changed: so does the signature


def test_an_argument_is_known_to_rustkmod_named_or_declared_and_a_typo_gets_its_nearest_name(monkeypatch, capsys):
    """Through SCons' public Variables API: the tool's own UnknownVariables(), a project's keys()."""
    import pytest
    from SCons.Environment import Base
    from SCons.Variables import Variables
    from rustkmod_scons import arguments
    given = {"KERNELS": "6.1", "CC": "gcc", "KERNEL": "5.10", "BOARD": "pc", "MINE": "1", "SHOW": "x"}
    tool = Variables(None, given)
    tool.Add("KERNELS", "", "")
    tool.Add(("KBUILD_CC", "CC"), "", "")           # an alias is the tool's too
    tool.Update(Base())
    monkeypatch.setattr(arguments, "_tool_variables", [tool])
    monkeypatch.setattr(arguments, "_declared", {"MINE"})
    assert arguments.known_to_tool(given) == {"KERNELS", "CC"}
    project = Variables(None, given)
    project.Add("BOARD", "", "")
    with pytest.raises(SystemExit) as stopped:
        arguments.check(given, {"MINE", "SHOW"} | set(project.keys()))
    assert stopped.value.code == 2
    assert "rustkmod: KERNEL=5.10: no such build variable; did you mean KERNELS?" in capsys.readouterr().err
    arguments.check({name: value for name, value in given.items() if name != "KERNEL"},
                    {"MINE", "SHOW"} | set(project.keys()))          # nothing unknown: returns
    assert arguments.nearest("KDIRR", {"KDIR", "KERNELS"}) == "KDIR"
    assert arguments.nearest("ZZZZZZ", {"KDIR", "KERNELS"}) == ""
    with pytest.raises(SystemExit) as stopped:         # a list of names is one line naming the call
        arguments.RustkmodCheckArguments(None, ["SHOW"])
    assert stopped.value.code == 2 and "give names" in capsys.readouterr().err


def test_what_clang_gcc_and_bindgen_read_is_dropped_and_the_given_environment_kept(monkeypatch):
    for name in ("BINDGEN_EXTRA_CLANG_ARGS", "BINDGEN_EXTRA_CLANG_ARGS_x86_64_unknown_linux_gnu", "CPATH",
                 "C_INCLUDE_PATH", "GCC_EXEC_PREFIX", "COMPILER_PATH", "DEPENDENCIES_OUTPUT",
                 "SUNPRO_DEPENDENCIES", "SOURCE_DATE_EPOCH", "LIBCLANG_PATH", "RUSTFLAGS", "KBUILD_BUILD_USER"):
        assert process.dropped(name), name
    for name in ("PATH", "HOME", "CARGO_HOME", "SCCACHE_DIR", "DISTCC_HOSTS", "TMPDIR"):
        assert not process.dropped(name), name
    environ = dict(os.environ, CPATH="/somewhere", KCFLAGS="-DX")        # the test's own
    monkeypatch.setattr(os, "environ", environ)
    seen = process.run(["sh", "-c", "echo ${CPATH:-none} ${KCFLAGS:-none} ${HOME:+home}"],
                        capture_output=True, text=True).stdout.split()
    assert seen == ["none", "none", "home"]
    with process.scrubbed():                       # libclang's view, in this process
        assert "CPATH" not in os.environ and "KCFLAGS" not in os.environ and "PATH" in os.environ
    assert os.environ["CPATH"] == "/somewhere" and os.environ["KCFLAGS"] == "-DX"   # the process keeps them


def test_the_supported_scons_versions_are_one_range_everywhere():
    """pyproject.toml's lowest SCons is the one rustkmod's Debian package depends on (Debian 12's,
    which the clean-target test runs); requirements.txt pins one inside the range (the suite's)."""
    import SCons
    import tomllib
    from helpers import ROOT
    from rustkmod import tool_deb
    requirement = next(r for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
                       if r.startswith("scons"))
    lowest = requirement.split(">=")[1].split(",")[0].strip()
    assert f"scons (>= {lowest})" in tool_deb.DEPENDS
    pinned = next(line.split("==")[1].split()[0] for line in (ROOT / "requirements.txt").read_text().splitlines()
                  if line.startswith("scons=="))
    as_tuple = lambda version: tuple(int(part) for part in version.split("."))      # noqa: E731
    assert as_tuple(pinned) >= as_tuple(lowest) and SCons.__version__ == pinned


def test_a_crates_warning_is_printed_once_per_run_and_errors_always():
    """A crate several modules (or kernels) build warns once in a run, not once per cargo build."""
    from rustkmod_scons.rust_stage import _new_warnings
    state.reset()
    warning = ("warning: unused variable: `x`\n  --> framework/src/lib.rs:20:9\n   |\n20 |     let x = 1;\n"
               "   |         ^\n")
    error = "error[E0425]: cannot find value `y` in this scope\n  --> mod_a/src/lib.rs:3:5\n"
    first = _new_warnings(warning + "\n" + error)
    second = _new_warnings(warning + "\n" + error.replace("mod_a", "mod_b"))
    assert first == warning + "\n" + error
    assert "unused variable" not in second and "mod_b/src/lib.rs:3:5" in second
    other = warning.replace("`x`", "`z`")
    assert _new_warnings(other) == other           # another warning is new
    state.reset()
    assert _new_warnings(warning) == warning       # a new run prints it again
