"""The host stages (`scons test-host`): the crate tested in user space against a C stand-in.

  file                                   builder        runs
  BUILD_DIR/host/<name>/standin.checked  StandinCheck   the crate's imports against the stand-in's definitions
  BUILD_DIR/host/<name>/cargo-test.log   CargoTest      cargo test on the host, stand-in objects linked in
  BUILD_DIR/host/<name>/insmod-<name>    Program        the user-space insmod (SCons' own C tools)
  BUILD_DIR/host/<name>/insmod-<name>.out  HostRun      runs it: the module's init and exit
"""

from __future__ import annotations

import os
from typing import NamedTuple

from rustkmod import RustkmodError, process
from rustkmod.rust import cargo, profiles

from . import rust_stage
from .common import builder, fail, files, run, say, setting, settings_node, write_text


class StandinSettings(NamedTuple):
    crate: str
    standin: tuple                 # the stand-in's C files, as the user named them


class CargoTestSettings(NamedTuple):
    crate: str
    target: str
    toolchain: str
    cargo: str
    rustc: str
    config: tuple = ()             # cargo --config: rustkmod's own crates named by version


class HostRunSettings(NamedTuple):
    args: tuple


def _standin_check(target, source, env):
    """Fails, naming them, when the crate imports kernel functions the stand-in lacks.

    The sources are the staticlib, then the stand-in's objects.
    """
    from rustkmod.rust.standin import missing_from_standin
    settings = setting(source, StandinSettings)
    archive, *objects = files(source)
    try:
        missing = missing_from_standin(archive.abspath, settings.crate, [s.abspath for s in objects])
    except RustkmodError as err:
        fail(err)
    if missing:
        fail(f"{settings.crate} calls kernel functions the user-space stand-in lacks: {', '.join(missing)}",
             f"add them to {', '.join(settings.standin)} with the signatures the C side gives them")
    write_text(target[0].abspath, "imports provided by the stand-in\n")


def _cargo_test(target, source, env):
    """cargo test for the host, with the stand-in's objects linked into the test binaries.

    The sources are the manifest, then the stand-in's objects.
    """
    settings = setting(source, CargoTestSettings)
    manifest, *objects = files(source)
    test = cargo.HostTest(settings.cargo, settings.rustc, manifest.abspath, settings.target,
                          target[0].dir.Dir("cargo").abspath, tuple(s.abspath for s in objects), settings.config)
    command, run_env = cargo.test_command(test, process.environment())
    result = run(command, env=run_env, capture_output=True, text=True, what=f" (CARGO={settings.cargo})",
                 cwd=manifest.dir.abspath)         # the crate's own cargo configuration applies
    output = result.stdout + result.stderr
    write_text(target[0].abspath, output)
    if result.returncode != 0:
        say(output, error=True)
        fail(f"host tests of {settings.crate} failed (log: {target[0]})")
    for line in output.splitlines():
        if line.startswith("test result:"):
            say(f"         {line}")


def _host_run(target, source, env):
    """Runs the user-space insmod: the module's init and exit against the stand-in."""
    settings = setting(source, HostRunSettings)
    program = files(source)[0]
    result = run([program.abspath, *settings.args], capture_output=True, text=True)
    output = result.stdout + result.stderr
    say("".join(f"         | {line}\n" for line in output.splitlines()))
    if result.returncode != 0:
        fail(f"{program} exited with {result.returncode}")
    write_text(target[0].abspath, output)


BUILDERS = {
    "StandinCheck": builder(_standin_check, "STANDIN"),
    "CargoTest": builder(_cargo_test, "TEST", target_scanner=rust_stage.CRATE_SCANNER),
    "HostRun": builder(_host_run, "RUN"),
}


class HostTests:
    """The nodes of a crate's host tests; `all` is what `scons test-host` should build."""

    def __init__(self, name: str, check=None, tests=None, program=None, run=None):
        self.name = name
        self.check, self.tests, self.program, self.run = check or [], tests or [], program or [], run or []

    @property
    def all(self) -> list:
        return self.check + self.tests + self.run


def host_tests(env, build_dir, name: str, crate: str, standin: list, driver: str | None, args: list) -> HostTests:
    toolchain = rust_stage.rustc_info(env, build_dir)
    profile = profiles.host_default_profile(toolchain[0])
    manifest = rust_stage.read_crate(rust_stage.crate_directory(env, crate))
    host_dir = build_dir.Dir("host").Dir(name)
    host = env.Clone(tools=["cc", "gnulink"], CCCOMSTR="CC       $TARGET", LINKCOMSTR="LINK     $TARGET")
    standin_sources = [env.File(s) for s in env.Flatten([standin])]
    standin_objects = [host.Object(host_dir.File(s.name[:-2] + ".o"), s)[0] for s in standin_sources]

    # the crate's Cargo.lock first (written offline when missing, as for the kernel build)
    tests = env.CargoTest(host_dir.File("cargo-test.log"), [env.File(manifest.manifest)] + standin_objects + [
        settings_node(env, CargoTestSettings(manifest.lib_name, profile.target, profile.toolchain, env["CARGO"],
                                             env["RUSTC"], tuple(cargo.runtime_config(manifest))))],
        RUSTKMOD_CRATE_DIR=os.pathsep.join(manifest.source_directories))
    env.Depends(tests, rust_stage.lock_node(env, manifest))
    env.Clean(tests, host_dir)          # cargo's target directory and the log: `scons -c` leaves nothing
    if driver is None and not standin_sources:
        return HostTests(name, tests=tests)       # cargo test alone: no C side to stand in for
    if driver is None:
        raise RustkmodError(f"RustHostTests({name!r}): a stand-in needs a driver (a C main() that calls the "
                            "module's init and exit)", "pass driver=\"host/driver.c\", or leave out standin=")
    staticlib = rust_stage.staticlib(env, build_dir, manifest, profile)
    check = env.StandinCheck(host_dir.File("standin.checked"), staticlib + standin_objects + [settings_node(env,
        StandinSettings(manifest.lib_name, tuple(str(s) for s in standin_sources)))])
    env.Requires(tests, check)          # the named missing import comes before any link error
    driver_object = host.Object(host_dir.File(env.File(driver).name[:-2] + ".o"), driver)
    # --gc-sections: the host's prebuilt core refers to rust_eh_personality from code a
    # panic=abort crate never reaches.
    program = host.Program(host_dir.File(f"insmod-{name}"), driver_object + standin_objects + staticlib,
                           LINKFLAGS=["-Wl,--gc-sections"])
    env.Requires(program, check)
    run_node = env.HostRun(host_dir.File(f"insmod-{name}.out"), [program[0], settings_node(env, HostRunSettings(tuple(args)))])
    return HostTests(name, check, tests, program, run_node)
