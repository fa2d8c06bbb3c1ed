"""What a run says beyond its steps: the per-kernel summary at exit, and the targets `scons -h`
lists (once the SConscripts have made them)."""

from __future__ import annotations

import os

from SCons.Script import GetOption

from . import state


# ---------------------------------------------------------------------------------------------
# `scons -h`: the targets, once the SConscripts have made them

# What the usual aliases build; an alias a project names otherwise is listed by its name.
TARGET_MEANINGS = {
    "check": "build, verify, then boot each kernel in QEMU: insmod, the expected lines, rmmod",
    "check-installed": "boot the installed modules: modprobe from INSTALL_MOD_PATH",
    "test-host": "the crates' tests on the host (cargo test, and the user-space insmod)",
    "install": "the verified modules into INSTALL_MOD_PATH/lib/modules/<release>, and depmod",
    "editor": "rust-project.json and compile_commands.json (build/compile_commands.json for clangd)",
    "flags": "each kernel's hardening as rustc flags",
    "deb": "a Debian package per kernel of the verified modules (BUILD_DIR/deb/)",
    "dkms": "the project as a DKMS source tree (BUILD_DIR/dkms/): rustkmod builds and verifies it per kernel",
    "rustkmod-deb": "rustkmod itself as a Debian package (BUILD_DIR/deb/rustkmod_<version>_all.deb), from its checkout",
    "dkms-deb": "that tree as Debian's <package>-dkms package (BUILD_DIR/deb/), for apt on machines without the project",
}


def print_targets() -> None:
    """Under `scons -h`, at exit: the aliases the build defines (SCons prints the Help() text
    before the SConscripts' aliases can be listed in it, so they follow it)."""
    if not GetOption("help"):
        return
    import SCons.Node.Alias
    names = sorted(SCons.Node.Alias.default_ans)
    if names:
        width = max(len(name) for name in names)
        lines = [f"  scons {name:<{width}}  {TARGET_MEANINGS.get(name, 'an alias of this build')}" for name in names]
        print("rustkmod targets (plain `scons` builds and verifies the default ones):\n" + "\n".join(lines))


# ---------------------------------------------------------------------------------------------
# The per-kernel summary at exit


def print_summary() -> None:
    """At exit, when several kernels were configured: per kernel, what became of each module."""
    from SCons.Script import GetBuildFailures
    summary = state.registry().summary
    if not any(len(r.modules) + len(r.unusable) > 1 for r in summary):
        return
    failures = GetBuildFailures()
    lines = ["rustkmod: per-kernel summary"]
    for result in summary:
        for module in result.modules:
            where = os.path.dirname(module.ko[0].abspath) + os.sep
            failed = [f for f in failures if _failed_path(f).startswith(where)]
            if failed:
                state_text = f"FAILED: {failed[0].node} ({failed[0].errstr})"
            elif module.verified and _done(module.verified[0]):
                state_text = "built, verified" + (", booted" if _done(module.check[0]) else "")
            else:
                state_text = "not built (not requested, or stopped by another failure)"
            lines.append(f"  {result.name} for {module.kernel}: {state_text}")
        for label, reason in result.unusable:
            lines.append(f"  {result.name} for {label}: FAILED: {reason}")
    print("\n".join(lines))


def _failed_path(failure) -> str:
    node = failure.node[0] if isinstance(failure.node, (list, tuple)) and failure.node else failure.node
    return str(getattr(node, "abspath", ""))


def _done(node) -> bool:
    """Whether this run built `node` or found it up to date (not: a stale file from earlier)."""
    import SCons.Node
    return node.get_state() in (SCons.Node.up_to_date, SCons.Node.executed)
