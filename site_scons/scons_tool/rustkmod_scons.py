"""rustkmod's SCons tool as `pip install` places it: in SCons' own tool package, where
`Environment(tools=["rustkmod_scons"])` finds it with no toolpath. The tool itself is the
`rustkmod_scons` package installed beside `rustkmod` (site_scons/site_tools/rustkmod_scons in a
checkout, which a checkout's own site_scons/ or toolpath finds first)."""

from rustkmod_scons import exists, generate

__all__ = ["exists", "generate"]
