"""`NAME=VALUE` arguments nobody reads fail the run: `scons check KERNEL=5.10` must not say
"up to date" and exit 0 while the user believes 5.10 passed.

The SConstruct asks for the check once, at its end, when every SConscript was read:
`env.RustkmodCheckArguments(*known)`. An argument is known when rustkmod's variables know it
(`Variables.UnknownVariables()` of the tool's own), when one of `known` names it (a name, or a
`Variables` of the project's: its `keys()`), or when the project declared it
(`env.RustkmodArguments("MYFLAG")`). SCons has no public hook at the end of reading, and the
project's own reads of ARGUMENTS are its business: so the call is explicit, and a SConstruct
without it builds as before, unchecked.
"""

from __future__ import annotations

import sys

from SCons.Script import ARGUMENTS

_declared: set = set()          # env.RustkmodArguments(...) and what is always known
_tool_variables: list = []      # the Variables rustkmod updated, one per environment it was loaded into


def declare(*names: str) -> None:
    """Names the project reads in its own way (ARGUMENTS, ARGLIST)."""
    _declared.update(names)


def RustkmodArguments(env, *names: str) -> None:
    """env.RustkmodArguments("MYFLAG", ...): `scons MYFLAG=1` is the project's, not a typo."""
    declare(*names)


def RustkmodCheckArguments(env, *known) -> None:
    """env.RustkmodCheckArguments(*known), the SConstruct's last line: the first `NAME=VALUE`
    that neither rustkmod, nor `known` (names, or the project's own Variables), nor a declared
    name reads stops the run before anything is built (one line, exit status 2)."""
    names = set(_declared)
    for thing in known:
        if not isinstance(thing, str) and not callable(getattr(thing, "keys", None)):
            _stop(f"RustkmodCheckArguments({thing!r}): give names (\"STRESS\") or Variables objects, "
                  "one per argument")
        names.update([thing] if isinstance(thing, str) else thing.keys())
    check(dict(ARGUMENTS), names)


def note_tool_variables(variables) -> None:
    """The tool's Variables, updated with ARGUMENTS: what they leave unknown is checked."""
    _tool_variables.append(variables)


def known_to_tool(arguments: dict) -> set:
    """The arguments some Variables of rustkmod's took (aliases included)."""
    if not _tool_variables:
        return set()
    unknown_to_all = set(arguments)
    for variables in _tool_variables:
        unknown_to_all &= set(variables.UnknownVariables())
    return set(arguments) - unknown_to_all


def unknown(arguments, known) -> list[str]:
    return [name for name in arguments if name not in known]


def nearest(name: str, known) -> str:
    """The known name a typo most likely meant, or ''."""
    import difflib          # here: only a typo pays for it (3 ms of every run otherwise)
    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else ""


def check(arguments: dict, names: set) -> None:
    """One line and exit status 2 for the first argument nobody reads."""
    known = names | known_to_tool(arguments)
    suggestible = known | {key for variables in _tool_variables for key in variables.keys()}
    for name in unknown(arguments, known):
        guess = nearest(name, suggestible)
        hint = f"did you mean {guess}?" if guess else "scons -h lists the build variables"
        _stop(f"{name}={arguments[name]}: no such build variable; {hint} "
              f"(a variable of the project's own: env.RustkmodCheckArguments(\"{name}\"))")


def _stop(text: str) -> None:
    """One line and exit status 2, before anything is built."""
    sys.stderr.write(f"scons: *** rustkmod: {text}\n")
    sys.exit(2)
