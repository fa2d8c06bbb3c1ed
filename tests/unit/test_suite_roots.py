"""Build roots' pure parts: which root holds a tree, paths as seen inside it, the command that
enters it (bind mounts in a namespace of its own), and the C library a tool needs."""

import shutil

from rustkmod.kernel import suite_roots


def test_the_root_holding_a_tree_is_found_by_its_marker(tmp_path):
    root = tmp_path / "roots" / "trixie"
    kdir = root / "usr/src/linux-headers-6.12.9+deb13-amd64"
    kdir.mkdir(parents=True)
    assert suite_roots.root_of(str(kdir)) == ""
    (root / suite_roots.MARKER).write_text("trixie\ngcc-14\n")
    assert suite_roots.root_of(str(kdir)) == str(root)
    assert suite_roots.inside(str(root), str(kdir)) == "/usr/src/linux-headers-6.12.9+deb13-amd64"
    assert suite_roots.inside("", str(kdir)) == str(kdir)


def test_a_command_runs_as_it_is_without_a_root_and_enters_one_with_its_binds():
    assert suite_roots.command("", ["make", "-C", "/k"], "/w", ["/w"]) == ["make", "-C", "/k"]
    entered = suite_roots.command("/r", ["make", "-C", "/usr/src/k"], "/w", ["/w", "/r/usr/src", "/w", "/out"])
    assert entered[:5] == ["unshare", "--mount", "--propagation", "private", "--"]
    tail = entered[entered.index("/r"):]
    # the root, the working directory, each directory bound once (none inside the root), then the command
    assert tail == ["/r", "/w", "/out", "/w", "--", "make", "-C", "/usr/src/k"]


def test_a_tool_built_for_a_newer_c_library_is_told_from_the_hosts():
    host = suite_roots.host_glibc()
    assert len(host) >= 2 and host >= (2, 17)
    needed = suite_roots.needed_glibc(shutil.which("make") or "/usr/bin/make")
    assert (2, 2) <= needed <= host                      # the host's own make runs on the host
