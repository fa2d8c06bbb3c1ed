"""The boot stage: the kernel booted in QEMU with the verified modules (`scons check`).

  file                                              builder      runs
  BUILD_DIR/<kernel>/<module>/bin/<program>         UserProgram  <cross>gcc -static: a program the exercise runs
  BUILD_DIR/<kernel>/<module>/<module>.ko.booted    BootCheck   QEMU: insmod, rmmod, kernel log
  BUILD_DIR/<kernel>/<module>/<module>.ko.modprobed BootCheck   QEMU with the staged root: modprobe, modprobe -r
"""

from __future__ import annotations

import os
from typing import NamedTuple

from rustkmod import RustkmodError

from .common import builder, check_status, fail, files, run, say, setting, settings_node, write_text


class BootSettings(NamedTuple):
    arch: str
    image: str
    expect: tuple                # lines the kernel log (or the exercise's output) must hold
    kernel: str                  # the kernel, for the summary line
    busybox: str = ""            # a static busybox for the kernel's architecture ("" = the host's)
    root: str = ""               # a staged INSTALL_MOD_PATH to modprobe from
    append: str = ""             # kernel parameters
    exercise: str = ""           # shell commands run while the modules are loaded
    exercise_after: str = ""     # and once they are unloaded
    insmod_params: str = ""      # the module's parameters at insmod (or modprobe)
    files: tuple = ()            # what the exercise runs besides busybox, put in /bin
    allowed_taint: str = ""      # the taint the module declares: P (RustKernelModule(gpl_compatible=False))
    devices: tuple = ()          # QEMU -device specifications for the module's driver to bind to
    device_tree: str = ""        # a .dts file of platform devices' nodes (boot.DEVICE_TREE_ARCHES)
    acpi_tables: tuple = ()      # ASL files of platform devices (x86)


def _boot_check(target, source, env):
    """Boots the kernel with the modules: insmod must succeed and print the expected line.

    The sources are the modules in load order (dependencies first), then the kernel image.
    """
    from rustkmod.kernel import boot
    settings = setting(source, BootSettings)
    modules = [node.abspath for node in files(source)[:-1]]
    try:
        plan = boot.BootPlan(settings.arch, settings.image, tuple(modules), settings.busybox or boot.BUSYBOX,
                             settings.root, settings.append, settings.exercise, settings.exercise_after,
                             settings.insmod_params, tuple(settings.files), tuple(settings.devices),
                             settings.device_tree, tuple(settings.acpi_tables))
        result = boot.boot(plan, target[0].abspath + ".d")
    except boot.GuestHung as err:
        if err.evidence:
            say("\n".join(err.evidence), error=True)
        fail(err)
    except RustkmodError as err:
        fail(err)
    name = boot.module_name(modules[-1])
    faults = [fault for ko in modules[:-1] for fault in boot.judge(result, boot.module_name(ko), "")]
    faults += boot.judge(result, name, settings.expect, settings.allowed_taint)
    log = target[0].abspath + ".log"
    write_text(log, result.console)
    if faults:
        say("\n".join(faults), error=True)
        fail(f"{name} failed its boot test on {settings.kernel}: {faults[0]} (console log: {log})")
    described = boot.described(settings.arch, settings.device_tree, settings.acpi_tables)
    by = " by the devices' modaliases" if settings.devices or described else ""
    how = f" (modprobe{by} from {settings.root}{', module.sig_enforce=1' if settings.append else ''})" \
        if settings.root else ""
    printed = "', '".join(settings.expect)
    summary = f"{name}: loaded, printed '{printed}', unloaded on {settings.kernel}{how}"
    say(f"         {summary}")
    write_text(target[0].abspath, summary + "\n")


class UserProgramSettings(NamedTuple):
    arch: str                    # the kernel's architecture: the compiler and C library to use


def _user_program(target, source, env):
    """A C program of the exercise's, static, for the kernel's architecture."""
    from rustkmod.kernel import boot
    settings = setting(source, UserProgramSettings)
    try:
        command = boot.user_program_command(settings.arch, files(source)[0].abspath, target[0].abspath)
    except RustkmodError as err:
        fail(err)
    result = run(command, what=f" (the {settings.arch} C compiler for exercise_programs)", capture_output=True,
                 text=True)
    say(result.stdout + result.stderr, error=True)
    check_status(result, f"{command[0]} -static {files(source)[0]}",
                 f"fix the program, or install {command[0]} and its C library (./setup does)")


BUILDERS = {"BootCheck": builder(_boot_check, "BOOT"), "UserProgram": builder(_user_program, "CC")}


class BootOptions(NamedTuple):
    """What a module's boot test does besides insmod and rmmod: RustKernelModule's arguments."""
    expect: object = ""              # a line, or lines, the kernel log or the exercise's output must hold
    exercise: str = ""               # shell commands while the module is loaded
    exercise_after: str = ""         # and once it is unloaded
    insmod_params: str = ""          # its parameters at insmod (or modprobe)
    exercise_files: object = ()      # files put in the boot's /bin as they are
    exercise_programs: object = ()   # C sources built static for the kernel's architecture, into /bin
    allowed_taint: str = ""          # P when the module is declared gpl_compatible=False
    qemu_devices: object = ()        # QEMU -device specifications: a list, or {arch: list}
    device_tree: str = ""            # a .dts file of nodes merged into the machine's device tree
    acpi_tables: tuple = ()          # ASL files added to the machine's ACPI tables


def qemu_devices_for(devices, arch: str) -> tuple:
    """The QEMU devices of `qemu_devices=` for `arch`: the list itself, or the dict's entry."""
    if isinstance(devices, dict):
        devices = devices.get(arch, ())
    return tuple([devices] if isinstance(devices, str) else devices)


def check_qemu_devices(name: str, devices) -> None:
    """qemu_devices= is a string, a list of strings, or a dict of them by architecture."""
    from rustkmod.kernel.boot import QEMU_FOR_ARCH
    lists = devices.values() if isinstance(devices, dict) else [devices]
    unknown = [arch for arch in devices if arch not in QEMU_FOR_ARCH] if isinstance(devices, dict) else []
    if unknown or not all(isinstance(d, str) or (isinstance(d, (list, tuple)) and all(isinstance(x, str) for x in d))
                          for d in lists):
        raise RustkmodError(f"RustKernelModule({name!r}): qemu_devices={devices!r} is not a list of QEMU devices",
                            'give qemu_devices=["pci-testdev"], or one list per architecture: '
                            f'qemu_devices={{"x86_64": ["edu"]}} (architectures: {", ".join(QEMU_FOR_ARCH)})')


def check_firmware_files(env, name: str, device_tree, acpi_tables) -> None:
    """device_tree= is one .dts file, acpi_tables= a list of .asl files, all of them present."""
    tables = [acpi_tables] if isinstance(acpi_tables, str) else acpi_tables
    if not isinstance(device_tree, str) or not isinstance(tables, (list, tuple)) or \
            not all(isinstance(t, str) for t in tables):
        raise RustkmodError(f"RustKernelModule({name!r}): device_tree={device_tree!r}, acpi_tables={acpi_tables!r}: "
                            "expected a file name and a list of file names",
                            'give device_tree="nodes.dts" and/or acpi_tables=["ssdt.asl"]')
    for given in ([device_tree] if device_tree else []) + list(tables):
        if not os.path.isfile(env.File(given).srcnode().abspath):
            raise RustkmodError(f"RustKernelModule({name!r}): {given} does not exist",
                                f"write {given}, or give the path of the one you have (relative to the SConscript)")


class Booted(NamedTuple):
    load_order: list        # verified .ko files to load, dependencies first
    check: list             # the verified modules booted (insmod)
    check_installed: list   # the installed ones booted (modprobe)


def nodes(build, module_ko, verified, installed, options: BootOptions) -> Booted:
    """Boot tests of one module for one kernel: insmod of the verified modules (this one after
    those it uses); then the installed ones through modprobe, which loads what this one uses from
    modules.dep; signed modules under module.sig_enforce=1, so a key the kernel does not trust fails."""
    env, kernel, name, module_dir, providers = build.env, build.kernel, build.name, build.module_dir, build.providers
    load_order = list(dict.fromkeys([n for p in providers for n in p.load_order] + [module_ko]))
    image = build.target.image
    kernel_text = f"Linux {kernel.release} ({'.'.join(map(str, kernel.version))}, {kernel.arch})"
    expect = options.expect
    expected = tuple(line for line in ([expect] if isinstance(expect, str) else expect) if line)
    extra = [env.File(f) for f in env.Flatten([options.exercise_files])]
    firmware = [env.File(f) for f in ([options.device_tree] if options.device_tree else []) + list(options.acpi_tables)]
    for program in env.Flatten([options.exercise_programs]):
        source = env.File(program)
        extra += env.UserProgram(module_dir.Dir("bin").File(os.path.splitext(source.name)[0]),
                                 [source, settings_node(env, UserProgramSettings(kernel.arch))])
    settings = BootSettings(kernel.arch, image, expected, kernel_text, build.target.busybox,
                            exercise=options.exercise, exercise_after=options.exercise_after,
                            insmod_params=options.insmod_params, files=tuple(f.abspath for f in extra),
                            allowed_taint=options.allowed_taint,
                            devices=qemu_devices_for(options.qemu_devices, kernel.arch),
                            device_tree=firmware[0].srcnode().abspath if options.device_tree else "",
                            acpi_tables=tuple(f.srcnode().abspath for f in firmware[1 if options.device_tree else 0:]))
    check = env.BootCheck(module_dir.File(f"{name}.ko.booted"),
                          load_order + [env.File(image), settings_node(env, settings)])
    env.Depends(check, verified + [n for p in providers for n in p.verified] + extra + firmware)
    check_installed = env.BootCheck(module_dir.File(f"{name}.ko.modprobed"), load_order + [env.File(image), settings_node(
        env, settings._replace(root=installed.root.abspath, append="module.sig_enforce=1" if installed.signed else ""))])
    env.Depends(check_installed, installed.nodes + [n for p in providers for n in p.install] + extra + firmware)
    return Booted(load_order, check, check_installed)
