"""`scons deb`: a Debian package per kernel of the verified module, judged by dpkg-deb and
lintian, reproducible byte for byte, and installed into a root (dpkg -x, then the depmod its
postinst runs) from which the booted kernel modprobes it: Debian 12's 6.1 (.ko) and Debian 13's
6.12 (.ko.xz, as that kernel's own modules)."""

from __future__ import annotations

import subprocess

import pytest

from helpers import ROOT, copy_project, fetch_kernels, scons
from rustkmod.kernel import boot

pytestmark = pytest.mark.e2e

KERNELS = {"6.1": "", "6.12-trixie": ".xz"}


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    fetched = fetch_kernels(*KERNELS)
    project = copy_project(tmp_path_factory.mktemp("deb") / "checkout")
    run = scons(project, "deb", f"KERNELS={','.join(KERNELS)}", env=None)
    assert run.returncode == 0, run.output
    debs = {name: next((project / "build" / "deb").glob(f"hello-modules-{release_of(fetched[name])}_1.0.0_amd64.deb"))
            for name in KERNELS}
    return project, fetched, debs


def release_of(kernel) -> str:
    from rustkmod.kernel.tree import Kernel
    return Kernel.from_kdir(kernel.kdir).release


def dpkg_deb(*args) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("name", KERNELS)
def test_the_package_holds_the_module_as_the_kernels_own_are(packaged, name):
    _, fetched, debs = packaged
    release = release_of(fetched[name])
    info = dpkg_deb("--info", str(debs[name]))
    assert f"Package: hello-modules-{release}\n" in info and f"Depends: linux-image-{release}\n" in info
    assert "Architecture: amd64" in info and "Maintainer: rustkmod <rustkmod@example.com>" in info
    postinst = subprocess.run(f"dpkg-deb -I {debs[name]} postinst", shell=True, capture_output=True, text=True).stdout
    assert f"depmod -a {release}" in postinst
    contents = dpkg_deb("--contents", str(debs[name]))
    assert f"./lib/modules/{release}/updates/hello.ko{KERNELS[name]}\n" in contents
    assert all(" root/root " in line for line in contents.splitlines())


@pytest.mark.parametrize("name", KERNELS)
def test_lintian_finds_no_error(packaged, name):
    _, _, debs = packaged
    result = subprocess.run(["lintian", "--no-cfg", str(debs[name])], capture_output=True, text=True)
    assert result.returncode == 0 and "\nE: " not in "\n" + result.stdout, result.stdout + result.stderr


def test_the_package_is_the_same_bytes_when_built_again(packaged):
    project, _, debs = packaged
    before = {name: path.read_bytes() for name, path in debs.items()}
    assert scons(project, "-q", "deb", f"KERNELS={','.join(KERNELS)}").returncode == 0     # a no-op builds nothing
    for path in debs.values():
        path.unlink()
    rebuilt = scons(project, "deb", f"KERNELS={','.join(KERNELS)}")
    assert rebuilt.returncode == 0, rebuilt.output
    assert rebuilt.steps() == ["DEB", "DEB"], rebuilt.stdout
    assert {name: path.read_bytes() for name, path in debs.items()} == before


@pytest.mark.parametrize("name", KERNELS)
def test_the_packaged_module_is_stripped_and_names_no_path_of_the_build_machine(packaged, name, tmp_path):
    """--strip-debug (INSTALL_MOD_STRIP=1), Rust's paths remapped (no directory of the build machine
    in the shipped bytes), and debian/copyright naming the crates built in with their licenses."""
    import lzma
    import os
    from elftools.elf.elffile import ELFFile
    project, _, debs = packaged
    subprocess.run(["dpkg", "-x", str(debs[name]), str(tmp_path)], check=True)
    shipped = next(tmp_path.glob("lib/modules/*/updates/hello.ko*"))
    module = lzma.decompress(shipped.read_bytes()) if shipped.suffix == ".xz" else shipped.read_bytes()
    (tmp_path / "hello.ko").write_bytes(module)
    with open(tmp_path / "hello.ko", "rb") as handle:
        sections = [section.name for section in ELFFile(handle).iter_sections()]
    assert ".modinfo" in sections and not [s for s in sections if s.startswith(".debug_")], sections
    for path in {str(project), str(project.resolve()), str(ROOT), os.path.expanduser("~/")} - {"", "/"}:
        assert path.encode() not in module, path
    copyright_text = subprocess.run(f"dpkg-deb --fsys-tarfile {debs[name]} | tar -xO --wildcards '*/copyright'",
                                    shell=True, capture_output=True, text=True, check=True).stdout
    assert " hello 0.1.0: GPL-2\n" in copyright_text, copyright_text
    assert "core, alloc, compiler_builtins" in copyright_text, copyright_text


@pytest.mark.parametrize("name", KERNELS)
def test_the_installed_package_is_modprobed_by_its_kernel(packaged, name, tmp_path):
    _, fetched, debs = packaged
    kernel, release = fetched[name], release_of(fetched[name])
    root = tmp_path / "root"
    subprocess.run(["dpkg", "-x", str(debs[name]), str(root)], check=True)
    subprocess.run(["depmod", "-b", str(root), release], check=True, capture_output=True)   # what postinst runs
    assert "updates/hello.ko" in (root / "lib" / "modules" / release / "modules.dep").read_text()
    result = boot.boot_modules("x86_64", kernel.image, [str(tmp_path / "hello.ko")], str(tmp_path / "boot"),
                               busybox=kernel.busybox, module_root=str(root))
    assert boot.judge(result, "hello", ["hello world"]) == []


def test_a_kernel_with_a_known_key_gets_its_modules_signed_in_the_package(tmp_path):
    """6.1-signing, built here, holds its signing key: the packaged module carries its signature."""
    fetch_kernels("6.1-signing", timeout=3600)
    project = copy_project(tmp_path / "checkout")
    run = scons(project, "deb", "KERNELS=6.1-signing")
    assert run.returncode == 0, run.output
    package = next((project / "build" / "deb").glob("hello-modules-*.deb"))
    root = tmp_path / "root"
    subprocess.run(["dpkg", "-x", str(package), str(root)], check=True)
    module = next(root.glob("lib/modules/*/updates/hello.ko"))
    assert module.read_bytes().endswith(b"~Module signature appended~\n")
