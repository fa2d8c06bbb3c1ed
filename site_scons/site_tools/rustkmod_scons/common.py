"""What every stage of the tool uses: typed settings in Value nodes, actions with $XCOMSTR
labels, one way to fail, and running commands inside the run's jobserver and tree lock."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading

import SCons.Action
import SCons.Builder
import SCons.Errors
import SCons.Node.Python

from rustkmod import RustkmodError, atomic, process

from . import state

# Each step's progress label, as the construction variable that holds it ($CARGOCOMSTR, ...).
# Setting one (Environment(CARGOCOMSTR="..."), or "" to silence it) rewords that step, as for
# any SCons tool; the tests read the labels from here.
LABELS = {
    "SYSROOT": "SYSROOTCOMSTR", "LOCK": "CARGOLOCKCOMSTR", "CARGO": "CARGOCOMSTR", "LD -r": "RUSTLDCOMSTR", "STAGE": "KBUILDSTAGECOMSTR", "GEN": "GENCOMSTR",
    "OBJTOOL": "OBJTOOLCOMSTR", "KBUILD": "KBUILDCOMSTR", "FIX": "FIXRELOCSCOMSTR",
    "VERIFY": "VERIFYCOMSTR", "BOOT": "BOOTCOMSTR", "STANDIN": "STANDINCOMSTR", "TEST": "CARGOTESTCOMSTR",
    "RUN": "HOSTRUNCOMSTR", "KERNEL": "KERNELCOMSTR", "INSTALL": "INSTALLCOMSTR",
    "DEPMOD": "DEPMODCOMSTR", "SIGN": "SIGNCOMSTR", "EDITOR": "EDITORCOMSTR", "BINDGEN": "BINDGENCOMSTR",
    "CC": "USERPROGRAMCOMSTR", "DEB": "DEBCOMSTR", "DKMS": "DKMSCOMSTR",
}
DEFAULT_COMSTR = {variable: f"{label:<8} $TARGET" for label, variable in LABELS.items()}


_OUTPUT = threading.Lock()


def say(text: str, error: bool = False) -> None:
    """Print `text` as whole lines in one write. Steps run in SCons' job threads under -j, and
    print() writes the text and its newline apart: another step's progress line landing between
    the two would be glued to this one, and a reader of the log loses it."""
    if not text:
        return
    stream = sys.stderr if error else sys.stdout
    with _OUTPUT:
        stream.write(text if text.endswith("\n") else text + "\n")
        stream.flush()


def comstr(label: str) -> str:
    """The `$XCOMSTR` reference for a step's label."""
    return "$" + LABELS[label]


def builder(function, label: str, **kwargs) -> SCons.Builder.Builder:
    """A Builder whose action is `function`, announced by the label's $XCOMSTR ("" silences it)."""
    def announce(target, source, env):
        return env.subst(comstr(label), raw=1, target=target, source=source)
    made = SCons.Builder.Builder(action=SCons.Action.Action(_Step(function), strfunction=announce), **kwargs)
    made.rustkmod_label = label         # for the generated builder table (reference.py)
    return made


class _Step(functools.partial):
    """A step's function as an action whose signature contents (the function's code, as SCons
    reads it for any Python action) are worked out when a build first asks for them. SCons
    would read them when the Action is made, and the tool makes every builder on loading:
    2 ms of each no-op build. SCons asks `get_contents` of a callable it cannot read itself."""

    def get_contents(self, target, source, env):
        if not hasattr(self, "contents"):
            # The code's bytes decide them, so they are kept across runs while the function's
            # source file and the interpreter stay the same (state.remember_files): 1.5 ms a no-op.
            func = self.func
            key = ("action contents", func.__module__, func.__qualname__, sys.version)
            self.contents = state.memo().remember_files(
                key, [func.__code__.co_filename], lambda: scons_callable_contents(func))
        return self.contents


def scons_callable_contents(func) -> bytes:
    """What SCons signs for a Python function's action (its code, constants and defaults), read
    through the Action interface SCons itself calls for a signature."""
    return bytes(SCons.Action.Action(func).get_contents([], [], None))


def sysroot_cache(env) -> str:
    """The machine's cache of what every project shares: sysroots, kernel cfg lists, bindings."""
    return os.path.abspath(env["RUST_SYSROOT_CACHE"] or os.path.join(env["KERNEL_CACHE"], "sysroots"))


def library_code(env, *paths: str) -> list:
    """File nodes of the rustkmod package's modules that do a step's work (each of `paths` a
    module's file, or a package directory for every .py in it, relative to the package): a
    dependency of the step's target, as its action's own code is, since SCons signs the action
    function alone."""
    import rustkmod
    top = os.path.dirname(os.path.abspath(rustkmod.__file__))

    def listed():
        found = []
        for path in paths:
            full = os.path.join(top, path)
            names = sorted(n for n in os.listdir(full) if n.endswith(".py")) if os.path.isdir(full) else [""]
            found += [env.File(os.path.join(full, name) if name else full) for name in names]
        return found
    return state.memo().remember(("library code", paths), listed)


def rescan(node) -> None:
    """After an action that wrote the dependency file its target scanner reads (cargo's dep-info,
    libclang's .d): scan again, so this build's record already lists what the build read. A
    second run would otherwise find them as new dependencies and build again. Every target of
    the step is reset: the scan gives its findings to all of them, and a target still holding
    the list from before the action would keep old entries ahead of new ones (bindings_helpers.c
    after the header was renamed)."""
    for target in node.get_executor().get_all_targets():
        target.implicit = None
    node.scan()


def settings_node(env, record):
    """A Value node holding a settings record (a NamedTuple): its signature is the record's
    repr, and `setting()` reads the record itself back. The repr is also the node's name in
    .sconsign, so --debug=explain recognises the same settings in the next run."""
    node = env.Value(repr(record))      # memoised by its text: one node per distinct record
    node.write(record)                  # what read() returns
    return node


def setting(source: list, kind: type):
    """The one settings record of type `kind` among a step's sources (a Value node holding it)."""
    found = [node.read() for node in source
             if isinstance(node, SCons.Node.Python.Value) and isinstance(node.read(), kind)]
    if len(found) != 1:
        raise SCons.Errors.BuildError(errstr=f"rustkmod: internal: {len(found)} {kind.__name__} among the sources")
    return found[0]


def files(source: list) -> list:
    """A step's file sources, in order, without its settings."""
    return [node for node in source if not isinstance(node, SCons.Node.Python.Value)]


def fail(what, fix: str = ""):
    """Stops the step: SCons prints `scons: *** [target] rustkmod: what; fix` and nothing more."""
    text = str(what) if isinstance(what, RustkmodError) else str(RustkmodError(what, fix))
    raise SCons.Errors.BuildError(errstr=f"rustkmod: {text}")


def remove(*paths: str) -> None:
    """Deletes what a failed step may have left half-written, so nothing stale looks built."""
    for path in paths:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def run(command: list[str], env: dict | None = None, what: str = "", **kwargs) -> subprocess.CompletedProcess:
    """process.run (the cleaned environment unless `env` is given, the tree lock; `jobs=N`: the
    jobserver) in a step: a missing program fails the step naming it."""
    try:
        return process.run(command, env=env, **kwargs)
    except FileNotFoundError:
        fail(f"{command[0]} not found{what}", "install it (./setup does) or set the variable that names it")


def check_status(result: subprocess.CompletedProcess, what: str, fix: str = "") -> None:
    """Fails the step when a child exited non-zero (its own output has already said why), after
    the shell line that runs it again by hand."""
    if result.returncode != 0:
        say_reproduce(result)
        fail(f"{what} failed (exit status {result.returncode})", fix)


def say_reproduce(result) -> None:
    """The line that reruns a failed child as the step ran it (process.run's `reproduce`)."""
    if getattr(result, "reproduce", ""):
        say(f"         to rerun it: {result.reproduce}", error=True)


def verbose(env) -> bool:
    """V=1 (or RUSTKMOD_VERBOSE=1): the remarks a quiet build leaves out are printed."""
    return env["V"] == "1"


def jobs(env) -> int:
    return int(env["JOBS"] or os.cpu_count() or 1)


def write_text(path: str, text: str) -> None:
    """Writes whole or not at all (rustkmod.atomic): the kernel cfg lists are shared by every
    checkout, and two builds may write one at once."""
    atomic.write(path, text)
