"""`rustkmod new DIR` (`python -m rustkmod new DIR`): a module project to start from, outside any checkout.

It is examples/minimal with the module's name: a crate on the kernel crate (`module!`,
`Module`, `pr_info!`, a `#[cfg(test)]` test), a SConstruct that finds the tool where it is
installed (Debian package, pip, a checkout's ./setup venv; or the checkout RUSTKMOD names) and so
names no path of this machine, a .gitignore and a short README. `scons check` builds, verifies
and boots it as written.
"""

from __future__ import annotations

import os
import re

from rustkmod.errors import RustkmodError

SCONSTRUCT = '''\
# {name}: a Linux kernel module in Rust, built by rustkmod.
#   scons             build and verify {name}.ko for the installed kernel (KDIR=... for another)
#   scons check       boot the kernel in QEMU: insmod, the module's lines in the log, rmmod
#   scons test-host   the crate's tests on the host (cargo test)
#   scons deb         a Debian package of the module per kernel; scons dkms-deb: its DKMS package
#   scons -h          every build variable (KERNELS=6.1,7.2 for several kernels at once)
#   scons -D          the same from any subdirectory of the project (-D: look upwards, build the defaults)
import os

DefaultEnvironment(tools=[])
# rustkmod's tool as installed (its Debian package, pip, or a checkout's ./setup venv), found with
# no path of this machine; RUSTKMOD=<a rustkmod checkout> in the environment takes that one instead.
env = Environment(tools=["rustkmod_scons"],
                  toolpath=[os.path.join(os.environ["RUSTKMOD"], "site_scons", "site_tools")]
                  if os.environ.get("RUSTKMOD") else [])
module = env.RustKernelModule("{name}", crate=".", sources=[],
                              expect=["{name}: hello from Rust", "{name}: goodbye"])
env.Default(module.verified)
env.Alias("check", module.check)
env.Alias("test-host", env.RustHostTests("{name}", crate=".").all)
# scons deb: a Debian package per kernel (build/deb/{package}-modules-<release>_0.1.0_<arch>.deb)
env.RustModulesDeb(module, package="{package}", version="0.1.0", maintainer="You <you@example.com>",
                   description="{name} kernel module in Rust")
# scons dkms: build/dkms/{package}-0.1.0, a DKMS source tree whose build runs rustkmod per kernel;
# scons dkms-deb: build/deb/{package}-dkms_0.1.0_all.deb, that tree as Debian's DKMS package
env.RustModulesDkms(module, package="{package}", version="0.1.0", maintainer="You <you@example.com>",
                    description="{name} kernel module in Rust")
# last: scons KERNEL=6.1 (a typo) stops here; name the project's own variables in the call
env.RustkmodCheckArguments()
'''

CARGO_TOML = '''\
[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
license = "GPL-2.0"         # what module! declares to the kernel; packages name it in debian/copyright

[lib]
crate-type = ["staticlib"]

[dependencies]
# rustkmod's kernel crate (library `kernel`): rustkmod hands cargo its copy.
kernel = {{ package = "rustkmod-kernel", version = "0.1" }}

[profile.release]
panic = "abort"
debug = false

[profile.dev]
panic = "abort"
'''

LIB_RS = '''\
//! {name}: a kernel module with no C. `module!` declares it; `init` runs at insmod, `Drop` at rmmod.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use kernel::prelude::*;

module! {{
    type: {type_name},
    name: "{name}",
    authors: ["you"],
    description: "{name}, in Rust",
    license: "GPL",
}}

struct {type_name} {{
    greetings: KVec<u32>,
}}

impl kernel::Module for {type_name} {{
    fn init(_module: &'static ThisModule) -> Result<Self> {{
        let mut greetings = KVec::new();
        greetings.push(1, GFP_KERNEL)?;                 // ENOMEM to insmod, never a panic
        pr_info!("hello from Rust\n");
        Ok({type_name} {{ greetings }})
    }}
}}

impl Drop for {type_name} {{
    fn drop(&mut self) {{
        pr_info!("goodbye ({{}} greeting(s) kept)\n", self.greetings.len());
    }}
}}

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn init_keeps_one_greeting() {{
        let module = <{type_name} as kernel::Module>::init(&THIS_MODULE).unwrap();
        assert_eq!(module.greetings.len(), 1);
    }}

    static THIS_MODULE: ThisModule = ThisModule::host();
}}
'''

GITIGNORE = "build/\n.sconsign.dblite\n.rustkmod.lock\n.rustkmod.memo\ntarget/\nrust-project.json\n"

README = '''\
# {name}

A Linux kernel module in Rust, built with rustkmod: `src/lib.rs` is the module, `SConstruct` the build.
`scons` builds and verifies `{name}.ko`, `scons check` boots it in QEMU, `scons test-host` runs its tests.
From a subdirectory, `scons -D` (SCons looks upwards for the SConstruct and builds the defaults; `scons -D check` boots).
The kernel API is rustkmod's `kernel` crate: `rustkmod docs kernel-crate` prints where its page is.
'''

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,54}$")


def new_project(directory: str) -> list[str]:
    """Writes the project into `directory` (which must not exist, or be empty), named after it;
    returns the files written."""
    directory = os.path.abspath(directory)
    name = os.path.basename(directory)
    if not _NAME.match(name):
        raise RustkmodError(f"{name!r} cannot name a module (a crate and a .ko)",
                            "name it with two or more lower-case letters, digits and '_', starting with a letter")
    if os.path.exists(directory) and (not os.path.isdir(directory) or os.listdir(directory)):
        raise RustkmodError(f"{directory} exists and is not an empty directory", "choose a new name or place")
    type_name = "".join(part.capitalize() for part in name.split("_")) or "Module"
    values = {"name": name, "type_name": type_name,
              "package": name.replace("_", "-")}
    files = {"SConstruct": SCONSTRUCT, "Cargo.toml": CARGO_TOML, os.path.join("src", "lib.rs"): LIB_RS,
             ".gitignore": GITIGNORE, "README.md": README}
    written = []
    for relative, template in files.items():
        path = os.path.join(directory, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(template.format(**values))
        written.append(path)
    return written
