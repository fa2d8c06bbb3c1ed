"""The verifier's verdict is the loader's: probe modules, each with one construct the verifier has
an opinion on, are built with Kbuild for each booted kernel, judged by `rustkmod check`, and
insmod'ed by the real kernel in QEMU (one boot per kernel, all probes). Any disagreement fails.
A load that taints the kernel with more than O or E (a forced load, a license taint) is a refusal."""

from pathlib import Path

import pytest

from helpers import fetch_kernels, kbuild_modules
from rustkmod.kernel import boot, suite_roots
import probes
from rustkmod.kernel.tree import Kernel
from rustkmod.verify import check_file, target_for_kernel

pytestmark = pytest.mark.e2e

KERNELS = ["5.10", "6.1", "6.12", "6.1-arm64", "6.1-armhf", "6.1-i386", "6.12-trixie", "6.12-trixie-riscv64", "7.2",
           "7.2-arm64", "7.3"]


@pytest.fixture(scope="module")
def fetched():
    return fetch_kernels(*KERNELS)


def build_probes(kernel: Kernel, directory: Path) -> list[str]:
    """The probes for the kernel's architecture, built by its Kbuild, and the damaged copies."""
    directory.mkdir(parents=True)
    root = suite_roots.root_of(kernel.kdir)          # Debian 13's and 7.x kernels: Kbuild in their build root
    sources = probes.probe_sources(kernel.arch, str(directory.parent), root)
    for name, text in sources.items():
        (directory / f"{name}.S").write_text(text)
    (directory / "Kbuild").write_text(probes.kbuild_text(sources))
    kbuild_modules(kernel, directory)
    kos = [str(directory / f"{name}.ko") for name in sorted(sources)]
    if kernel.arch == "x86_64" or kernel.arch == "arm64":
        kos += [probes.damaged_copy(str(directory / "sound.ko"), name, str(directory / f"{name}.ko"))
                for name in sorted(probes.HEADER_DAMAGE)]
    undamaged = [str(directory / f"{name}.ko") for name in probes.MODINFO_DAMAGE
                 if not probes.damage_modinfo(str(directory / f"{name}.ko"), name)]
    return [ko for ko in kos if ko not in undamaged]


@pytest.mark.parametrize("entry", KERNELS)
def test_every_probe_gets_the_loaders_verdict(fetched, entry, tmp_path):
    found = fetched[entry]
    kernel = Kernel.from_kdir(found.kdir)
    kos = build_probes(kernel, tmp_path / "probes")
    target = target_for_kernel(kernel)
    ours = {}
    for ko in kos:
        try:
            ours[boot.module_name(ko)] = "load" if check_file(ko, target).loadable else "refuse"
        except Exception as err:        # a file the checker cannot read at all: it says so (exit 2)
            ours[boot.module_name(ko)] = f"error: {err}"
    result = boot.boot_modules(kernel.arch, found.image, kos, str(tmp_path / "boot"),
                               busybox=found.busybox or boot.BUSYBOX)
    assert result.booted, result.console[-3000:]
    rows, disagreements = [], []
    for ko in kos:
        name = boot.module_name(ko)
        module = result.module(name)
        # a forced load (bad vermagic) or a license taint counts as refused: without
        # CONFIG_MODULE_FORCE_LOAD the same module is refused, and Debian's kernels taint instead
        loader = "load" if module.insmod_rc == 0 and not module.harmful_taint else "refuse"
        agree = ours[name] == loader or (loader == "refuse" and ours[name].startswith("error"))
        rows.append(f"  {entry:<10} {name:<22} loader: {loader:<7} verifier: {ours[name][:40]:<40} "
                    f"{'agree' if agree else 'DISAGREE'}")
        if not agree:
            disagreements.append(name)
    print(f"\n{kernel.release}: {len(kos) - len(disagreements)} of {len(kos)} probes agree\n" + "\n".join(rows))
    assert not disagreements, "\n".join(rows) + "\n" + "\n".join(result.module_log(n) and "\n".join(
        result.module_log(n)) or "" for n in disagreements)
    assert ours["sound"] == "load"      # the control: a sound module loads, and the checker says so
    assert any(verdict == "refuse" for verdict in ours.values())
