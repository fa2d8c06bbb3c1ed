"""rustkmod: build Linux kernel modules whose core is a Rust staticlib, and prove they load.

This package is plain Python (no SCons imports) so that it can be unit-tested directly and used
without SCons (`python -m rustkmod check FILE.ko`, or the checkout's `rustkmod` script). The SCons
tool that wires it into a build lives in `site_scons/site_tools/rustkmod_scons/`.

rust, kernel, elf, verify: the packages (each __init__ maps its modules).
process:  the one way a child starts: cleaned environment, tree lock, jobserver, failure().
stamps:   one file stamp, one JSON stamp cache, one content record for shared caches.
atomic:   files replaced whole (write, then rename).
cache_entries: the machine's shared cache entries, published whole and pruned when unused.
depfile:  make-style dependency files, as cargo and clang write them.
editor:   rust-project.json and compile_commands.json for editors.
errors:   RustkmodError, the one error shape (what went wrong; the fix).
inputs:   the forms a name must have before it reaches a language that would run it.
debpkg:   a reproducible Debian binary package from a set of files (dpkg-deb).
tool_deb: rustkmod itself as a Debian package, from its checkout.
scaffold: `rustkmod new`, a module project to start from.
__main__: the command line (check, fetch-kernel, fetch-source, new, docs, clear-sysroots).
"""

import os
import shlex

from rustkmod.errors import RustkmodError

__all__ = ["RustkmodError", "CHECKOUT", "COMMAND", "__version__", "docs_directory"]

# rustkmod's release (pyproject.toml and CHANGELOG.md's newest heading say the same). Its crates,
# rustkmod-rt and rustkmod-kernel, keep the 0.1 series that projects name them by: see
# docs/compatibility.md.
__version__ = "0.3.0"

# The checkout this package is in ("" once pip has installed it), and the command that runs
# rustkmod: the form every printed hint takes, so that it runs as written from anywhere.
_TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# (The Debian package keeps the same layout under /usr/share/scons/site_scons, with no ./setup beside it.)
CHECKOUT = _TOP if all(os.path.isfile(os.path.join(_TOP, *p)) for p in (
    ("site_scons", "site_tools", "rustkmod_scons", "__init__.py"), ("setup",))) else ""


def _command() -> str:
    if CHECKOUT:
        return os.path.join(CHECKOUT, "rustkmod")
    import shutil
    import sys
    beside = os.path.join(os.path.dirname(sys.executable), "rustkmod")     # the venv's script
    return beside if os.access(beside, os.X_OK) and shutil.which("rustkmod") != beside else "rustkmod"


COMMAND = shlex.quote(_command())     # as a shell takes it: a checkout in a directory with a space


def docs_directory(checkout: str = CHECKOUT) -> str:
    """Where rustkmod's docs are, however it was installed: a checkout's docs/, pip's copy in the
    package (rustkmod/docs), Debian's /usr/share/doc/rustkmod."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.join(checkout, "docs")] if checkout else []
    candidates += [os.path.join(here, "docs"), "/usr/share/doc/rustkmod"]
    return next((c for c in candidates if os.path.isfile(os.path.join(c, "kernel-crate.md"))), candidates[0])
