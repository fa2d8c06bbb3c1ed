"""One jobserver for a run: two makes started at once, each asking for 4 parallel jobs, run no
more recipes together than the run's JOBS (plus the token each holds by running)."""

import threading
import time
from pathlib import Path

from rustkmod import process

MAKEFILE = """\
all: a b c d
a b c d:
\t@echo start $$(date +%s.%N) >> {log}; sleep 0.5; echo end $$(date +%s.%N) >> {log}
"""


def most_at_once(log: Path) -> int:
    events = sorted((float(t), 1 if kind == "start" else -1) for kind, t in
                    (line.split() for line in log.read_text().splitlines()))
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def test_parallel_makes_share_the_runs_tokens(tmp_path):
    process.reset_children()
    log = tmp_path / "log"
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Makefile").write_text(MAKEFILE.format(log=log))
    codes = []
    threads = [threading.Thread(target=lambda d=d: codes.append(
        process.run(["make", "-s", "-C", str(tmp_path / d), "all"], jobs=2).returncode))
        for d in ("one", "two")]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [0, 0]
    # 8 recipes of 0.5 s: 2 tokens + 1 shared = 3 at once at most, so at least 3 rounds.
    assert most_at_once(log) <= 3
    assert time.perf_counter() - start >= 1.4


def test_without_the_jobserver_they_would_run_all_at_once(tmp_path):
    """The control: the same makes with their own -j4 run 8 recipes together."""
    import subprocess
    log = tmp_path / "log"
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Makefile").write_text(MAKEFILE.format(log=log))
    makes = [subprocess.Popen(["make", "-s", "-j4", "-C", str(tmp_path / d), "all"]) for d in ("one", "two")]
    assert [m.wait() for m in makes] == [0, 0]
    assert most_at_once(log) == 8
