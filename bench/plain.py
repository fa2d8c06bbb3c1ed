"""The plain way the benchmarks compare rustkmod with: `cargo build -Zbuild-std` in the crate,
`core` compiled inside each crate's own target directory, then `make -C KDIR M=... modules`."""

from __future__ import annotations

import os
from pathlib import Path

from rustkmod.rust import cargo, profiles, sysroot
from rustkmod.rust.cargo import Crate


def build_std_command(profile: profiles.RustProfile, crate: Crate, target_dir: Path, work: Path,
                      cfg_file: str | None = None, release: bool = True) -> tuple[list[str], dict]:
    """(argv, environment) of `cargo build -Zbuild-std=core,alloc,compiler_builtins` for the crate, with
    the library's vendored crates (offline) and the profile's flags; run it in the crate directory."""
    info = profiles.toolchain_info("/usr/bin/rustc")
    config = work / "build-std.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(sysroot.vendor_config(profiles.library_source_dir(info[1])))
    command, env = cargo.build_command(cargo.CargoBuild(profile, "/usr/bin/cargo", "/usr/bin/rustc", crate.manifest,
                                                        str(target_dir), None, cfg_file), dict(os.environ))
    command[1:1] = ["--config", str(config)]
    command.append("-Zbuild-std=core,alloc,compiler_builtins")
    if not release:
        command.remove("--release")
    return command, env
