"""Kernel ABI parity on Debian's 6.1: the Rust half is built with the kernel's hardening, the
verifier proves it from the .ko, and the module runs; without the flags, the verifier names the
functions."""

import re
import subprocess

import pytest

from helpers import module_dir, scons

pytestmark = pytest.mark.e2e


def relocation_targets(path):
    out = subprocess.run(["readelf", "-rW", str(path)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"R_X86_64_\w+\s+\w+\s+(__x86_\w+)", out)


def test_objtool_annotates_the_rust_code_like_c(built_project):
    assert scons(built_project).returncode == 0
    ko = module_dir(built_project) / "hello.ko"
    sections = subprocess.run(["readelf", "-SW", str(ko)], capture_output=True, text=True, check=True).stdout
    for name in (".retpoline_sites", ".return_sites", ".orc_unwind", ".orc_unwind_ip"):
        assert f" {name} " in sections, name
    relocations = subprocess.run(["readelf", "-rW", str(ko)], capture_output=True, text=True, check=True).stdout
    return_sites = relocations.split("'.rela.return_sites'", 1)[1].split("Relocation section", 1)[0]
    assert return_sites.count("_RNv") >= 10          # the Rust functions' return thunk calls are listed


def test_scons_flags_shows_the_kernels_hardening(built_project):
    run = scons(built_project, "flags")
    assert run.returncode == 0, run.output
    assert "CONFIG_RETPOLINE: indirect calls and jumps go through the kernel's __x86_indirect_thunk_*" in run.stdout
    assert "CONFIG_STACKPROTECTOR_STRONG: NOT MATCHED" in run.stdout
    assert re.search(r"rustc flags: .*-Zretpoline-external-thunk.*-Zfunction-return=thunk-extern", run.stdout)


def test_hardened_rust_goes_through_the_kernels_thunks_and_runs(built_project):
    assert scons(built_project, "check").returncode == 0        # verified (no bare branch) and booted
    rust_object = next((built_project / "build/rust").glob("x86_64-unknown-none-kernel-*/hello_rust.o"))
    thunks = relocation_targets(rust_object)
    # core::fmt calls through vtables: those indirect calls now go through the retpoline thunks,
    # and every return through the return thunk; the booted kernel ran them and printed.
    assert thunks.count("__x86_return_thunk") > 10 and any(t.startswith("__x86_indirect_thunk_") for t in thunks)
    log = (module_dir(built_project) / "hello.ko.booted.log").read_text()
    assert "hello world" in log and "goodbye after 1 greeting(s)" in log


def test_without_the_hardening_objtool_names_the_rust_functions(built_project):
    run = scons(built_project, "RUST_HARDENING=off")
    assert run.returncode != 0 and "Traceback" not in run.output
    assert "'naked' return found in RETHUNK build" in run.stderr
    assert "indirect jump found in RETPOLINE build" in run.stderr or "indirect call found in RETPOLINE build" in run.stderr
    assert "<hello[" in run.stderr and "fmtbuf::FixedBuf" in run.stderr        # demangled Rust names
    assert "the kernel's objtool warns about the Rust object" in run.stderr and "OBJTOOL=warn" in run.stderr
    assert "KBUILD" not in run.steps()                                          # stopped before Kbuild


def test_without_the_hardening_the_verifier_names_the_rust_functions(built_project):
    run = scons(built_project, "RUST_HARDENING=off", "OBJTOOL=off")
    assert run.returncode != 0 and "Traceback" not in run.output
    assert "bare return" in run.stderr and "runs without the kernel's return-thunk mitigation" in run.stderr
    assert "bare indirect branch" in run.stderr
    assert re.search(r"in hello\S*.*: ret", run.stderr) or "(crate hello)" in run.stderr
    assert "CONFIG_RETHUNK=y: build Rust with the kernel's hardening" in run.stderr
    assert scons(built_project).returncode == 0


def test_a_kernel_configured_without_the_options_gets_none(built_project, tmp_path):
    import shutil
    from helpers import default_kdir
    tree = tmp_path / "unmitigated"
    shutil.copytree(default_kdir(), tree)
    for name in (".config", "include/config/auto.conf"):
        path = tree / name
        path.write_text(re.sub(r"^CONFIG_(RETPOLINE|RETHUNK|SLS)=y\n", "", path.read_text(), flags=re.M))
    run = scons(built_project, "flags", f"KDIR={tree}")
    assert run.returncode == 0, run.output
    assert "rustc flags: (none)" in run.stdout and "RETPOLINE" not in run.stdout


def test_symbol_versions_are_checked_against_the_kernel(built_project, tmp_path):
    import sys
    from helpers import ROOT, default_kdir
    assert scons(built_project).returncode == 0
    ko = tmp_path / "hello.ko"
    ko.write_bytes((module_dir(built_project) / "hello.ko").read_bytes())
    check = [sys.executable, "-m", "rustkmod", "check", str(ko), "--kdir", default_kdir()]
    assert subprocess.run(check, cwd=ROOT / "site_scons").returncode == 0
    sections = subprocess.run(["readelf", "-SW", str(ko)], capture_output=True, text=True, check=True).stdout
    offset = int(re.search(r"__versions\s+PROGBITS\s+\w+\s+(\w+)", sections).group(1), 16)
    data = bytearray(ko.read_bytes())
    symbol = data[offset + 8:offset + 64].split(b"\0")[0].decode()
    data[offset] ^= 0xFF                              # the first imported symbol's CRC, altered
    ko.write_bytes(bytes(data))
    result = subprocess.run(check, cwd=ROOT / "site_scons", capture_output=True, text=True)
    assert result.returncode == 1
    assert f"hello: disagrees about version of symbol {symbol}" in result.stdout


def test_the_kernels_config_reaches_rust_as_cfgs(built_project):
    lib = built_project / "hello/src/lib.rs"
    original = lib.read_text()
    guard = ('\n#[cfg(all(not(test), kernel_cfg_probe))]\ncompile_error!("never set");\n'
             '#[cfg(all(not(test), CONFIG_X86_64, not(CONFIG_MODULES)))]\n'
             'compile_error!("CONFIG_X86_64 is set but not CONFIG_MODULES?");\n'
             '#[cfg(all(not(test), CONFIG_X86_64, {option}))]\n'
             'compile_error!("kernel option reached the crate");\n')
    try:
        # An option this kernel does not have: the crate builds.
        lib.write_text(original + guard.format(option="CONFIG_ARM64"))
        assert scons(built_project).returncode == 0
        # One it has, with its value (include/generated/rustc_cfg): the guard fires, so the cfg arrived.
        lib.write_text(original + guard.format(option='CONFIG_RETHUNK = "y"'))
        run = scons(built_project)
        assert run.returncode != 0 and "kernel option reached the crate" in run.stderr
    finally:
        lib.write_text(original)
    assert scons(built_project).returncode == 0
