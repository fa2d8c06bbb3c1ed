"""The verdict for one ELF object against one kernel's loader: every refusal visible in the file.

Relocations first (type accepted? value fits? target bytes zero? REL vs RELA?), then what the
generic loader refuses in a module's sections and symbols. Each problem carries the loader's own
message, so a report reads like the `insmod` failure it prevents.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import stat

import numpy
from typing import NamedTuple

from elftools.elf.constants import SH_FLAGS

from rustkmod.errors import RustkmodError
from rustkmod.kernel.arch import of as arch_of
from rustkmod.kernel.tree import option_enabled
from rustkmod.verify import header
from rustkmod.verify.modinfo import TAINTING, entries
from rustkmod.verify.policy import Acceptance, ArchPolicy
from rustkmod.elf.reader import (SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_PROGBITS, SHT_RELA, STB_GLOBAL, STT_SECTION, ElfTables,
                     damaged_elf_errors)

# Sites named per kind of problem and type; past them a file's sites are only counted, so that a
# file of millions of refused relocations costs no more than a small one (memory, time, report).
NAMED_SITES = 1000

# Generic loader checks, with the first version that has them (kernel/module[/main].c).
_STRICT_RWX_SINCE = (5, 8)        # 5c3a7db0c7ec "module: Harden STRICT_MODULE_RWX"
_ARM64_PLTS_SINCE = (4, 6)        # "arm64: add support for module PLTs"
_ARM64_PLTS_MANDATORY = (6, 5)    # ea3752ba9685 "arm64: module: mandate MODULE_PLTS"


class LoaderTarget(NamedTuple):
    """The loader a file is judged against: architecture, version, and what the tree tells."""

    policy: ArchPolicy
    version: tuple
    config: dict | None = None          # the kernel's .config; None: unknown, defaults assumed
    exported: dict | None = None        # symbol -> CRC the kernel exports (Module.symvers); None: unchecked
    source_accepts: frozenset | None = None   # type names the loader source applies, when read
    source_file: str = ""
    description: str = ""
    release: str = ""                   # UTS_RELEASE of the tree: with the config, the expected vermagic
    gpl_only: frozenset = frozenset()   # the exported symbols that are EXPORT_SYMBOL_GPL

    def accepts(self, number: int) -> bool:
        name = self.policy.type_names.get(number)
        if name in self.policy.always_refused:
            return False
        if self.source_accepts is not None:
            return name in self.source_accepts
        return self.policy.acceptance(number).accepts(self.version, self.config)

    def accepted_by(self, number: int) -> str:
        text = self.policy.acceptance(number).describe(self.policy.arch)
        if self.source_accepts is not None:
            verdict = "has a case for it" if self.policy.type_names.get(number) in self.source_accepts \
                else "has no case for it"
            text += f"; this kernel's {self.source_file} {verdict}"
        return text

    def config_on(self, option: str, default: bool = True) -> bool:
        """An option's state; unknown (no .config given) is taken as `default`."""
        return option_enabled(self.config, option, default)

    def at_least(self, acceptance_or_version) -> bool:
        if isinstance(acceptance_or_version, Acceptance):
            return acceptance_or_version.accepts(self.version, self.config)
        return tuple(self.version) >= acceptance_or_version


class Finding(NamedTuple):
    """What a check found, before it is placed in the file (Problem has the same fields)."""

    kind: str
    section: str
    title: str               # Problem.type_name: the relocation type's name, or a short title
    fix: str
    loader_says: str


class Site(NamedTuple):
    """Where in the file a Finding is, for those that have a place."""

    offset: int = 0
    function: str = "?"
    symbol: str = ""
    type_number: int = -1
    accepted_by: str = ""


class Problem(NamedTuple):
    """One thing in the file that the loader would refuse."""

    kind: str            # unknown-type, overflow, nonzero-target, overlap, rel-format, wx-section,
    #                      ctors, common-symbol, tls-section, missing-plt, undefined-symbol, no-symtab,
    #                      bare-return, bare-indirect (x86 thunk kernels), symbol-version,
    #                      modinfo-twice, no-vermagic, wrong-vermagic, license-taint (modinfo.py),
    #                      gpl-only-symbol
    file: str
    section: str         # the relocation section or the section concerned
    offset: int          # r_offset within the target section (0 where it does not apply)
    function: str        # demangled function containing the offset, or "?"
    symbol: str          # demangled target symbol, or "" where it does not apply
    type_number: int     # relocation type, or -1
    type_name: str       # relocation type name, or a short title of the problem
    accepted_by: str     # the kernel versions whose loader applies the type ("" otherwise)
    fix: str
    loader_says: str     # the kernel's message, MODULE standing for the module's name
    count: int = 1       # > 1: that many more sites of this kind and type, past NAMED_SITES, not named

    @property
    def crate(self) -> str:
        """The Rust crate a function comes from, or C.

        A path's first segment; for an impl (`<Type as Trait>::f`), the type's crate, or the
        trait's when the type is generic (`<&T as core::fmt::Display>::fmt` is core's).
        """
        name = self.function
        if "::" not in name:
            return "" if name == "?" else "C or #[no_mangle]"
        if name.startswith("<"):
            self_type, _, trait = name[1:].partition(" as ")
            self_type = self_type.lstrip("&*").replace("mut ", "").replace("const ", "")
            name = self_type if "::" in self_type else trait
        return name.split("::", 1)[0].split("[", 1)[0].strip()


class Verdict(NamedTuple):
    """What the loader would make of one file: the problems, and every type it applies."""

    problems: list
    type_counts: dict      # type name -> number of entries in relocated sections
    compression: str = ""  # "xz", "gzip" or "zstd": judged as the kernel sees it, decompressed

    @property
    def loadable(self) -> bool:
        """The loader loads it and nothing is amiss (no refusal, no taint)."""
        return not self.problems

    @property
    def refusals(self) -> list:
        """The problems for which the loader refuses the module (or runs it unprotected): all
        but the taints."""
        return [p for p in self.problems if p.kind not in TAINTING]

    @property
    def taint(self) -> str:
        """The taint letters the kernel sets when it loads the module (P: its license)."""
        return "".join(sorted({TAINTING[p.kind] for p in self.problems if p.kind in TAINTING}))


def check_file(path: str, target: LoaderTarget) -> Verdict:
    """Reads `path` and finds everything `target`'s loader would refuse: first the checks it makes
    on the ELF header and section table (read as the kernel reads them), then the rest."""
    with open_module(path) as (data, compression):
        try:
            header.check(data, target.policy.arch, target.version, _is_module_file(path))
        except header.Refusal as refusal:
            return Verdict([Problem("elf-header", path, "", 0, "?", "", -1, refusal.title, "",
                                    "the file is not a module this kernel can read: rebuild it for this kernel "
                                    "(its ARCH), and check it was not damaged on the way", refusal.message)], {},
                           compression)
        with damaged_elf_errors(path):
            verdict = _Checker(data, path, target).run()
    return verdict._replace(compression=compression)


@contextlib.contextmanager
def open_module(path: str):
    """(the file's contents as the loader gets them, the compression): an uncompressed file is
    mapped, not read, so a large object costs no copy; a compressed one is decompressed."""
    data, compression = read_module(path, header_only=True)
    if compression or not data:
        yield (read_module(path)[0] if compression else data), compression
        return
    with open(path, "rb") as stream:
        mapped = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        yield mapped, ""
    finally:
        try:
            mapped.close()
        except BufferError:
            pass        # an exception's frames still hold arrays over it: it is unmapped with them


# Compressed modules (modules_install's CONFIG_MODULE_COMPRESS_*), by their magic numbers.
_COMPRESSIONS = ((b"\xfd7zXZ\x00", "xz"), (b"\x1f\x8b", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"))


def read_module(path: str, header_only: bool = False) -> tuple[bytes, str]:
    """The file's bytes as the kernel's loader gets them (decompressed), and the compression;
    with `header_only`, just enough to tell the compression (and the file, if that is all of it).

    Only regular files are read: a pipe or a device would hang or never end.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise RustkmodError(f"{path} is not a regular file", "name a .o, .ko or .ko.xz/.gz/.zst file")
        with open(path, "rb") as stream:
            data = stream.read(8) if header_only else stream.read()
    except OSError as err:
        raise RustkmodError(f"{path}: cannot be read ({err.strerror})", "check the path") from None
    kind = next((name for magic, name in _COMPRESSIONS if data.startswith(magic)), "")
    if header_only:
        return data, kind
    return (_decompressed(path, data, kind) if kind else data), kind


# The most a compressed module may expand to (the loader sets no bound of its own): far above any
# real module, debug info included, and low enough that a file made to expand to gigabytes of
# zeros is refused in a second instead of filling the memory.
MAX_DECOMPRESSED = 512 << 20
_CHUNK = 4096         # compressed bytes fed at a time: one chunk cannot expand far past the bound


def _decompressed(path: str, data: bytes, kind: str) -> bytes:
    """`data` decompressed as a stream, refused past MAX_DECOMPRESSED or when it ends early."""
    import lzma
    import zlib
    if kind == "xz":
        stream = lzma.LZMADecompressor()
    elif kind == "gzip":
        stream = zlib.decompressobj(wbits=31)
    else:
        import zstandard
        stream = zstandard.ZstdDecompressor().decompressobj()
    pieces, size = [], 0
    try:
        for start in range(0, len(data), _CHUNK):
            piece = stream.decompress(data[start:start + _CHUNK])
            pieces.append(piece)
            size += len(piece)
            if size > MAX_DECOMPRESSED:
                raise RustkmodError(f"{path}: expands to more than {MAX_DECOMPRESSED >> 20} MiB",
                                    "no module is that large: rebuild or reinstall it")
            if stream.eof:
                break
    except RustkmodError:
        raise
    except Exception as err:            # lzma.LZMAError, zlib.error, zstandard.ZstdError
        raise RustkmodError(f"{path}: a damaged {kind} file ({err})", "rebuild or reinstall the module") from None
    if not stream.eof:
        raise RustkmodError(f"{path}: a damaged {kind} file (it ends before its compressed data does)",
                            "rebuild or reinstall the module")
    return b"".join(pieces)


def _is_module_file(path: str) -> bool:
    """A .ko (compressed or not) must carry .gnu.linkonce.this_module; a .o need not."""
    return any(path.endswith(suffix) for suffix in (".ko", ".ko.xz", ".ko.gz", ".ko.zst"))


class _Checker:
    def __init__(self, data, path: str, target: LoaderTarget):
        self.tables = ElfTables(data, path)
        self.elf = self.tables.elf
        self.path = path
        self.target = target
        self.policy = target.policy
        self.problems: list[Problem] = []
        self.named: dict[tuple, int] = {}      # (kind, type number) -> sites seen
        self.gpl_compatible = True          # what .modinfo's license says (a plain object: unknown, taken as yes)
        self._accepted: dict[int, bool] = {}
        # Bytes each relocation type patches, for the zero-target check (x86_64 4.14+).
        self.zero_widths = {number: self.policy.zeroed_targets[name] for number, name in
                            self.policy.type_names.items() if name in self.policy.zeroed_targets}

    def run(self) -> Verdict:
        elf, policy = self.elf, self.policy
        if elf["e_machine"] != policy.e_machine:
            raise RustkmodError(f"{self.path}: built for {elf['e_machine']}, but the kernel is {policy.arch}",
                                "build the module for the configured kernel's ARCH")
        if elf["e_type"] != "ET_REL":
            raise RustkmodError(f"{self.path}: is {elf['e_type']}, a kernel module is a relocatable "
                                "object (ET_REL)", "check the file is a .o or .ko")
        self.symbols = self.tables.symbols
        applied = self.tables.applied_relocation_sections()
        for section in applied:
            if (section.type == SHT_RELA) != policy.uses_rela:
                self._wrong_format(section)
        relocations = self.tables.relocations([s for s in applied if (s.type == SHT_RELA) == policy.uses_rela])
        type_counts = _count(relocations.types)
        self._check_relocations(relocations, set(type_counts))
        self._check_sections()
        if self.is_module:
            self._check_modinfo()
        self._check_symbols()
        if policy.arch == "x86_64":
            self._check_thunks()
        self._check_versions()
        named = {policy.type_name(number): count for number, count in sorted(type_counts.items())}
        return Verdict(_demangled(self.problems + self._unnamed()), named)

    def _accepts(self, number: int) -> bool:
        """target.accepts(), asked once per type (an object may have thousands of tables)."""
        if number not in self._accepted:
            self._accepted[number] = self.target.accepts(number)
        return self._accepted[number]

    def _add(self, finding: Finding, site: Site = Site()) -> None:
        """A problem found, named unless NAMED_SITES of its kind and type are already named."""
        if not self._counted_only(finding.kind, site.type_number):
            self._append(finding, site)

    def _append(self, finding: Finding, site: Site = Site()) -> None:
        self.problems.append(Problem(finding.kind, self.path, finding.section, site.offset, site.function, site.symbol,
                                     site.type_number, finding.title, site.accepted_by, finding.fix,
                                     finding.loader_says))

    def _counted_only(self, kind: str, type_number: int, sites: int = 1) -> bool:
        """Counts `sites` more of a kind; True once the first NAMED_SITES of it are named."""
        key = (kind, type_number)
        seen = self.named.get(key, 0)
        self.named[key] = seen + sites
        return seen >= NAMED_SITES

    def _unnamed(self) -> list[Problem]:
        """One problem per kind and type standing for the sites past NAMED_SITES (count > 1)."""
        first = {}
        for problem in self.problems:
            first.setdefault((problem.kind, problem.type_number), problem)
        return [first[key]._replace(section="", offset=0, function="?", symbol="", count=seen - NAMED_SITES)
                for key, seen in self.named.items() if seen > NAMED_SITES]

    def _symbol(self, index: int) -> int:
        """Checks a relocation's symbol index against the table."""
        if self.symbols is None:
            raise RustkmodError(f"{self.path}: has relocations but no symbol table",
                                "do not strip objects or modules before verifying")
        if index >= len(self.symbols):
            raise RustkmodError(f"{self.path}: relocation names symbol {index}, past the symbol table",
                                "the file is damaged: rebuild it")
        return index

    # -- relocations ------------------------------------------------------------------------

    def _wrong_format(self, section):
        policy = self.policy
        wrong = "RELA" if section.type == SHT_RELA else "REL"
        self._add(Finding("rel-format",
                          section.name,
                          f"{wrong} section on a {policy.arch} kernel",
                          f"{policy.arch} loaders apply only {'RELA' if policy.uses_rela else 'REL'} sections: "
                          "build the object for this architecture's ABI",
                          "module MODULE: REL relocation unsupported"))

    def _check_relocations(self, relocations, present: set):
        policy, target = self.policy, self.target
        refused = {t for t in present if not self._accepts(t)}
        overflowing = {t for t in present if policy.type_names.get(t) in policy.overflow_unless_absolute}
        for number in sorted(refused | overflowing):        # each type's sites at once, the first few named
            sites = numpy.flatnonzero(relocations.types == number)
            if number in refused:
                self._relocation_problems(relocations, sites, "unknown-type", policy.fix_for(number),
                                          policy.loader_says(number))
                continue
            named = relocations.symbols[sites]
            if not len(named):
                continue
            self._symbol(int(named.max()))                  # every index inside the table, or the error
            absolute = numpy.asarray(self.symbols.shndx, dtype=numpy.int64)[named] == SHN_ABS
            self._relocation_problems(relocations, sites[~absolute], "overflow",
                                      policy.overflow_unless_absolute[policy.type_name(number)],
                                      f"module: overflow in relocation type {number}")
        if self.zero_widths and target.at_least(policy.zeroed_since):
            self._check_zero_targets(relocations, refused)
        if arch_of(policy.arch).paired_hi_lo and len(relocations.types):
            self._check_riscv_pairs(relocations)

    def _check_riscv_pairs(self, relocations):
        """What the RISC-V loader needs beyond each type: a PCREL_LO12 must name the AUIPC
        that a HI20 relocation of the same section patches (it looks it up there), and a
        GOT_HI20 needs a module GOT, which only a kernel with CONFIG_MODULE_SECTIONS makes
        (Debian 13's 6.12 for RISC-V has it off: its loader refuses every GOT_HI20)."""
        names = {name: number for number, name in self.policy.type_names.items()}
        types, tables = relocations.types, relocations.table
        lo12 = numpy.isin(types, [names["R_RISCV_PCREL_LO12_I"], names["R_RISCV_PCREL_LO12_S"]])
        hi20 = numpy.isin(types, [names[n] for n in ("R_RISCV_PCREL_HI20", "R_RISCV_GOT_HI20",
                                                     "R_RISCV_TLS_GOT_HI20", "R_RISCV_TLS_GD_HI20")])
        if lo12.any():
            symbols = self.symbols
            anchors = set(zip(tables[hi20].tolist(), relocations.offsets[hi20].tolist()))
            for i in numpy.flatnonzero(lo12).tolist():
                if (int(tables[i]), symbols.values[self._symbol(int(relocations.symbols[i]))]) not in anchors:
                    self._relocation_problem(
                        relocations, i, "unpaired-lo12",
                        "a PCREL_LO12 names the AUIPC of its PCREL_HI20: keep them together (compiler output does)",
                        "MODULE: Can not find HI20 relocation information")
        if self.target.config_on("CONFIG_MODULE_SECTIONS"):
            return
        for i in numpy.flatnonzero(types == names["R_RISCV_GOT_HI20"]).tolist():
            self._relocation_problem(relocations, i, "no-module-got",
                                     "this kernel has no module GOT (CONFIG_MODULE_SECTIONS off): build with "
                                     "-Crelocation-model=static (RUST_PROFILE=kernel)",
                                     "MODULE: can not generate the GOT entry for symbol = ... from PC = ...")

    def _relocation_problems(self, relocations, sites, kind, fix, loader_says):
        """The entries `sites` (indexes) as problems: the first NAMED_SITES named, the rest counted."""
        for i in sites[:NAMED_SITES].tolist():
            self._relocation_problem(relocations, i, kind, fix, loader_says)
        if len(sites) > NAMED_SITES:
            self._counted_only(kind, int(relocations.types[sites[0]]), len(sites) - NAMED_SITES)

    def _relocation_problem(self, relocations, i, kind, fix, loader_says):
        number, offset = int(relocations.types[i]), int(relocations.offsets[i])
        if self._counted_only(kind, number):       # past the named ones: no symbol or function looked up
            return
        symbol = self._symbol(int(relocations.symbols[i]))
        self._append(Finding(kind,
                             relocations.sections[relocations.table[i]].name,
                             self.policy.type_name(number),
                             fix,
                             loader_says),
                     Site(offset=offset,
                          function=self.symbols.function_at(int(relocations.targets[i]), offset),
                          symbol=self.symbols.display_name(symbol),
                          type_number=number,
                          accepted_by=self.target.accepted_by(number)))

    def _check_zero_targets(self, relocations, refused):
        """The x86_64 loader (4.14+) refuses to patch bytes that are not zero, or patched before.

        Decided for all entries at once; only when something is wrong, the entries are walked in
        the loader's order to name each one."""
        sections = self.tables.sections
        lookup = numpy.zeros(max(self.zero_widths) + 1, dtype=numpy.int64)   # width by type; 0: not checked
        for number, width in self.zero_widths.items():
            if number not in refused:
                lookup[number] = width
        progbits = numpy.array([s.type == SHT_PROGBITS for s in sections])
        types = relocations.types
        width = numpy.where((types >= 0) & (types < len(lookup)), lookup[numpy.clip(types, 0, len(lookup) - 1)], 0)
        chosen = numpy.flatnonzero((width > 0) & progbits[relocations.targets])
        width, offsets, targets = width[chosen], relocations.offsets[chosen], relocations.targets[chosen]
        sizes = numpy.array([s.size for s in sections], dtype=numpy.int64)
        past = (offsets < 0) | (offsets + width > sizes[targets])
        if past.any():
            name = relocations.sections[relocations.table[chosen[numpy.argmax(past)]]].name
            raise RustkmodError(f"{self.path}: {name} patches past the end of its section",
                                "the file is damaged: rebuild it")
        for index in set(targets.tolist()):
            self.tables._inside(sections[index])
        positions = numpy.array([s.offset for s in sections], dtype=numpy.int64)[targets] + offsets   # in the file
        dirty = _nonzero_at(self.tables.bytes_view(), positions, width)
        starts, ends = positions, positions + width
        if not (starts[1:] >= starts[:-1]).all():      # assemblers write them in order: no sort then
            order = numpy.argsort(starts, kind="stable")
            starts, ends = starts[order], ends[order]
        if not dirty.any() and not (starts[1:] < numpy.maximum.accumulate(ends)[:-1]).any():
            return
        patched = bytearray(self.tables.file_size)
        data = self.tables.data
        for i, start, size in zip(chosen.tolist(), positions.tolist(), width.tolist()):
            end = start + size
            number = int(relocations.types[i])
            if data[start:end].strip(b"\0"):
                self._relocation_problem(
                    relocations, i, "nonzero-target",
                    "the target already holds a value (an addend stored in place, or a second "
                    "relocation at the same place): rebuild the object as RELA with zeroed targets",
                    f"x86/modules: Skipping invalid relocation target, existing value is nonzero for type {number}")
            elif patched[start:end].strip(b"\0"):
                self._relocation_problem(
                    relocations, i, "overlap", "two relocations patch the same bytes: rebuild the object",
                    f"x86/modules: Invalid relocation target, existing value is nonzero for type {number}")
            patched[start:end] = b"\1" * size

    def _check_versions(self):
        """__versions (modpost, CONFIG_MODVERSIONS): each CRC must be the one the kernel exports."""
        exported = self.target.exported
        section = next((s for s in self.tables.sections if s.name == "__versions"), None)
        if section is None or not exported or not self.target.config_on("CONFIG_MODVERSIONS", default=True):
            return
        data, word = self.tables.read(section), self.tables.bits // 8
        entry = 64                                   # struct modversion_info: crc, name[64 - sizeof(long)]
        for offset in range(0, len(data) - len(data) % entry, entry):
            crc = int.from_bytes(data[offset:offset + word], "little" if self.tables.endian == "<" else "big")
            name = data[offset + word:offset + entry].split(b"\0", 1)[0].decode("utf-8", "replace")
            if name in exported and exported[name] != crc & 0xFFFFFFFF:
                self._add(Finding("symbol-version",
                                  "__versions",
                                  "symbol version mismatch",
                                  "rebuild the module against this kernel's Module.symvers (the tree KDIR names)",
                                  f"MODULE: disagrees about version of symbol {name}"),
                          Site(offset=offset, symbol=name))

    def _check_thunks(self):
        if self.target.config is None:
            return                  # no .config: the kernel's mitigations are unknown (thunks.required_thunks)
        from rustkmod.verify.thunks import bare_branches, required_thunks
        retpoline, rethunk = required_thunks(self.target.config)
        if not (retpoline or rethunk):
            return
        for section, offset, function, instruction, option in bare_branches(self.tables, self.symbols,
                                                                           retpoline, rethunk):
            returns = option == rethunk and instruction.startswith("ret")
            self._add(Finding("bare-return" if returns else "bare-indirect",
                              section,
                              "bare return" if returns else "bare indirect branch",
                              f"{option}=y: build Rust with the kernel's hardening (RUST_HARDENING=on, rustkmod's "
                              "default), which routes it through the kernel's thunks",
                              f"(loads, but `{instruction}` runs without the {option} mitigation)"),
                      Site(offset=offset, function=function, symbol=instruction))

    # -- sections and symbols ---------------------------------------------------------------

    def _check_sections(self):
        target = self.target
        names = {section.name for section in self.tables.sections}
        strict_rwx = target.at_least(_STRICT_RWX_SINCE) and target.config_on("CONFIG_STRICT_MODULE_RWX")
        for section in self.tables.sections:
            flags, name = section.flags, section.name
            if strict_rwx and flags & SH_FLAGS.SHF_WRITE and flags & SH_FLAGS.SHF_EXECINSTR:
                self._add(Finding("wx-section",
                                  name,
                                  "writable and executable section",
                                  "no section may be both: check linker scripts and #[link_section] attributes",
                                  f"MODULE: section {name} (index {section.index}) has invalid WRITE|EXEC flags"))
            if flags & SH_FLAGS.SHF_TLS:
                self._add(Finding("tls-section",
                                  name,
                                  "thread-local storage section",
                                  "a kernel module has no thread-local storage: remove #[thread_local] and "
                                  "std-only code",
                                  "(TLS relocations: Unknown relocation)"))
        if ".ctors" in names and ".init_array" in names and target.config_on("CONFIG_CONSTRUCTORS"):
            self._add(Finding("ctors",
                              ".ctors",
                              "both .ctors and .init_array",
                              "keep static constructors in one scheme (.init_array)",
                              "MODULE: has both .ctors and .init_array."))
        self.is_module = ".gnu.linkonce.this_module" in names
        if self.is_module and self.symbols is None:
            self._add(Finding("no-symtab",
                              "",
                              "module without symbols",
                              "do not strip modules",
                              "MODULE: module has no symbols (stripped?)"))
        if self.policy.arch == "arm64" and self.is_module and self._arm64_uses_plts() and \
                not {".plt", ".init.plt"} <= names:
            self._add(Finding("missing-plt",
                              ".plt",
                              "module PLT sections missing",
                              "link the module with Kbuild's module linker script (it adds .plt and .init.plt)",
                              "MODULE: module PLT section(s) missing"))

    def _check_modinfo(self):
        """The .modinfo the loader reads (the first allocated one): a second one is never read, and
        the first must carry this kernel's version magic and a GPL-compatible license."""
        from rustkmod.verify.modinfo import GPL_COMPATIBLE, expected_vermagic, modinfo_problems
        found = [s for s in self.tables.sections if s.name == ".modinfo" and s.allocated]
        for hidden in found[1:]:
            symbols = self.symbols
            defined = [symbols.name(i) for i in numpy.flatnonzero(symbols.column(2) == hidden.index).tolist()
                       if symbols.type(i) != STT_SECTION and symbols.name(i)] if symbols is not None else []
            self._add(Finding("modinfo-twice",
                              ".modinfo",
                              "second .modinfo section",
                              "declare the entries in the module's C file (MODULE_INFO), or as a Rust static without "
                              "#[used] (rustc marks a #[used] one SHF_GNU_RETAIN, which the final link keeps apart)",
                              f"(the loader reads only the first .modinfo: section {hidden.index}'s entries are never seen)"),
                      Site(symbol=", ".join(defined) or "?"))
        target = self.target
        info = entries(self.tables.read(found[0])) if found else {}
        expected = expected_vermagic(target.release, self.policy.arch, target.config) \
            if target.release and target.config is not None else None
        has_versions = any(s.name == "__versions" and s.allocated for s in self.tables.sections)
        for problem in modinfo_problems(info, expected, has_versions):
            self._add(Finding(problem.kind, ".modinfo", problem.title, problem.fix, problem.loader_says))
        self.gpl_compatible = info.get("license") in GPL_COMPATIBLE

    def _arm64_uses_plts(self) -> bool:
        target = self.target
        if target.at_least(_ARM64_PLTS_MANDATORY):
            return True
        return target.at_least(_ARM64_PLTS_SINCE) and target.config_on("CONFIG_ARM64_MODULE_PLTS")

    def _check_symbols(self):
        symbols, exported = self.symbols, self.target.exported
        if symbols is None:
            return
        check_undefined = exported is not None and self.is_module
        if not check_undefined and not (symbols.column(2) == SHN_COMMON).any():
            return                      # the usual object: nothing to look at symbol by symbol
        for i, shndx in enumerate(symbols.shndx):
            if shndx == SHN_COMMON:
                self._add(Finding("common-symbol",
                                  "",
                                  "common symbol",
                                  "define it (Rust: a static), or build C with -fno-common",
                                  "MODULE: please compile with -fno-common"),
                          Site(symbol=symbols.name(i)))
            elif shndx == SHN_UNDEF and check_undefined and i and symbols.binding(i) == STB_GLOBAL:
                name = symbols.name(i)
                if name and name not in exported:
                    self._add(Finding("undefined-symbol",
                                      "",
                                      "symbol no one exports",
                                      "the kernel's Module.symvers does not export it: call an exported function "
                                      "(a C wrapper), or build the module that exports it first (KBUILD_EXTRA_SYMBOLS)",
                                      f"MODULE: Unknown symbol {name} (err -2)"),
                              Site(symbol=name))
                elif name in self.target.gpl_only and not self.gpl_compatible:
                    # find_symbol() skips GPL-only exports for a module whose license taints P
                    self._add(Finding("gpl-only-symbol",
                                      "",
                                      "GPL-only symbol",
                                      "the kernel exports it with EXPORT_SYMBOL_GPL, which a module that is not "
                                      "GPL-compatible cannot use: call an EXPORT_SYMBOL function instead, or give the "
                                      "module a GPL-compatible license",
                                      f"MODULE: Unknown symbol {name} (err -2)"),
                              Site(symbol=name))


def _count(values) -> dict:
    """{value: how many times} of an int64 array, by sorting (numpy.unique would import numpy.ma,
    10 ms of the command's time)."""
    if not len(values):
        return {}
    ordered = numpy.sort(values)
    starts = numpy.flatnonzero(numpy.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts = numpy.diff(numpy.append(starts, len(ordered)))
    return dict(zip(ordered[starts].tolist(), counts.tolist()))


def _nonzero_at(content, starts, widths) -> "numpy.ndarray":
    """Whether any of the `widths[i]` bytes at `starts[i]` is non-zero (widths up to 8): the
    8 bytes at each start read as one little-endian word and masked to its width."""
    dirty = numpy.zeros(len(starts), dtype=bool)
    whole = numpy.flatnonzero(starts + 8 <= len(content))
    if len(whole):
        words = numpy.lib.stride_tricks.sliding_window_view(content, 8)[starts[whole]].view("<u8")[:, 0]
        masks = numpy.uint64(0xFFFFFFFFFFFFFFFF) >> (64 - 8 * widths[whole]).astype(numpy.uint64)
        dirty[whole] = (words & masks) != 0
    for i in numpy.flatnonzero(starts + 8 > len(content)).tolist():      # the file's last few bytes
        dirty[i] = content[starts[i]:starts[i] + widths[i]].any()
    return dirty


def _demangled(problems: list[Problem]) -> list[Problem]:
    """Rust names as people write them (c++filt knows both v0 and legacy Rust mangling)."""
    if not problems:
        return problems
    from rustkmod.elf.symbols import demangle, is_mangled
    names = sorted({n for p in problems for n in (p.function, p.symbol) if is_mangled(n)})
    plain = dict(zip(names, demangle(names)))
    return [p._replace(function=plain.get(p.function, p.function), symbol=plain.get(p.symbol, p.symbol))
            for p in problems]
