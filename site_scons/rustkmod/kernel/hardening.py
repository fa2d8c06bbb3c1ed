"""The kernel's hardening, as rustc flags: what its .config asks of C code, asked of Rust too.

A kernel built against Spectre-class attacks compiles every indirect call through its retpoline
thunks and every return through its return thunk; a module whose Rust half does neither runs
unprotected code inside a protected kernel. Each row maps a kernel option to the rustc flags the
kernel's own Rust support passes for it (arch/x86/Makefile: RETPOLINE_RUSTFLAGS,
RETHUNK_RUSTFLAGS, the IBT and PADDING rustflags of 6.x), or says why rustc cannot match it.
Options were renamed in 6.9 (CONFIG_RETPOLINE -> CONFIG_MITIGATION_RETPOLINE, ...): both count.
"""

from __future__ import annotations

from typing import NamedTuple

from rustkmod.kernel.tree import Kernel, first_enabled


class Hardening(NamedTuple):
    flags: tuple          # rustc flags, in a stable order
    matched: tuple        # (option, what the flags do)
    unmatched: tuple      # (option, what it means that Rust code does without it)


# Options renamed in 6.9, newest name first; the verifier's thunk check asks for the same ones.
RETPOLINE_OPTIONS = ("CONFIG_MITIGATION_RETPOLINE", "CONFIG_RETPOLINE")
RETHUNK_OPTIONS = ("CONFIG_MITIGATION_RETHUNK", "CONFIG_RETHUNK")

# arm64: (option, -Zbranch-protection value, what it does), in the order rustc takes them.
_ARM64_BRANCH_PROTECTION = (
    ("CONFIG_ARM64_PTR_AUTH_KERNEL", "pac-ret", "return addresses signed with pointer authentication"),
    ("CONFIG_ARM64_BTI_KERNEL", "bti", "BTI landing pads"),
)


def kernel_hardening(kernel: Kernel) -> Hardening:
    config = kernel.config
    flags, matched, unmatched = [], [], []

    def use(option, new_flags, what):
        flags.extend(f for f in new_flags if f not in flags)
        matched.append((option, what))

    if kernel.arch == "x86_64":
        if option := first_enabled(config, *RETPOLINE_OPTIONS):
            use(option, ["-Zretpoline-external-thunk", "-Cjump-tables=no"],
                "indirect calls and jumps go through the kernel's __x86_indirect_thunk_*; no jump tables")
        if option := first_enabled(config, *RETHUNK_OPTIONS):
            use(option, ["-Zfunction-return=thunk-extern"], "returns jump to the kernel's __x86_return_thunk")
        if option := first_enabled(config, "CONFIG_MITIGATION_SLS", "CONFIG_SLS"):
            use(option, ["-Ctarget-feature=+harden-sls-ret,+harden-sls-ijmp"],
                "an int3 after every ret and indirect jump (straight-line speculation)")
        if option := first_enabled(config, "CONFIG_X86_KERNEL_IBT"):
            use(option, ["-Zcf-protection=branch", "-Cjump-tables=no"],
                "endbr64 at every function an indirect branch may reach")
        if option := first_enabled(config, "CONFIG_CALL_PADDING"):
            padding = config.get("CONFIG_FUNCTION_PADDING_BYTES", "16")
            use(option, [f"-Zpatchable-function-entry={padding},{padding}"],
                f"{padding} bytes of padding before each function, for call thunks and FineIBT")
    if kernel.arch == "arm64":
        enabled = [(option, flag, what) for option, flag, what in _ARM64_BRANCH_PROTECTION if config.get(option) == "y"]
        if enabled:
            use("/".join(option for option, _, _ in enabled),
                [f"-Zbranch-protection={','.join(flag for _, flag, _ in enabled)}"],
                "; ".join(what for _, _, what in enabled))
        if option := first_enabled(config, "CONFIG_SHADOW_CALL_STACK"):
            use(option, ["-Zfixed-x18", "-Zsanitizer=shadow-call-stack"], "return addresses kept on the shadow stack")
    if option := first_enabled(config, "CONFIG_FRAME_POINTER"):
        use(option, ["-Cforce-frame-pointers=yes"], "frame pointers, for the kernel's stack traces")
    if option := first_enabled(config, "CONFIG_STACKPROTECTOR_STRONG", "CONFIG_STACKPROTECTOR"):
        unmatched.append((option, "Rust functions get no stack canary: rustc's bare-metal targets would read "
                                  "__stack_chk_guard, which the kernel does not provide (its own Rust does the same)"))
    if option := first_enabled(config, "CONFIG_MODVERSIONS"):
        matched.append((option, "modpost versions every symbol the module imports, Rust's included, "
                                "as it reads the whole composite object"))
    return Hardening(tuple(flags), tuple(matched), tuple(unmatched))


def describe(kernel: Kernel, hardening: Hardening) -> str:
    """The derived flags and what they stand for, one line each, for `scons flags`."""
    lines = [f"Linux {kernel.release} ({kernel.arch}):"]
    lines += [f"  {option}: {what}" for option, what in hardening.matched]
    lines += [f"  {option}: NOT MATCHED: {why}" for option, why in hardening.unmatched]
    lines.append(f"  rustc flags: {' '.join(hardening.flags) or '(none)'}")
    return "\n".join(lines)
