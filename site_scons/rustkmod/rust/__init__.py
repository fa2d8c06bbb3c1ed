"""The Rust side: a crate, how it is compiled for a kernel, and the kernel API it sees.

cargo:          a crate as cargo sees it: manifest, sources, configuration files, Cargo.lock.
profiles:       targets and codegen flags per kernel, the toolchain's identity, the cargo command.
cfgs:           the kernel's configuration and version as rustc --cfg arguments.
sysroot:        core/alloc/compiler_builtins built once per machine for a kernel profile.
partial_link:   the staticlib linked into one relocatable object (`ld -r`), and its edits.
components:     the crates a staticlib holds, from cargo's dep-info (for debian/copyright).
bindgen:        bindings.rs per kernel, from a header, with the kernel's own C flags.
inline_helpers: C wrappers for static inline functions and macro constants bindgen cannot bind.
bindings_cache: bindings kept once per machine, copied into each project asking the same of a kernel.
crate_cache:    rustkmod's own crates compiled once per machine (cargo's RUSTC_WRAPPER), for every project.
standin:        which of a crate's imports the host tests' user-space stand-in must define.
targets/:       rustkmod's own rustc target specifications (i686).
"""
