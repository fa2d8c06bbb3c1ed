"""`scons install`: verified modules into INSTALL_MOD_PATH, signed, with depmod's index.

  file                                                      builder         runs
  BUILD_DIR/<kernel>/<module>/install/<module>.ko           StageInstall    copy of the verified .ko; sign-file
  INSTALL_MOD_PATH/lib/modules/<release>/extra/<module>.ko  ModulesInstall  make -C KDIR M=... modules_install
  INSTALL_MOD_PATH/lib/modules/<release>/modules.dep        Depmod          depmod -b INSTALL_MOD_PATH

The staged copy is made from the verified .ko and requires the verifier's stamp, so nothing
unverified can reach the staging root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import NamedTuple

from rustkmod.kernel import suite_roots, install
from rustkmod.kernel.tree import Kernel

from . import state
from .common import builder, check_status, fail, files, remove, run, say, setting, settings_node, write_text


class StageSettings(NamedTuple):
    signer: install.Signer | None    # None: unsigned, for the reason in `unsigned`
    unsigned: str = ""
    strip: tuple = ()                # the command that strips debug info, before signing; () keeps it


class ModulesInstallSettings(NamedTuple):
    kdir: str
    root: str
    make_variables: tuple


class DepmodSettings(NamedTuple):
    command: tuple


def _stage(target, source, env):
    """The verified .ko and a modules.order naming it, signed when a key is configured.

    The sources are the .ko, Kbuild's modules.order, then the key and certificate files.
    """
    settings = setting(source, StageSettings)
    ko, order_file = files(source)[:2]
    module = target[0].abspath
    shutil.copyfile(ko.abspath, module)
    with open(order_file.abspath, encoding="utf-8") as handle:
        order = install.staging_modules_order(handle.read(), target[0].dir.abspath)
    write_text(target[1].abspath, order)
    if settings.strip:
        check_status(run([*settings.strip, module], capture_output=True, text=True, what=" (binutils of the kernel's "
                         "architecture: CROSS_COMPILE)"), f"{settings.strip[0]} on {target[0]}")
    signer = settings.signer
    if signer:
        if run(signer.command(module)).returncode != 0:
            remove(module)
            fail(f"sign-file could not sign {target[0]} with {signer.key}",
                 "check MODULE_SIG_KEY and MODULE_SIG_CERT are a key and its certificate")
        say(f"         signed with {signer.key} ({signer.hash})")
    elif settings.unsigned:
        say(f"         {settings.unsigned}")


def _modules_install(target, source, env):
    settings = setting(source, ModulesInstallSettings)
    staged = files(source)[0]
    tree = suite_roots.root_of(settings.kdir)            # Kbuild in the kernel's build root, if it has one
    command = install.modules_install_command(suite_roots.inside(tree, settings.kdir), staged.dir.abspath, settings.root,
                                              list(settings.make_variables))
    os.makedirs(settings.root, exist_ok=True)
    result = run(suite_roots.command(tree, command, staged.dir.abspath, [staged.dir.abspath, settings.root]),
                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Kbuild skips its own depmod without a System.map; the Depmod step runs it instead.
    say("".join(line + "\n" for line in result.stdout.splitlines() if "Skipping depmod" not in line))
    check_status(result, f"modules_install of {staged}")
    if not os.path.exists(target[0].abspath):
        fail(f"modules_install succeeded but did not write {target[0]}")


def _depmod(target, source, env):
    """depmod's index of the staged modules; fails when one needs a symbol nothing provides."""
    settings = setting(source, DepmodSettings)
    result = run(list(settings.command), capture_output=True, text=True, what=" (install kmod)")
    problems = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    if result.returncode != 0 or any("unknown symbol" in line for line in problems):
        say("\n".join(problems), error=True)
        remove(target[0].abspath)
        fail(f"depmod failed on {target[0].dir}",
             "install the modules these depend on into the same INSTALL_MOD_PATH")


BUILDERS = {
    "StageInstall": builder(_stage, "STAGE"),
    "ModulesInstall": builder(_modules_install, "INSTALL"),
    "Depmod": builder(_depmod, "DEPMOD"),
}


def install_root(env, build_dir, kernel: Kernel, kernel_dir_name: str):
    """INSTALL_MOD_PATH, or BUILD_DIR/root: a staging root, never / by default.

    A second tree of the same release (its build directory is `<release>-<digest>`) would install
    over the first, so it gets `<root>/<release>-<digest>` of its own.
    """
    given = env["INSTALL_MOD_PATH"]
    root = env.Dir(os.path.abspath(given)) if given else build_dir.Dir("root")
    return root if kernel_dir_name == kernel.name else root.Dir(kernel_dir_name)


class Installed(NamedTuple):
    root: object            # the staging root's node
    nodes: list             # the installed module and depmod's index
    signed: bool
    staged: object = None   # the verified (and signed) copy, BUILD_DIR/<kernel>/<module>/install/<module>.ko


def nodes(build, module_ko, verified, modules_order) -> Installed:
    """The nodes that put one verified module into the staging root and its depmod index."""
    env, kernel, name, module_dir = build.env, build.kernel, build.name, build.module_dir
    root = install_root(env, build.out, kernel, build.dir_name)
    signer, why_unsigned = install.signer_for(kernel, env["MODULE_SIG"], env["MODULE_SIG_KEY"], env["MODULE_SIG_CERT"])
    if signer and env["MODULE_SIG_CERT"]:
        warning = install.untrusted_note(kernel, signer.cert)
        if warning:
            state.registry().note(warning)
    staging = module_dir.Dir("install")
    signing_inputs = [env.File(p) for p in (signer.key, signer.cert) if os.path.isfile(p)] if signer else []
    staged = env.StageInstall([staging.File(f"{name}.ko"), staging.File("modules.order")],
                              [module_ko, modules_order] + signing_inputs
                              + [settings_node(env, StageSettings(signer, why_unsigned, install.strip_command(
                                  build.cross_compile, env["INSTALL_MOD_STRIP"])))])
    env.Requires(staged, verified)      # only what the verifier passed is staged
    env.Depends(staged, verified)       # and a new verdict restages it
    installed = env.ModulesInstall(root.File(install.installed_path(kernel, name)), [staged[0], staged[1], settings_node(env,
        ModulesInstallSettings(kernel.kdir, root.abspath, tuple(build.make_variables)))])
    depmod = state.memo().remember(("depmod", root.abspath, kernel.kdir), lambda: env.Depmod(
        root.Dir("lib/modules").Dir(kernel.release).File("modules.dep"),
        [settings_node(env, DepmodSettings(tuple(install.depmod_command(kernel, root.abspath))))]))
    env.Depends(depmod, installed)
    env.Clean(installed, depmod)
    if not env["INSTALL_MOD_PATH"]:
        # the default root, BUILD_DIR/root, is the build's own: depmod's indexes go with it (a root
        # given by INSTALL_MOD_PATH keeps what others put there)
        env.Clean(installed, root.Dir("lib/modules").Dir(kernel.release))
    return Installed(root, installed + depmod, signer is not None, staged[0])
