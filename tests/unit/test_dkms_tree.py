"""What `scons dkms` copies into a source tree: what the build names, never a key or credentials,
and no file naming a directory of the build machine."""

import pytest

from rustkmod import RustkmodError
from rustkmod.kernel import dkms

KEY = "-----BEGIN PRIVATE KEY-----\n" + "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n" * 3 + "-----END PRIVATE KEY-----\n"


@pytest.fixture
def project(tmp_path):
    top = tmp_path / "proj"
    for relative, text in {"SConstruct": "env = Environment(tools=['rustkmod_scons'])\n", "Cargo.toml": "[package]\n",
                           "src/lib.rs": "", "kmod/glue.c": "", "kmod/glue.h": "", "README.md": "hi\n",
                           "LICENSE": "GPL\n", "notes/todo.txt": "", ".env": "TOKEN=1\n", "certs/signing_key.pem": KEY,
                           "certs/key-as-text.txt": KEY, "certs/cert.x509": "public\n", ".cargo/config.toml": "",
                           ".vscode/settings.json": "{}", "build/6.1/m/m.ko": "", "target/x.rlib": "",
                           ".git/config": "", ".sconsign.dblite": "",
                           "src/keys.rs": '// parses "-----BEGIN PRIVATE KEY-----" armour\n'}.items():
        path = top / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return top


def test_what_the_build_names_and_never_a_secret(project):
    files, left_out = dkms.source_files(str(project), [str(project / "build")], [str(project)],
                                        [str(project / "kmod" / "glue.c"), str(project / "SConstruct")])
    assert files == [".cargo/config.toml", "Cargo.toml", "LICENSE", "README.md", "SConstruct", "certs/cert.x509",
                     "kmod/glue.c", "kmod/glue.h", "notes/todo.txt", "src/keys.rs", "src/lib.rs"]   # keys.rs only names the armour
    assert left_out == [".env (a key or credentials file, by its name)", "certs/key-as-text.txt (it holds a private key)",
                        "certs/signing_key.pem (a key or credentials file, by its name)"]


def test_a_crate_in_a_subdirectory_takes_its_directory_only(project):
    files, _ = dkms.source_files(str(project), [str(project / "build")], [str(project / "kmod")], [str(project / "SConstruct")])
    assert files == ["LICENSE", "README.md", "SConstruct", "kmod/glue.c", "kmod/glue.h"]


def test_an_explicit_list_is_exactly_that_and_refuses_a_key(project):
    files, _ = dkms.source_files(str(project), [], explicit=["SConstruct", "src/lib.rs"])
    assert files == ["SConstruct", "src/lib.rs"]
    with pytest.raises(RustkmodError, match=r"files= names certs/key-as-text.txt: it holds a private key"):
        dkms.source_files(str(project), [], explicit=["SConstruct", "certs/key-as-text.txt"])
    with pytest.raises(RustkmodError, match="files= names nope.rs, which is not a file of the project"):
        dkms.source_files(str(project), [], explicit=["nope.rs"])


def test_a_shipped_file_naming_a_directory_of_this_machine_is_found(project):
    (project / "SConstruct").write_text(f"import os\nRUSTKMOD = '/opt/rk'\nX = '{project}/kmod'\n")
    assert dkms.machine_path(str(project), ["README.md", "SConstruct"], [str(project), "/opt/rk"]) == ("SConstruct", 2, "/opt/rk")
    assert dkms.machine_path(str(project), ["README.md"], [str(project)]) is None
    (project / "README.md").write_text("/opt/rkx is another directory\n")     # a longer name is not the path
    assert dkms.machine_path(str(project), ["README.md"], ["/opt/rk"]) is None
