"""The kernel's own Rust samples (samples/rust of Debian's linux-source of the newest series
rustkmod builds for), built unchanged as one-file modules: read at test time from what was
fetched, never copied into the repository. Shared by tests/e2e/test_upstream_samples.py (the
samples the kernel crate covers, booted) and bench/samples.py (every sample tried, counted).

A sample is a module of samples/rust/Makefile (`obj-$(CONFIG_...) += name.o`, and `name-y :=` for
one of several objects, as rust_print is); its Rust file is built with `RustKernelModule(name,
source=...)` and its C files with `sources=`, as Kbuild builds them.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    module: str                         # the .ko's name
    rust: str                           # its Rust file
    c_files: tuple = ()                 # the module's C files (rust_print_events.c)


@dataclass(frozen=True)
class Boot:
    """What the boot test of a covered sample checks: the lines it prints (in the kernel log or
    from the exercise), what the exercise runs, and the first kernel series with what it needs."""
    expect: tuple
    exercise: str = ""
    c_program: bool = False             # the C test program in the sample's doc comment, run as <module>_test
    since: str = "5.10"                 # the oldest series that has its subsystem
    devices: tuple = ()                 # QEMU devices its driver binds to
    device_tree: str = ""               # a .dts of its device's nodes (arm64, armhf, riscv64)
    acpi_table: str = ""                # an .asl of its device (x86), or DOC: the sample's own, from its doc comment
    lacking: tuple = ()                 # kernels of a series that has it whose config leaves it out
    only: tuple = ()                    # the kernels it boots on, where not every one it could (time)


DOC = "doc"      # a Boot's acpi_table: the one the sample's doc comment gives

# The samples the kernel crate covers, and how their boots are checked.
COVERED = {
    "rust_minimal": Boot(("Rust minimal sample (init)", "Am I built-in? false", "test_parameter: 1",
                          "test_bool_parameter: false", "My numbers are [72, 108, 200]",
                          "Rust minimal sample (exit)")),
    "rust_misc_device": Boot(("Opening Rust Misc Device Sample", "-> Hello from the Rust Misc Device",
                              "-> Copying data from userspace (value: 1)", "Success", "read back: hello, misc",
                              "Exiting the Rust Misc Device Sample"),
                             # the sample's own program, then a write and a read on one open file
                             exercise="rust_misc_device_test\nexec 3<>/dev/rust-misc-device\n"
                                      "printf 'hello, misc' >&3\necho read back: $(cat <&3)\nexec 3>&-",
                             c_program=True),
    "rust_debugfs_scoped": Boot(("dev1 files: 0 1 2 blob", "dev1 numbers: 5 7 9", "dev1 1 now: 11", "blob: BBBB",
                                 "dev1 removed"),
                                exercise="mount -t debugfs none /sys/kernel/debug\n"
                                         "D=/sys/kernel/debug/rust_scoped_debugfs\n"
                                         "echo 'dev1 5 7 9' > $D/control/create\n"
                                         "echo dev1 files: $(ls $D/dynamic/dev1)\n"
                                         "echo dev1 numbers: $(cat $D/dynamic/dev1/0 $D/dynamic/dev1/1 $D/dynamic/dev1/2)\n"
                                         "echo 11 > $D/dynamic/dev1/1\necho dev1 1 now: $(cat $D/dynamic/dev1/1)\n"
                                         "echo blob: $(head -c 4 $D/dynamic/dev1/blob)\n"
                                         "echo dev1 > $D/control/remove\ntest -e $D/dynamic/dev1 || echo dev1 removed"),
    # QEMU's pci-testdev, the device the sample is written for
    "rust_driver_pci": Boot(("pci-testdev data-match count: 1", "pci-testdev config space read8 rev ID: 0",
                             "pci-testdev config space read16 vendor ID: 1b36",
                             "pci-testdev config space read32 BAR 0: "), devices=("pci-testdev",)),
    # a device-tree node with the properties it reads (arm64, arm, riscv64); an ACPI device (x86),
    # where it reads none. What each firmware makes it print is checked per kernel by the test.
    "rust_driver_platform": Boot(("Probed with info: ",), device_tree=(
        "/ {\n\trust-device {\n\t\tcompatible = \"test,rust-device\";\n"
        "\t\ttest,bool-prop;\n\t\ttest,u32-prop = <0xdeadbeef>;\n"
        "\t\ttest,i16-array = /bits/ 16 <1 2 (-3) (-4)>;\n"
        "\t\tchild-0 { test,ref-arg = <&rust_ref_target 0x1 0x2>; };\n"
        "\t\tchild-1 { test,ref-arg = <&rust_ref_target 0x3 0x4>; };\n\t};\n"
        "\trust_ref_target: rust-ref-target { };\n};\n"),
        acpi_table='DefinitionBlock ("", "SSDT", 2, "RUSTKM", "RUSTDEV", 1)\n'
                   '{\n    Scope (\\_SB)\n    {\n        Device (RUST) { Name (_HID, "LNUXBEEF") }\n    }\n}\n',
        # every device-tree architecture; ACPI on the oldest kernel and the debug one
        only=("7.3-arm64", "6.1-armhf", "6.12-trixie-riscv64", "5.10", "6.1-signing")),
    # a platform driver of an ACPI device only (the SSDT its doc comment gives), whose debugfs
    # files are read and written
    "rust_debugfs": Boot(("files: array_blob compatible counter pair vector_blob", 'compatible: "sample-debugfs"',
                          "counter: 91", "counter now: 5", "pair: Inner { x: 10, y: 42 }",
                          "pair now: Inner { x: 7, y: 8 }", "array_blob: blob", "vector_blob: BBBB"),
                         exercise="mount -t debugfs none /sys/kernel/debug\nD=/sys/kernel/debug/sample_debugfs\n"
                                  "echo files: $(ls $D)\necho compatible: $(cat $D/compatible)\n"
                                  "echo counter: $(cat $D/counter)\n"
                                  "echo 5 > $D/counter\necho counter now: $(cat $D/counter)\n"
                                  "echo pair: $(cat $D/pair)\n"
                                  "echo '7 8' > $D/pair\necho pair now: $(cat $D/pair)\n"
                                  "echo array_blob: $(head -c 4 $D/array_blob)\n"
                                  "echo vector_blob: $(head -c 4 $D/vector_blob)",
                         acpi_table=DOC, only=("5.10", "7.3", "6.1-signing")),   # ACPI: x86 only
    # the auxiliary bus (5.11 on, where the config has it: the small debug kernel's does not), its
    # devices registered by a PCI driver of pci-testdev
    "rust_driver_auxiliary": Boot(("Connect auxiliary 0 with parent: VendorID=REDHAT, DeviceID=0x5",
                                   "Connected to auxiliary device with index 0.",
                                   "Connected to auxiliary device with index 1 (via Mutex)."),
                                  devices=("pci-testdev",), since="5.11", lacking=("6.1-signing",),
                                  only=("6.1", "7.3-arm64", "6.1-armhf", "6.12-trixie-riscv64")),
    # the faux bus: 6.14 on
    "rust_driver_faux": Boot(("Initialising Rust Faux Device Sample", "rust-faux-sample-device: Hello from faux device!"),
                             since="6.14"),
    # its tracepoint's header, include/trace/events/rust_sample.h, and the Rust hooks: 6.13 on
    "rust_print": Boot(("Rust printing macros sample (init)", "A line that is continued without args",
                        "A line that is continued with args", "Arc<dyn Display> says 42",
                        "Arc<dyn Display> says hello, world", "Rust printing macros sample (exit)"), since="6.13"),
}


def fetch() -> tuple[Path, str]:
    """samples/rust of the newest series' linux-source (fetched once into the cache), and the
    kernel version it is of."""
    from rustkmod.kernel import debian
    tree = debian.fetch_loader_source(debian.newest_series(), debian.default_cache())
    return Path(tree) / "samples" / "rust", debian.source_version(tree)


def read_samples(directory: Path) -> list[Sample]:
    """The modules samples/rust/Makefile builds whose Rust file is there, in its order."""
    makefile = (directory / "Makefile").read_text()
    parts = {name: objects.split() for name, objects in re.findall(r"^(\w+)-y\s*:=\s*(.+)$", makefile, re.M)}
    samples = []
    for name in re.findall(r"^obj-\$\(CONFIG_\w+\)\s*\+=\s*(\w+)\.o", makefile, re.M):
        stems = [o[:-2] for o in parts.get(name, [f"{name}.o"])]
        rust = [s + ".rs" for s in stems if (directory / f"{s}.rs").is_file()]
        if len(rust) == 1:
            samples.append(Sample(name, rust[0], tuple(s + ".c" for s in stems if (directory / f"{s}.c").is_file())))
    return samples


def doc_block(rust_text: str, language: str) -> str:
    """The ```language block of a sample's doc comment (a C test program, an ACPI table), as its
    author wrote it."""
    found = re.search(rf"^//! ```{language}\n(.*?)^//! ```", rust_text, re.S | re.M)
    if not found:
        raise ValueError(f"no ```{language} block in the sample's doc comment")
    return "\n".join(line[4:] if line.startswith("//! ") else line[3:] for line in found.group(1).splitlines()) + "\n"


def c_program(rust_text: str) -> str:
    """The C program in a sample's doc comment (```c ... ```), as its author wrote it."""
    return doc_block(rust_text, "c")


def series_of(kernel: str) -> tuple:
    """(7, 3) of '7.3-arm64', (6, 12) of '6.12-trixie-riscv64'."""
    return tuple(int(p) for p in re.match(r"(\d+)\.(\d+)", kernel).groups())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Project:
    directory: Path
    modules: list = field(default_factory=list)     # (Sample, kernels)
    copied: dict = field(default_factory=dict)      # file name -> digest of the sample as fetched


def write_project(directory: Path, samples_dir: Path, samples: list[Sample], kernels: tuple, boots: dict) -> Project:
    """A module author's project of `samples` (their files as fetched, beside an SConstruct), each
    for the kernels of `kernels` that have what it needs; with a boot check from `boots` (by
    module name) where given."""
    directory.mkdir(parents=True, exist_ok=True)
    project = Project(directory)
    lines = ["# The kernel's Rust samples, unchanged: one RustKernelModule each (written by the tests).",
             "import os", "DefaultEnvironment(tools=[])",
             'env = Environment(tools=["rustkmod_scons"], '
             'toolpath=[os.path.join(os.environ["RUSTKMOD"], "site_scons", "site_tools")])',
             "targets = []"]
    for sample in samples:
        boot = boots.get(sample.module)
        wanted = tuple(k for k in kernels if boot is None or series_of(k) >= series_of(boot.since)
                       and k not in boot.lacking and (not boot.only or k in boot.only))
        if not wanted:
            continue
        for name in (sample.rust, *sample.c_files):
            shutil.copyfile(samples_dir / name, directory / name)
            project.copied[name] = digest(samples_dir / name)
        options = {"source": sample.rust, "sources": list(sample.c_files)}
        if boot:
            options["expect"] = list(boot.expect)
            options["exercise"] = boot.exercise
            if boot.devices:
                options["qemu_devices"] = list(boot.devices)
            if boot.device_tree:
                (directory / f"{sample.module}.dts").write_text(boot.device_tree)
                options["device_tree"] = f"{sample.module}.dts"
            if boot.acpi_table:
                text = boot.acpi_table
                if text == DOC:
                    text = doc_block((samples_dir / sample.rust).read_text(), "dsl")
                (directory / f"{sample.module}.asl").write_text(text)
                options["acpi_tables"] = [f"{sample.module}.asl"]
            if boot.c_program:
                program = f"{sample.module}_test.c"
                (directory / program).write_text(c_program((samples_dir / sample.rust).read_text()))
                options["exercise_programs"] = [program]
        lines.append(f"module = env.Clone(KERNELS={','.join(wanted)!r}).RustKernelModule({sample.module!r}, "
                     + ", ".join(f"{key}={value!r}" for key, value in options.items()) + ")")
        lines.append("targets.append(module)")
        project.modules.append((sample, wanted))
    lines += ["env.Default([m.verified for m in targets])", 'env.Alias("check", [m.check for m in targets])']
    (directory / "SConstruct").write_text("\n".join(lines) + "\n")
    return project


def unchanged(project: Project, samples_dir: Path) -> bool:
    """Every sample file in the project is the fetched one, byte for byte (and still is)."""
    return all(digest(project.directory / name) == digest(samples_dir / name) == known
               for name, known in project.copied.items())
