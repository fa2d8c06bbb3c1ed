"""Files written whole or not at all: some are shared by every project and checkout of the user
(the sysroots' manifests, the kernel cfg lists, the toolchain cache), and two builds may write one
at once, or a killed one may stop halfway. A temporary file of this process and thread is written,
then renamed over the file."""

from __future__ import annotations

import os
import threading


def write(path: str, data: str | bytes) -> None:
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
