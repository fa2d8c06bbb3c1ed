"""The forms a name must have before it reaches a language that would run it.

A module's name, its C files' names, its insmod parameters, a package's fields: each ends up
in a file another program reads as code or as fields (make's Kbuild file and the shell lines of
its recipes, the boot's /init, a Debian control file, dkms.conf). None is quoted into those
languages: each is checked against the form its sink takes, whole (fullmatch: a trailing newline
is not "the end of the line"), and refused with one line naming it and the form. The sinks check
again what reaches them, so a new caller cannot skip the check.
"""

from __future__ import annotations

import re

from rustkmod import RustkmodError

# Kbuild's module names: what `obj-m := NAME.o` and /sys/module/NAME take.
MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# A file name that is one word for make and the shell, no path: what Kbuild compiles or includes,
# and a program the boot copies into the guest's /bin.
FILE_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
# insmod's NAME=VALUE words (values may hold , . : / + - for arrays and paths).
_PARAM = r"[A-Za-z_][A-Za-z0-9_.]*=[A-Za-z0-9_,.:/+-]*"
MODULE_PARAMS = re.compile(rf"{_PARAM}(?: +{_PARAM})*")
# Debian's forms (Policy 5.6.1, 5.6.7, 5.6.2); DKMS names /usr/src/<package>-<version> from the first two.
PACKAGE_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")
VERSION = re.compile(r"[0-9][A-Za-z0-9.+~-]*")
MAINTAINER = re.compile(r"[^<>,\x00-\x1f]+ <[^<>@\s]+@[^<>\s]+>")
ONE_LINE = re.compile(r"[^\x00-\x1f\x7f]{1,80}")


def check(form: re.Pattern, value: str, what: str, shape: str, fix: str) -> str:
    """`value` when the whole of it has `form`; else one error naming `what`, the shape it must
    have and the fix."""
    if not isinstance(value, str) or not form.fullmatch(value):
        named = f"{what}{value!r}" if what.endswith("=") else f"{what} {value!r}"
        raise RustkmodError(f"{named} is not {shape}", fix)
    return value


def module_name(name: str) -> str:
    return check(MODULE_NAME, name, "module name", "a valid kernel module name",
                 "use letters, digits, '_' and '-' only, not first a digit")


def kbuild_file(name: str, what: str = "C file") -> str:
    """A file name Kbuild's make and its shell recipes will see as one word."""
    return check(FILE_WORD, name, what, "a file name Kbuild can take (make and the shell of its recipes "
                 "would read it as code)", "rename it to letters, digits and _ . + - only")


def module_params(params: str) -> str:
    if not params:
        return params
    return check(MODULE_PARAMS, params, "module parameters", "NAME=VALUE words for insmod (a shell reads them)",
                 "separate NAME=VALUE words by spaces; values of letters, digits and _ , . : / + - only")


def program_name(name: str) -> str:
    return check(FILE_WORD, name, "exercise program", "a file name the boot's shell can run",
                 "rename it to letters, digits and _ . + - only")


def package_name(name: str) -> str:
    return check(PACKAGE_NAME, name, "package=", "a Debian package name",
                 "use lower-case letters, digits and + . - (at least two characters)")


def version(value: str) -> str:
    return check(VERSION, value, "version=", "a Debian version",
                 "start it with a digit; letters, digits and . + ~ - only, e.g. 1.0.0")


def maintainer(value: str) -> str:
    return check(MAINTAINER, value, "maintainer=", "'Name <address>' on one line",
                 "give it as Debian's Maintainer field wants: maintainer=\"Jo Dev <jo@example.com>\"")


def one_line(value: str, what: str) -> str:
    return check(ONE_LINE, value, what, "one line of up to 80 characters",
                 "shorten it to one line, no control characters")
