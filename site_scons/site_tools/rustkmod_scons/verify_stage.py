"""The relocation stages: the loader's verdict on the .ko, and RELOCS=fix's rewrite.

  file                                              builder        runs
  BUILD_DIR/<kernel>/<module>/fixed/<module>.ko     FixRelocs      RELOCS=fix: PLT32 -> PC32 for old loaders
  BUILD_DIR/<kernel>/<module>/<module>.ko.verified  VerifyRelocs   the loader's checks (pyelftools)

rustkmod.verify (pyelftools) is imported by the actions: a no-op build never pays for it.
"""

from __future__ import annotations

import json
import os
from typing import NamedTuple

from rustkmod import RustkmodError
from rustkmod.kernel.tree import Kernel, loader_source_path

from .common import builder, fail, files, library_code, remove, say, setting, settings_node


class VerifySettings(NamedTuple):
    """The loader a module is judged against: the kernel, its source, and RELOCS."""

    kdir: str
    arch: str
    version: tuple
    kernelrelease: str               # KERNELRELEASE, when the user overrides KDIR's
    kernel_src: str
    relocs: str                      # strict, fix or off
    extra_symvers: tuple = ()        # Module.symvers of the modules this one uses
    allowed_taint: str = ""          # P: the module is declared gpl_compatible=False

    def loader(self):
        """The LoaderTarget of this kernel (read from the tree: its config, exports, source)."""
        from rustkmod.verify import target_for_kernel
        kernel = Kernel.from_kdir(self.kdir, self.arch, self.kernelrelease or None)
        return target_for_kernel(kernel, self.kernel_src, self.extra_symvers)


def _fix_relocs(target, source, env):
    """RELOCS=fix: the module with the types its loader lacks rewritten to their equivalents."""
    from rustkmod.verify.fix import needed_rewrites, rewrite_types
    settings = setting(source, VerifySettings)
    try:
        loader = settings.loader()
        counts = rewrite_types(files(source)[0].abspath, target[0].abspath, needed_rewrites(loader))
    except RustkmodError as err:
        remove(target[0].abspath)
        fail(err)
    names = loader.policy.type_names
    done = ", ".join(f"{count} {names[old]} -> {names[new]}"
                     for (old, new), count in zip(needed_rewrites(loader).items(), counts.values()))
    say(f"         RELOCS=fix rewrote {done or 'nothing'} for {loader.description}")


def _verify(target, source, env):
    """Fails unless the kernel's loader accepts the .ko; writes the stamp."""
    from rustkmod.verify import check_file
    settings = setting(source, VerifySettings)
    module = files(source)[0]
    remove(target[0].abspath)          # no old verdict survives a failed check
    if settings.relocs == "off":
        say(f"         RELOCS=off: {module} is NOT verified against its kernel's loader")
        verdict_text = {"module": str(module), "verification": "off (RELOCS=off)"}
    else:
        try:
            loader = settings.loader()
            verdict = check_file(module.abspath, loader)
        except RustkmodError as err:
            fail(err)
        _judge(verdict, module, loader.description, settings.allowed_taint)
        taint = f", which it taints {verdict.taint} (declared: gpl_compatible=False)" if verdict.taint else ""
        say(f"         {module}: loadable by {loader.description}{taint}")    # where the .ko is, and its verdict
        verdict_text = {"module": str(module), "kernel": loader.description,
                        "policy": f"{loader.source_file} of the tree" if loader.source_file else "built-in table",
                        "relocations": verdict.type_counts, "taint": verdict.taint}
    with open(target[0].abspath, "w") as handle:
        json.dump(verdict_text, handle, indent=1)
        handle.write("\n")


def _judge(verdict, module, kernel: str, allowed_taint: str) -> None:
    """Fails unless the loader loads the module and taints the kernel with exactly what the module
    declares: a refusal is "refused", an undeclared taint is "would taint", each with the report."""
    from rustkmod.verify import format_report
    from rustkmod.verify.modinfo import TAINTING
    name = os.path.basename(module.abspath)[:-3]
    undeclared = [p for p in verdict.problems if p.kind in TAINTING and TAINTING[p.kind] not in allowed_taint]
    if verdict.refusals or undeclared:
        say(format_report(verdict.refusals + undeclared, kernel, name), error=True)
        if verdict.refusals:
            fail(f"{module} would be refused by the loader of {kernel} (report above)")
        fail(f"{module} would taint {kernel} {TAINTING[undeclared[0].kind]}: "
             f"{undeclared[0].type_name} (report above)",
             "give it a GPL-compatible license, or declare the taint: RustKernelModule(..., gpl_compatible=False)")
    if allowed_taint and verdict.taint != allowed_taint:
        fail(f"{module} is declared gpl_compatible=False, but its license is GPL-compatible: the kernel "
             f"would not taint {kernel} {allowed_taint}", "leave out gpl_compatible=False")


BUILDERS = {
    "FixRelocs": builder(_fix_relocs, "FIX"),
    "VerifyRelocs": builder(_verify, "VERIFY"),
}


def nodes(build, ko, allowed_taint: str = "") -> tuple[object, list]:
    """(the .ko that is verified and installed, the verification stamp), for Kbuild's `ko`;
    `allowed_taint`: what the module declares it taints the kernel with (P, or nothing)."""
    env, kernel, name, module_dir, extra_symvers = build.env, build.kernel, build.name, build.module_dir, build.extra_symvers
    settings = VerifySettings(kernel.kdir, kernel.arch, tuple(kernel.version), env["KERNELRELEASE"],
                              env["KERNEL_SRC"], env["RELOCS"], tuple(s.abspath for s in extra_symvers), allowed_taint)
    module_ko = ko
    if env["RELOCS"] == "fix":
        module_ko = env.FixRelocs(module_dir.Dir("fixed").File(f"{name}.ko"), [ko, settings_node(env, settings)])[0]
    verified = env.VerifyRelocs(module_dir.File(f"{name}.ko.verified"), [module_ko, settings_node(env, settings)])
    # What the verdict reads besides the .ko: the exports, and the loader source when there is one;
    # and the verifier's own code, so a new rustkmod judges every module again.
    env.Depends(verified, [env.File(f) for f in kernel.signature_files()] + _loader_sources(env, kernel)
                + extra_symvers + library_code(env, "verify", "elf/reader.py"))
    return module_ko, verified


def _loader_sources(env, kernel: Kernel) -> list:
    paths = [loader_source_path(t, kernel.arch) for t in (env["KERNEL_SRC"], kernel.kdir) if t]
    return [env.File(p) for p in paths if os.path.isfile(p)]
