"""Kernel provisioning's pure parts, and what the plugin adapts from a kernel tree."""

import pytest

from rustkmod import RustkmodError
from rustkmod.kernel import debian, kbuild
from rustkmod.kernel.tree import Kernel
from rustkmod.kernel.debian import KernelSpec, ProvisionedKernel, _newest_abi, _point_at_private_root, _write_marker, lookup


def test_kernel_specs():
    assert KernelSpec.parse("6.1") == KernelSpec("6.1", "amd64")
    assert KernelSpec.parse("6.1-arm64").name == "6.1-arm64"
    for bad in ("7.7", "6.1-sparc", "", "latest"):
        with pytest.raises(RustkmodError, match="is not one rustkmod can fetch"):
            KernelSpec.parse(bad)


class FakeApt:
    def __init__(self, names):
        self.names = names

    def search(self, regex):
        return self.names


def test_newest_abi_compares_numbers_not_strings():
    apt = FakeApt(["linux-headers-5.10.0-9-amd64", "linux-headers-5.10.0-46-amd64", "linux-headers-5.10.0-32-amd64"])
    assert _newest_abi(apt, KernelSpec("5.10", "amd64")) == "5.10.0-46"
    apt = FakeApt(["linux-headers-6.12.95+deb12-amd64", "linux-headers-6.12.117+deb12-amd64"])
    assert _newest_abi(apt, KernelSpec("6.12", "amd64")) == "6.12.117+deb12"
    with pytest.raises(RustkmodError, match="no Debian headers for Linux 6.1 on arm64"):
        _newest_abi(FakeApt([]), KernelSpec("6.1", "arm64"))


def test_arch_headers_are_pointed_at_the_private_root(tmp_path):
    kdir = tmp_path / "usr/src/linux-headers-6.1.0-56-amd64"
    kdir.mkdir(parents=True)
    (kdir / "Makefile").write_text("include /usr/src/linux-headers-6.1.0-56-common/Makefile\n")
    _point_at_private_root(str(kdir), str(tmp_path))
    assert (kdir / "Makefile").read_text() == f"include {tmp_path}/usr/src/linux-headers-6.1.0-56-common/Makefile\n"


def test_lookup_of_a_kernel_never_fetched(tmp_path):
    assert lookup(KernelSpec("6.12", "amd64"), str(tmp_path)) is None


def test_a_fetched_kernel_is_found_again_by_its_marker(tmp_path):
    root = tmp_path / "kernels" / "6.12"
    root.mkdir(parents=True)
    fetched = ProvisionedKernel("6.12", str(root / "kdir"), str(root / "vmlinuz"), "6.12.117+deb12-amd64", "/bb")
    _write_marker(str(root), fetched)
    assert lookup(KernelSpec("6.12", "amd64"), str(tmp_path)) == fetched


def kernel(arch="x86_64", cc_text="gcc-12 (Debian 12.2.0-14) 12.2.0"):
    return Kernel("/k", "6.1.0-56-amd64", (6, 1, 0), arch, {"CONFIG_CC_VERSION_TEXT": cc_text})


def test_cross_prefix_for_a_foreign_kernel():
    assert kbuild.cross_compile_for(kernel("arm64"), "") == "aarch64-linux-gnu-"
    assert kbuild.cross_compile_for(kernel("arm64"), "my-prefix-") == "my-prefix-"
    assert kbuild.cross_compile_for(kernel("x86_64"), "") == ""


def test_the_kernels_own_compiler_when_installed():
    assert kbuild.kbuild_cc(kernel(), "", "") == ("", "")                 # gcc-12 is installed
    assert kbuild.kbuild_cc(kernel(cc_text="x86_64-linux-gnu-gcc-12 (Debian) 12.2.0"), "", "") == ("", "")
    assert kbuild.kbuild_cc(kernel("arm64"), "aarch64-linux-gnu-", "") == ("", "")
    assert kbuild.kbuild_cc(kernel(), "", "clang") == ("clang", "")


def test_a_missing_kernel_compiler_falls_back_to_gcc_with_a_note():
    cc, note = kbuild.kbuild_cc(kernel(cc_text="gcc-10 (Debian 10.2.1-6) 10.2.1"), "", "")
    assert cc == "gcc" and "built with gcc-10, which is not installed: Kbuild uses gcc" in note
    with pytest.raises(RustkmodError, match="install no-such-gcc or pass CC="):
        kbuild.kbuild_cc(kernel(cc_text="gcc-99 (x) 99"), "no-such-", "")


def test_a_kernel_whose_build_root_lost_its_marker_is_named_and_fetched_again(tmp_path):
    from rustkmod.kernel import suite_roots, debian
    cache = tmp_path / "cache"
    root = cache / "roots" / "trixie"
    kdir = root / "usr/src/linux-headers-6.12.9+deb13-amd64"
    kdir.mkdir(parents=True)
    (root / suite_roots.MARKER).write_text("trixie\n")
    kernel = ProvisionedKernel("6.12-trixie", str(kdir), str(tmp_path / "vmlinuz"), "6.12.9+deb13-amd64", "")
    assert debian.lost_root(kernel, str(cache)) == ""
    (root / suite_roots.MARKER).unlink()
    assert debian.lost_root(kernel, str(cache)) == f"its build root {root} has no .rustkmod-root " \
                                                       "(made incompletely, or the file was removed)"
    host_kernel = kernel._replace(kdir=str(cache / "kernels/6.1/usr/src/linux-headers-6.1.0-9-amd64"))
    assert debian.lost_root(host_kernel, str(cache)) == ""        # not meant for a root


def test_two_fetches_of_one_kernel_at_once_make_it_once(tmp_path, monkeypatch):
    """A second fetch-kernel (another scons, a build a timeout left running) waits for the first
    and takes its kernel, instead of unpacking over it."""
    import time
    from concurrent.futures import ThreadPoolExecutor
    made = []
    monkeypatch.setattr(debian, "lookup", lambda spec, cache: made[0] if made else None)
    monkeypatch.setattr(debian, "unusable", lambda *args: False)

    def slow(spec, cache, log):
        time.sleep(0.3)
        made.append(f"{spec.name} made")
        return made[-1]

    monkeypatch.setattr(debian, "_provision", slow)
    spec = debian.KernelSpec.parse("6.1-signing")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: debian.provision(spec, str(tmp_path)), range(2)))
    assert results == ["6.1-signing made"] * 2 and made == ["6.1-signing made"]
