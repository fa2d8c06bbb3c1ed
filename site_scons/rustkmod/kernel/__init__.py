"""The kernel side: a kernel tree, its Kbuild, and what happens to a module after it is built.

arch:           one record per architecture, from which every per-architecture table is made.
tree:           a kernel tree (KDIR): release, version, architecture, .config, boot image.
kbuild:         the Kbuild file, make variables and compilers for an external module.
objtool:        the kernel's objtool run on the Rust object as Kbuild runs it on C objects.
hardening:      the .config's mitigations (retpoline, return thunk, SLS, CFI) as rustc flags.
install:        modules_install, signing and depmod into a staging root.
boot:           a kernel booted in QEMU to insmod, exercise and rmmod modules.
debian:         Debian kernels fetched side by side (headers, kbuild, image), without root: what
                the suite and KERNELS=6.1,7.2 build for (the archive's side).
deb:            a Debian binary package of a project's verified modules for one kernel (the
                project's side: what it ships).
dkms:           a project as a DKMS source tree, and that tree as a <package>-dkms package.
suite_roots:    Debian 13/14 systems in which newer kernels' Kbuild runs.
signing_kernel: a small 6.1 kernel built here that enforces module signatures.
"""
