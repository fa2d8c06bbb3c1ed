"""Make-style dependency files, cargo's dep-info and libclang's -MD output, read by one parser."""

from rustkmod import depfile


def test_cargo_dep_info_with_spaces_and_continuations():
    text = ("/t/libx.a: /p/my\\ crate/src/lib.rs /p/my\\ crate/src/a.rs \\\n  /p/b.rs\n\n"
            "/p/b.rs:\n")
    assert depfile.parse(text) == ["/p/my crate/src/lib.rs", "/p/my crate/src/a.rs", "/p/b.rs"]


def test_clangs_dependency_file_lists_every_header_a_space_included(tmp_path):
    """libclang escapes a space as make does: a header under "my kernel" is one path, not two."""
    written = tmp_path / "bindings.rs.d"
    written.write_text("api.o: /p/my\\ kernel/api.h \\\n  /k/include/linux/slab.h \\\n  include/generated/autoconf.h\n")
    assert depfile.read(str(written)) == ["/p/my kernel/api.h", "/k/include/linux/slab.h",
                                          "include/generated/autoconf.h"]
    assert depfile.read(str(tmp_path / "missing.d")) == []
