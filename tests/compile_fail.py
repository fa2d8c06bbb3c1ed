"""The compile-fail runner: snippets that must not compile against the kernel crate.

`site_scons/rustkmod_kernel/compile_fail/*.rs` are module authors' code that would let safe code
corrupt the kernel; each says with `// expect:` lines what the compiler's error must hold. The
crate is built once for the host (its API is the kernel half's), then rustc checks each snippet
against it: a snippet that compiles, or fails without the expected words, is a failure. The
`ok_*.rs` snippets must compile (they prove a snippet can pass). Run as a script it prints one
line a snippet: `./setup python tests/compile_fail.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATE = ROOT / "site_scons" / "rustkmod_kernel"
SNIPPETS = CRATE / "compile_fail"
RUSTC = "/usr/bin/rustc"                # Debian's, as rustkmod builds with (RUSTC in scons -h)
CARGO = "/usr/bin/cargo"


@dataclass
class Verdict:
    snippet: str
    passed: bool
    why: str


def expected(snippet: Path) -> list[str]:
    return [line.split("// expect:", 1)[1].strip() for line in snippet.read_text().splitlines()
            if line.startswith("// expect:")]


def build_crate(target_dir: Path) -> tuple[Path, Path]:
    """The kernel crate's rlib for the host and the directory of its dependencies."""
    env = dict(os.environ, RUSTC=RUSTC, RUSTC_BOOTSTRAP="1", CARGO_TARGET_DIR=str(target_dir))
    run = subprocess.run([CARGO, "build", "--offline", "--lib", "--message-format=json",
                          "--manifest-path", str(CRATE / "Cargo.toml")],
                         env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"the kernel crate does not build for the host:\n{run.stderr}")
    for line in run.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message["target"]["name"] == "kernel":
            rlib = Path(next(f for f in message["filenames"] if f.endswith(".rlib")))
            return rlib, target_dir / "debug" / "deps"
    raise RuntimeError("cargo named no rlib of the kernel crate")


def check(snippet: Path, rlib: Path, deps: Path, out_dir: Path) -> Verdict:
    run = subprocess.run([RUSTC, "--edition", "2024", "--crate-type", "lib", "--crate-name", snippet.stem,
                          "--emit", "metadata", "--out-dir", str(out_dir), "-L", f"dependency={deps}",
                          "--extern", f"kernel={rlib}", str(snippet)],
                         env=dict(os.environ, RUSTC_BOOTSTRAP="1"), capture_output=True, text=True)
    if snippet.name.startswith("ok_"):
        return Verdict(snippet.name, run.returncode == 0, run.stderr.strip() or "compiles")
    if run.returncode == 0:
        return Verdict(snippet.name, False, "compiled, but must be refused")
    missing = [words for words in expected(snippet) if words not in run.stderr]
    if not expected(snippet) or missing:
        return Verdict(snippet.name, False, f"refused, but without {missing or 'an // expect: line'}:\n{run.stderr}")
    return Verdict(snippet.name, True, f"refused: {expected(snippet)[0]}")


def run_all(work: Path) -> list[Verdict]:
    rlib, deps = build_crate(work / "target")
    return [check(snippet, rlib, deps, work) for snippet in sorted(SNIPPETS.glob("*.rs"))]


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory(prefix="rustkmod-compile-fail-") as work:
        verdicts = run_all(Path(work))
    for verdict in verdicts:
        print(f"{'ok  ' if verdict.passed else 'FAIL'} {verdict.snippet}: {verdict.why.splitlines()[0]}")
    failed = sum(not v.passed for v in verdicts)
    print(f"{len(verdicts) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
