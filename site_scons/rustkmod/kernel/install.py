"""Installing verified modules into a staging root: Kbuild's modules_install, signing, depmod.

Kbuild's `modules_install` installs what an M= directory's modules.order lists, so each module
gets a staging directory holding just its *verified* .ko (the RELOCS=fix copy when there is one)
and a modules.order naming it: what is installed is always what the verifier read. Kbuild's own
signing step is switched off (`CONFIG_MODULE_SIG_ALL=`) because it can only use the key file and
certificate inside KDIR; rustkmod signs the staged copy with the tree's `scripts/sign-file` and
the key the build names, then Kbuild copies (and, when the kernel wants it, compresses) it.
"""

from __future__ import annotations

import base64
import os
import re
import struct
from typing import NamedTuple

from rustkmod.errors import RustkmodError
from rustkmod.kernel.tree import Kernel, first_enabled

INSTALL_MOD_DIR = "extra"      # Kbuild's default for external modules up to 6.1 (6.2+: "updates")

# The trailer sign-file appends: PKCS#7 data, struct module_signature (12 bytes), this magic.
SIGNATURE_MAGIC = b"~Module signature appended~\n"
_COMPRESSION = {"CONFIG_MODULE_COMPRESS_GZIP": ".gz", "CONFIG_MODULE_COMPRESS_XZ": ".xz",
                "CONFIG_MODULE_COMPRESS_ZSTD": ".zst"}


def installed_path(kernel: Kernel, name: str) -> str:
    """Where modules_install puts module `name`, relative to the staging root."""
    return os.path.join("lib", "modules", kernel.release, INSTALL_MOD_DIR, f"{name}.ko" + _suffix(kernel))


def _suffix(kernel: Kernel) -> str:
    """The compression modules_install applies: on when a method is chosen, unless the kernel has
    MODULE_COMPRESS_ALL (6.4+) switched off (then it compresses only in-tree modules it builds)."""
    method = first_enabled(kernel.config, *_COMPRESSION)
    if not method or kernel.config.get("CONFIG_MODULE_COMPRESS_ALL") == "y":
        return _COMPRESSION.get(method, "")
    try:
        with open(kernel.path(".config"), encoding="utf-8", errors="replace") as handle:
            switched_off = "# CONFIG_MODULE_COMPRESS_ALL is not set" in handle.read()
    except OSError:
        switched_off = False
    return "" if switched_off else _COMPRESSION[method]


def strip_command(cross_compile: str, mode: str) -> tuple:
    """What INSTALL_MOD_STRIP=1 runs on an installed module, as Kbuild does: the kernel
    architecture's strip, debug info only (the symbols the loader links against stay)."""
    return (f"{cross_compile}strip", "--strip-debug") if mode == "1" else ()


def staging_modules_order(kbuild_order: str, staging_dir: str) -> str:
    """Kbuild's modules.order, its entries moved to the staging directory (the form it uses is
    kept: `.ko` up to 6.1 and `.o` from 6.2; absolute paths up to 6.12, relative to M from 7.x)."""
    lines = [os.path.join(staging_dir, os.path.basename(line.strip())) if os.path.isabs(line.strip())
             else os.path.basename(line.strip()) for line in kbuild_order.splitlines() if line.strip()]
    return "".join(line + "\n" for line in lines)


def modules_install_command(kdir: str, staging_dir: str, root: str, make_variables: list[str]) -> list[str]:
    """Kbuild's modules_install without its signing (rustkmod signed the staged copy) and without
    its depmod (run once per kernel after every module is in place)."""
    return ["make", "-C", kdir, f"M={staging_dir}", f"INSTALL_MOD_PATH={root}", f"INSTALL_MOD_DIR={INSTALL_MOD_DIR}",
            "CONFIG_MODULE_SIG_ALL=", "DEPMOD=true", *make_variables, "-s", "--no-print-directory", "modules_install"]


def depmod_command(kernel: Kernel, root: str) -> list[str]:
    """depmod on the staging root, checking symbols against the kernel's exports when it can."""
    command = ["depmod", "-b", root, "-e"]
    for option, name in (("-E", "Module.symvers"), ("-F", "System.map")):
        if os.path.isfile(kernel.path(name)):
            command += [option, kernel.path(name)]
            break
    return command + [kernel.release]


class Signer(NamedTuple):
    """How modules are signed for one kernel: sign-file, the hash, the key and its certificate."""

    sign_file: str
    hash: str
    key: str            # PEM private key file, or a PKCS#11 URI
    cert: str

    def command(self, module: str) -> list[str]:
        return [self.sign_file, self.hash, self.key, self.cert, module]


def signer_for(kernel: Kernel, mode: str, key: str = "", cert: str = "") -> tuple[Signer | None, str]:
    """(the Signer or None, a note on why modules go unsigned or ""); raises when mode is 'on' and
    signing is impossible, or when only one of key and certificate is given."""
    if mode == "off":
        return None, ""
    if bool(key) != bool(cert):
        raise RustkmodError("MODULE_SIG_KEY and MODULE_SIG_CERT go together: only one is set",
                            "set both (the private key and the certificate the kernel trusts), or neither")
    wants = kernel.config.get("CONFIG_MODULE_SIG") == "y"
    if not key:
        key, cert = _tree_key(kernel)
        if not (os.path.isfile(key) and os.path.isfile(cert)):
            why = (f"Linux {kernel.release} signs modules with {kernel.config.get('CONFIG_MODULE_SIG_KEY', '')!r}, "
                   f"which KDIR does not hold" if wants else f"Linux {kernel.release} does not check module signatures")
            if mode == "on":
                raise RustkmodError(f"MODULE_SIG=on, but {why}",
                                    "set MODULE_SIG_KEY=<key.pem> and MODULE_SIG_CERT=<cert.pem>")
            return None, (f"installed modules are not signed: {why}; set MODULE_SIG_KEY and MODULE_SIG_CERT "
                          "to sign them" if wants else "")
    for variable, path in (("MODULE_SIG_KEY", key), ("MODULE_SIG_CERT", cert)):
        if not path.startswith("pkcs11:") and not os.path.isfile(path):
            raise RustkmodError(f"{variable}={path} does not exist", f"point {variable} at an existing file")
    sign_file = kernel.path("scripts/sign-file")
    if not os.path.isfile(sign_file):
        raise RustkmodError(f"KDIR={kernel.kdir} has no scripts/sign-file to sign modules with",
                            "build the tree's host scripts (make modules_prepare), or pass MODULE_SIG=off")
    digest = kernel.config.get("CONFIG_MODULE_SIG_HASH", "sha256").strip('"') or "sha256"
    return Signer(sign_file, digest, os.path.abspath(key) if not key.startswith("pkcs11:") else key,
                  os.path.abspath(cert)), ""


def untrusted_note(kernel: Kernel, cert: str) -> str:
    """A warning when a built tree's kernel was not built to trust `cert`, else ""."""
    builtin = kernel.path("certs/x509_certificate_list")
    if cert.startswith("pkcs11:") or not os.path.isfile(builtin):
        return ""               # a headers package: the kernel's keyring is not known here
    with open(builtin, "rb") as handle:
        trusted = handle.read()
    if certificate_der(cert) in trusted:
        return ""
    return (f"MODULE_SIG_CERT={cert} is not among the certificates Linux {kernel.release} was built to trust "
            "(certs/x509_certificate_list): under module.sig_enforce=1 it refuses these modules unless the key "
            "is added to its keyring at run time")


def certificate_der(path: str) -> bytes:
    """The certificate in `path` as DER, whether the file holds DER or PEM (a key may precede it)."""
    with open(path, "rb") as handle:
        data = handle.read()
    pem = re.search(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", data, re.S)
    return base64.b64decode(b"".join(pem.group(1).split())) if pem else data


def _tree_key(kernel: Kernel) -> tuple[str, str]:
    """The key and certificate a kernel tree made for itself (certs/signing_key.*), as Kbuild finds them."""
    key = kernel.config.get("CONFIG_MODULE_SIG_KEY", "").strip('"') or "certs/signing_key.pem"
    return (key if os.path.isabs(key) else kernel.path(key)), kernel.path("certs/signing_key.x509")


def split_signature(data: bytes) -> tuple[bytes, bytes] | None:
    """(the module without its signature, the PKCS#7 signature in DER) or None when unsigned."""
    if not data.endswith(SIGNATURE_MAGIC):
        return None
    info_end = len(data) - len(SIGNATURE_MAGIC)
    if info_end < 12:
        raise RustkmodError("module signature trailer is truncated", "sign the module again")
    signature_length = struct.unpack(">I", data[info_end - 4:info_end])[0]
    start = info_end - 12 - signature_length
    if start < 0:
        raise RustkmodError("module signature length runs past the start of the file", "sign the module again")
    return data[:start], data[start:info_end - 12]
