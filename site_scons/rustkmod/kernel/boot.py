"""Boot a kernel in QEMU with a busybox initramfs, insmod and rmmod modules, read what happened.

No reboot of anything: the kernel under test is the configured kernel's own image, booted under
emulation with the modules in its initramfs. The init script prints markers that `parse_console`
reads back, so a test sees insmod's and rmmod's exit codes and the kernel log.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import NamedTuple

from rustkmod import inputs, process
from rustkmod.errors import RustkmodError
from rustkmod.kernel.arch import ARCHES

# Per architecture (arch.py): the QEMU command (machine and CPU), the serial console, the Debian
# package; the architectures whose QEMU machine hands the kernel a device tree (a driver's nodes
# go into it: device_tree=), and those whose firmware gives it ACPI tables (acpi_tables=).
QEMU_FOR_ARCH = {arch.name: (list(arch.qemu), arch.console, arch.qemu_package) for arch in ARCHES}
DEVICE_TREE_ARCHES = tuple(arch.name for arch in ARCHES if arch.firmware == "device-tree")
ACPI_ARCHES = tuple(arch.name for arch in ARCHES if arch.firmware == "acpi")
# A misc device's stress exerciser (`kstress DEVICE SECONDS MODULE [COMMAND ...]`), a C program a
# SConstruct adds to exercise_programs= as $RUSTKMOD_KSTRESS.
KSTRESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kstress.c")
BUSYBOX = "/bin/busybox"
# The kernel log the judge reads at the end holds everything since boot: a device's lines under a
# stress run (a line per file released, say) would push the module's first lines out of a small
# kernel's buffer (tinyconfig's is 4 KiB), so every boot gets a large one.
LOG_BUFFER = "log_buf_len=4M"          # the host's static busybox (Debian busybox-static)
MARK = "RUSTKMOD"

_INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
echo {mark}-BEGIN
echo {mark}-KERNEL-TAINT before $(cat /proc/sys/kernel/tainted)
{commands}
echo {mark}-KERNEL-TAINT after $(cat /proc/sys/kernel/tainted)
echo {mark}-DMESG-BEGIN
dmesg
echo {mark}-DMESG-END
poweroff -f
"""


# The kernel's taint flags by bit (Documentation/admin-guide/tainted-kernels.rst). A module of
# its own may set O (out of tree), E (unsigned) and K (live patch); anything else it set, or the
# kernel set while it was loaded and unloaded, is a fault of the boot test.
TAINT_FLAGS = "PFSRMBUDAWCIOELKXTNJ"
HARMLESS_TAINT = frozenset("OEK")
_TAINT_MEANING = {"P": "no GPL-compatible license", "F": "forced load (bad vermagic or symbol versions)",
                  "C": "staging driver", "W": "a kernel warning", "D": "a kernel oops", "R": "forced unload"}


def taint_letters(mask: int) -> str:
    return "".join(letter for bit, letter in enumerate(TAINT_FLAGS) if mask >> bit & 1)


def harmful(letters: str, declared: str = "") -> str:
    """The taint flags among `letters` that a boot test fails on: not the harmless ones, nor
    those the module `declared` (P for RustKernelModule(gpl_compatible=False))."""
    return "".join(letter for letter in letters if letter not in HARMLESS_TAINT and letter not in declared)


def taint_text(letters: str) -> str:
    return ", ".join(f"{letter} ({_TAINT_MEANING[letter]})" if letter in _TAINT_MEANING else letter
                     for letter in letters)


@dataclass
class ModuleResult:
    name: str
    insmod_rc: int | None = None
    insmod_output: str = ""
    rmmod_rc: int | None = None
    taint: str = ""              # /sys/module/<name>/taint once loaded: the flags the module set

    @property
    def harmful_taint(self) -> str:
        return harmful(self.taint)


@dataclass
class BootResult:
    console: str
    modules: list = field(default_factory=list)
    kernel_log: list = field(default_factory=list)
    booted: bool = False
    exercise_output: list = field(default_factory=list)   # what the exercise commands printed
    kernel_taint: dict = field(default_factory=dict)       # "before"/"after" -> /proc/sys/kernel/tainted

    def new_kernel_taint(self, declared: str = "") -> str:
        """The harmful taint flags the kernel gained between the first insmod and the last rmmod,
        less those `declared`."""
        if "before" not in self.kernel_taint or "after" not in self.kernel_taint:
            return ""
        gained = self.kernel_taint["after"] & ~self.kernel_taint["before"]
        return harmful(taint_letters(gained), declared)

    def module(self, name: str) -> ModuleResult:
        return next(m for m in self.modules if m.name == name)

    def log_has(self, text: str) -> bool:
        return any(text in line for line in self.kernel_log if f"{MARK}-LOG" not in line)

    def module_log(self, name: str) -> list[str]:
        """What the kernel logged from the start of `name`'s insmod to the next module's: the
        module's own lines, and any BUG, Oops or panic its init caused."""
        lines, inside = [], False
        for line in self.kernel_log:
            if f"{MARK}-LOG " in line:
                inside = line.rstrip().endswith(f"{MARK}-LOG {name}")
            elif inside:
                lines.append(line)
        return lines

    def console_after_start(self) -> list[str]:
        """The console from the test's start on: what a kernel that died before dmesg printed."""
        text = self.console.split(f"{MARK}-BEGIN", 1)[-1]
        return [line for line in text.splitlines() if line.strip() and not line.startswith(MARK)]


def module_name(ko_path: str) -> str:
    return os.path.basename(ko_path)[:-3].replace("-", "_")


def _exercise_lines(exercise: str) -> list[str]:
    """Shell commands run between loading and unloading (device I/O, say), their output marked."""
    if not exercise.strip():
        return []
    return [f"echo {MARK}-EXERCISE-BEGIN", exercise.strip(), "echo", f"echo {MARK}-EXERCISE-END"]


RMMOD_LOG = "rmmod-"           # module_log(RMMOD_LOG + name): what the kernel logged while unloading it


def _taint(name: str) -> str:
    """The module's own taint flags, printed after insmod's exit code."""
    return f" taint=$(cat /sys/module/{name}/taint 2>/dev/null)"


# What udev or mdev do when a device appears: modprobe its modalias, which modules.alias (the
# MODULE_ALIAS lines of the installed modules, through depmod) maps to the driver.
_LOAD_BY_MODALIAS = ("for alias in $(cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u); do "
                     "modprobe -q \"$alias\" 2>/dev/null; done")


def init_script(module_files: list[str], modprobe: bool = False, exercise: str = "", after: str = "",
                params: str = "", by_modalias: bool = False) -> str:
    """insmod each module file in order (or, with `modprobe`, `modprobe` the last one by name and
    let modules.dep load the others; with `by_modalias` too, modprobe every device's modalias
    instead, as udev would, and the driver must be among what that loaded), the last one with
    `params` (its module parameters), run the `exercise` commands, unload them in reverse, then
    run the `after` commands (what must be gone with the module: a /proc entry, a device node)."""
    inputs.module_params(params)
    for ko in module_files:     # every name below is one of these, checked: nothing is quoted
        inputs.module_name(module_name(ko))
        inputs.kbuild_file(os.path.basename(ko), "module file")
    given = f" {params}" if params else ""
    if modprobe:
        name = module_name(module_files[-1])
        others = [module_name(ko) for ko in module_files[:-1]]
        load = f"out=$(modprobe {name}{given} 2>&1); rc=$?; echo \"$out\""
        if by_modalias:
            load = f"{_LOAD_BY_MODALIAS}; grep -q '^{name} ' /proc/modules; rc=$?"
        lines = [f"{load}; echo {MARK}-INSMOD {name} rc=$rc{_taint(name)}",
                 # what modprobe loaded besides: each dependency counts as inserted when present
                 *(f"grep -q '^{dep} ' /proc/modules; echo {MARK}-INSMOD {dep} rc=$?" for dep in others),
                 *_exercise_lines(exercise),
                 f"modprobe -r {name}; rc=$?; echo {MARK}-RMMOD {name} rc=$rc",
                 *(f"grep -q '^{dep} ' /proc/modules; echo {MARK}-RMMOD {dep} rc=$((1 - $?))" for dep in others),
                 *_exercise_lines(after)]
        return _INIT.format(mark=MARK, commands="\n".join(lines))
    lines = []
    for position, ko in enumerate(module_files):
        base = os.path.basename(ko) + (given if position == len(module_files) - 1 else "")
        # A marker in the kernel log: what follows it, up to the next, is this module's doing.
        lines.append(f"echo '{MARK}-LOG {module_name(ko)}' > /dev/kmsg")
        lines.append(f"out=$(insmod /modules/{base} 2>&1); rc=$?; echo \"$out\"; "
                     f"echo {MARK}-INSMOD {module_name(ko)} rc=$rc{_taint(module_name(ko))}")
    lines += _exercise_lines(exercise)
    for ko in reversed(module_files):
        lines.append(f"echo '{MARK}-LOG {RMMOD_LOG}{module_name(ko)}' > /dev/kmsg")
        lines.append(f"rmmod {module_name(ko)}; echo {MARK}-RMMOD {module_name(ko)} rc=$?")
    lines += _exercise_lines(after)
    return _INIT.format(mark=MARK, commands="\n".join(lines))


def user_program_command(arch: str, source: str, output: str) -> list[str]:
    """The static build of a C program the boot test runs (an ioctl client, say) for a kernel's
    architecture: Debian's cross gcc and C library for it (./setup installs them)."""
    from rustkmod.kernel.kbuild import CROSS_PREFIXES
    prefix = CROSS_PREFIXES.get(arch)
    if prefix is None:
        raise RustkmodError(f"no C compiler is known for user programs on {arch} kernels",
                            "leave out exercise_programs= for this kernel")
    return [f"{prefix}gcc", "-static", "-O2", "-Wall", "-o", output, source]


class BootPlan(NamedTuple):
    """One boot test: the kernel, what its initramfs holds and runs, the machine it boots on.

    With `module_root` (a staging INSTALL_MOD_PATH), the last module is loaded with modprobe
    from there instead, which must load the others itself; `append` adds kernel parameters
    (module.sig_enforce=1, say); `exercise` and `after` are shell commands run while the modules
    are loaded and once they are unloaded, their output kept in `exercise_output`; `params` are
    the last module's parameters at insmod (or modprobe); `files` go to /bin for the exercise;
    `devices` are QEMU devices added to the machine, `device_tree` and `acpi_tables` firmware
    descriptions of platform devices (run_qemu); with any of them, modprobe (from `module_root`)
    loads the driver by the devices' modaliases, as udev would, proving its MODULE_ALIAS lines.
    """

    arch: str
    kernel_image: str
    module_files: tuple = ()     # insmod'ed in order, rmmod'ed in reverse
    busybox: str = BUSYBOX
    module_root: str = ""
    append: str = ""
    exercise: str = ""
    after: str = ""
    params: str = ""
    files: tuple = ()
    devices: tuple = ()
    device_tree: str = ""
    acpi_tables: tuple = ()
    timeout: int = 300

    @property
    def by_modalias(self) -> bool:
        return bool(self.devices) or described(self.arch, self.device_tree, self.acpi_tables)


def make_initramfs(plan: BootPlan, output: str) -> None:
    """Writes a gzip'd newc cpio holding busybox, the plan's modules and the test's /init; with
    its `module_root`, that root's lib/modules (an INSTALL_MOD_PATH) too, for modprobe (by the
    devices' modaliases when it has devices); its `files` (the exercise's own programs) in /bin."""
    busybox, module_root = plan.busybox, plan.module_root
    if not os.path.isfile(busybox):
        raise RustkmodError(f"{busybox} not found", "install busybox-static (./setup does; fetch-kernel "
                            "fetches it for other architectures)")
    if shutil.which("cpio") is None:
        raise RustkmodError("cpio not found", "install cpio (./setup does)")
    with tempfile.TemporaryDirectory(prefix="rustkmod-initramfs-") as root:
        os.makedirs(os.path.join(root, "bin"))
        os.makedirs(os.path.join(root, "modules"))
        shutil.copy2(busybox, os.path.join(root, "bin/busybox"))
        for extra in plan.files:
            inputs.program_name(os.path.basename(extra))
            if not os.path.isfile(extra):
                raise RustkmodError(f"{extra} (an exercise file) does not exist", "build it before the boot test")
            shutil.copy2(extra, os.path.join(root, "bin", os.path.basename(extra)))
        if module_root:         # modprobe loads the installed copies
            shutil.copytree(os.path.join(module_root, "lib"), os.path.join(root, "lib"))
        else:
            for ko in plan.module_files:
                shutil.copyfile(ko, os.path.join(root, "modules", os.path.basename(ko)))
        init = os.path.join(root, "init")
        with open(init, "w") as handle:
            handle.write(init_script(list(plan.module_files), modprobe=bool(module_root), exercise=plan.exercise,
                                     after=plan.after, params=plan.params, by_modalias=plan.by_modalias))
        os.chmod(init, 0o755)
        names = sorted(os.path.relpath(os.path.join(d, f), root)
                       for d, dirs, files in os.walk(root) for f in dirs + files)
        archive = process.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                                 input="\n".join(names).encode(), capture_output=True, check=True).stdout
    with gzip.open(output, "wb") as handle:
        handle.write(archive)


class GuestHung(RustkmodError):
    """The guest did not power off in time. `evidence`: the kernel's lines that explain it (an
    oops, a panic, a warning), as judge() shows them; the whole console is in `console_log`."""

    def __init__(self, what: str, fix: str, evidence: list[str], console_log: str):
        super().__init__(what, fix)
        self.evidence, self.console_log = evidence, console_log


def run_qemu(plan: BootPlan, initramfs: str, console_log: str = "") -> str:
    """Boots the plan's kernel with `initramfs`; returns the serial console's text. A guest that
    does not power off within the plan's timeout raises GuestHung, its console kept in
    `console_log`. The plan's `devices`: QEMU `-device` specifications the module's driver binds
    to (`pci-testdev`); `device_tree` (a .dts file of nodes) and `acpi_tables` (.asl files):
    firmware descriptions of platform devices, for the architectures that read them (see
    `firmware_arguments`)."""
    arch, kernel_image, timeout, devices = plan.arch, plan.kernel_image, plan.timeout, plan.devices
    device_tree, acpi_tables = plan.device_tree, plan.acpi_tables
    if arch not in QEMU_FOR_ARCH:
        raise RustkmodError(f"no boot test for ARCH {arch} yet", "boot tests support: " + ", ".join(QEMU_FOR_ARCH))
    qemu, console, package = QEMU_FOR_ARCH[arch]
    if shutil.which(qemu[0]) is None:
        raise RustkmodError(f"{qemu[0]} not found", f"install {package} (./setup does)")
    if not os.path.isfile(kernel_image):
        raise RustkmodError(f"KERNEL_IMAGE={kernel_image} does not exist",
                            "pass KERNEL_IMAGE=<the vmlinuz of the configured kernel>")
    machine = [*qemu, "-m", "512", "-nographic"] + [word for device in devices for word in ("-device", device)]
    firmware = []
    if described(arch, device_tree, acpi_tables):     # the tools' files beside the console log
        workdir = os.path.dirname(console_log) or tempfile.mkdtemp(prefix="rustkmod-boot-")
        firmware = firmware_arguments(arch, machine, workdir, device_tree, acpi_tables)
    command = [*machine, "-no-reboot", "-kernel", kernel_image, "-initrd", initramfs, "-append",
               f"console={console} quiet panic=-1 {LOG_BUFFER} {plan.append}".strip(), *firmware]
    try:
        result = process.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        console = (err.stdout or b"").decode(errors="replace").replace("\r", "")
        lines = console.splitlines()
        first = next((n for n, line in enumerate(lines) if _TROUBLE.search(line)), len(lines))
        trouble = lines[first:]         # the first oops, warning or panic and what followed it
        kept = ""
        if console_log:
            with open(console_log, "w", encoding="utf-8") as handle:
                handle.write(console)
            kept = f", console log: {console_log}"
        seen = f"first sign of trouble: {trouble[0].strip()!r}" if trouble else \
            f"last console line: {process.last_line(console)!r}"
        raise GuestHung(f"{kernel_image} did not power off within {timeout} s ({seen}{kept})",
                        "read the kernel's lines above; a module that hangs its init or exit hangs the boot",
                        _evidence(trouble), console_log) from None
    # QEMU's own complaints (a device model's "hardware error" ends the guest) follow the console
    complaints = [line for line in result.stderr.decode(errors="replace").splitlines() if line.startswith("qemu")]
    return result.stdout.decode(errors="replace") + "".join(f"\n{line}" for line in complaints)


def firmware_arguments(arch: str, machine: list, workdir: str, device_tree: str = "", acpi_tables=()) -> list:
    """QEMU arguments that describe a module's platform devices to the kernel as firmware would.

    `device_tree`, on the architectures that boot with one: QEMU's own tree for `machine` (its
    `dumpdtb`) with the file's nodes merged in (dtc reads the file itself, so its errors name the
    file's lines), handed over with `-dtb`. `acpi_tables`, on x86: each ASL file compiled by iasl
    and added with `-acpitable`. Other architectures get neither: a module may give both."""
    arguments = []
    if device_tree and arch in DEVICE_TREE_ARCHES:
        base, merged = os.path.join(workdir, "machine.dtb"), os.path.join(workdir, "machine-and-nodes.dtb")
        _tool([*machine, "-machine", f"dumpdtb={base}"], "QEMU's device tree", QEMU_FOR_ARCH[arch][2])
        source = _tool(["dtc", "-q", "-I", "dtb", "-O", "dts", base], "dtc", "device-tree-compiler").stdout
        combined = os.path.join(workdir, "machine-and-nodes.dts")
        with open(combined, "w", encoding="utf-8") as handle:
            handle.write(source.decode() + f'\n/include/ "{os.path.abspath(device_tree)}"\n')
        _tool(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", merged, combined], f"dtc on {device_tree}",
              "device-tree-compiler", f"fix {device_tree}: nodes under `/ {{ ... }};`, as a .dts file writes them")
        arguments += ["-dtb", merged]
    if arch in ACPI_ARCHES:
        for index, table in enumerate(acpi_tables):
            prefix = os.path.join(workdir, f"acpi-table-{index}")
            _tool(["iasl", "-p", prefix, os.path.abspath(table)], f"iasl on {table}", "acpica-tools",
                  f"fix {table}: one DefinitionBlock (an SSDT) in ASL")
            arguments += ["-acpitable", f"file={prefix}.aml"]
    return arguments


def described(arch: str, device_tree: str = "", acpi_tables=()) -> bool:
    """Whether `arch` reads the firmware descriptions given (a device tree, ACPI tables)."""
    return bool(device_tree and arch in DEVICE_TREE_ARCHES or acpi_tables and arch in ACPI_ARCHES)


def _tool(command: list, what: str, package: str, fix: str = "") -> subprocess.CompletedProcess:
    """Runs a firmware tool; its failure is a RustkmodError naming `what` and its first error."""
    if shutil.which(command[0]) is None:
        raise RustkmodError(f"{command[0]} not found", f"install {package} (./setup does)")
    result = process.run(command, stdin=subprocess.DEVNULL, capture_output=True)
    if result.returncode != 0:
        lines = (result.stderr + result.stdout).decode(errors="replace").splitlines()
        first = next((n for n, line in enumerate(lines) if re.search(r"error|Error|ERROR", line)), None)
        said = lines[first].strip() if first is not None else (lines or ["(no output)"])[0].strip()
        # iasl puts the source line (`file   3:  text`) above its error
        where = re.match(r"\S+\s+(\d+):", lines[first - 1]) if first else None
        if where:
            said = f"line {where.group(1)}: " + re.sub(r"^Error\s+\d+\s+-\s*\^?\s*", "", said)
        raise RustkmodError(f"{what} failed: {said}", fix or f"see the output of: {' '.join(command)}")
    return result


def parse_console(console: str) -> BootResult:
    """Reads the markers the init script printed back into a BootResult."""
    text = console.replace("\r", "")
    result = BootResult(console=text, booted=f"{MARK}-BEGIN" in text)
    pending = []
    started = exercising = False
    for line in text.splitlines():
        if not started:
            started = f"{MARK}-BEGIN" in line
            continue
        if line.startswith(f"{MARK}-EXERCISE-"):
            exercising = line.startswith(f"{MARK}-EXERCISE-BEGIN")
            continue
        if exercising:
            result.exercise_output.append(line)
            continue
        insmod = re.match(rf"{MARK}-INSMOD (\S+) rc=(\d+)(?: taint=(\S*))?", line)
        rmmod = re.match(rf"{MARK}-RMMOD (\S+) rc=(\d+)", line)
        taint = re.match(rf"{MARK}-KERNEL-TAINT (before|after) (\d+)", line)
        if insmod:
            result.modules.append(ModuleResult(insmod.group(1), int(insmod.group(2)), "\n".join(pending),
                                               taint=insmod.group(3) or ""))
            pending = []
        elif taint:
            result.kernel_taint[taint.group(1)] = int(taint.group(2))
        elif rmmod:
            next((m for m in result.modules if m.name == rmmod.group(1))).rmmod_rc = int(rmmod.group(2))
        elif not line.startswith(MARK):
            pending.append(line)
    if f"{MARK}-DMESG-BEGIN" in text:
        log = text.split(f"{MARK}-DMESG-BEGIN", 1)[1].split(f"{MARK}-DMESG-END", 1)[0]
        result.kernel_log = [line for line in log.splitlines() if line.strip()]
    return result


def boot(plan: BootPlan, workdir: str) -> BootResult:
    """Boots the plan's kernel with its modules: insmods them in order and rmmods them in reverse
    (or modprobes the last from its module_root), in `workdir` (the initramfs, the console log)."""
    os.makedirs(workdir, exist_ok=True)
    initramfs = os.path.join(workdir, "initramfs.cpio.gz")
    make_initramfs(plan, initramfs)
    return parse_console(run_qemu(plan, initramfs, os.path.join(workdir, "console.log")))


def boot_modules(arch: str, kernel_image: str, module_files: list[str], workdir: str, **options) -> BootResult:
    """boot() of a BootPlan of these, and of `options` (its other fields by name)."""
    return boot(BootPlan(arch, kernel_image, tuple(module_files), **options), workdir)


# Kernel log lines that explain a failure, whoever printed them.
_TROUBLE = re.compile(r"Rust panic|qemu: hardware error|kernel BUG|BUG:|Oops|Call Trace|RIP:|pc :|lr :|Kernel panic|"
                      r"Unknown rela relocation|Unknown symbol|disagrees about version|invalid module format|"
                      r"Internal error|segfault|general protection|WARNING:|bad vermagic|: kernel tainted\.|"
                      r"module license .* taints kernel|version magic|UBSAN:|ODEBUG:|list_(add|del) corruption")
# What the kernel says of a module it loaded anyway that makes the load a failure: a forced load,
# a license taint, symbol versions it doubts, a warning or a bug while loading or unloading.
# ("loading out-of-tree module taints kernel" and the unsigned-module line are not among them.)
_LOADED_BADLY = re.compile(r"bad vermagic|: kernel tainted\.|module license .* taints kernel|"
                           r"disagrees about version|no symbol version|WARNING:|BUG:|"
                           r"INFO: trying to register non-static key|"       # lockdep: a key not in static memory
                           r"UBSAN:|ODEBUG:|list_(add|del) corruption")       # the debug kernel's other checkers
_EVIDENCE_LINES = 60


# The kernel's line for each taint a module may declare (RustKernelModule(gpl_compatible=False): P).
_DECLARED_TAINT_LINES = {"P": re.compile(r"module license .* taints kernel")}


def judge(result: BootResult, name: str, expected, allowed_taint: str = "") -> list[str]:
    """What went wrong for module `name`, as one line each with the kernel's evidence after it
    (Rust names demangled); [] when it loaded, printed, unloaded.

    `expected`: a line, or several, each of which the kernel log or the exercise's output must hold.
    `allowed_taint`: the taint letters the module declares (P for a license that is deliberately
    not GPL-compatible): exactly those, and the kernel's line saying so, are accepted.
    """
    if not result.booted:
        return [f"the kernel did not reach the test's init (last console line: {process.last_line(result.console)!r})"]
    try:
        module = result.module(name)
    except StopIteration:
        evidence = [line for line in result.console_after_start() if _TROUBLE.search(line) or name in line]
        return [f"{name}: insmod did not return (the kernel stopped during the module's init)",
                *_evidence(evidence or result.console_after_start()[-20:])]
    if module.insmod_rc != 0:
        said = process.last_line(module.insmod_output) or f"rc={module.insmod_rc}"
        own = result.module_log(name)
        trouble = [line for line in result.kernel_log if _TROUBLE.search(line) and line not in own
                   and (name in line or "module" in line)]
        return [f"{name}: insmod failed: {said}", *_evidence(own + trouble)]
    faults = []
    declared = [_DECLARED_TAINT_LINES[letter] for letter in allowed_taint]
    said = [line for line in result.module_log(name) + result.module_log(RMMOD_LOG + name)
            if _LOADED_BADLY.search(line) and not any(d.search(line) for d in declared)]
    tainted = harmful(module.taint, allowed_taint)
    if tainted or said:
        what = f"it tainted the kernel: {taint_text(tainted)}" if tainted else "the kernel complained"
        faults.append(f"{name}: loaded, but {what}")
        faults.extend(_evidence(said))
    for expected_line in [expected] if isinstance(expected, str) else expected:
        if not expected_line or result.log_has(expected_line) \
                or any(expected_line in line for line in result.exercise_output):
            continue
        own = result.module_log(name)
        faults.append(f"{name}: loaded, but '{expected_line}' is not in the kernel log"
                      + (" nor in the exercise's output" if result.exercise_output else "") + "; "
                      + ("while loading, the kernel logged:" if own else "the module logged nothing while loading"))
        faults.extend(_evidence(own))
        faults.extend(f"  output: {line}" for line in result.exercise_output[:_EVIDENCE_LINES])
    if module.rmmod_rc != 0:
        faults.append(f"{name}: rmmod failed (rc={module.rmmod_rc})")
    gained = result.new_kernel_taint(allowed_taint)
    if gained:
        faults.append(f"{name}: after rmmod the kernel is tainted {taint_text(gained)}")
    missing = "".join(letter for letter in allowed_taint if letter not in module.taint)
    if missing and not faults:      # declared, so the kernel must have set it
        faults.append(f"{name}: declared taint {missing} (gpl_compatible=False), but the kernel did not set it "
                      f"(its taint: {module.taint or 'none'}): its license is GPL-compatible after all")
    return faults


def _evidence(lines: list[str]) -> list[str]:
    """Kernel lines as `  kernel: ...`, Rust names demangled, at most _EVIDENCE_LINES of them."""
    from rustkmod.elf.symbols import demangle
    shown = demangle([line.rstrip() for line in lines if "ommand line:" not in line][:_EVIDENCE_LINES])
    more = len(lines) - _EVIDENCE_LINES
    return [f"  kernel: {line}" for line in shown] + ([f"  kernel: ... {more} more line(s) in the log"] if more > 0 else [])
