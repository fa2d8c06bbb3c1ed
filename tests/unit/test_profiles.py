"""Rust profiles and the cached toolchain identity."""

import os

import pytest

from rustkmod import RustkmodError
from rustkmod.kernel.tree import Kernel
from rustkmod.rust.cargo import CargoBuild, build_command
from rustkmod.rust.profiles import cached_toolchain_info, host_default_profile, kernel_profile

VERSION = "rustc 1.96.0\nhost: x86_64-unknown-linux-gnu\nrelease: 1.96.0\n"


def fake_rustc(tmp_path, version=VERSION):
    """A rustc stand-in that logs each call, to count how often it is asked."""
    script = tmp_path / "rustc"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path}/calls\n"
                      f"if [ \"$1\" = -vV ]; then printf '{version}'; else echo /opt/sysroot; fi\n")
    script.chmod(0o755)
    return str(script)


def calls(tmp_path):
    path = tmp_path / "calls"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_toolchain_identity_is_asked_once_per_binary(tmp_path):
    rustc, cache = fake_rustc(tmp_path), str(tmp_path / "build/.rustc-info.json")
    assert cached_toolchain_info(rustc, cache) == (VERSION, "/opt/sysroot")
    assert calls(tmp_path) == 2
    assert cached_toolchain_info(rustc, cache) == (VERSION, "/opt/sysroot")
    assert calls(tmp_path) == 2
    newer = VERSION.replace("1.96.0", "1.97.0")
    fake_rustc(tmp_path, newer)               # an upgrade replaces the binary
    os.utime(rustc, ns=(1, 1))
    assert cached_toolchain_info(rustc, cache)[0] == newer
    assert calls(tmp_path) == 4


def test_missing_rustc_is_named(tmp_path):
    with pytest.raises(RustkmodError, match="RUSTC=/no/rustc cannot be run"):
        cached_toolchain_info("/no/rustc", str(tmp_path / "c.json"))


def kernel(arch="x86_64"):
    return Kernel("/k", "6.1.0", (6, 1, 0), arch, {})


def test_kernel_profile_has_the_kernels_codegen():
    profile = kernel_profile(kernel(), VERSION)
    assert profile.target == "x86_64-unknown-none" and profile.build_std
    for flag in ("-Crelocation-model=static", "-Ccode-model=kernel", "-Cno-redzone=y", "-Zplt=yes"):
        assert flag in profile.rustflags


def test_profile_identity_follows_flags_and_toolchain():
    base = kernel_profile(kernel(), VERSION)
    assert base.ident == kernel_profile(kernel(), VERSION).ident
    assert base.ident != kernel_profile(kernel(), VERSION + "x").ident
    assert host_default_profile(VERSION).target == "x86_64-unknown-linux-gnu"


def test_unsupported_arch_is_named():
    with pytest.raises(RustkmodError, match="no Rust kernel target for ARCH mips"):
        kernel_profile(kernel("mips"), VERSION)


def test_every_verified_architecture_has_a_rust_target():
    from rustkmod.verify.policy import POLICIES
    from rustkmod.rust.profiles import KERNEL_TARGETS
    assert set(KERNEL_TARGETS) == set(POLICIES)


def test_cargo_command_builds_against_the_sysroot_with_the_flags():
    profile = kernel_profile(kernel(), VERSION)
    command, env = build_command(CargoBuild(profile, "cargo", "/usr/bin/rustc", "/p/Cargo.toml", "/b",
                                            "/s/x86_64-unknown-none-0123"), {"RUSTFLAGS": "-Cfoo", "PATH": "/bin"})
    assert command[:2] == ["cargo", "build"] and not [c for c in command if "build-std" in c or c == "--config"]
    assert "RUSTFLAGS" not in env and env["RUSTC_BOOTSTRAP"] == "1"
    flags = env["CARGO_ENCODED_RUSTFLAGS"].split("\x1f")
    assert flags[:2] == ["-Crelocation-model=static", "-Ccode-model=kernel"]
    assert flags[-1] == "--sysroot=/s/x86_64-unknown-none-0123"


def test_vendor_config_points_at_the_library_vendor_dir():
    from rustkmod.rust.sysroot import vendor_config
    assert 'directory = "/usr/lib/rustlib/src/rust/library/vendor"' in \
        vendor_config("/usr/lib/rustlib/src/rust/library")


def test_kernel_cfgs_from_a_tree_without_rustc_cfg(tmp_path):
    from rustkmod.rust.cfgs import kernel_cfg_text
    tree = Kernel(str(tmp_path), "5.10.0", (5, 10, 0), "x86_64",
                  {"CONFIG_X86_64": "y", "CONFIG_EXT4_FS": "m", "CONFIG_NR_CPUS": "512", "CONFIG_LOCALVERSION": "a\"b"})
    assert kernel_cfg_text(tree).splitlines()[:7] == [
        '--cfg=CONFIG_EXT4_FS', '--cfg=CONFIG_EXT4_FS="m"', '--cfg=CONFIG_LOCALVERSION="a\\"b"',
        '--cfg=CONFIG_NR_CPUS="512"', '--cfg=CONFIG_X86_64', '--cfg=CONFIG_X86_64="y"', '--cfg=kernel_version="5.10.0"']
    (tmp_path / "include/generated").mkdir(parents=True)
    (tmp_path / "include/generated/rustc_cfg").write_text("--cfg=CONFIG_OWN\n")
    assert kernel_cfg_text(tree).startswith("--cfg=CONFIG_OWN\n--cfg=kernel_version=")   # the tree's own list first


def test_the_kernel_version_as_cfgs_counts_every_release_up_to_it():
    from rustkmod.rust.cfgs import version_cfgs
    cfgs = version_cfgs((6, 12, 117))
    assert cfgs[0] == 'kernel_version="6.12.117"'
    at_least = [c.split('"')[1] for c in cfgs[1:]]
    assert at_least[0] == "3.0" and at_least[-1] == "6.12" and "6.13" not in at_least
    assert "4.20" in at_least and "4.21" not in at_least and "5.19" in at_least and "6.0" in at_least
    assert len(at_least) == len(set(at_least)) == 20 + 21 + 20 + 13
    assert 'kernel_version_at_least="7.0"' in version_cfgs((7, 2, 13)) and \
        'kernel_version_at_least="6.19"' in version_cfgs((7, 0, 1))


def test_kernel_cfgs_go_to_every_crate_of_the_graph():
    """Through CARGO_ENCODED_RUSTFLAGS: the module's crate and the crates it uses (a framework
    crate's version differences), never `core` (the sysroot is its own build)."""
    profile = kernel_profile(kernel(), VERSION)
    command, env = build_command(CargoBuild(profile, "cargo", "rustc", "/p/Cargo.toml", "/b", "/s", "/k/cfg.args",
                                            ("--cfg=rustkmod_bindings",), ("--config", "x=1")), {})
    assert command[1:4] == ["build", "--lib", "--release"] and command[-2:] == ["--config", "x=1"]
    assert env["CARGO_ENCODED_RUSTFLAGS"].split("\x1f")[-3:] == ["--sysroot=/s", "@/k/cfg.args", "--cfg=rustkmod_bindings"]


def test_rustcs_warnings_about_our_own_target_features_are_dropped_and_the_rest_kept():
    from rustkmod.rust.cargo import without_known_feature_warnings
    warning = ("warning: unknown and unstable feature specified for `-Ctarget-feature`: `{}`\n  |\n"
               "  = note: it is still passed through to the codegen backend\n  = help: consider filing a feature request\n\n")
    error = "error[E0425]: cannot find value `x` in this scope\n --> src/lib.rs:3:5\n"
    stderr = warning.format("harden-sls-ret") + warning.format("harden-sls-ijmp") + warning.format("other") + error
    rest, dropped = without_known_feature_warnings(stderr, ["-Cpanic=abort", "-Ctarget-feature=+harden-sls-ret,+harden-sls-ijmp"])
    assert dropped == ["harden-sls-ijmp", "harden-sls-ret"]
    assert rest == warning.format("other") + error          # what rustkmod did not ask for stays
