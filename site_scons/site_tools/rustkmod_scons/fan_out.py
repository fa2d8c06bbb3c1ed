"""One module across several kernels: KERNELS resolved to one environment per kernel, the step
that fails for a kernel that cannot be used, and `scons flags` (each kernel's hardening).

  file                                    builder          runs
  BUILD_DIR/unusable/<module>-<kernel>    UnusableKernel   fails, naming why a kernel of KERNELS cannot be used
  (alias) flags                           -                prints the kernels' hardening as rustc flags
"""

from __future__ import annotations

import os

import SCons.Action

from rustkmod import COMMAND, RustkmodError

from . import state
from .common import builder, fail


def _unusable_kernel(target, source, env):
    fail(source[0].read())


def _print_flags(target, source, env):
    """`scons flags`: per kernel, its hardening options as rustc flags, and what rustc cannot match."""
    texts = sorted({m.flags() for result in state.registry().summary for m in result.modules})
    print("\n".join(texts) if texts else "no kernel module is configured")


BUILDERS = {"UnusableKernel": builder(_unusable_kernel, "KERNEL")}


def add_flags_alias(env) -> None:
    """`scons flags` prints information only, so it is always "built"."""
    registry = state.registry()
    if not registry.flags_alias:
        registry.flags_alias.append(env.AlwaysBuild(env.Alias("flags", [], SCons.Action.Action(_print_flags, None))))


def kernel_envs(env, entries: list[str]):
    """(label, env for that kernel or None, why not) for each entry of KERNELS."""
    from rustkmod.kernel import debian      # only for kernels given by name
    for entry in entries:
        if os.sep in entry or os.path.isdir(entry):
            yield entry, env.Clone(KDIR=os.path.abspath(entry), KERNEL_IMAGE=""), ""
            continue
        try:
            spec = debian.KernelSpec.parse(entry)
        except RustkmodError as err:
            yield entry, None, str(err)
            continue
        found = debian.lookup(spec, env["KERNEL_CACHE"])
        lost = debian.unusable(found, spec, env["KERNEL_CACHE"]) if found else ""
        if found is None:
            yield entry, None, (f"kernel {entry} has not been fetched into {env['KERNEL_CACHE']}; run: "
                                f"{COMMAND} fetch-kernel {entry}")
        elif lost:
            yield entry, None, (f"kernel {entry}: {lost}; fetch it again: {COMMAND} fetch-kernel {entry}")
        else:
            yield entry, env.Clone(KDIR=found.kdir, KERNEL_IMAGE=found.image, RUSTKMOD_BUSYBOX=found.busybox), ""


def safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in ".-_" else "_" for c in label)
