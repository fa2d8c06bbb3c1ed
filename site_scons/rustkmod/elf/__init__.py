"""ELF objects read and edited in place, on pyelftools' constants.

reader:  section headers, symbols and relocation entries decoded in bulk (numpy record arrays).
symbols: the global symbols of archives and objects (readelf), and Rust names demangled.
retain:  a partially linked object's .modinfo made to join Kbuild's (SHF_GNU_RETAIN cleared).
"""
