"""A module with no C (tests/projects/knoc): the `kernel` crate's module! makes its entry points,
.modinfo and parameters, the crate carries #![forbid(unsafe_code)] and names the kernel crate by
version from outside the checkout; built, verified and booted on kernels of five architectures with
parameters given at insmod and read back from sysfs, a mutex and a spinlock, and an init that
fails with EINVAL when asked (insmod returns 22)."""

import os
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from helpers import ROOT, built_outside_project, fetch_kernels, kernel_summary, scons

pytestmark = pytest.mark.e2e

NAMES = ("5.10", "6.1", "7.2", "6.1-arm64", "6.1-armhf", "6.12-trixie-riscv64", "6.1-i386")
# the boot test's summary: every line the SConstruct expects was seen (the parameters' effect, the
# sysfs values, the locks' counts at unload, the refused insmod's errno)
LINE = ("knoc: loaded, printed 'knoc: mutex made', 'knoc: hello, 4 values, sum 10', 'extra=4 greeting=hello', "
        "'knoc: a buffer of 262144 bytes, 4 used', 'knoc: down (4 values, 4 counted, sum 10, 4 buffered)', "
        "'knoc: refusing to load, as asked', 'Invalid argument', "
        "'refused rc=22', unloaded")


@pytest.fixture(scope="module")
def knoc(tmp_path_factory):
    fetched = fetch_kernels(*NAMES)
    project, env, run = built_outside_project("knoc", tmp_path_factory.mktemp("knoc"), "check",
                                              "KERNELS=" + ",".join(NAMES), timeout=2400)
    return project, fetched, run


def test_a_module_without_c_loads_and_unloads_on_every_kernel(knoc):
    project, fetched, run = knoc
    assert set(kernel_summary(run, "knoc").values()) == {"built, verified, booted"}
    assert len(kernel_summary(run, "knoc")) == len(NAMES) and run.stdout.count(LINE) == len(NAMES)
    assert "forbid(unsafe_code)" in (project / "src" / "lib.rs").read_text()
    assert not list(project.glob("*.c"))


def test_the_modinfo_is_what_module_declares(knoc):
    project, fetched, _ = knoc
    ko = next((project / "build").glob(f"{fetched['6.1'].release}/knoc/knoc.ko"))
    info = subprocess.run(["/sbin/modinfo", str(ko)], capture_output=True, text=True).stdout
    assert "license:        GPL" in info and "author:         rustkmod" in info
    assert "description:    A module with no C" in info and f"vermagic:       {fetched['6.1'].release} " in info
    assert "parm:           extra:A value added to the three (uint)" in info
    assert "parm:           greeting:The word init logs first (charp)" in info
    assert "parm:           refuse:Fail init with EINVAL (bool)" in info


@pytest.mark.parametrize("name", ["6.1", "6.1-armhf"])
def test_each_parameter_is_a_kernel_param_as_module_param_makes_it(knoc, name):
    """Read back from __param: per parameter its name, this module, the kernel's param_ops_<type>
    and its storage (all relocated: the loader fills them in), and perm 0444, level -1."""
    project, fetched, _ = knoc
    ko = next((project / "build").glob(f"{fetched[name].release}/knoc/knoc.ko"))
    with open(ko, "rb") as handle:
        elf = ELFFile(handle)
        word = elf.elfclass // 8
        section = elf.get_section_by_name("__param")
        entry = 5 * word        # name, mod, ops, perm/level/flags (padded to a word), arg
        data = section.data()
        assert len(data) == 3 * entry
        relocations = next(s for s in elf.iter_sections()
                           if isinstance(s, RelocationSection) and s["sh_info"] == elf.get_section_index("__param"))
        symtab = elf.get_section(relocations["sh_link"])

        def target(offset):
            found = [r for r in relocations.iter_relocations() if r["r_offset"] == offset]
            assert len(found) == 1, f"no single relocation at __param+{offset}"
            symbol = symtab.get_symbol(found[0]["r_info_sym"])
            addend = found[0]["r_addend"] if relocations.is_RELA() else \
                int.from_bytes(data[offset:offset + word], "little")
            return symbol, addend

        params = {}
        for start in range(0, len(data), entry):
            symbol, addend = target(start)
            strings = elf.get_section(symbol["st_shndx"]).data()
            name_text = strings[symbol["st_value"] + addend:].split(b"\0", 1)[0].decode()
            assert target(start + word)[0].name == "__this_module"
            ops = target(start + 2 * word)[0].name
            perm = int.from_bytes(data[start + 3 * word:start + 3 * word + 2], "little")
            level = data[start + 3 * word + 2]
            storage, storage_addend = target(start + entry - word)
            home = elf.get_section(storage["st_shndx"])
            params[name_text] = (ops, oct(perm), level, (home.name, storage["st_value"] + storage_addend),
                                 bool(home["sh_flags"] & 1))          # SHF_WRITE: the loader writes it
    assert {n: p[:3] for n, p in params.items()} == {
        "extra": ("param_ops_uint", "0o444", 0xFF), "greeting": ("param_ops_charp", "0o444", 0xFF),
        "refuse": ("param_ops_bool", "0o444", 0xFF)}
    assert all(p[4] for p in params.values()) and len({p[3] for p in params.values()}) == 3


def test_the_x86_64_entry_points_are_aliases_as_module_init_makes_them(knoc):
    """7.x's objtool refuses an init_module that is no alias; IBT wants it to start with endbr64."""
    project, fetched, _ = knoc
    ko = next((project / "build").glob(f"{fetched['7.2'].release}/knoc/knoc.ko"))
    symbols = subprocess.run(["readelf", "-sW", str(ko)], capture_output=True, text=True).stdout.splitlines()
    address = {line.split()[-1]: line.split()[1] for line in symbols if len(line.split()) == 8}
    assert address["init_module"] == address["__rustkmod_init_module_entry"]
    assert address["cleanup_module"] == address["__rustkmod_cleanup_module_entry"]


# kmisc: a misc device with no C, on every kernel of the matrix in one run
MATRIX = ("5.10", "6.1", "6.12", "6.12-trixie", "7.2", "7.3", "6.1-arm64", "6.1-armhf", "6.1-i386",
          "6.12-trixie-riscv64")
DEVICE = ("kmisc: loaded, printed 'kmisc: ready, 6 bytes', 'first read: , misc', 'read back: 456789', "
          "'kmisc: gone', 'kmisc node gone', 'ioctl: value 0', 'kmisc: value set to 42', 'ioctl: set, now 42', "
          "'ioctl: unknown command: ENOTTY', 'ioctl: bad address: EFAULT', 'kstress /dev/kmisc: done', unloaded")


@pytest.fixture(scope="module")
def kmisc(tmp_path_factory):
    fetched = fetch_kernels(*MATRIX)
    project, env, run = built_outside_project("kmisc", tmp_path_factory.mktemp("kmisc"), "check",
                                              "KERNELS=" + ",".join(MATRIX), timeout=2400)
    return project, fetched, run


def test_a_misc_device_without_c_works_on_every_kernel(kmisc):
    """Written to and read back through /dev/kmisc (a 6-byte ring set by a parameter) on ten
    kernels of five architectures, the node gone after rmmod; a user program (built static for
    each architecture) gets and sets a value by ioctl (its command numbers from C's _IOR/_IOW, so
    the kernel crate's agree), an unknown command is ENOTTY and a bad address EFAULT; kstress
    hammers it from four processes and its removal is refused while a file is open."""
    project, fetched, run = kmisc
    assert set(kernel_summary(run, "kmisc").values()) == {"built, verified, booted"}
    assert len(kernel_summary(run, "kmisc")) == len(MATRIX)
    assert run.stdout.count(DEVICE) == len(MATRIX)
    assert "forbid(unsafe_code)" in (project / "src" / "lib.rs").read_text()
    staged = {p.name for p in project.glob(f"build/{fetched['7.3'].release}/kmisc/*.c")}
    assert staged == {"rustkmod_rt.c", "kernel_bindings_helpers.c", "kmisc.mod.c"}   # rustkmod's and Kbuild's C only


def test_each_kernel_gets_its_own_file_operations(kmisc):
    """struct file_operations differs between 5.10 and 7.3: each kernel's bindings have its own."""
    project, fetched, _ = kmisc
    fields = {}
    for name in ("5.10", "7.3"):
        text = (project / "build" / fetched[name].release / "crates" / "rustkmod-kernel" / "bindings.rs").read_text()
        body = text[text.index("pub struct file_operations {"):]
        fields[name] = {line.split(":")[0].strip() for line in body[:body.index("\n}")].splitlines()[1:]
                        if line.strip().startswith("pub ")}
    assert fields["5.10"] != fields["7.3"]
    assert {"pub read", "pub write", "pub unlocked_ioctl", "pub open", "pub release"} <= fields["5.10"] & fields["7.3"]


def test_the_devices_logic_runs_on_the_host_with_no_c_stand_in(kmisc):
    """`scons test-host`: cargo test of kmisc over the kernel crate's host half (allocation, locks,
    Arc, user slices over the test's buffers, a registration that registers nothing)."""
    project, _, _ = kmisc
    run = scons(project, "test-host", env=dict(os.environ, RUSTKMOD=str(ROOT)))
    assert run.returncode == 0, run.output
    assert "test result: ok. 3 passed; 0 failed" in run.stdout
    assert "warning" not in (project / "build" / "host" / "kmisc" / "cargo-test.log").read_text()


def test_the_minimal_example_copied_out_of_the_checkout_boots(tmp_path):
    """examples/minimal is what a new user copies: copied elsewhere, it builds and boots as is."""
    import shutil
    project = tmp_path / "mine" / "minimal"
    shutil.copytree(ROOT / "examples" / "minimal", project)
    run = scons(project, "check", env=dict(os.environ, RUSTKMOD=str(ROOT)))
    assert run.returncode == 0, run.output
    assert "minimal: loaded, printed 'minimal: hello from Rust', 'minimal: goodbye', unloaded" in run.stdout
    assert sorted(p.name for p in project.iterdir() if p.name != "build" and not p.name.startswith(".")) == \
        ["Cargo.lock", "Cargo.toml", "SConstruct", "src"]


def test_each_lock_site_is_a_lock_class_on_a_lockdep_kernel(tmp_path):
    """6.1-signing is built here with lockdep (PROVE_LOCKING): knoc's mutex and spinlock have the
    debug layouts of that kernel's bindings, /proc/lockdep lists a class per site (by the name
    given, or by file:line), and the boot test fails on any lockdep report (none here)."""
    fetched = fetch_kernels("6.1-signing", timeout=3600)["6.1-signing"]
    config = (Path(fetched.kdir) / ".config").read_text()
    assert "CONFIG_PROVE_LOCKING=y" in config
    project, env, run = built_outside_project("knoc", tmp_path, "check", "KERNELS=6.1-signing", "LOCKDEP=1")
    assert "'knoc_total', 'src/lib.rs:56', 'knoc: mutex made'" in run.stdout
    log = next(project.glob("build/*/knoc/knoc.ko.booted.log")).read_text(errors="replace")
    assert "Lock dependency validator" in log



def test_rustkmod_new_writes_a_project_that_builds_boots_and_tests(tmp_path):
    """`<checkout>/rustkmod new mymod` in an empty place outside the checkout, then the command it
    prints (`cd mymod && .../scons check`), then `scons test-host`."""
    new = subprocess.run([str(ROOT / "rustkmod"), "new", "mymod"], cwd=tmp_path, capture_output=True, text=True)
    assert new.returncode == 0, new.stderr
    hint = new.stdout.split("build and boot it: ", 1)[1].strip()
    assert hint.startswith("cd mymod && ") and hint.endswith(" check")
    checked = subprocess.run(hint, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "mymod: loaded, printed 'mymod: hello from Rust', 'mymod: goodbye', unloaded" in checked.stdout
    tested = scons(tmp_path / "mymod", "test-host")
    assert tested.returncode == 0 and "test result: ok. 1 passed" in tested.stdout, tested.output


def test_a_module_that_is_one_rs_file_builds_as_kbuild_builds_it(tmp_path):
    """RustKernelModule(source="rust_hello.rs"): no Cargo.toml, no #![no_std] (Kbuild's crate
    attribute is added), cfg!(MODULE) true, pr_info!("...\\n") one line each; x86_64 and arm64;
    a second run is a no-op and an edit reruns cargo."""
    fetch_kernels("6.1", "6.1-arm64")
    project, env, run = built_outside_project("onefile", tmp_path, "check", "KERNELS=6.1,6.1-arm64")
    assert set(kernel_summary(run, "rust_hello").values()) == {"built, verified, booted"}
    assert run.stdout.count("printed 'Rust hello (init)', 'Am I built-in? false', "
                            "'My numbers are [72, 108, 200]', unloaded") == 2
    assert not (project / "Cargo.toml").exists()
    assert not [line for line in (project / "rust_hello.rs").read_text().splitlines() if line.startswith("#![")]
    for log in project.glob("build/*/rust_hello/rust_hello.ko.booted.log"):
        lines = log.read_text().splitlines()
        start = next(n for n, line in enumerate(lines) if "rust_hello: Rust hello (init)" in line)
        assert "rust_hello: Am I built-in? false" in lines[start + 1]          # no empty line between
    assert scons(project, "-q", "KERNELS=6.1,6.1-arm64", env=env).returncode == 0
    source = project / "rust_hello.rs"
    source.write_text(source.read_text().replace("Rust hello (init)", "Rust hello (init, edited)"))
    edited = scons(project, "KERNELS=6.1,6.1-arm64", env=env)
    assert edited.returncode == 0 and edited.steps().count("CARGO") == 2, edited.output


# every architecture, the oldest and newest series and Debian 12's own, and the debug kernel
INTREE = ("5.10", "6.1", "6.12", "7.3", "7.3-arm64", "6.1-armhf", "6.1-i386", "6.12-trixie-riscv64", "6.1-signing")
INTREE_LINE = ("kintree: loaded, printed 'kintree: ready, by pid true', 'kintree: loads: 1', "
               "'kintree: locked by: 6 and 1', 'misc kintree: open: try_lock while held: true, after: true', "
               "'debugfs loads: 1', 'kintree: queued: true, again', 'kintree: spawned ran', "
               "'kintree: work ran after 50 ms', 'read: woken up', 'kintree-bytes:\t8', 'kintree-opens:\t1', "
               "'kintree: released after', "
               "'kintree: down', 'kintree: work ran after 200 ms', unloaded")


@pytest.fixture(scope="module")
def kintree(tmp_path_factory):
    fetched = fetch_kernels(*INTREE, timeout=3600)
    project, env, run = built_outside_project("kintree", tmp_path_factory.mktemp("kintree"), "check",
                                              "KERNELS=" + ",".join(INTREE), timeout=2400)
    return project, fetched, run


def test_the_in_tree_shapes_work_on_every_kernel_and_the_debug_kernel(kintree):
    """tests/projects/kintree (one file, the in-tree way, no unsafe): an InPlaceModule of #[pin]
    fields, a misc device with #[vtable], type Ptr = Arc<_>, a read_iter that sleeps on a CondVar
    until a write_iter on the same open file wakes it, show_fdinfo, a Completion, LockedBy,
    try_lock, global_lock!, current!(), Instant, a debugfs file, pr_cont! and work items (one queued while the
    module unloads, which runs to its end before the module goes): on eleven kernels of five
    architectures (its Instant's 64-bit division once crashed i386: compiler_builtins' helpers
    took another ABI) and on the debug kernel (KASAN, lockdep, DEBUG_OBJECTS) with no report."""
    project, fetched, run = kintree
    summary = kernel_summary(run, "kintree")
    assert set(summary.values()) == {"built, verified, booted"} and len(summary) == len(INTREE)
    assert run.stdout.count(INTREE_LINE) == len(INTREE), run.output
    logs = [log.read_text() for log in project.glob("build/*/kintree/kintree.ko.booted.log")]
    for log in logs:        # an item queued again is given back while pending, else it runs twice
        given_back = "again while pending: given back" in log
        assert log.count("kintree: work ran after 50 ms") == (1 if given_back else 2), log
    assert "forbid(unsafe_code)" in (project / "kintree.rs").read_text()


def test_module_declares_the_in_tree_modinfo_keys(kintree):
    """module!'s alias and firmware keys become .modinfo entries (modinfo lists them)."""
    project, fetched, _ = kintree
    ko = project / "build" / fetched["6.1"].release / "kintree" / "kintree.ko"
    info = subprocess.run(["/sbin/modinfo", str(ko)], capture_output=True, text=True).stdout
    assert "alias:          kintree-alias" in info and "firmware:       kintree/none.bin" in info
    assert "author:         rustkmod" in info and "license:        GPL" in info
