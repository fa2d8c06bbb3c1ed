"""Damaged ELF files give a verdict or one clear error line: never a traceback, never a hang."""

import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import assemble, object_with_types
from rustkmod import RustkmodError
from rustkmod.verify import LoaderTarget, check_file, policy_for
from rustkmod.verify.fix import rewrite_types

SOURCE = (".text\n.globl f\n.type f,@function\nf:\n.reloc ., R_X86_64_PC32, a\n.long 0\n"
          ".reloc ., R_X86_64_GOTPCREL, b\n.long 0\n.reloc ., R_X86_64_32, c\n.long 0\n.size f, .-f\n"
          '.section .gnu.linkonce.this_module,"aw"\n.quad 0\n.comm buf, 8\n')
TARGET = LoaderTarget(policy_for("x86_64"), (6, 1, 0), None, {"a": 0x1234})


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fuzz")
    return [assemble(SOURCE, directory / "a.o").read_bytes(),
            object_with_types("x86_64", [4, 9, 2, 24, 41], directory / "b.o").read_bytes()]


def _judge(path) -> str:
    """'verdict' or 'error'; anything else escapes and fails the test. A hang trips the alarm."""
    signal.alarm(10)
    try:
        check_file(str(path), TARGET)
        return "verdict"
    except RustkmodError as err:
        assert "\n" not in str(err) and str(path) in str(err)
        return "error"
    finally:
        signal.alarm(0)


mutation = st.tuples(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=255))


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=1), flips=st.lists(mutation, min_size=1, max_size=12),
       cut=st.one_of(st.none(), st.integers(min_value=0, max_value=10**6)))
def test_mutated_objects_never_crash_the_checker(tmp_path, seeds, seed, flips, cut):
    data = bytearray(seeds[seed])
    for position, value in flips:
        data[position % len(data)] = value
    if cut is not None:
        data = data[:cut % len(data)]
    path = tmp_path / "mutant.o"
    path.write_bytes(bytes(data))
    assert _judge(path) in ("verdict", "error")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(mutation, min_size=1, max_size=8))
def test_mutated_objects_never_crash_the_rewriter(tmp_path, seeds, flips):
    data = bytearray(seeds[1])
    for position, value in flips:
        data[position % len(data)] = value
    path = tmp_path / "mutant.o"
    path.write_bytes(bytes(data))
    try:
        rewrite_types(str(path), str(tmp_path / "out.o"), {4: 2})
    except RustkmodError as err:
        assert "\n" not in str(err)
