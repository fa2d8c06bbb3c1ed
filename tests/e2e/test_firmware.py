"""rustkmod inside a firmware build (examples/firmware): two modules, one calling the other's
export, built through SConscript into a variant directory, installed into a staging root with
depmod's index, and booted in QEMU where modprobe loads the dependency by itself."""

import re
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile

from helpers import ROOT, copy_project, default_kdir, fetch_kernels, scons
from rustkmod.kernel.tree import Kernel
from rustkmod.verify.target import read_symvers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def firmware(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("firmware") / "checkout") / "examples" / "firmware"


@pytest.fixture(scope="module")
def release():
    return Kernel.from_kdir(default_kdir()).release


def versions(ko) -> dict:
    """Symbol -> CRC from a module's __versions: what modpost recorded for its imports."""
    with open(ko, "rb") as handle:
        elf = ELFFile(handle)
        data = elf.get_section_by_name("__versions").data()
    size = 64
    return {data[i + 8:i + size].split(b"\0", 1)[0].decode(): int.from_bytes(data[i:i + 8], "little")
            for i in range(0, len(data), size)}


def test_the_second_module_links_against_the_first_ones_export(firmware, release):
    run = scons(firmware)
    assert run.returncode == 0, run.output
    out = firmware / "build" / "pc" / release
    assert {p.parent.name for p in out.glob("*/*.ko.verified")} == {"rkcounter", "rkgreet"}
    # KBUILD_EXTRA_SYMBOLS reached modpost: rkgreet carries the CRC rkcounter exported.
    exported = read_symvers(str(out / "rkcounter" / "Module.symvers"))
    assert versions(out / "rkgreet" / "rkgreet.ko")["rkcounter_next"] == exported["rkcounter_next"]
    # Both crates share one sysroot (built once per machine) and one cargo target directory.
    assert run.steps().count("SYSROOT") == 1 and run.steps().count("CARGO") == 2
    assert not list(out.parent.rglob("libcore-*.rlib"))
    # The variant directory holds every output; the sources stay as they were.
    assert sorted(p.name for p in (firmware / "modules").rglob("*") if p.is_file()) == [
        "Cargo.lock", "Cargo.lock", "Cargo.toml", "Cargo.toml", "SConscript", "lib.rs", "lib.rs", "module.c", "module.c"]


def test_a_misspelt_firmware_variable_stops_the_run_naming_the_firmwares_own(firmware):
    """BOARDS is the firmware's own Variables, given to RustkmodCheckArguments: a typo of it is one
    line naming it, and nothing is built; the right name is no error."""
    run = scons(firmware, "-n", "BORADS=pc")
    assert run.returncode == 2 and "BORADS=pc: no such build variable; did you mean BOARDS?" in run.stderr, run.output
    assert run.steps() == []
    assert scons(firmware, "-n", "BOARDS=pc").returncode == 0


def test_without_uses_the_build_names_the_missing_export(firmware):
    sconscript = firmware / "modules" / "SConscript"
    original = sconscript.read_text()
    sconscript.write_text(original.replace(", uses=[counter]", ""))
    try:
        run = scons(firmware)
    finally:
        sconscript.write_text(original)
    assert run.returncode != 0
    assert re.search(r'"rkcounter_next" \[.*rkgreet\.ko\] undefined', run.output), run.output


def test_installed_modules_load_with_modprobe(firmware, release):
    run = scons(firmware, "check-install")
    assert run.returncode == 0, run.output
    modules = firmware / "build" / "pc" / "root" / "lib" / "modules" / release
    assert "extra/rkgreet.ko: extra/rkcounter.ko" in (modules / "modules.dep").read_text().splitlines()
    assert re.search(r"rkgreet: loaded, printed 'rkgreet: ticket 3 from rkcounter', unloaded on Linux .* "
                     r"\(modprobe from \S+/build/pc/root\)", run.stdout), run.stdout
    log = (firmware / "build" / "pc" / release / "rkgreet" / "rkgreet.ko.modprobed.log").read_text()
    assert "RUSTKMOD-INSMOD rkcounter rc=0" in log        # loaded by modprobe, not by the test
    # What is installed is what was verified, stripped of its debug info (INSTALL_MOD_STRIP=1;
    # Debian's headers hold no signing key: unsigned).
    built = firmware / "build" / "pc" / release / "rkgreet" / "rkgreet.ko"
    stripped = firmware / "rkgreet-stripped.ko"
    subprocess.run(["strip", "--strip-debug", "-o", str(stripped), str(built)], check=True)
    assert (modules / "extra" / "rkgreet.ko").read_bytes() == stripped.read_bytes()
    assert "installed modules are not signed" in run.stdout
    assert scons(firmware, "check-install").steps() == []


@pytest.fixture(scope="module")
def fetched_6_12():
    """The pc-6.12 board's kernel, fetched into the user's cache (a no-op once it is there)."""
    return fetch_kernels("6.12")["6.12"].kdir


def test_two_boards_build_into_their_own_variant_directories(firmware, release, fetched_6_12):
    run = scons(firmware, "BOARDS=pc,pc-6.12", "-j2")
    assert run.returncode == 0, run.output
    assert {p.name for p in (firmware / "build" / "pc-6.12").glob("6.12*/rk*")} == {"rkcounter", "rkgreet"}
    assert run.steps().count("KBUILD") == 2         # the pc board was up to date


def test_an_unverified_module_is_never_installed(firmware, tmp_path):
    # host-default codegen makes GOTPCREL relocations the loader refuses: the verifier fails.
    run = scons(firmware, "-k", "install", "RUST_PROFILE=host-default", "OBJTOOL=off",
                f"INSTALL_MOD_PATH={tmp_path}/root")
    assert run.returncode != 0
    assert "R_X86_64_GOTPCREL" in run.output
    assert not list(tmp_path.rglob("*.ko*"))
    assert "INSTALL" not in run.steps()


def test_an_installed_xz_module_is_checked_as_the_kernel_loads_it(firmware, fetched_6_12, tmp_path):
    """6.12 installs .ko.xz: the checker decompresses it, as the kernel (or kmod) does."""
    import lzma
    run = scons(firmware, "BOARDS=pc-6.12", "install", f"INSTALL_MOD_PATH={tmp_path}/root")
    assert run.returncode == 0, run.output
    [installed] = tmp_path.glob("root/lib/modules/6.12*/extra/rkcounter.ko.xz")
    kdir = fetched_6_12

    def check(path):
        return subprocess.run([sys.executable, "-m", "rustkmod", "check", str(path), "--kdir", str(kdir)],
                              capture_output=True, text=True, cwd=ROOT / "site_scons")
    good = check(installed)
    assert good.returncode == 0 and "(decompressed from xz, as the kernel loads it)" in good.stdout, good.stderr
    truncated = tmp_path / "truncated.ko.xz"
    truncated.write_bytes(installed.read_bytes()[:200])
    bad = check(truncated)
    assert bad.returncode == 2 and "a damaged xz file" in bad.stderr
    elf = bytearray(lzma.decompress(installed.read_bytes()))
    elf[18:20] = (183).to_bytes(2, "little")                       # claims arm64
    foreign = tmp_path / "foreign.ko.xz"
    foreign.write_bytes(lzma.compress(bytes(elf)))
    refused = check(foreign)
    assert refused.returncode == 1 and "Invalid architecture in ELF header: 183" in refused.stdout
