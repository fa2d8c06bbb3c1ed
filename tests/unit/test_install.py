"""Installing: where modules_install puts a module, the staged modules.order, which key signs,
and reading a signature back (with the kernel's real sign-file and openssl)."""

import subprocess

import pytest

from helpers import default_kdir
from rustkmod import RustkmodError
from rustkmod.kernel import boot, install, kbuild
from rustkmod.kernel.tree import Kernel


@pytest.fixture(scope="module")
def kernel():
    return Kernel.from_kdir(default_kdir())


@pytest.fixture(scope="module")
def throwaway_key(tmp_path_factory):
    """A self-signed key and certificate in one PEM file, as the kernel's own x509.genkey makes."""
    path = tmp_path_factory.mktemp("key") / "signing.pem"
    subprocess.run(["openssl", "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "2", "-batch", "-x509",
                    "-subj", "/CN=rustkmod unit test", "-outform", "PEM", "-out", str(path), "-keyout", str(path)],
                   check=True, capture_output=True)
    return path


def with_config(kernel, **options):
    return kernel._replace(config={**kernel.config, **options})


def test_installed_path_follows_the_kernels_compression(kernel, tmp_path):
    plain = with_config(kernel, CONFIG_MODULE_COMPRESS_XZ=None)
    assert install.installed_path(plain, "rkgreet") == f"lib/modules/{kernel.release}/extra/rkgreet.ko"
    xz = with_config(kernel, CONFIG_MODULE_COMPRESS_XZ="y", CONFIG_MODULE_COMPRESS_ALL="y")
    assert install.installed_path(xz, "rkgreet").endswith("/extra/rkgreet.ko.xz")
    # 6.4+ with MODULE_COMPRESS_ALL off compresses only in-tree modules.
    (tmp_path / ".config").write_text("CONFIG_MODULE_COMPRESS_XZ=y\n# CONFIG_MODULE_COMPRESS_ALL is not set\n")
    off = kernel._replace(kdir=str(tmp_path), config={"CONFIG_MODULE_COMPRESS_XZ": "y"})
    assert install.installed_path(off, "m").endswith("/extra/m.ko")


def test_staged_modules_order_keeps_kbuilds_form():
    assert install.staging_modules_order("/b/6.1/m/m.ko\n", "/b/6.1/m/install") == "/b/6.1/m/install/m.ko\n"
    assert install.staging_modules_order("/b/6.12/m/m.o\n\n", "/s") == "/s/m.o\n"
    assert install.staging_modules_order("m.o\n", "/s") == "m.o\n"          # 7.x: relative to M


def test_modules_install_leaves_signing_and_depmod_to_rustkmod(kernel):
    command = install.modules_install_command(kernel.kdir, "/s", "/root", ["ARCH=x86"])
    assert {"CONFIG_MODULE_SIG_ALL=", "DEPMOD=true", "INSTALL_MOD_PATH=/root", "M=/s", "ARCH=x86"} <= set(command)
    assert command[-1] == "modules_install"
    depmod = install.depmod_command(kernel, "/root")
    assert depmod[:4] == ["depmod", "-b", "/root", "-e"] and depmod[-1] == kernel.release
    assert depmod[4:6] == ["-E", kernel.path("Module.symvers")]


def test_debian_headers_hold_no_key(kernel):
    signer, why = install.signer_for(kernel, "auto")
    assert signer is None and "output/signing_key.pem" in why and "MODULE_SIG_KEY" in why
    with pytest.raises(RustkmodError, match="MODULE_SIG=on, but"):
        install.signer_for(kernel, "on")
    assert install.signer_for(kernel, "off") == (None, "")
    unsigned_kernel = with_config(kernel, CONFIG_MODULE_SIG=None)
    assert install.signer_for(unsigned_kernel, "auto") == (None, "")


def test_key_and_certificate_go_together(kernel, throwaway_key, tmp_path):
    with pytest.raises(RustkmodError, match="go together"):
        install.signer_for(kernel, "auto", key=str(throwaway_key))
    with pytest.raises(RustkmodError, match="MODULE_SIG_CERT=.*does not exist"):
        install.signer_for(kernel, "auto", key=str(throwaway_key), cert=str(tmp_path / "nope.pem"))
    signer, _ = install.signer_for(kernel, "auto", key=str(throwaway_key), cert=str(throwaway_key))
    assert signer.hash == "sha256" and signer.sign_file == kernel.path("scripts/sign-file")


def test_sign_file_signature_reads_back_and_verifies(kernel, throwaway_key, tmp_path):
    module = tmp_path / "m.ko"
    (tmp_path / "m.c").write_text("int m_value = 42;\n")
    subprocess.run(["gcc", "-c", "-o", str(module), str(tmp_path / "m.c")], check=True)
    original = module.read_bytes()
    assert install.split_signature(original) is None
    signer, _ = install.signer_for(kernel, "on", key=str(throwaway_key), cert=str(throwaway_key))
    subprocess.run(signer.command(str(module)), check=True, capture_output=True)
    content, signature = install.split_signature(module.read_bytes())
    assert content == original
    (tmp_path / "sig.der").write_bytes(signature)
    verify = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "sig.der"),
                             "-content", str(tmp_path / "m.ko"), "-certfile", str(throwaway_key), "-noverify",
                             "-out", "/dev/null"], capture_output=True, text=True)
    assert verify.returncode != 0       # the signature covers the content, not content + signature
    (tmp_path / "content").write_bytes(content)
    verify = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "sig.der"),
                             "-content", str(tmp_path / "content"), "-certfile", str(throwaway_key), "-noverify",
                             "-out", "/dev/null"], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr


def test_truncated_signature_trailer_is_an_error():
    with pytest.raises(RustkmodError, match="runs past the start"):
        install.split_signature(b"\0" * 8 + b"\xff\xff\xff\xff" + install.SIGNATURE_MAGIC)


def test_certificate_trust_is_checked_against_a_built_trees_list(kernel, throwaway_key, tmp_path):
    assert install.untrusted_note(kernel, str(throwaway_key)) == ""        # headers: keyring unknown
    (tmp_path / "certs").mkdir()
    der = install.certificate_der(str(throwaway_key))
    assert der[:1] == b"\x30"
    (tmp_path / "certs" / "x509_certificate_list").write_bytes(b"other" + der)
    tree = kernel._replace(kdir=str(tmp_path))
    assert install.untrusted_note(tree, str(throwaway_key)) == ""
    (tmp_path / "certs" / "x509_certificate_list").write_bytes(b"other")
    assert "is not among the certificates" in install.untrusted_note(tree, str(throwaway_key))


def test_modprobe_init_loads_by_name_and_checks_the_dependency():
    script = boot.init_script(["/x/rkcounter.ko", "/x/rkgreet.ko"], modprobe=True)
    assert "modprobe rkgreet" in script and "modprobe rkcounter" not in script
    assert "grep -q '^rkcounter ' /proc/modules; echo RUSTKMOD-INSMOD rkcounter rc=$?" in script
    assert "modprobe -r rkgreet" in script


def test_extra_symbols_reach_make():
    variables = kbuild.extra_symbols_variable(["/b/a/Module.symvers", "/b/c/Module.symvers"])
    assert "KBUILD_EXTRA_SYMBOLS=/b/a/Module.symvers /b/c/Module.symvers" in variables
    with pytest.raises(RustkmodError, match="KBUILD_EXTRA_SYMBOLS"):
        kbuild.extra_symbols_variable(["/my dir/Module.symvers"])
