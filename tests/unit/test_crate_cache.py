"""The machine's builds of rustkmod's own crates (rustkmod.rust.crate_cache): what a compile's key
holds and leaves out, and real cargo runs of two projects on one shared crate through the wrapper:
the second copies it, a changed source is a miss, a compile that read a project's file is not
kept, and a crate outside the shared directory is never touched."""

from __future__ import annotations

import os
import subprocess

from rustkmod.rust import crate_cache

OUT = "/p/build/rust/deps"


def compile_args(project="/p", out=OUT, suffix="-0123456789abcdef", extern="", extra=()):
    return ["--crate-name", "kernel", "--edition=2024", "/own/rustkmod_kernel/src/lib.rs", "--crate-type", "lib",
            "-C", "metadata=c8b5", "-C", f"extra-filename={suffix}", "--out-dir", out,
            "-L", f"dependency={out}", *(["--extern", f"macros={extern}"] if extern else []),
            f"--remap-path-prefix={project}=.", "--remap-path-prefix=/own=/rustkmod", *extra]


def test_the_key_leaves_out_where_a_project_puts_outputs_and_keeps_what_it_compiles(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    environ = {crate_cache.RUSTC_ID: "rustc 1.95", "CARGO_PKG_NAME": "rustkmod-kernel", "CARGO_TARGET_DIR": "/p/t"}
    first = crate_cache.Compile(compile_args())
    assert (first.crate, first.out_dir, first.suffix) == ("kernel", OUT, "-0123456789abcdef")
    assert first.cacheable("/own") and not first.cacheable("/elsewhere")
    key = first.key(environ, "/p", b"code")
    other = crate_cache.Compile(compile_args("/q", "/q/target/deps", "-fedcba9876543210"))
    assert other.key(dict(environ, CARGO_TARGET_DIR="/q/t"), "/q", b"code") == key
    assert first.key(environ, "/p", b"new code") != key
    assert first.key(dict(environ, RUSTC_BOOTSTRAP="1"), "/p", b"code") != key
    assert first.key(dict(environ, **{crate_cache.RUSTC_ID: "rustc 1.96"}), "/p", b"code") != key
    assert crate_cache.Compile(compile_args(extra=["-Copt-level=2"])).key(environ, "/p", b"code") != key

    macros = tmp_path / "libmacros.so"
    macros.write_bytes(b"one")
    with_macros = crate_cache.Compile(compile_args(extern=str(macros))).key(environ, "/p", b"code")
    macros.write_bytes(b"two")
    assert crate_cache.Compile(compile_args(extern=str(macros))).key(environ, "/p", b"code") != with_macros
    argfile = tmp_path / "cfgs.args"
    argfile.write_text("--cfg=CONFIG_A\n")
    keyed = crate_cache.Compile(compile_args(extra=[f"@{argfile}"])).key(environ, "/p", b"code")
    argfile.write_text("--cfg=CONFIG_B\n")
    assert crate_cache.Compile(compile_args(extra=[f"@{argfile}"])).key(environ, "/p", b"code") != keyed

    specs = tmp_path / "targets"                     # a target of rustkmod's own, found by name
    specs.mkdir()
    (specs / "i686-rustkmod-kernel.json").write_text('{"arch": "x86"}')
    on_spec = crate_cache.Compile(compile_args(extra=["--target", "i686-rustkmod-kernel"]))
    spec_key = on_spec.key(dict(environ, RUST_TARGET_PATH=str(specs)), "/p", b"code")
    (specs / "i686-rustkmod-kernel.json").write_text('{"arch": "x86", "features": "-sse"}')
    assert on_spec.key(dict(environ, RUST_TARGET_PATH=str(specs)), "/p", b"code") != spec_key

    # the project named where it would reach the output: never cached
    assert crate_cache.Compile(compile_args(extra=["--cfg=x=\"/p/file\""])).key(environ, "/p", b"code") is None
    assert first.key(dict(environ, CARGO_MANIFEST_DIR="/p/own"), "/p", b"code") is None
    assert not crate_cache.Compile(compile_args(extra=["-C", "incremental=/p/inc"])).cacheable("/own")


def crate(directory, name, source, dependencies=""):
    (directory / "src").mkdir(parents=True)
    (directory / "Cargo.toml").write_text(f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n\n'
                                          f'[dependencies]\n{dependencies}\n[workspace]\n')
    (directory / "src" / "lib.rs").write_text(source)


def build(project, cache, own, log, **extra):
    """cargo build of `project` as rustkmod's cargo step runs it: wrapper, remap, the wrapper's variables."""
    environ = dict(os.environ, RUSTC_WRAPPER=crate_cache.wrapper_script(str(cache)),
                   CARGO_ENCODED_RUSTFLAGS=f"--remap-path-prefix={project}=.", CARGO_TARGET_DIR=str(project / "target"))
    environ.update(crate_cache.environment(str(cache), str(own), str(project), "rustc under test", log=str(log)))
    environ.update(extra)
    if log.exists():
        log.unlink()
    result = subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=project, env=environ,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return sorted(log.read_text().splitlines()) if log.exists() else []


def rlib(project, name):
    deps = project / "target" / "release" / "deps"
    return next(deps.glob(f"lib{name}-*.rlib")).read_bytes()


def test_a_second_project_copies_the_shared_crate_and_a_changed_source_is_compiled_again(tmp_path):
    own, cache, log = tmp_path / "site_scons", tmp_path / "cache", tmp_path / "log"
    crate(own / "shared", "shared", "pub fn answer() -> u32 { 42 }\n")
    crate(own / "reads_project", "reads_project", 'include!(env!("PROJECT_INPUT"));\n')
    dependencies = 'shared = { path = "../site_scons/shared" }\nreads_project = { path = "../site_scons/reads_project" }\n'
    for name in ("first", "second"):
        crate(tmp_path / name, name, "pub fn get() -> u32 { shared::answer() + reads_project::VALUE }\n", dependencies)
        (tmp_path / name / "input.rs").write_text("pub const VALUE: u32 = 1;\n")

    def project_build(name):
        return build(tmp_path / name, cache, own, log, PROJECT_INPUT=str(tmp_path / name / "input.rs"))

    assert project_build("first") == ["stored shared"]              # reads_project read the project's file
    assert project_build("second") == ["hit shared"]
    assert rlib(tmp_path / "second", "shared") == rlib(tmp_path / "first", "shared")

    (own / "shared" / "src" / "lib.rs").write_text("pub fn answer() -> u32 { 43 }\n")
    assert project_build("second") == ["stored shared"]              # a miss, then the entry replaced
    assert project_build("first") == ["hit shared"]

    outside = tmp_path / "outside"
    crate(outside, "outside", "pub fn f() {}\n")
    users = tmp_path / "users-wrapper"                               # RUSTC_WRAPPER=sccache, say
    users.write_text(f'#!/bin/sh\necho "$3" >> {tmp_path / "ran"}\nexec "$@"\n')
    users.chmod(0o755)
    assert build(outside, cache, own, log, **{crate_cache.NEXT: str(users)}) == []   # not rustkmod's: rustc's alone
    assert "outside" in (tmp_path / "ran").read_text().split()       # and the user's wrapper ran it
    assert crate_cache.clear(str(cache)) == 1 and not list(cache.iterdir())       # the wrapper script too
