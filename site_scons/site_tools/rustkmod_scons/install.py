"""`scons install`: verified modules into INSTALL_MOD_PATH, signed, with depmod's index.

  file                                                      builder         runs
  BUILD_DIR/<kernel>/<module>/install/<module>.ko           StageInstall    copy of the verified .ko; sign-file
  INSTALL_MOD_PATH/lib/modules/<release>/extra/<module>.ko  ModulesInstall  make -C KDIR M=... modules_install
  INSTALL_MOD_PATH/lib/modules/<release>/modules.dep        Depmod          depmod -b INSTALL_MOD_PATH

The staged copy is made from the verified .ko and requires the verifier's stamp, so nothing
unverified can reach the staging root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import SCons.Builder

from rustkmod import RustkmodError, install
from rustkmod.kernel import Kernel

from .common import action, memo, message, note, report_error, run, settings_of


def _stage(target, source, env):
    """The verified .ko and a modules.order naming it, signed when a key is configured."""
    settings = settings_of(source[-1])
    module = target[0].abspath
    shutil.copyfile(source[0].abspath, module)
    with open(source[1].abspath, encoding="utf-8") as handle:
        order = install.staging_modules_order(handle.read(), target[0].dir.abspath)
    with open(target[1].abspath, "w", encoding="utf-8") as handle:
        handle.write(order)
    signer = settings["signer"]
    if signer:
        status = run(install.Signer(**signer).command(module))
        if status:
            os.remove(module)
            return report_error(RustkmodError(f"sign-file could not sign {target[0]} with {signer['key']}",
                                              "check MODULE_SIG_KEY and MODULE_SIG_CERT are a key and its certificate"))
        print(f"         signed with {signer['key']} ({signer['hash']})")
    elif settings["unsigned"]:
        print(f"         {settings['unsigned']}")
    return 0


def _modules_install(target, source, env):
    settings = settings_of(source[-1])
    command = install.modules_install_command(settings["kdir"], source[0].dir.abspath, settings["root"],
                                              settings["make_variables"])
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except FileNotFoundError:
        return report_error(RustkmodError("make not found", "install make (./setup does)"))
    # Kbuild skips its own depmod without a System.map; the Depmod step runs it instead.
    print("".join(line + "\n" for line in result.stdout.splitlines() if "Skipping depmod" not in line), end="")
    status = result.returncode
    if status == 0 and not os.path.exists(target[0].abspath):
        print(f"scons: *** rustkmod: modules_install succeeded but did not write {target[0]}", file=sys.stderr)
        return 1
    return status


def _depmod(target, source, env):
    """depmod's index of the staged modules; fails when one needs a symbol nothing provides."""
    command = settings_of(source[-1])["command"]
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        return report_error(RustkmodError("depmod not found", "install kmod (./setup does)"))
    problems = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    if result.returncode != 0 or any("unknown symbol" in line for line in problems):
        print("\n".join(problems), file=sys.stderr)
        return report_error(RustkmodError(f"depmod failed on {target[0].dir}",
                                          "install the modules these depend on into the same INSTALL_MOD_PATH"))
    return 0


BUILDERS = {
    "StageInstall": SCons.Builder.Builder(action=action(_stage, message("STAGE"))),
    "ModulesInstall": SCons.Builder.Builder(action=action(_modules_install, message("INSTALL"))),
    "Depmod": SCons.Builder.Builder(action=action(_depmod, message("DEPMOD"))),
}


def install_root(env, build_dir, kernel: Kernel, kernel_dir_name: str):
    """INSTALL_MOD_PATH, or BUILD_DIR/root: a staging root, never / by default.

    A second tree of the same release (its build directory is `<release>-<digest>`) would install
    over the first, so it gets `<root>/<release>-<digest>` of its own.
    """
    given = env["INSTALL_MOD_PATH"]
    root = env.Dir(os.path.abspath(given)) if given else build_dir.Dir("root")
    return root if kernel_dir_name == kernel.name else root.Dir(kernel_dir_name)


def install_nodes(env, kernel: Kernel, name: str, module_dir, module_ko, verified, modules_order,
                  make_variables: list[str], root) -> tuple[list, bool]:
    """The nodes that put one verified module into the staging root and its depmod index, and
    whether the module is signed."""
    signer, why_unsigned = install.signer_for(kernel, env["MODULE_SIG"], env["MODULE_SIG_KEY"], env["MODULE_SIG_CERT"])
    if signer and env["MODULE_SIG_CERT"]:
        warning = install.untrusted_note(kernel, signer.cert)
        if warning:
            note(warning)
    staging = module_dir.Dir("install")
    signing_inputs = [env.File(p) for p in (signer.key, signer.cert) if os.path.isfile(p)] if signer else []
    staged = env.StageInstall([staging.File(f"{name}.ko"), staging.File("modules.order")],
                              [module_ko, modules_order] + signing_inputs + [env.Value(json.dumps(
                                  {"signer": signer.__dict__ if signer else None, "unsigned": why_unsigned}, sort_keys=True))])
    env.Requires(staged, verified)      # only what the verifier passed is staged
    env.Depends(staged, verified)       # and a new verdict restages it
    installed = env.ModulesInstall(root.File(install.installed_path(kernel, name)), [staged[0], staged[1], env.Value(
        json.dumps({"kdir": kernel.kdir, "root": root.abspath, "make_variables": make_variables}, sort_keys=True))])
    depmod = memo(("depmod", root.abspath, kernel.kdir), lambda: env.Depmod(
        root.Dir("lib/modules").Dir(kernel.release).File("modules.dep"),
        [env.Value(json.dumps({"command": install.depmod_command(kernel, root.abspath)}))]))
    env.Depends(depmod, installed)
    env.Clean(installed, depmod)
    return installed + depmod, signer is not None
