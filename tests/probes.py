"""Probe modules for the differential test: each carries one construct the verifier has an
opinion on, so that booting them shows whether the real loader agrees with `rustkmod check`.

Every probe is an assembly-only module (Kbuild adds its .mod.c): a license in .modinfo, a
symbol to point at, and the construct under test in a data section the module never runs.
Header damage is applied afterwards to a copy of a sound probe, as the file the loader reads.
"""

from __future__ import annotations

import os
import shutil
import struct

from rustkmod import process

_PRELUDE = """\
.section .modinfo,"a"
.asciz "license=GPL"
.data
.globl probe_target_{name}
probe_target_{name}:
.quad 0
.section .rodata.probe,"a"
.balign 8
"""

# Per architecture: the assembler, and the slot a relocation of a type of known width patches
# (others get 8 zero bytes, more than any of them patches).
ASSEMBLERS = {"x86_64": ["as", "--64"], "arm64": ["aarch64-linux-gnu-as"], "arm": ["arm-linux-gnueabihf-as"],
              "i386": ["as", "--32"], "riscv64": ["riscv64-linux-gnu-as"]}
WIDTHS = {"R_X86_64_32": 4, "R_X86_64_32S": 4, "R_X86_64_PC32": 4, "R_X86_64_PLT32": 4, "R_X86_64_16": 2,
          "R_X86_64_PC16": 2, "R_X86_64_8": 1, "R_X86_64_PC8": 1, "R_AARCH64_ABS32": 4, "R_AARCH64_PREL32": 4,
          "R_AARCH64_ABS16": 2, "R_AARCH64_PREL16": 2, "R_ARM_ABS16": 2, "R_ARM_ABS8": 1, "R_ARM_THM_ABS5": 2,
          "R_ARM_THM_PC8": 2, "R_ARM_THM_JUMP6": 2, "R_ARM_THM_JUMP8": 2, "R_ARM_THM_JUMP11": 2,
          "R_386_16": 2, "R_386_PC16": 2, "R_386_8": 1, "R_386_PC8": 1,
          **{f"R_RISCV_{op}{bits}": bits // 8 for op in ("ADD", "SUB", "SET") for bits in (8, 16, 32, 64) if bits // 8},
          "R_RISCV_SUB6": 1, "R_RISCV_SET6": 1, "R_RISCV_32": 4, "R_RISCV_32_PCREL": 4}


def emittable_types(arch: str, workdir: str, root: str = "") -> list[str]:
    """Every relocation type of `arch` (pyelftools' names) that the assembler emits with `.reloc`:
    the assembler Kbuild will use, in the kernel's build root if it has one (buildroot.py)."""
    from rustkmod.kernel.suite_roots import command
    from elftools.elf.enums import ENUM_RELOC_TYPE_AARCH64, ENUM_RELOC_TYPE_ARM, ENUM_RELOC_TYPE_i386, ENUM_RELOC_TYPE_x64
    from rustkmod.verify.names import TYPE_NAMES          # pyelftools has no RISC-V enum: rustkmod's table
    names = {"x86_64": ENUM_RELOC_TYPE_x64, "arm64": ENUM_RELOC_TYPE_AARCH64, "arm": ENUM_RELOC_TYPE_ARM,
             "i386": ENUM_RELOC_TYPE_i386}.get(arch) or {name: number for number, name in TYPE_NAMES[arch].items()}
    source, obj = os.path.join(workdir, "try.s"), os.path.join(workdir, "try.o")
    found = []
    for name, number in names.items():
        if not isinstance(number, int) or name.endswith("_NONE") or name.startswith("_"):
            continue
        with open(source, "w") as handle:
            handle.write(f".data\nx: .quad 0\n.section .rodata.probe,\"a\"\n.reloc ., {name}, x\n.quad 0\n")
        if process.run(command(root, [*ASSEMBLERS[arch], "-o", obj, source], workdir, [workdir]),
                        capture_output=True).returncode == 0:
            found.append(name)
    return found


_FILL = {1: ".byte", 2: ".short", 4: ".long", 8: ".quad"}

# riscv64's label differences come as pairs at one place, as compilers emit them (ADD then SUB,
# SET then SUB): the 6.7+ loader accumulates a pair, and a lone one makes 6.12.117 oops in
# apply_relocate_add or refuse. Each type of a pair is probed as that pair.
_PAIRS = {}
for _bits in ("8", "16", "32", "64"):
    _PAIRS[f"R_RISCV_ADD{_bits}"] = _PAIRS[f"R_RISCV_SUB{_bits}"] = [f"R_RISCV_ADD{_bits}", f"R_RISCV_SUB{_bits}"]
for _bits in ("8", "16", "32"):
    _PAIRS[f"R_RISCV_SET{_bits}"] = [f"R_RISCV_SET{_bits}", f"R_RISCV_SUB{_bits}"]
_PAIRS["R_RISCV_SET6"] = _PAIRS["R_RISCV_SUB6"] = ["R_RISCV_SET6", "R_RISCV_SUB6"]
_PAIRS["R_RISCV_SET_ULEB128"] = _PAIRS["R_RISCV_SUB_ULEB128"] = ["R_RISCV_SET_ULEB128", "R_RISCV_SUB_ULEB128"]

# Constructs beyond one relocation type, per architecture that has the loader check.
_EXTRA_X86_64 = {
    "nonzero": ".reloc ., R_X86_64_64, probe_target_{name}\n.quad 1\n",
    "overlap": ".reloc ., R_X86_64_PC32, probe_target_{name}\n.reloc ., R_X86_64_PC32, probe_target_{name}\n.long 0\n",
}
_WX = '.section .probe_wx,"awx"\n.quad 0\n'

# Damage made to a copy of the sound probe's .ko: (Elf64 header field offset, format, value).
HEADER_DAMAGE = {
    "hdr_shnum0": [(60, "H", 0), (62, "H", 134)],
    "hdr_shoff0": [(40, "Q", 0)],
    "hdr_shstrndx": [(62, "H", 0xFFF0)],
    "hdr_shentsize": [(58, "H", 40)],
    "hdr_type": [(16, "H", 2)],
}


# .modinfo and symbol-version damage, each what a module built the wrong way carries, made to a
# sound probe of that name once Kbuild built it (each its own module: a damaged copy of another
# would meet "File exists" first): the section it is in, and the bytes found there that change.
MODINFO_DAMAGE = {
    "mi_novermagic": (".modinfo", b"vermagic="),        # the tag renamed: no version magic
    "mi_nolicense": (".modinfo", b"license="),          # the tag renamed: no license
    "mi_badvermagic": (".modinfo", b"vermagic="),       # SMP -> XMP: the magic of a build with other options
    "mi_otherrelease": (".modinfo", b"vermagic="),      # the release's last character changed
    "mi_badlayout": ("__versions", b"module_layout\0"),  # module_layout's CRC another kernel's
}

# A second .modinfo, as rustc makes one for a `#[used] #[link_section = ".modinfo"]` static: a
# section of its own (SHF_GNU_RETAIN), ahead of Kbuild's in the module.
_SECOND_MODINFO = '.section .modinfo,"aR"\n.globl probe_rust_modinfo\nprobe_rust_modinfo:\n.asciz "author=probe"\n'


def probe_sources(arch: str, workdir: str, root: str = "") -> dict[str, str]:
    """{probe module name: its .S text} for `arch`: one per relocation type the assembler can
    emit, and the extras."""
    probes = {"sound": ".quad 0\n"}
    for type_name in emittable_types(arch, workdir, root):
        short = type_name.removeprefix("R_X86_64_").removeprefix("R_AARCH64_").removeprefix("R_ARM_") \
            .removeprefix("R_386_").removeprefix("R_RISCV_")
        relocs = "".join(f".reloc ., {t}, probe_target_{{name}}\n" for t in _PAIRS.get(type_name, [type_name]))
        probes["rel_" + short.lower()] = f"{relocs}{_FILL[WIDTHS.get(type_name, 8)]} 0\n"
    if arch == "x86_64":
        probes.update(_EXTRA_X86_64)
    probes["wx"] = ".quad 0\n" + _WX
    sources = {name: _PRELUDE.format(name=name) + body.format(name=name) for name, body in probes.items()}
    sources["mi_two"] = _SECOND_MODINFO + _PRELUDE.format(name="mi_two") + ".quad 0\n"
    sources.update({name: _PRELUDE.format(name=name) + ".quad 0\n" for name in MODINFO_DAMAGE})
    return sources


def kbuild_text(names) -> str:
    return "".join(f"obj-m += {name}.o\n" for name in sorted(names))


def damaged_copy(sound_ko: str, name: str, destination: str) -> str:
    """A copy of the sound probe's .ko with the header damage `name` (HEADER_DAMAGE)."""
    shutil.copyfile(sound_ko, destination)
    with open(destination, "r+b") as handle:
        data = bytearray(handle.read())
        for offset, fmt, value in HEADER_DAMAGE[name]:
            struct.pack_into("<" + fmt, data, offset, value)
        handle.seek(0)
        handle.write(bytes(data))
    return destination


def damage_modinfo(ko: str, name: str) -> bool:
    """Makes the damage `name` (MODINFO_DAMAGE) to the probe module `ko`, in place; False where it
    has nothing to damage (no __versions on a kernel without CONFIG_MODVERSIONS)."""
    from rustkmod.elf.reader import ElfTables
    section_name, needle = MODINFO_DAMAGE[name]
    with open(ko, "rb") as handle:
        data = bytearray(handle.read())
    tables = ElfTables(bytes(data), ko)
    section = next((s for s in tables.sections if s.name == section_name), None)
    where = data.find(needle, section.offset, section.offset + section.size) if section else -1
    if where < 0:
        return False
    if name == "mi_badlayout":
        data[where - tables.bits // 8] ^= 0x5A        # struct modversion_info: the CRC, then the name
    elif name in ("mi_novermagic", "mi_nolicense"):
        data[where + len(needle) - 2] = ord("x")
    else:
        start = where + len(needle)
        release_end = data.index(b" ", start, data.index(b"\0", start))
        position = release_end - 1 if name == "mi_otherrelease" else release_end + 1
        data[position] = ord("X") if data[position] != ord("X") else ord("Y")
    with open(ko, "wb") as handle:
        handle.write(bytes(data))
    return True
