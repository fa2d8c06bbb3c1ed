"""The machine's bindings cache (rustkmod.rust.bindings_cache) on files made here: an entry is
found again, its dependency file names the new place, and a changed header or a damaged file is
a miss, never a wrong copy."""

from __future__ import annotations

from rustkmod.rust import bindings_cache


def made(directory, header, kernel_header, text="pub fn f();\n"):
    """What bindgen.generate leaves: bindings.rs, the helpers, and .d/.h/.flags beside them."""
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / "bindings.rs"
    output.write_text(text)
    (directory / "bindings_helpers.c").write_text("int helper(void) { return 1; }\n")
    (directory / "bindings.rs.h").write_text(f'#include "{header}"\n')
    (directory / "bindings.rs.flags").write_text("{}")
    (directory / "bindings.rs.d").write_text(f"bindings.rs.o: \\\n  {output}.h \\\n  {kernel_header} \\\n  {header}\n")
    return str(output), str(directory / "bindings_helpers.c")


def test_an_entry_is_copied_to_another_project_and_a_changed_header_is_a_miss(tmp_path):
    cache, kdir = str(tmp_path / "cache"), tmp_path / "kdir"
    (kdir / "include").mkdir(parents=True)
    kernel_header = kdir / "include" / "err.h"
    kernel_header.write_text("static inline int IS_ERR(const void *ptr);\n")
    header = tmp_path / "kernel_api.h"
    header.write_text("#include <linux/err.h>\n")
    request = ("kdir", "x86_64", "synthetic-release", ("ARCH=x86",), ("IS_ERR",))
    entry = bindings_cache.key(str(header), request, "bindgen 0.60")
    assert entry == bindings_cache.key(str(header), request, "bindgen 0.60")
    assert entry != bindings_cache.key(str(header), request, "bindgen 0.66")

    output, helpers = made(tmp_path / "first", header, kernel_header)
    bindings_cache.store(cache, entry, output, helpers, str(kdir), ["a remark"])
    second = tmp_path / "second"
    second.mkdir()
    there = str(second / "bindings.rs")
    assert bindings_cache.fetch(cache, entry, there, str(second / "bindings_helpers.c")) == ["a remark"]
    assert (second / "bindings.rs").read_text() == "pub fn f();\n"
    assert (second / "bindings.rs.d").read_text().startswith(f"bindings.rs.o: \\\n  {there}.h \\\n")

    kernel_header.write_text("static inline int IS_ERR(const void *pointer);\n")      # the tree changed
    assert bindings_cache.fetch(cache, entry, there, str(second / "bindings_helpers.c")) is None
    output, helpers = made(tmp_path / "first", header, kernel_header, "pub fn g();\n")
    bindings_cache.store(cache, entry, output, helpers, str(kdir), [])                 # replaced
    assert bindings_cache.fetch(cache, entry, there, str(second / "bindings_helpers.c")) == []
    assert (second / "bindings.rs").read_text() == "pub fn g();\n"

    stored = tmp_path / "cache" / "bindings" / entry / "bindings.rs"
    stored.write_text("pub fn h();\n")                                                 # damaged
    assert bindings_cache.fetch(cache, entry, there, str(second / "bindings_helpers.c")) is None
    assert bindings_cache.clear(cache) == 1 and bindings_cache.fetch(cache, entry, there, there + "c") is None


def test_entries_unused_for_a_month_are_pruned_and_used_ones_kept(tmp_path):
    import os
    import time
    cache = str(tmp_path / "cache")
    header = tmp_path / "api.h"
    header.write_text("int f(void);\n")
    kernel_header = tmp_path / "types.h"
    kernel_header.write_text("typedef int t;\n")
    entries = []
    for n in range(2):
        entry = bindings_cache.key(str(header), ("kdir", n), "bindgen")
        output, helpers = made(tmp_path / f"p{n}", header, kernel_header)
        bindings_cache.store(cache, entry, output, helpers, str(tmp_path), [])
        entries.append(entry)
    month_ago = time.time() - 31 * 86400
    for entry in entries:
        os.utime(tmp_path / "cache" / "bindings" / entry / "manifest.json", (month_ago, month_ago))
    there = tmp_path / "p9"
    there.mkdir()
    assert bindings_cache.fetch(cache, entries[0], str(there / "bindings.rs"), str(there / "h.c")) == []   # used now
    killed, writing = (tmp_path / "cache" / "bindings" / f"{entries[1]}.{n}.1.tmp" for n in (1, 2))
    killed.mkdir()
    writing.mkdir()
    os.utime(killed, (month_ago, month_ago))          # left by a build killed while storing
    assert bindings_cache.prune(cache) == 1
    assert sorted(os.listdir(tmp_path / "cache" / "bindings")) == sorted([entries[0], writing.name])
