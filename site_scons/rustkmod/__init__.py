"""rustkmod: build Linux kernel modules whose core is a Rust staticlib, and prove they load.

This package is plain Python (no SCons imports) so that it can be unit-tested directly and used
without SCons (`python -m rustkmod check FILE.ko`, or the checkout's `rustkmod` script). The SCons
tool that wires it into a build lives in `site_scons/site_tools/rustkmod_scons/`.
"""

import os

from rustkmod.errors import RustkmodError

__all__ = ["RustkmodError", "CHECKOUT", "COMMAND"]

# The checkout this package is in, and its command-line script: the form every printed hint
# takes, so that it runs as written from anywhere.
CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMAND = os.path.join(CHECKOUT, "rustkmod")
