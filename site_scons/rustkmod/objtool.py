"""The kernel's own objtool, run on the Rust object the way Kbuild runs it on C objects.

objtool validates the code (stack, retpoline, return thunk and SLS rules) and writes what the
kernel needs to patch and unwind it: .retpoline_sites, .return_sites, ORC tables. Kbuild never
runs it on a prebuilt (shipped) object, so rustkmod does. The command is the kernel's: a throwaway
Kbuild directory asks the tree's own make for `$(objtool)` and its arguments (`objtool-args` on
6.x, `objtool_args` on 5.10), and whether Kbuild already runs objtool on the linked module
(`delay-objtool`, e.g. on IBT kernels), in which case the Rust code is covered there.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass

from .errors import RustkmodError

_PROBE = """always-y := rustkmod-objtool-probe
$(obj)/rustkmod-objtool-probe: FORCE
\t@echo 'rustkmod-objtool=$(objtool)$(__objtool_obj)'
\t@echo 'rustkmod-args=$(objtool-args)$(objtool_args)'
\t@echo 'rustkmod-delay=$(delay-objtool)'
"""


@dataclass(frozen=True)
class ObjtoolPlan:
    command: tuple       # objtool and its arguments, without the object file
    delayed: bool        # Kbuild runs objtool on the linked module itself


def plan(kdir: str, make_variables: list[str]) -> ObjtoolPlan | None:
    """How this kernel's Kbuild runs objtool on module objects; None when it does not."""
    with tempfile.TemporaryDirectory(prefix="rustkmod-objtool-") as probe:
        with open(os.path.join(probe, "Kbuild"), "w") as handle:
            handle.write(_PROBE)
        result = subprocess.run(["make", "-s", "--no-print-directory", "-C", kdir, f"M={probe}",
                                 *make_variables, "modules"], capture_output=True, text=True)
    values = dict(line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("rustkmod-"))
    if "rustkmod-objtool" not in values:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RustkmodError(f"KDIR={kdir}: cannot ask Kbuild how it runs objtool ({last})",
                            "check the tree builds external modules (make -C KDIR M=... modules)")
    objtool, args = values["rustkmod-objtool"].strip(), values["rustkmod-args"].split()
    if not objtool or not args:
        return None
    objtool = os.path.normpath(os.path.join(kdir, objtool))     # $(objtree) is "." under make -C
    if not os.path.isfile(objtool):
        raise RustkmodError(f"KDIR={kdir} names objtool {objtool}, which is missing",
                            "build it (make -C KDIR tools/objtool) or pass OBJTOOL=off")
    return ObjtoolPlan((objtool, *args), bool(values.get("rustkmod-delay", "").strip()))


@dataclass(frozen=True)
class ObjtoolResult:
    status: int          # objtool's exit status: non-zero is objtool's own failure, not a finding
    lines: tuple         # what it printed that names objtool
    command: str

    @property
    def warnings(self) -> tuple:
        return self.lines


def run(plan_: ObjtoolPlan, obj: str) -> ObjtoolResult:
    """Runs objtool on `obj` in place, as for an object that is part of a module (and already
    linked, as `ld -r` made it).

    objtool exits 0 after warnings about the code (every version up to 7.x, unless built with
    --Werror, which Kbuild does not pass for modules); a non-zero exit means it could not do its
    work: a full disk during the rewrite, a damaged object.
    """
    args = list(plan_.command)
    # 5.10's objtool takes a subcommand (`objtool orc generate ...`) and has no --link, which
    # came with the 5.19 command line; an `ld -r` output needs it there.
    old_command_line = args[1] in ("check", "orc")
    command = args + (["--module"] if old_command_line else ["--module", "--link"]) + [obj]
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except OSError as err:
        return ObjtoolResult(127, (f"objtool: {err}",), shlex.join(command))
    lines = tuple(line for line in (result.stdout + result.stderr).splitlines()
                  if "objtool:" in line and "forcing --link" not in line)
    return ObjtoolResult(result.returncode, lines, shlex.join(command))
