"""What the tool calls of SCons whose form changed between the versions it supports (SCons 4.4,
Debian 12's, to the newest on PyPI): each difference is handled here, once."""

from __future__ import annotations

import inspect

from SCons.Script import Help

# Help(..., local_only=) came with SCons 4.6; before it, appended help text follows SCons' own
# option list (what `scons -H` prints), which is what 4.4 users see.
_LOCAL_ONLY = "local_only" in inspect.signature(Help).parameters


def add_help(text: str) -> None:
    """Appends `text` to what `scons -h` prints."""
    if _LOCAL_ONLY:
        Help(text, append=True, local_only=True)
    else:
        Help(text, append=True)
