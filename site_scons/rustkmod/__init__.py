"""rustkmod: build Linux kernel modules whose core is a Rust staticlib, and prove they load.

This package is plain Python (no SCons imports) so that it can be unit-tested directly and used
without SCons (`python -m rustkmod check FILE.ko`). The SCons tool that wires it into a build
lives in `site_scons/site_tools/rustkmod/`.
"""

from rustkmod.errors import RustkmodError

__all__ = ["RustkmodError"]
