"""What an architecture is to rustkmod, in one record per architecture: every per-architecture
lookup of the library and the tool is derived from ARCHES (the loader's relocation rules stay in
verify/policy.py, per kernel version). Adding an architecture is one entry here, its loader
table in policy.py, and its Rust target if rustc has none (rust/targets/).
"""

from __future__ import annotations

from typing import NamedTuple


class Arch(NamedTuple):
    name: str                   # rustkmod's name (the policy's, KERNELS' suffixes, --arch)
    aliases: tuple              # other names for it: `uname -m`, Debian's, Kbuild's, what users type
    kbuild: str                 # Kbuild's ARCH: the directory under arch/
    config_symbol: str          # the .config symbol that says a tree is of this architecture
    boot_image: str             # where `make` leaves the bootable image in a built tree
    cross_prefix: str           # Debian's cross toolchain (gcc-<prefix>, binutils-<prefix>)
    clang_target: str           # clang's --target for the kernel's headers (bindgen)
    qemu: tuple                 # QEMU's command: binary, machine, CPU
    console: str                # the serial console the kernel writes to under that machine
    qemu_package: str           # the Debian package holding that QEMU
    firmware: str               # how the machine describes platform devices: "device-tree" or "acpi"
    debian: str                 # Debian's architecture name
    flavour: str                # the kernel flavour in Debian's package names (linux-image-<abi>-<flavour>)
    debian_image: str           # the image's name in Debian's package: boot/<debian_image>-<release>
    rust_target: str            # the bare-metal rustc target with the kernel's ABI
    rust_flags: tuple           # the codegen flags Kbuild's own Rust support passes (and -Zplt=yes)
    elf_class: int              # 32 or 64
    elf_machines: tuple         # e_machine names the loader takes (pyelftools' ENUM_E_MACHINE), or numbers
    reloc_enum: str             # pyelftools' enum of its relocation types (elftools.elf.enums), "" when it has none
    reloc_prefixes: tuple       # the relocation names its loader source (arch/<kbuild>/kernel/module.c) handles
    loader_dispatch: str        # how that source lists them: "switch" (case R_...:) or "table" ([R_...] = handler)
    vermagic: str               # MODULE_ARCH_VERMAGIC where it is fixed ("" where the config decides it)
    objtool_dead_ends: bool     # the partial link marks calls to noreturn functions for objtool
    drop_unwind: bool           # its kernel C has no .eh_frame, and its loader refuses the NONE relocations
                                # `ld -r --gc-sections` leaves in one: the partial link removes it
    weak_symbols: tuple = ()    # compiler_builtins' symbols the module's C half defines for the kernel's ABI
    paired_hi_lo: bool = False  # its loader resolves a LO12 relocation through the HI20 one it names
    elf_byte_order: str = "<"   # struct's byte order of its ELF files ("<": little-endian)


ARCHES = (
    Arch("x86_64", ("amd64", "x86"), "x86", "CONFIG_X86_64", "arch/x86/boot/bzImage", "x86_64-linux-gnu-",
         "x86_64-linux-gnu", ("qemu-system-x86_64",), "ttyS0", "qemu-system-x86", "acpi", "amd64", "amd64",
         "vmlinuz", "x86_64-unknown-none",
         ("-Crelocation-model=static", "-Ccode-model=kernel", "-Cno-redzone=y", "-Zplt=yes"),
         64, ("EM_X86_64",), "ENUM_RELOC_TYPE_x64", ("R_X86_64_",), "switch", "", True, False),
    # 32-bit x86 (686): rustc has no bare-metal soft-float i686 target, so rustkmod ships one
    # (rust/targets/, found through RUST_TARGET_PATH; custom targets want -Zunstable-options). The
    # kernel's C passes three arguments in registers (-mregparm=3): -Zregparm=3 does the same.
    # Its loader also takes EM_486 (6, arch/x86/include/asm/elf.h), which pyelftools does not name.
    # compiler_builtins' 64-bit division takes its arguments on the stack, so `a / b` on two i64
    # divided by garbage (a divide error, seen booting 6.1-686): the partial link makes them weak,
    # and rustkmod-rt's C half defines them with the kernel's div64 helpers.
    Arch("i386", ("i686",), "x86", "CONFIG_X86_32", "arch/x86/boot/bzImage", "i686-linux-gnu-",
         "i686-linux-gnu", ("qemu-system-i386",), "ttyS0", "qemu-system-x86", "acpi", "i386", "686",
         "vmlinuz", "i686-rustkmod-kernel", ("-Zunstable-options", "-Crelocation-model=static", "-Zregparm=3"),
         32, ("EM_386", 6), "ENUM_RELOC_TYPE_i386", ("R_386_",), "switch", "", False, True,
         ("__divdi3", "__udivdi3", "__moddi3", "__umoddi3")),
    Arch("arm64", ("aarch64",), "arm64", "CONFIG_ARM64", "arch/arm64/boot/Image", "aarch64-linux-gnu-",
         "aarch64-linux-gnu", ("qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57"), "ttyAMA0",
         "qemu-system-arm", "device-tree", "arm64", "arm64", "vmlinuz", "aarch64-unknown-none-softfloat",
         ("-Crelocation-model=static", "-Zplt=yes"),
         64, ("EM_AARCH64",), "ENUM_RELOC_TYPE_AARCH64", ("R_AARCH64_", "R_ARM_NONE"), "switch", "aarch64",
         False, False),
    # ARMv7-A, soft-float and no NEON as the kernel's C (armmp: -march=armv7-a -msoft-float); REL
    # relocations, ARM (not Thumb) code: the loader takes both. highmem=off: the PCIe window (ECAM)
    # below 4 GiB, where a 32-bit kernel without LPAE can claim it.
    Arch("arm", ("armhf", "armv7l"), "arm", "CONFIG_ARM", "arch/arm/boot/zImage", "arm-linux-gnueabihf-",
         "arm-linux-gnueabi", ("qemu-system-arm", "-M", "virt,highmem=off", "-cpu", "cortex-a15"), "ttyAMA0",
         "qemu-system-arm", "device-tree", "armhf", "armmp", "vmlinuz", "armv7a-none-eabi",
         ("-Crelocation-model=static",),
         32, ("EM_ARM",), "ENUM_RELOC_TYPE_ARM", ("R_ARM_",), "switch", "", False, False),
    # RV64IMAC without floating point, as the kernel's C (-march=rv64imac -mabi=lp64 -mcmodel=medany);
    # no linker relaxation: module objects are built with -mno-relax. Debian names its image vmlinux.
    Arch("riscv64", ("riscv",), "riscv", "CONFIG_RISCV", "arch/riscv/boot/Image", "riscv64-linux-gnu-",
         "riscv64-linux-gnu", ("qemu-system-riscv64", "-M", "virt"), "ttyS0", "qemu-system-misc", "device-tree",
         "riscv64", "riscv64", "vmlinux", "riscv64imac-unknown-none-elf",
         ("-Crelocation-model=static", "-Ccode-model=medium", "-Ctarget-feature=-relax"),
         64, ("EM_RISCV",), "", ("R_RISCV_",), "table", "riscv", False, True, (), True),
)

BY_NAME = {arch.name: arch for arch in ARCHES}
# Every name an architecture goes by, to its record.
BY_ALIAS = {alias: arch for arch in ARCHES for alias in (arch.name, *arch.aliases)}
BY_DEBIAN = {arch.debian: arch for arch in ARCHES}
BY_RUST_TARGET = {arch.rust_target: arch for arch in ARCHES}
NAMES_TEXT = ", ".join(arch.name for arch in ARCHES[:-1]) + " or " + ARCHES[-1].name


def named(name: str) -> Arch | None:
    """The architecture any of its names stands for, or None."""
    return BY_ALIAS.get(name)


def of(name: str) -> Arch:
    """The record of rustkmod's name for an architecture (a KeyError names a new one)."""
    return BY_NAME[name]
