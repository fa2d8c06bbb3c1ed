#!/usr/bin/env python3
"""How many of the kernel's own Rust samples build unchanged with rustkmod: every module of
samples/rust in Debian's linux-source of the newest series rustkmod builds for (fetched into the
cache at run time, never copied into the repository), each tried as a one-file module for that
series' kernel (KERNELS to choose others), in one `scons -k` run. Prints one line per sample (built,
or the first compiler error that stopped it) and the count.

Run it from the venv: `./setup python bench/samples.py` (KERNELS=7.3-arm64 ... to pick kernels).
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "site_scons"), str(ROOT / "site_scons" / "site_tools"), str(ROOT / "tests")]
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

import upstream_samples  # noqa: E402
from rustkmod.kernel import debian  # noqa: E402

SCONS = str(Path(sys.executable).with_name("scons"))


def first_error(output: str, sample: upstream_samples.Sample) -> str:
    """The first compiler error located in the sample's Rust file, or scons' own line about it."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("error") and any(sample.rust in later for later in lines[index + 1:index + 3]):
            return line
    return next((line for line in lines if line.startswith("scons: ***") and sample.module in line), "not built")


def main() -> int:
    samples_dir, version = upstream_samples.fetch()
    kernels = tuple(k for k in os.environ.get("KERNELS", debian.newest_series()).split(",") if k)
    subprocess.run([sys.executable, "-m", "rustkmod", "fetch-kernel", *kernels], cwd=ROOT / "site_scons", check=True)
    samples = upstream_samples.read_samples(samples_dir)
    with tempfile.TemporaryDirectory(prefix="rustkmod-samples-") as temporary:
        project = upstream_samples.write_project(Path(temporary) / "samples", samples_dir, samples, kernels, {})
        run = subprocess.run([SCONS, "-k", "-j2"], cwd=project.directory, capture_output=True, text=True,
                             env=dict(os.environ, RUSTKMOD=str(ROOT)))
        output = run.stdout + run.stderr
        built = []
        print(f"samples/rust of linux-source {version}, for {', '.join(kernels)}:")
        for sample in samples:
            done = [k for k in project.directory.glob(f"build/*/{sample.module}/{sample.module}.ko.verified")]
            ok = len(done) == len(kernels)
            built += [sample.module] if ok else []
            print(f"  {sample.module:24} {'built and verified' if ok else first_error(output, sample)}")
        unchanged = upstream_samples.unchanged(project, samples_dir)
    print(f"upstream samples built unchanged: {len(built)} of {len(samples)} (linux-source {version}; "
          f"files {'unchanged' if unchanged else 'CHANGED'}): {', '.join(built)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
