"""A Debian binary package from a set of files, made with dpkg-deb: the one assembly behind every
package rustkmod makes (a kernel's modules, a DKMS source package, rustkmod itself).

Byte for byte reproducible: every time stamp is the given epoch (SOURCE_DATE_EPOCH), owners are
root, directories 0755, and dpkg-deb sorts the members and stamps the archive with the same epoch.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tempfile

from rustkmod import process
from rustkmod.errors import RustkmodError


def doc_files(package: str, version: str, maintainer: str, epoch: int, copyright: str,
              change: str) -> dict[str, tuple[bytes, int]]:
    """usr/share/doc/<package>/: copyright and a one-entry changelog, as Debian wants in every package."""
    doc = f"usr/share/doc/{package}"
    return {f"{doc}/copyright": (copyright.encode(), 0o644),
            f"{doc}/changelog.gz": (gzipped(f"{package} ({version}) unstable; urgency=medium\n\n  * {change}\n\n"
                                            f" -- {maintainer}  {_rfc2822(epoch)}\n".encode()), 0o644)}


def assemble(package: str, files: dict[str, tuple[bytes, int]], control, scripts: dict[str, str], epoch: int,
             output: str) -> None:
    """A package of `files` ({path: (data, mode)}), its control file (`control(installed KiB)`) and
    maintainer `scripts`, made by dpkg-deb at `output`, the same bytes for the same inputs: every
    time stamp is `epoch`, owners root, directories 0755."""
    with tempfile.TemporaryDirectory(prefix="rustkmod-deb-") as work:
        root = os.path.join(work, "root")
        for relative, (data, mode) in files.items():
            _write(os.path.join(root, relative), data, mode)
        size = (sum(len(d) for d, _ in files.values()) + 1023) // 1024
        meta = os.path.join(root, "DEBIAN")
        sums = "".join(f"{hashlib.md5(data).hexdigest()}  {relative}\n" for relative, (data, _) in sorted(files.items()))
        _write(os.path.join(meta, "control"), control(size).encode(), 0o644)
        _write(os.path.join(meta, "md5sums"), sums.encode(), 0o644)
        for name, text in scripts.items():
            _write(os.path.join(meta, name), text.encode(), 0o755)
        for directory, dirs, names in os.walk(root):
            os.chmod(directory, 0o755)
            for name in dirs + names:
                os.utime(os.path.join(directory, name), (epoch, epoch), follow_symlinks=False)
        os.utime(root, (epoch, epoch))
        if shutil.which("dpkg-deb") is None:
            raise RustkmodError("dpkg-deb not found", "install dpkg (every Debian system has it)")
        environ = dict(process.environment(), SOURCE_DATE_EPOCH=str(epoch))
        temporary = output + ".tmp"
        result = process.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, temporary],
                             env=environ, capture_output=True, text=True)
        if result.returncode != 0:
            raise process.failure(result, f"dpkg-deb --build of {package}", "see dpkg-deb's message")
        os.replace(temporary, output)


def _write(path: str, data: bytes, mode: int) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def gzipped(data: bytes) -> bytes:
    """gzip -9 with no name and no time stamp inside: the same bytes every time."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9, filename="") as handle:
        handle.write(data)
    return out.getvalue()


def _rfc2822(epoch: int) -> str:
    import email.utils
    return email.utils.formatdate(epoch, usegmt=False).replace("-0000", "+0000")
