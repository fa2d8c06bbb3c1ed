"""Reading a kernel tree: release, version, architecture, and the errors for trees that are not."""

import pytest

from helpers import default_kdir
from rustkmod import RustkmodError
from rustkmod.kernel.tree import Kernel, normalize_arch, parse_config, parse_version_h


def fake_tree(root, config="CONFIG_X86_64=y\nCONFIG_MODULES=y\n", release="5.10.0-32-amd64", version=None):
    (root / "include/generated/uapi/linux").mkdir(parents=True)
    (root / "Makefile").write_text("# a kernel Makefile\n")
    (root / ".config").write_text(config)
    (root / "include/generated/utsrelease.h").write_text(f'#define UTS_RELEASE "{release}"\n')
    if version:
        (root / "include/generated/uapi/linux/version.h").write_text(
            "#define LINUX_VERSION_CODE {}\n#define LINUX_VERSION_MAJOR {}\n#define LINUX_VERSION_PATCHLEVEL {}\n"
            "#define LINUX_VERSION_SUBLEVEL {}\n".format((version[0] << 16) + (version[1] << 8) + min(version[2], 255),
                                                          *version))
    return root


def test_parse_config_skips_unset_and_unquotes():
    config = parse_config('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="gcc-12 (Debian)"\nCONFIG_D=0x10\n')
    assert config == {"CONFIG_A": "y", "CONFIG_C": "gcc-12 (Debian)", "CONFIG_D": "0x10"}


def test_version_h_sublevel_beyond_255():
    text = ("#define LINUX_VERSION_CODE 393471\n#define LINUX_VERSION_MAJOR 6\n"
            "#define LINUX_VERSION_PATCHLEVEL 1\n#define LINUX_VERSION_SUBLEVEL 292\n")
    assert parse_version_h(text) == (6, 1, 292)
    assert parse_version_h("#define LINUX_VERSION_CODE 266001\n") == (4, 15, 17)


def test_tree_release_version_and_arch(tmp_path):
    kernel = Kernel.from_kdir(str(fake_tree(tmp_path, version=(5, 10, 262))))
    assert (kernel.release, kernel.version, kernel.arch, kernel.kbuild_arch) == \
        ("5.10.0-32-amd64", (5, 10, 262), "x86_64", "x86")


def test_version_falls_back_to_release_and_kernelrelease_overrides(tmp_path):
    tree = str(fake_tree(tmp_path, release="4.15.0-20-generic"))
    assert Kernel.from_kdir(tree).version == (4, 15, 0)
    overridden = Kernel.from_kdir(tree, release="4.4.0-87-generic")
    assert overridden.version == (4, 4, 0) and overridden.version_overridden


def test_installed_headers(tmp_path):
    kernel = Kernel.from_kdir(default_kdir())
    assert kernel.arch == "x86_64" and kernel.version >= (6, 1, 0)
    assert kernel.release in default_kdir()


@pytest.mark.parametrize("setup, kdir_suffix, arch, message", [
    (lambda root: None, "missing", None, "does not exist"),
    (lambda root: root.mkdir(), "", None, "is not a kernel tree (no Makefile)"),
    (lambda root: (root.mkdir(), (root / "Makefile").write_text("")), "", None, "is not configured and prepared"),
    (lambda root: fake_tree(root, config="CONFIG_MODULES=y\nCONFIG_S390=y\n"), "", None, "names no architecture"),
    (lambda root: fake_tree(root, config="CONFIG_X86_64=y\n"), "", None, "without CONFIG_MODULES"),
    (lambda root: fake_tree(root), "", "arm64", "ARCH=arm64 but KDIR="),
    (lambda root: fake_tree(root), "", "sparc", "ARCH=sparc is not an architecture rustkmod knows"),
])
def test_bad_trees_are_one_clear_line(tmp_path, setup, kdir_suffix, arch, message):
    root = tmp_path / "tree"
    setup(root)
    with pytest.raises(RustkmodError) as err:
        Kernel.from_kdir(str(root / kdir_suffix) if kdir_suffix else str(root), arch)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_empty_kdir_says_how_to_set_it():
    with pytest.raises(RustkmodError, match="KDIR is not set; pass KDIR="):
        Kernel.from_kdir("")


def test_arch_aliases():
    assert [normalize_arch(a) for a in ("x86", "amd64", "aarch64", "riscv")] == \
        ["x86_64", "x86_64", "arm64", "riscv64"]


def test_installed_headers_from_dpkgs_status_file(tmp_path):
    from rustkmod.kernel.tree import installed_headers_kdir
    status = tmp_path / "status"
    real = sorted(p for p in __import__("os").listdir("/usr/src") if p.startswith("linux-headers-"))[0]
    status.write_text("Package: other\nStatus: install ok installed\n\n"
                      "Package: linux-headers-amd64\nStatus: install ok installed\n"
                      f"Depends: {real} (= 1), other\n\nPackage: z\n")
    assert installed_headers_kdir(status=str(status)) == f"/usr/src/{real}"
    status.write_text(status.read_text().replace("install ok installed\nDepends", "deinstall ok config-files\nDepends"))
    assert installed_headers_kdir(status=str(status)) is None
    assert installed_headers_kdir(status=str(tmp_path / "missing")) is None
