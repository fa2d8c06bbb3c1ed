"""C helpers for what bindgen cannot bind, on a synthetic header read by the real libclang, the
real bindgen and the real gcc: which allowed names become helpers, constants or plain bindings,
and that the helpers compile and the bindings name them as the crate calls them."""

import subprocess

import pytest

from rustkmod import RustkmodError
from rustkmod.rust import bindgen, inline_helpers

HEADER = """\
typedef unsigned int flags_t;
struct device;
#define LIMIT (4 * 1024)
#define FLAG_A ((flags_t)0x10)
#define TWICE(x) ((x) * 2)
#define HERE (&here)
#define SOH "\\001"
#define LEVEL SOH "6"
typedef unsigned long size_t;
struct options { int level; const char *name; };
extern int here;
size_t length(const char *s);
int exported(int value);
static inline int add(int a, int b) { return a + b; }
static inline void nothing(struct device *dev) { (void)dev; }
static inline int apply(int (*fn)(int), int v) { return fn(v); }
static inline int first(int values[4]) { return values[0]; }
static inline int sum(int n, ...) { return n; }
static inline flags_t with_flags(flags_t f) { return f | FLAG_A; }
"""


@pytest.fixture
def header(tmp_path):
    path = tmp_path / "api.h"
    path.write_text(HEADER)
    return path


def test_each_allowed_name_is_sorted_by_what_clang_sees(header):
    plan = inline_helpers.plan(str(header), ("exported", "add", "LIMIT", "TWICE", "flags_t", "with_flags", "absent"), [])
    assert [h.name for h in plan.helpers] == ["add", "with_flags"]
    assert plan.constants == ("LIMIT",)
    assert plan.plain == ("exported", "flags_t", "absent")      # bindgen binds them, or skips a missing one
    assert plan.macros == ("TWICE",)
    assert plan.helpers[1].prototype() == "flags_t rustkmod_helper_with_flags(flags_t f)"


def test_function_pointer_and_array_parameters_are_declared_through_typeof(header):
    plan = inline_helpers.plan(str(header), ("apply", "first", "nothing"), [])
    prototypes = [h.prototype() for h in plan.helpers]
    assert prototypes == ["int rustkmod_helper_apply(__typeof__(int (*)(int)) fn, int v)",
                          "int rustkmod_helper_first(__typeof__(int[4]) values)",
                          "void rustkmod_helper_nothing(struct device * dev)"]
    assert "\tnothing(dev);" in plan.c_file("api.h") and "return nothing" not in plan.c_file("api.h")


def test_what_a_helper_cannot_forward_is_refused_by_name(header, tmp_path):
    with pytest.raises(RustkmodError, match="sum is a variadic static inline function"):
        inline_helpers.plan(str(header), ("sum",), [])
    unnamed = tmp_path / "unnamed.h"
    unnamed.write_text("static inline int take(struct { int x; } *s) { return s->x; }\n")
    with pytest.raises(RustkmodError, match="take takes or returns an unnamed struct"):
        inline_helpers.plan(str(unnamed), ("take",), [])


def test_a_header_clang_cannot_read_names_its_file_and_line(tmp_path):
    broken = tmp_path / "broken.h"
    broken.write_text("int fine(void);\nint broken(;\n")
    with pytest.raises(RustkmodError, match=rf"{broken}:2: expected parameter declarator"):
        inline_helpers.plan(str(broken), ("fine",), [])


def test_the_helpers_compile_and_the_bindings_call_them_by_the_kernel_name(header, tmp_path):
    allow = ("exported", "add", "nothing", "apply", "with_flags", "LIMIT", "FLAG_A", "HERE")
    plan = inline_helpers.plan(str(header), allow, [])
    helpers_c = tmp_path / "helpers.c"
    helpers_c.write_text(plan.c_file("api.h"))
    compiled = subprocess.run(["gcc", "-c", "-Wall", "-Werror", "-Wmissing-prototypes", "-o", str(tmp_path / "h.o"),
                               str(helpers_c)], capture_output=True, text=True, cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stderr
    symbols = subprocess.run(["nm", str(tmp_path / "h.o")], capture_output=True, text=True).stdout
    assert " T rustkmod_helper_add" in symbols and " T rustkmod_helper_apply" in symbols

    wrapper = tmp_path / "input.h"
    wrapper.write_text(plan.bindgen_input(str(header)))
    output = tmp_path / "bindings.rs"
    command = bindgen.command("bindgen", str(wrapper), str(output), str(tmp_path / "b.d"), plan.allowed(), [])
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rust = output.read_text()
    rust, untyped = inline_helpers.without_non_constants(rust)
    assert untyped == ["HERE"] and "rustkmod_const_HERE" not in rust     # an address, not a number: left out
    rust = inline_helpers.rename(rust)
    assert '#[link_name = "rustkmod_helper_add"]\n    pub fn add(a: core::ffi::c_int, b: core::ffi::c_int)' in rust
    assert "pub const LIMIT: core::ffi::c_int = 4096;" in rust and "pub const FLAG_A: core::ffi::c_uint = 16;" in rust
    assert "pub fn exported(value: core::ffi::c_int)" in rust and "rustkmod_const_LIMIT" not in rust


def test_a_header_with_helpers_may_not_include_a_file_of_its_own(tmp_path):
    (tmp_path / "types.h").write_text("typedef int my_t;\n")
    header = tmp_path / "api.h"
    header.write_text('#include "types.h"\nstatic inline my_t twice(my_t v) { return 2 * v; }\nint plain(my_t);\n')
    with pytest.raises(RustkmodError, match="api.h includes types.h, a file of the module's own"):
        inline_helpers.plan(str(header), ("twice",), [])
    assert inline_helpers.plan(str(header), ("plain",), []).plain == ("plain",)    # no helper: no copy compiled


def test_string_macros_size_t_and_default_are_bound_as_rust_kernel_code_expects(header, tmp_path):
    """bindgen's defaults here: size_t is usize (as in the kernel's own crate), a string macro is
    a byte string constant, and structs derive Default."""
    allow = ("LEVEL", "LIMIT", "length", "options")
    plan = inline_helpers.plan(str(header), allow, [])
    assert plan.constants == ("LIMIT",) and "LEVEL" in plan.plain
    wrapper = tmp_path / "input.h"
    wrapper.write_text(plan.bindgen_input(str(header)))
    output = tmp_path / "bindings.rs"
    command = bindgen.command("bindgen", str(wrapper), str(output), str(tmp_path / "b.d"), plan.allowed(), [])
    assert subprocess.run(command, capture_output=True, text=True).returncode == 0
    rust = output.read_text()
    assert 'pub const LEVEL: &[u8; 3usize] = b"\\x016\\0";' in rust
    assert "pub fn length(s: *const core::ffi::c_char) -> usize;" in rust
    assert "#[derive(Debug, Copy, Clone)]\npub struct options" in rust.replace("Default, ", "") and "Default" in rust
    removed = bindgen.resolve_options((), ("--size_t-is-usize", "--with-derive-default"), "Cargo.toml")
    without = bindgen.command("bindgen", str(wrapper), str(output), str(tmp_path / "b.d"), plan.allowed(), [], removed)
    assert subprocess.run(without, capture_output=True, text=True).returncode == 0
    assert "pub type size_t = core::ffi::c_ulong;" in output.read_text()       # without the option: C's type
    assert "Default" not in output.read_text()


@pytest.mark.parametrize("added, removed, options", [
    ((), (), bindgen.DEFAULT_OPTIONS),
    (("--no-derive-debug",), (), bindgen.DEFAULT_OPTIONS + ("--no-derive-debug",)),
    ((), ("--size_t-is-usize",), ("--use-core", "--ctypes-prefix", "core::ffi", "--no-layout-tests",
                                 "--with-derive-default")),
    (("--ctypes-prefix", "crate::ffi"), (), ("--use-core", "--no-layout-tests", "--size_t-is-usize",
                                            "--with-derive-default", "--ctypes-prefix", "crate::ffi")),
    (("--ctypes-prefix=crate::ffi", "--size_t-is-usize"), ("--with-derive-default",),
     ("--use-core", "--no-layout-tests", "--ctypes-prefix", "crate::ffi", "--size_t-is-usize")),
])
def test_a_crate_adds_replaces_and_removes_bindgen_defaults(added, removed, options):
    assert bindgen.resolve_options(added, removed, "Cargo.toml") == options


@pytest.mark.parametrize("added, removed, named", [
    ((), ("--no-such",), "bindgen-remove names --no-such, which is not one of rustkmod's bindgen defaults "
                         "(--use-core, --ctypes-prefix, --no-layout-tests, --size_t-is-usize, --with-derive-default)"),
    (("--ctypes-prefix", "a", "--ctypes-prefix=b"), (), "bindgen-options gives --ctypes-prefix a and "
                                                         "--ctypes-prefix b; bindgen takes --ctypes-prefix once"),
])
def test_a_conflict_in_bindgen_options_is_one_line_naming_both(added, removed, named):
    with pytest.raises(RustkmodError) as err:
        bindgen.resolve_options(added, removed, "/p/Cargo.toml")
    assert str(err.value).startswith(f"/p/Cargo.toml: {named}") and "\n" not in str(err.value)


def test_a_crates_helpers_carry_its_name_so_two_crates_can_wrap_one_function(header, tmp_path):
    plan = inline_helpers.plan(str(header), ("add",), [], scope="kfw")
    assert plan.allowed() == ("rustkmod_helper_kfw_add",)
    assert "int rustkmod_helper_kfw_add(int a, int b)" in plan.c_file("api.h")
    rust = "extern \"C\" {\n    pub fn rustkmod_helper_kfw_add(a: i32, b: i32) -> i32;\n}\n"
    assert '#[link_name = "rustkmod_helper_kfw_add"]\n    pub fn add(' in inline_helpers.rename(rust, "rustkmod_helper_kfw_")


def test_an_option_bindgen_does_not_take_is_named_before_the_build():
    known = bindgen.known_flags("bindgen")
    assert "--size_t-is-usize" in known and "--ctypes-prefix" in known and "--no-derive-debug" in known
    bindgen.check_known(bindgen.resolve_options(("--no-derive-debug",), (), "C"), known, "C", "bindgen")
    with pytest.raises(RustkmodError) as err:
        bindgen.check_known(("--use-core", "--bogus", "x"), known, "/p/Cargo.toml", "bindgen")
    assert str(err.value).startswith("/p/Cargo.toml: bindgen-options gives --bogus, which bindgen does not take")


def test_bindgen_output_without_rustfmt_is_read_as_well():
    """Where bindgen finds no rustfmt (a machine with Debian's packages only) its output is one
    line of tokens: the helpers, constants and non-constant statics are found in it too."""
    from rustkmod.rust.bindgen import unsafe_extern_blocks
    rust = ('extern "C" { pub fn rustkmod_helper_kfw_add (a : core :: ffi :: c_int) -> core :: ffi :: c_int ; } '
            'pub const rustkmod_const_LIMIT : core :: ffi :: c_int = 8 ; '
            'extern "C" { pub static mut rustkmod_const_THIS_MODULE : module ; } '
            'pub type f = :: core :: option :: Option < unsafe extern "C" fn () > ;')
    renamed, dropped = inline_helpers.without_non_constants(inline_helpers.rename(rust, "rustkmod_helper_kfw_"))
    renamed = unsafe_extern_blocks(renamed)
    assert '#[link_name = "rustkmod_helper_kfw_add"] pub fn add(a : core' in renamed
    assert "pub const LIMIT : core :: ffi :: c_int = 8 ;" in renamed
    assert dropped == ["THIS_MODULE"] and "THIS_MODULE" not in renamed
    assert renamed.count('unsafe extern "C" {') == 2 and 'Option < unsafe extern "C" fn () >' in renamed
    assert "unsafe unsafe" not in unsafe_extern_blocks(renamed)
