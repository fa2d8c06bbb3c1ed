#!/usr/bin/env python3
"""No-op build time: `scons` versus the plain pair (`cargo build` no-op + `make -C KDIR M=... modules`).

Builds the project once if needed, then times repeated no-op runs of each on the same tree and
prints the medians and their ratio. Run it from the venv: `./setup python bench/noop.py [RUNS]`.
"""

import tempfile
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Timed as users run it: with Python's bytecode cache (this machine's environment turns it off).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.path.insert(0, str(ROOT / "site_scons"))

from rustkmod.rust import profiles  # noqa: E402
from rustkmod.rust.cargo import Crate  # noqa: E402
from rustkmod.kernel.tree import Kernel, installed_headers_kdir  # noqa: E402
from plain import build_std_command  # noqa: E402

SCONS = str(Path(sys.executable).with_name("scons"))


def timed(command, **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - start


def main(runs: int) -> None:
    subprocess.run([SCONS, "-Q"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    kdir = os.environ.get("KDIR") or installed_headers_kdir()
    kernel = Kernel.from_kdir(kdir)
    rustc = "/usr/bin/rustc"
    profile = profiles.select_profile("kernel", kernel, rustc, profiles.toolchain_info(rustc))
    crate = Crate.from_manifest(str(ROOT / "hello"))
    plain_dir = ROOT / "build" / "bench" / "plain-cargo"
    cargo, cargo_env = build_std_command(profile, crate, plain_dir, plain_dir)
    subprocess.run(cargo, env=cargo_env, cwd=crate.directory, check=True)      # built once: then no-ops
    make = ["make", "-C", kernel.kdir, f"M={ROOT / 'build' / kernel.name / 'hello'}", "-s", "modules"]

    scons_times, trivial_times = [], []
    with tempfile.TemporaryDirectory(prefix="rustkmod-trivial-") as trivial:
        Path(trivial, "SConstruct").write_text("DefaultEnvironment(tools=[])\n"
                                               "Environment(tools=[]).Command('out', [], Touch('$TARGET'))\n")
        subprocess.run([SCONS, "-Q"], cwd=trivial, check=True, stdout=subprocess.DEVNULL)
        for _ in range(runs):       # interleaved: the machine's drift touches both alike
            scons_times.append(timed([SCONS, "-Q"], cwd=ROOT))
            trivial_times.append(timed([SCONS, "-Q"], cwd=trivial))
    cargo_times = [timed(cargo, env=cargo_env, cwd=crate.directory) for _ in range(runs)]
    make_times = [timed(make) for _ in range(runs)]
    # Kbuild's no-op relinks nothing but touches its outputs; let scons see the tree as it left it.
    subprocess.run([SCONS, "-Q"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    scons_median = statistics.median(scons_times)
    plain = statistics.median(cargo_times) + statistics.median(make_times)
    print(f"no-op build, median of {runs} runs each ({kernel.release}, {profile.target})")
    trivial_median = statistics.median(trivial_times)
    print(f"  scons                      {scons_median * 1000:8.0f} ms")
    print(f"  scons, a trivial SConstruct{trivial_median * 1000:8.0f} ms   ratio {scons_median / trivial_median:5.2f} "
          "(target: <= 1.3)")
    print(f"  cargo build (no-op)        {statistics.median(cargo_times) * 1000:8.0f} ms")
    print(f"  make -C KDIR M=... modules {statistics.median(make_times) * 1000:8.0f} ms")
    print(f"  cargo + make               {plain * 1000:8.0f} ms")
    print(f"  ratio scons / (cargo+make) {scons_median / plain:8.2f}   (target: <= 0.33)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
