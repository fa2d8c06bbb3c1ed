"""The signing kernel's build, on a stand-in source tree whose Makefile plays Kbuild's targets."""

import tarfile

import pytest

from rustkmod import RustkmodError
from rustkmod.kernel import signing_kernel

MAKEFILE = """\
tinyconfig:
\t@echo "CONFIG_EMBEDDED=y" > .config
olddefconfig:
\t@grep -v '{drop}' .config > .config.new; mv .config.new .config
bzImage modules:
\t@mkdir -p arch/x86/boot include/config; touch arch/x86/boot/bzImage
\t@echo "6.1.999-tiny" > include/config/kernel.release
"""
MERGE = "#!/bin/sh\n# merge_config.sh -m BASE FRAGMENT: append the fragment\ncat \"$3\" >> \"$2\"\n"


def source_tarball(tmp_path, drop="NOTHING-DROPPED"):
    tree = tmp_path / "src" / "linux-source-6.1"
    (tree / "scripts/kconfig").mkdir(parents=True)
    (tree / "Makefile").write_text(MAKEFILE.format(drop=drop))
    (tree / "scripts/kconfig/merge_config.sh").write_text(MERGE)
    (tree / "scripts/kconfig/merge_config.sh").chmod(0o755)
    tarball = tmp_path / "linux-source-6.1.tar.xz"
    with tarfile.open(tarball, "w:xz") as archive:
        archive.add(tree, arcname="linux-source-6.1")
    return tarball


def test_the_kernel_is_configured_built_and_named(tmp_path, monkeypatch):
    source_tarball(tmp_path)
    monkeypatch.setattr(signing_kernel, "SOURCE_TARBALLS", str(tmp_path / "linux-source-*.tar.xz"))
    said = []
    tree, image, release = signing_kernel.build_signing_kernel("6.1", str(tmp_path / "root"), 2, log=said.append)
    assert release == "6.1.999-tiny" and image == f"{tree}/arch/x86/boot/bzImage"
    config = (tmp_path / "root/linux-source-6.1/.config").read_text()
    assert "CONFIG_MODULE_SIG_ALL=y" in config and "CONFIG_EMBEDDED=y" in config
    assert len(said) == 1 and "6.1" in said[0]


def test_an_option_the_configuration_drops_is_named(tmp_path, monkeypatch):
    source_tarball(tmp_path, drop="CONFIG_MODVERSIONS")
    monkeypatch.setattr(signing_kernel, "SOURCE_TARBALLS", str(tmp_path / "linux-source-*.tar.xz"))
    with pytest.raises(RustkmodError, match="lost CONFIG_MODVERSIONS=y"):
        signing_kernel.build_signing_kernel("6.1", str(tmp_path / "root"), 2, log=lambda text: None)


def test_a_failing_step_shows_its_output_and_the_missing_source_its_package(tmp_path, monkeypatch):
    source_tarball(tmp_path)
    monkeypatch.setattr(signing_kernel, "SOURCE_TARBALLS", str(tmp_path / "linux-source-*.tar.xz"))
    with pytest.raises(RustkmodError, match="install linux-source-6.12"):
        signing_kernel.source_tarball("6.12")
    with pytest.raises(RustkmodError) as raised:
        signing_kernel._run(["make", "-s", "no-such-target"], str(tmp_path), "build")
    assert "No rule to make target" in raised.value.what and "make -s no-such-target" in raised.value.what
