"""The kernel crate is sound: no safe code can make the kernel touch freed memory.

- What the crate must refuse does not compile (the compile-fail runner, tests/compile_fail.py,
  over site_scons/rustkmod_kernel/compile_fail/), each snippet with the error it expects.
- The host half's tests, and a module's, pass under AddressSanitizer, which would catch a use
  after free (shown by one).
- tests/projects/ksound, the scenarios that once corrupted the kernel written as safe modules,
  boots on the debug kernel (6.1-signing: KASAN, UBSAN, KFENCE, lockdep, DEBUG_LIST,
  DEBUG_OBJECTS) and on arm64 with every scenario played and kstress hammering its devices, and
  no report; so do the kernel crate's other misc-device and test modules (kmisc, ringdev with
  STRESS=1, examples/minimal). knoc boots there in test_kernel_crate.
"""

import os
import shutil
from pathlib import Path

import pytest

import compile_fail
import host_asan
from helpers import PROJECTS, ROOT, built_outside_project, copy_project, fetch_kernels, kernel_summary, scons

pytestmark = pytest.mark.e2e

SNIPPETS = sorted(p.name for p in compile_fail.SNIPPETS.glob("*.rs"))


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    return {v.snippet: v for v in compile_fail.run_all(tmp_path_factory.mktemp("compile-fail"))}


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_what_would_corrupt_the_kernel_does_not_compile(verdicts, snippet):
    verdict = verdicts[snippet]
    assert verdict.passed, verdict.why


def test_every_refused_snippet_says_what_it_expects():
    refused = [name for name in SNIPPETS if not name.startswith("ok_")]
    assert len(refused) >= 9 and any(name.startswith("ok_") for name in SNIPPETS)
    assert all(compile_fail.expected(compile_fail.SNIPPETS / name) for name in refused)


def test_the_host_half_passes_its_tests_under_asan(tmp_path):
    for crate in ("rustkmod_kernel", "rustkmod_rt"):
        run = host_asan.cargo_test(ROOT / "site_scons" / crate / "Cargo.toml", tmp_path / "target", "--lib")
        assert run.returncode == 0, run.stdout + run.stderr
        assert "test result: ok." in run.stdout and "AddressSanitizer" not in run.stderr


def test_a_modules_host_tests_pass_under_asan(tmp_path):
    """kmisc's device logic over the host half (user memory in UserBuffers, locks, Arc)."""
    project = tmp_path / "kmisc"
    shutil.copytree(PROJECTS / "kmisc", project)
    run = host_asan.cargo_test(project / "Cargo.toml", tmp_path / "target")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "test result: ok. 3 passed; 0 failed" in run.stdout


def test_asan_would_catch_a_use_after_free(tmp_path):
    """The instrumented run is no formality: a test that reads a freed KBox fails it."""
    crate = tmp_path / "uaf"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "uaf"\nversion = "0.1.0"\nedition = "2024"\n\n'
                                      '[dependencies]\nkernel = { package = "rustkmod-kernel", version = "0.1" }\n')
    (crate / "src" / "lib.rs").write_text(
        "#[test]\nfn reads_freed_memory() {\n"
        "    let boxed = kernel::alloc::KBox::new(5u64, kernel::alloc::flags::GFP_KERNEL).unwrap();\n"
        "    let pointer = kernel::alloc::KBox::into_raw(boxed);\n"
        "    drop(unsafe { kernel::alloc::KBox::from_raw(pointer) });\n"
        "    assert_eq!(unsafe { *pointer }, 5);\n}\n")
    run = host_asan.cargo_test(crate / "Cargo.toml", tmp_path / "target")
    assert run.returncode != 0
    assert "ERROR: AddressSanitizer: heap-use-after-free" in run.stderr


# ksound on the debug kernel and on arm64: every scenario, then kstress; no report
KERNELS = ("6.1-signing", "6.1-arm64")
SCENARIOS = ("'first read: data ', 'removed: node gone', 'after removal: outlives its device', "
             "'write returned 10 of 10', 'ioctl: EINVAL', 'zero open: EINVAL', "
             "'ksound: Error::from_errno(0): not an errno, EINVAL instead', "
             "'kstress /dev/ksound_data: done', 'kstress /dev/ksound_ctl: done', 'ksound: down', "
             "'ksound_forgotten was never dropped (mem::forget?): removed at unload', 'forgotten node gone', "
             "'ksound: data device up, failing init in a while', 'open during init: refused', "
             "'failed init rc=16', 'data node gone after the failed init', unloaded")
# what the debug kernel's checkers print when they find something
REPORTS = ("BUG: KASAN", "BUG: KFENCE", "UBSAN:", "WARNING:", "ODEBUG:", "list_add corruption",
           "list_del corruption", "possible circular locking", "Invalid wait context", "BUG: sleeping function",
           "Oops", "general protection", "kernel tried to execute")


@pytest.fixture(scope="module")
def debug_kernel():
    kernel = fetch_kernels("6.1-signing", timeout=3600)["6.1-signing"]
    config = (Path(kernel.kdir) / ".config").read_text()
    for option in ("KASAN", "KASAN_GENERIC", "UBSAN", "KFENCE", "DEBUG_LIST", "DEBUG_OBJECTS", "PROVE_LOCKING",
                   "DEBUG_ATOMIC_SLEEP"):
        assert f"CONFIG_{option}=y" in config
    return kernel


def boot_logs(project: Path, module: str) -> dict:
    return {log.parent.parent.name: log.read_text(errors="replace")
            for log in project.glob(f"build/*/{module}/{module}.ko.booted.log")}


@pytest.fixture(scope="module")
def ksound(tmp_path_factory, debug_kernel):
    fetch_kernels(*KERNELS)
    project, env, run = built_outside_project("ksound", tmp_path_factory.mktemp("ksound"), "check",
                                              "KERNELS=" + ",".join(KERNELS), timeout=1800)
    return project, run


def test_the_scenarios_leave_the_kernel_whole(ksound, debug_kernel):
    """The data device's file stays readable after the device is removed under it; open with
    from_errno(0) fails with EINVAL; counts and ioctl values are checked at the boundary; a
    forgotten registration is gone after rmmod; an open during a failing init is refused; all
    under kstress, with no report on the debug kernel."""
    project, run = ksound
    assert set(kernel_summary(run, "ksound").values()) == {"built, verified, booted"}
    assert run.stdout.count(SCENARIOS) == len(KERNELS)
    # sizes no allocator can serve: ENOMEM and no WARNING (taint W) first
    assert run.stdout.count("'ksound: huge allocations refused: true true, 256 KiB served: true'") == len(KERNELS)
    assert "forbid(unsafe_code)" in (project / "src" / "lib.rs").read_text()
    log = boot_logs(project, "ksound")[debug_kernel.release]
    assert "KernelAddressSanitizer initialized" in log and "kfence: initialized" in log
    assert not [line for line in log.splitlines() if any(report in line for report in REPORTS)]


def test_the_other_misc_devices_survive_kstress_on_the_debug_kernel(tmp_path, debug_kernel):
    """kmisc (kstress in its own boot test) and examples/ringdev with STRESS=1, on the debug
    kernel: every expected line, kstress done, no report."""
    kmisc, _, run = built_outside_project("kmisc", tmp_path / "kmisc", "check", "KERNELS=6.1-signing")
    assert "'kstress /dev/kmisc: done', unloaded" in run.stdout
    ringdev = copy_project(tmp_path / "checkout") / "examples" / "ringdev"
    run = scons(ringdev, "check", "KERNELS=6.1-signing", "STRESS=1", env=dict(os.environ, RUSTKMOD=str(ROOT)))
    assert run.returncode == 0, run.output
    assert "'kstress /dev/ringdev: done', unloaded" in run.stdout
    for project, module in ((kmisc, "kmisc"), (ringdev, "ringdev")):
        log = boot_logs(project, module)[debug_kernel.release]
        assert "kstress /dev/" in log
        assert not [line for line in log.splitlines() if any(report in line for report in REPORTS)]


def test_the_minimal_example_boots_clean_on_the_debug_kernel(tmp_path, debug_kernel):
    project = tmp_path / "minimal"
    shutil.copytree(ROOT / "examples" / "minimal", project)
    run = scons(project, "check", "KERNELS=6.1-signing", env=dict(os.environ, RUSTKMOD=str(ROOT)))
    assert run.returncode == 0, run.output
    assert "minimal: loaded, printed 'minimal: hello from Rust', 'minimal: goodbye', unloaded" in run.stdout
    log = boot_logs(project, "minimal")[debug_kernel.release]
    assert not [line for line in log.splitlines() if any(report in line for report in REPORTS)]
