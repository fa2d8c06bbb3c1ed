"""The Debian package's pure parts: the fields a project gives, the kernel's compression, and
a package built from a synthetic module (dpkg-deb is Debian's, as on every Debian system)."""

import lzma
import subprocess

import pytest

from rustkmod import RustkmodError
from rustkmod.kernel import deb
from rustkmod.kernel.tree import Kernel

SPEC = deb.DebSpec("mydrv", "1.2.0", "Jo Dev <jo@example.com>", "mydrv kernel module in Rust", 1700000000)


def kernel(config: dict) -> Kernel:
    return Kernel("/k", "6.12.99-test-amd64", (6, 12, 99), "x86_64", config)


@pytest.mark.parametrize("field, value, named", [
    ("package", "My_Drv", "package='My_Drv' is not a Debian package name"),
    ("version", "v1", "version='v1' is not a Debian version"),
    ("maintainer", "jo@example.com", "maintainer='jo@example.com' is not 'Name <address>'"),
    ("description", "two\nlines", "is not one line of up to 80 characters"),
])
def test_a_field_debian_would_refuse_is_named(field, value, named):
    with pytest.raises(RustkmodError, match=named.replace("(", r"\(").replace(")", r"\)")):
        SPEC._replace(**{field: value}).check()


def test_modules_are_compressed_as_the_kernels_own():
    assert deb.module_suffix(kernel({"CONFIG_MODULE_COMPRESS_XZ": "y"})) == ".xz"
    assert deb.module_suffix(kernel({"CONFIG_MODULE_COMPRESS_ZSTD": "y"})) == ".zst"
    assert deb.module_suffix(kernel({"CONFIG_MODULE_COMPRESS_NONE": "y"})) == ""
    packed = deb.compressed(b"\x7fELF" + bytes(5000), ".xz")
    assert lzma.decompress(packed) == b"\x7fELF" + bytes(5000)
    assert packed[6:8] == b"\x00\x01"            # the stream's check is CRC32, which the kernel's decompressor takes
    assert deb.compressed(b"x" * 100, ".gz") == deb.compressed(b"x" * 100, ".gz")    # no time stamp inside


def test_a_package_from_a_synthetic_module(tmp_path):
    module = tmp_path / "mydrv.ko"
    module.write_bytes(b"\x7fELF" + bytes(2000))
    target = deb.for_kernel(kernel({"CONFIG_MODULE_COMPRESS_XZ": "y"}))
    output = tmp_path / deb.file_name(SPEC, target)
    deb.build(SPEC, target, [("mydrv", str(module))], str(output))
    assert output.name == "mydrv-modules-6.12.99-test-amd64_1.2.0_amd64.deb"
    contents = subprocess.run(["dpkg-deb", "--contents", str(output)], capture_output=True, text=True).stdout
    assert "./lib/modules/6.12.99-test-amd64/updates/mydrv.ko.xz" in contents and "2023-11-14" in contents
    again = tmp_path / "again.deb"
    deb.build(SPEC, target, [("mydrv", str(module))], str(again))
    assert again.read_bytes() == output.read_bytes()
    postrm = deb.script_text("6.12.99-test-amd64", "remove", "purge")
    assert subprocess.run(["sh", "-n"], input=postrm, text=True).returncode == 0
    assert 'if { [ "$1" = remove ] || [ "$1" = purge ]; } && [ -d /lib/modules/6.12.99-test-amd64 ]' in postrm


def crate(directory, name, version, license_=None, authors=None):
    directory.mkdir(parents=True)
    lines = [f'name = "{name}"', f'version = "{version}"']
    lines += [f'license = "{license_}"'] if license_ else []
    lines += [f"authors = {authors!r}".replace("'", '"')] if authors else []
    (directory / "Cargo.toml").write_text("[package]\n" + "\n".join(lines) + "\n")
    (directory / "src").mkdir()
    (directory / "src" / "lib.rs").write_text("")
    return directory / "src" / "lib.rs"


def test_the_copyright_names_every_crate_cargo_built_in_and_each_license(tmp_path):
    """The crates come from cargo's dep-info, each with the license its Cargo.toml declares."""
    from rustkmod.rust import components
    files = [crate(tmp_path / "mydrv", "mydrv", "1.2.0", "GPL-2.0"),
             crate(tmp_path / "reg" / "bitflags-1.3.2", "bitflags", "1.3.2", "MIT/Apache-2.0", ["The Rust Project Developers"]),
             crate(tmp_path / "reg" / "zlibby-0.1.0", "zlibby", "0.1.0", "Zlib")]
    nested = tmp_path / "mydrv" / "src" / "inner" / "deep.rs"        # a module file belongs to its crate
    nested.parent.mkdir()
    nested.write_text("")
    depinfo = tmp_path / "libmydrv.d"
    depinfo.write_text(f"{tmp_path}/libmydrv.a: " + " ".join(str(f) for f in files + [nested]) + "\n")
    built = components.crates_built(str(depinfo))
    assert [(c.name, c.version, c.license) for c in built] == [
        ("bitflags", "1.3.2", "MIT/Apache-2.0"), ("mydrv", "1.2.0", "GPL-2.0"), ("zlibby", "0.1.0", "Zlib")]
    text = deb.copyright_text(SPEC, "mydrv-modules-x", deb.for_kernel(kernel({})), built + [components.STANDARD_LIBRARY])
    assert " bitflags 1.3.2: Expat or Apache-2.0, The Rust Project Developers\n" in text
    assert "License: GPL-2 and (Expat or Apache-2.0) and Zlib\n" in text
    paragraphs = [p.split("\n", 1)[0] for p in text.split("\n\n")]
    assert paragraphs[2:] == ["License: GPL-2", "License: Apache-2.0", "License: Expat", "License: Zlib"], paragraphs
    assert "The text of this license is in the sources of zlibby" in text
    assert components.crates_built(str(tmp_path / "missing.d")) == []
