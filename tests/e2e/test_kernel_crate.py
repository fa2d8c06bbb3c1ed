"""A module with no C (tests/projects/knoc): the `kernel` crate's module! makes its entry points and
.modinfo, the crate carries #![forbid(unsafe_code)] and names the kernel crate by version from
outside the checkout; built, verified and booted on kernels of five architectures."""

import subprocess

import pytest

from helpers import built_outside_project, fetch_kernels, kernel_summary

pytestmark = pytest.mark.e2e

NAMES = ("5.10", "6.1", "7.2", "6.1-arm64", "6.1-armhf", "6.12-trixie-riscv64", "6.1-i386")
LINE = "knoc: loaded, printed 'knoc: up, 3 values, sum 6', 'knoc: down', unloaded"


@pytest.fixture(scope="module")
def knoc(tmp_path_factory):
    fetched = fetch_kernels(*NAMES)
    project, env, run = built_outside_project("knoc", tmp_path_factory.mktemp("knoc"), "check",
                                              "KERNELS=" + ",".join(NAMES), timeout=2400)
    return project, fetched, run


def test_a_module_without_c_loads_and_unloads_on_every_kernel(knoc):
    project, fetched, run = knoc
    assert set(kernel_summary(run, "knoc").values()) == {"built, verified, booted"}
    assert len(kernel_summary(run, "knoc")) == len(NAMES) and run.stdout.count(LINE) == len(NAMES)
    assert "forbid(unsafe_code)" in (project / "src" / "lib.rs").read_text()
    assert not list(project.glob("*.c"))


def test_the_modinfo_is_what_module_declares(knoc):
    project, fetched, _ = knoc
    ko = next((project / "build").glob(f"{fetched['6.1'].release}/knoc/knoc.ko"))
    info = subprocess.run(["/sbin/modinfo", str(ko)], capture_output=True, text=True).stdout
    assert "license:        GPL" in info and "author:         rustkmod" in info
    assert "description:    A module with no C" in info and f"vermagic:       {fetched['6.1'].release} " in info


def test_the_x86_64_entry_points_are_aliases_as_module_init_makes_them(knoc):
    """7.x's objtool refuses an init_module that is no alias; IBT wants it to start with endbr64."""
    project, fetched, _ = knoc
    ko = next((project / "build").glob(f"{fetched['7.2'].release}/knoc/knoc.ko"))
    symbols = subprocess.run(["readelf", "-sW", str(ko)], capture_output=True, text=True).stdout.splitlines()
    address = {line.split()[-1]: line.split()[1] for line in symbols if len(line.split()) == 8}
    assert address["init_module"] == address["__rustkmod_init_module_entry"]
    assert address["cleanup_module"] == address["__rustkmod_cleanup_module_entry"]
