#!/usr/bin/env python3
"""Bindings generated per kernel (tests/projects/kbind): what bindgen costs, and what a header
edit costs against a full build.

For each kernel named (default: 6.1 and 7.2, fetched into the user's cache), in a temporary copy
of the project with a warm sysroot cache, prints:
  - the full build (`scons KERNELS=K`: bindings, cargo, Kbuild, verify), and the BINDGEN step alone
    (libclang's reading of the header for the C helpers, then bindgen);
  - an edit of the module's header that changes no declaration (a comment): bindgen only;
  - an edit that changes one (a new allowed name): bindgen, cargo and Kbuild again;
  - the no-op after it.
Run from the venv: `./setup python bench/bindings.py [KERNEL ...]`.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCONS = str(Path(sys.executable).with_name("scons"))


def timed_scons(project: Path, *args: str) -> tuple[float, list]:
    start = time.perf_counter()
    run = subprocess.run([SCONS, *args], cwd=project, capture_output=True, text=True,
                         env=dict(os.environ, RUSTKMOD=str(ROOT)))
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"scons {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")
    labels = [line.split()[0] for line in run.stdout.splitlines()
              if line[:1].isupper() and line.split()[0] in ("BINDGEN", "CARGO", "KBUILD", "VERIFY")]
    return elapsed, labels


def main(kernels: list) -> None:
    subprocess.run([sys.executable, "-m", "rustkmod", "fetch-kernel", *kernels], cwd=ROOT / "site_scons",
                   check=True, stdout=subprocess.DEVNULL)
    print(f"{'kernel':<8} {'step':<44} {'time':>8}  steps run")
    for kernel in kernels:
        with tempfile.TemporaryDirectory(prefix="rustkmod-bindings-") as temporary:
            project = Path(temporary) / "kbind"
            shutil.copytree(ROOT / "tests" / "projects" / "kbind", project)
            header = project / "kernel_api.h"
            variable = f"KERNELS={kernel}"
            rows = [("full build", *timed_scons(project, variable))]
            bindings = next(project.glob("build/*/kbind/bindings.rs"))
            bindings.unlink()
            rows.append(("BINDGEN alone (bindings.rs deleted)",
                         *timed_scons(project, variable, str(bindings.relative_to(project)))))
            timed_scons(project, variable)
            header.write_text(header.read_text() + "/* a comment: no declaration changes */\n")
            rows.append(("header edit, no declaration changed", *timed_scons(project, variable)))
            header.write_text(header.read_text() + "// rustkmod-bindgen: allow kstrtouint\n")
            rows.append(("header edit, one more allowed name", *timed_scons(project, variable)))
            rows.append(("no-op", *timed_scons(project, variable)))
            for what, seconds, labels in rows:
                print(f"{kernel:<8} {what:<44} {seconds:7.2f}s  {' '.join(labels) or '-'}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["6.1", "7.2"])
