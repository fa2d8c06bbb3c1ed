"""Each stage's nodes(build, ...) on a fake kernel tree: the graph it makes, with no cargo or make run.

The end-to-end tests prove the graph builds and loads; these pin what each stage wires, so a
change to one stage's nodes shows here, by name, in a second.
"""

import os

import pytest
import SCons.Environment
import SCons.Node.FS
import SCons.Node.Python

from rustkmod_scons import builders, context, state
from rustkmod_scons import (boot_stage, editor_stage, install_stage, kbuild_stage, rust_stage, verify_stage,
                            bindings_stage)
from rustkmod_scons.variables import make_variables
from test_kernel import fake_tree

CONFIG = "CONFIG_X86_64=y\nCONFIG_MODULES=y\nCONFIG_RETPOLINE=y\n"


@pytest.fixture
def build(tmp_path, monkeypatch):
    """A ModuleBuild of module `demo` for a fake 6.1 tree, with a crate and a C file of its own."""
    kdir = fake_tree(tmp_path / "kdir", config=CONFIG, release="6.1.0-99-amd64", version=(6, 1, 150))
    crate = tmp_path / "demo"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n\n'
                                      '[lib]\ncrate-type = ["staticlib"]\n')
    (crate / "Cargo.lock").write_text("version = 3\n")
    (crate / "src/lib.rs").write_text("#![no_std]\n")
    (tmp_path / "demo.c").write_text("int x;\n")
    (tmp_path / "demo_api.h").write_text("// rustkmod-bindgen: allow kfree\n")
    monkeypatch.chdir(tmp_path)
    state.reset()
    env = SCons.Environment.Environment(tools=[], BUILDERS=builders())
    env.fs = SCons.Node.FS.FS(str(tmp_path))      # a top of its own: "#" is tmp_path
    make_variables().Update(env, {"KDIR": str(kdir), "BUILD_DIR": str(tmp_path / "build"),
                                  "KERNEL_CACHE": str(tmp_path / "cache"), "MODULE_SIG": "off",
                                  "KERNEL_IMAGE": str(tmp_path / "vmlinuz")})
    (tmp_path / "vmlinuz").write_text("")
    yield context.for_kernel(env, "demo"), env, tmp_path
    state.reset()


def names(nodes) -> list:
    return [os.path.basename(str(n)) for n in nodes if not isinstance(n, SCons.Node.Python.Value)]


def test_the_record_names_the_kernel_directories_and_make_variables(build):
    module, env, top = build
    assert module.dir_name == "6.1.0-99-amd64"
    assert module.module_dir.abspath == str(top / "build" / "6.1.0-99-amd64" / "demo")
    assert "ARCH=x86" in module.make_variables and module.extra_symvers == []


def test_without_a_header_there_are_no_bindings_and_the_staticlib_is_shared_by_kernels(build):
    module, env, top = build
    manifest = rust_stage.crate(module, "demo")
    assert bindings_stage.nodes(module, "", manifest) == []
    rust = rust_stage.nodes(module, manifest)
    assert rust.profile.kernel == "" and rust.object_name == "demo_rust.o"
    assert str(rust.staticlib[0]).startswith(os.path.join("build", "rust", rust.profile.ident))
    sources = names(rust.staticlib[0].sources)
    assert sources[:2] == ["Cargo.toml", "Cargo.lock"] and sources[-1] == f"{rust.profile.kernel_cfg}.args"
    assert names(rust.rust_object[0].sources) == ["libdemo.a"]


def test_a_header_gives_the_kernel_its_own_staticlib_and_kbuild_the_helpers(build):
    module, env, top = build
    manifest = rust_stage.crate(module, "demo")
    [bound] = bindings_stage.nodes(module, "demo_api.h", manifest)
    assert names([bound.rs, bound.helpers_c]) == ["bindings.rs", "bindings_helpers.c"]
    assert bound.rs.dir.abspath == module.module_dir.abspath and bound.variable == "RUSTKMOD_BINDINGS"
    rust = rust_stage.nodes(module, manifest, [bound])
    assert rust.profile.kernel == module.dir_name
    assert "bindings.rs" in names(rust.staticlib[0].sources)
    ko = kbuild_stage.nodes(module, ["demo.c"], rust, [bound])
    staged = names(ko[0].sources)
    assert {"bindings_helpers.c", "demo_api.h"} <= set(staged)


def test_kbuild_stages_every_input_and_renames_the_c_file_named_like_the_module(build):
    module, env, top = build
    rust = rust_stage.nodes(module, rust_stage.crate(module, "demo"))
    ko = kbuild_stage.nodes(module, ["demo.c"], rust)
    assert names(ko) == ["demo.ko", "Module.symvers", "modules.order"]
    staged = names(ko[0].sources)
    # demo.c may not become demo.o (Kbuild links demo.ko from it): a wrapper includes it
    assert {"demo.c", "demo_c.c", "demo_rust.o_shipped", ".demo_rust.o.cmd", "Kbuild"} <= set(staged)
    kbuild_text = next(n for n in ko[0].sources if str(n).endswith("Kbuild")).sources[0].read()
    assert "demo_c.o" in kbuild_text and "demo_rust.o" in kbuild_text
    shipped = next(n for n in ko[0].sources if str(n).endswith("_shipped"))
    assert names(shipped.sources) == ["demo_rust.o"]           # through objtool (OBJTOOL=strict)
    assert shipped.builder is env["BUILDERS"]["Objtool"]


def test_only_a_verified_module_is_installed_and_booted(build):
    module, env, top = build
    rust = rust_stage.nodes(module, rust_stage.crate(module, "demo"))
    ko = kbuild_stage.nodes(module, ["demo.c"], rust)
    module_ko, verified = verify_stage.nodes(module, ko[0])
    assert module_ko is ko[0] and names(verified) == ["demo.ko.verified"]
    assert env.File(os.path.join(module.kernel.kdir, ".config")) in verified[0].depends
    installed = install_stage.nodes(module, module_ko, verified, ko[2])
    assert installed.signed is False and installed.root.abspath == str(top / "build" / "root")
    staged = installed.nodes[0].sources[0]
    assert verified[0] in staged.prerequisites and verified[0] in staged.depends
    booted = boot_stage.nodes(module, module_ko, verified, installed, boot_stage.BootOptions(expect="hello"))
    assert booted.load_order == [module_ko]
    assert names(booted.check) == ["demo.ko.booted"] and verified[0] in booted.check[0].depends
    assert set(installed.nodes) <= set(booted.check_installed[0].depends)


def test_relocs_fix_verifies_the_rewritten_copy(build):
    module, env, top = build
    env["RELOCS"] = "fix"
    rust = rust_stage.nodes(module, rust_stage.crate(module, "demo"))
    ko = kbuild_stage.nodes(module, ["demo.c"], rust)
    module_ko, verified = verify_stage.nodes(module, ko[0])
    assert str(module_ko).endswith(os.path.join("fixed", "demo.ko"))
    assert module_ko in verified[0].sources


def test_editor_files_follow_the_kernel_profile(build):
    module, env, top = build
    rust = rust_stage.nodes(module, rust_stage.crate(module, "demo"))
    ko = kbuild_stage.nodes(module, ["demo.c"], rust)
    files = editor_stage.nodes(module, rust, ko[0])
    assert names(files) == ["rust-project.json", "compile_commands.json"]
    assert ko[0] in files[1].sources
    env["RUST_PROFILE"] = "host-default"
    module.env = env
    assert editor_stage.nodes(module, rust_stage.nodes(module, rust_stage.crate(module, "demo")), ko[0]) == []


def test_a_crate_declaring_bindings_gets_them_once_per_kernel_for_every_module(build):
    """A framework crate's bindings are made in BUILD_DIR/<kernel>/crates/<package>/ and reach it by
    RUSTKMOD_BINDINGS_<LIB>; each module using it compiles a copy of its helpers."""
    module, env, top = build
    framework = top / "kfw"
    (framework / "src").mkdir(parents=True)
    (framework / "kfw_api.h").write_text("// rustkmod-bindgen: allow kfree\n")
    (framework / "Cargo.toml").write_text('[package]\nname = "kfw"\nversion = "0.1.0"\n\n'
                                          '[package.metadata.rustkmod]\nbindings = "kfw_api.h"\n'
                                          'bindgen-options = ["--no-derive-debug"]\n')
    manifest_text = (top / "demo" / "Cargo.toml").read_text()
    (top / "demo" / "Cargo.toml").write_text(manifest_text + '\n[dependencies]\nkfw = { path = "../kfw" }\n')
    state.memo().values.clear()
    manifest = rust_stage.crate(module, "demo")
    [bound] = bindings_stage.nodes(module, "", manifest)
    assert bound.variable == "RUSTKMOD_BINDINGS_KFW" and bound.helpers_name == "kfw_bindings_helpers.c"
    assert bound.rs.abspath == str(top / "build" / "6.1.0-99-amd64" / "crates" / "kfw" / "bindings.rs")
    settings = next(n.read() for n in bound.rs.sources if isinstance(n, SCons.Node.Python.Value))
    assert settings.scope == "kfw" and settings.options[-1] == "--no-derive-debug"
    other = context.for_kernel(env, "other")
    assert bindings_stage.nodes(other, "", manifest)[0].rs is bound.rs          # one per kernel, not per module
    rust = rust_stage.nodes(module, manifest, [bound])
    assert rust.profile.kernel == module.dir_name
    ko = kbuild_stage.nodes(module, ["demo.c"], rust, [bound])
    assert {"kfw_bindings_helpers.c", "kfw_api.h"} <= set(names(ko[0].sources))
