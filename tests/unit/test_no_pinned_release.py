"""Debian publishes a point release of its kernels every week or two (an ABI number moves on), so a
test or a doc that names one breaks on the next fresh machine. End-to-end tests read releases from
what `fetch-kernel` fetched; the README writes `<release>` or `NN`. This test keeps it that way.

Unit tests are not scanned: their releases are synthetic inputs to the code under test (a fake apt
listing, a fake tree), never compared with what Debian serves."""

import re

from helpers import ROOT

# A Debian kernel ABI as its package names spell it: 6.1.0-NN-amd64, 5.10.0-NN, 6.12.NNN+debNN.
PINNED = re.compile(r"\b\d+\.\d+\.0-\d+(-[a-z0-9]+)?\b|\b\d+\.\d+\.\d+\+deb\d+\b")
SCANNED = ("README.md", "docs", "tests/README.md", "tests/e2e", "tests/projects", "tests/helpers.py", "tests/conftest.py", "bench",
           "examples", "hello", "kmod", "SConstruct", "setup", ".ci")
SUFFIXES = {".py", ".md", ".rs", ".toml", ".c", ".h", ".json", ""}


def scanned_files():
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            yield path
        else:
            yield from (p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES
                        and not {"target", "build", "__pycache__"} & set(p.parts))


def pinned_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if PINNED.search(line)]


def test_the_pattern_finds_each_form_debian_uses_and_spares_placeholders():
    assert pinned_lines("build/6.1.0-99-amd64/hello.ko\nlinux-headers-5.10.0-98-common\n7.2.99+deb99-arm64\n"
                        "x 6.12.999+deb13 y") == ["build/6.1.0-99-amd64/hello.ko", "linux-headers-5.10.0-98-common",
                                                  "7.2.99+deb99-arm64", "x 6.12.999+deb13 y"]
    assert pinned_lines("build/6.1.0-NN-amd64\nbuild/<release>/x\nkernel 6.1.192 (a source version)\n4.4.121") == []


def test_no_test_or_doc_names_a_debian_point_release():
    found = [f"{path.relative_to(ROOT)}: {line}" for path in scanned_files()
             for line in pinned_lines(path.read_text(errors="replace"))]
    assert len(list(scanned_files())) > 20
    assert found == [], "Debian point releases typed in (read them from what was fetched):\n" + "\n".join(found)
