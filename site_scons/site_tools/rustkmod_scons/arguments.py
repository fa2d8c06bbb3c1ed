"""`NAME=VALUE` arguments nobody reads fail the run: `scons check KERNEL=5.10` must not say
"up to date" and exit 0 while the user believes 5.10 passed.

An argument is known when a `Variables` object of the run knows it (rustkmod's own, or one the
project's SConstruct adds and updates), when the project's SConscripts read it from ARGUMENTS
(`ARGUMENTS.get("EXPECT")`), or when the project declares it (`env.RustkmodArguments("MYFLAG")`).
The check runs once, after every SConscript was read and before anything is built, cleaned or
questioned: SCons offers no public hook there, so the first call it makes at that point
(`SCons.Node.FS.save_strings`, right after reading) is wrapped for that one call.
"""

from __future__ import annotations

import sys

import SCons.Node.FS
import SCons.Script
import SCons.Variables

# The module that reads SConscripts (SCons.Script's own `SConscript` name is the function).
_reader = sys.modules["SCons.Script.SConscript"]


class TrackedArguments(dict):
    """SCons' ARGUMENTS, remembering which names the SConscripts read."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

    def pop(self, key, *default):
        self.read.add(key)
        return super().pop(key, *default)

    def setdefault(self, key, default=None):
        self.read.add(key)
        return super().setdefault(key, default)


_declared: set = set()        # env.RustkmodArguments(...) and the keys of every Variables updated
_tracked: TrackedArguments | None = None


def declare(*names: str) -> None:
    """Names the project reads in its own way (an ARGUMENTS read before rustkmod loaded, ARGLIST)."""
    _declared.update(names)


def RustkmodArguments(env, *names: str) -> None:
    """env.RustkmodArguments("MYFLAG", ...): `scons MYFLAG=1` is the project's, not a typo."""
    declare(*names)


def install(always_known=()) -> None:
    """Once per process: ARGUMENTS tracked from here on, every Variables' keys declared when it
    is updated, and the check armed for the end of SConscript reading."""
    global _tracked
    declare(*always_known)
    if _tracked is not None:
        return
    original = SCons.Script.ARGUMENTS
    _tracked = TrackedArguments(original)
    # The name every SConscript sees: the module's, the cached default globals new SConscripts
    # copy, and the globals of the SConscripts being read now.
    SCons.Script.ARGUMENTS = _tracked
    namespaces = [frame.globals for frame in _reader.call_stack]
    if _reader.GlobalDict is not None:
        namespaces.append(_reader.GlobalDict)
    for namespace in namespaces:
        if namespace.get("ARGUMENTS") is original:
            namespace["ARGUMENTS"] = _tracked
    _declare_on_update()
    _check_after_reading()


def _declare_on_update() -> None:
    update = SCons.Variables.Variables.Update

    def declaring_update(self, env, args=None):
        declare(*self.keys())
        declare(*(alias for option in self.options for alias in option.aliases))
        return update(self, env, args)
    SCons.Variables.Variables.Update = declaring_update


def _check_after_reading() -> None:
    save_strings = SCons.Node.FS.save_strings

    def check_then_save(value):
        SCons.Node.FS.save_strings = save_strings       # one call only
        check()
        return save_strings(value)
    SCons.Node.FS.save_strings = check_then_save


def unknown(arguments, known) -> list[str]:
    return [name for name in arguments if name not in known]


def nearest(name: str, known) -> str:
    """The known name a typo most likely meant, or ''."""
    import difflib          # here: only a typo pays for it (3 ms of every run otherwise)
    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else ""


def check() -> None:
    """One line and exit status 2 for the first argument nobody reads."""
    arguments = SCons.Script.ARGUMENTS
    known = _declared | (arguments.read if isinstance(arguments, TrackedArguments) else set())
    for name in unknown(arguments, known):
        guess = nearest(name, known)
        hint = f"did you mean {guess}?" if guess else "scons -h lists the build variables"
        sys.stderr.write(f"scons: *** rustkmod: {name}={dict.get(arguments, name)}: no such build variable; {hint} "
                         f"(a variable of the project's own: env.RustkmodArguments(\"{name}\"))\n")
        sys.exit(2)
