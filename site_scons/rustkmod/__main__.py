"""rustkmod without SCons: `check` judges .o/.ko files (DKMS hooks, other builds), `fetch-kernel`
provisions Debian kernels for KERNELS=... without touching the system, `new` starts a module project.

`clear-sysroots` empties the shared Rust sysroot cache. check exits 0 when every file is loadable, 1 with the report when one is not, 2 on bad input;
fetch-kernel exits 0, or 2 with one line saying what failed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys

from rustkmod.errors import RustkmodError
from rustkmod.kernel import arch
from rustkmod.kernel.tree import Kernel, format_version, normalize_arch, parse_release_version
from rustkmod.verify import LoaderTarget, check_file, format_report, policy_for, target_for_kernel
from rustkmod.verify.policy import NEWEST_KNOWN, known_release
from rustkmod.verify.loader_source import read_accepted_types
from rustkmod.verify.target import read_symvers


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"rustkmod: {message}", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rustkmod", description="rustkmod's command line: start a module project, fetch Debian kernels, "
                     "judge .o/.ko files against a kernel's module loader, find the docs. Modules are built "
                     "with scons (rustkmod's SCons tool).")
    from rustkmod import __version__
    parser.add_argument("--version", action="version", version=f"rustkmod {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="judge .o/.ko files against a kernel's module loader")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--arch", help=f"{arch.NAMES_TEXT} (default: from --kdir)")
    check.add_argument("--kernel", metavar="VERSION", help="kernel version, e.g. 4.15.0 (default: from --kdir)")
    check.add_argument("--kdir", help="kernel tree or headers: version, .config and Module.symvers")
    check.add_argument("--kernel-src", help="kernel source tree whose arch/<arch>/kernel/module.c decides")
    check.add_argument("--symvers", action="append", default=[], metavar="FILE",
                       help="Module.symvers of the kernel (and of modules this one uses): check undefined symbols")
    check.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    check.add_argument("--assume", metavar="VERSION", help="for a --kernel newer than the tables know: the "
                       "release whose loader to assume")
    fetch = commands.add_parser("fetch-kernel", help="fetch Debian kernels (headers, kbuild, image) privately")
    fetch.add_argument("kernels", nargs="+", metavar="KERNEL",
                       help="a Debian kernel series, e.g. 6.1, 6.12-trixie, 7.2-arm64 or 6.1-signing (a name it does "
                            "not know is answered with every name it knows)")
    fetch.add_argument("--cache", help="where to keep them (KERNEL_CACHE; default ~/.cache/rustkmod)")
    source = commands.add_parser("fetch-source", help="fetch the loader sources and the Rust samples of Debian's "
                                 "linux-source-SERIES, for check --kernel-src and for building the samples")
    source.add_argument("series", metavar="SERIES", help="e.g. 7.2")
    source.add_argument("--cache", help="where to keep them (KERNEL_CACHE; default ~/.cache/rustkmod)")
    new = commands.add_parser("new", help="write a module project to start from (Rust on the kernel crate, no C)")
    new.add_argument("directory", metavar="DIR", help="the project's directory, named like the module (e.g. mymod)")
    docs = commands.add_parser("docs", help="print where rustkmod's docs are (or the path of one: docs kernel-crate)")
    docs.add_argument("page", nargs="?", metavar="PAGE", help="a page's name, e.g. kernel-crate, shipping, variables")
    clear = commands.add_parser("clear-sysroots", help="remove the shared Rust sysroots, bindings and compiled crates (scons -c leaves them)")
    clear.add_argument("--cache", help="the sysroot cache (RUST_SYSROOT_CACHE; default KERNEL_CACHE/sysroots)")
    return parser


def _clear_sysroots(args) -> int:
    from rustkmod.kernel.debian import default_cache
    from rustkmod.rust import bindings_cache, crate_cache, sysroot
    args.cache = args.cache or os.environ.get("RUST_SYSROOT_CACHE") or os.path.join(default_cache(), "sysroots")
    count = sysroot.clear(args.cache) if os.path.isdir(args.cache) else 0
    bindings = bindings_cache.clear(args.cache)
    crates = crate_cache.clear(args.cache)
    print(f"removed {count} sysroot(s), {bindings} set(s) of bindings and {crates} compiled crate(s) from {args.cache}")
    return 0


def _new(args) -> int:
    from rustkmod.scaffold import new_project
    try:
        new_project(args.directory)
    except RustkmodError as err:
        print(f"rustkmod: {err}", file=sys.stderr)
        return 2
    scons = os.path.join(os.path.dirname(sys.executable), "scons")
    scons = scons if os.access(scons, os.X_OK) and shutil.which("scons") != scons else "scons"
    print(f"rustkmod: wrote {args.directory}/ (SConstruct, Cargo.toml, src/lib.rs, .gitignore, README.md); "
          f"build and boot it: cd {shlex.quote(args.directory)} && {shlex.quote(scons)} check")
    return 0


def _docs(args) -> int:
    from rustkmod import docs_directory
    directory = docs_directory()
    if not os.path.isdir(directory):
        print("rustkmod: this installation has no docs (a wheel built without them?)", file=sys.stderr)
        return 2
    if not args.page:
        print(directory)
        return 0
    page = os.path.join(directory, args.page.removesuffix(".md") + ".md")
    if not os.path.isfile(page):
        pages = sorted(name[:-3] for name in os.listdir(directory) if name.endswith(".md"))
        print(f"rustkmod: no page {args.page!r} in {directory}; pages: {', '.join(pages)}", file=sys.stderr)
        return 2
    print(page)
    return 0


def _fetch(args) -> int:
    from rustkmod.kernel import debian
    args.cache = args.cache or debian.default_cache()
    try:
        for name in args.kernels:
            kernel = debian.provision(debian.KernelSpec.parse(name), args.cache)
            print(f"{name}: KDIR={kernel.kdir} KERNEL_IMAGE={kernel.image}")
    except RustkmodError as err:
        print(f"rustkmod: {err}", file=sys.stderr)
        return 2
    return 0


def _fetch_source(args) -> int:
    from rustkmod.kernel import debian
    try:
        tree = debian.fetch_loader_source(args.series, args.cache or debian.default_cache())
    except RustkmodError as err:
        print(f"rustkmod: {err}", file=sys.stderr)
        return 2
    print(f"{args.series}: KERNEL_SRC={tree}")
    return 0


def _target(args) -> LoaderTarget:
    if args.kdir:
        kernel = Kernel.from_kdir(args.kdir, args.arch, args.kernel)
        target = target_for_kernel(kernel, args.kernel_src or "", tuple(args.symvers))
        return target
    if not (args.arch and args.kernel):
        raise RustkmodError("no kernel given", "pass --kdir DIR, or both --arch and --kernel VERSION")
    arch = normalize_arch(args.arch)
    version = parse_release_version(args.kernel)
    if not known_release(version):
        if not args.assume:
            raise RustkmodError(f"--kernel {args.kernel} is not a Linux release rustkmod's loader tables know "
                                f"(they go up to {format_version(NEWEST_KNOWN)})",
                                f"pass --assume {format_version(NEWEST_KNOWN)} to judge it by that loader, or "
                                "--kernel-src TREE to read its own loader source")
        version = parse_release_version(args.assume)
        if not known_release(version):
            raise RustkmodError(f"--assume {args.assume} is not a Linux release rustkmod knows either",
                                f"pass --assume {format_version(NEWEST_KNOWN)}")
    policy = policy_for(arch)
    exported, gpl_only = None, set()
    if args.symvers:
        exported = {}
        for path in args.symvers:
            exported.update(read_symvers(path, gpl_only))
    source = read_accepted_types(args.kernel_src, arch) if args.kernel_src else None
    if args.kernel_src and source is None:
        raise RustkmodError(f"--kernel-src {args.kernel_src} has no {policy.loader_source}",
                            "point it at a kernel source tree")
    return LoaderTarget(policy, version, None, exported, source[0] if source else None,
                        source[1] if source else "", f"Linux {args.kernel} ({arch})", gpl_only=frozenset(gpl_only))


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "fetch-kernel":
        return _fetch(args)
    if args.command == "fetch-source":
        return _fetch_source(args)
    if args.command == "clear-sysroots":
        return _clear_sysroots(args)
    if args.command == "new":
        return _new(args)
    if args.command == "docs":
        return _docs(args)
    try:
        target = _target(args)
        verdicts = {path: check_file(path, target) for path in args.files}
    except RustkmodError as err:
        print(f"rustkmod: {err}", file=sys.stderr)
        return 2
    loadable = all(v.loadable for v in verdicts.values())
    if args.json:
        import json
        json.dump({"kernel": target.description, "loadable": loadable,
                   "files": {path: {"loadable": v.loadable, "relocations": v.type_counts, "compression": v.compression,
                                    "problems": [p._asdict() for p in v.problems]}
                             for path, v in verdicts.items()}}, sys.stdout, indent=1)
        print()
    else:
        for path, verdict in verdicts.items():
            if verdict.loadable:
                how = f" (decompressed from {verdict.compression}, as the kernel loads it)" if verdict.compression else ""
                print(f"{path}: loadable by {target.description}{how}")
            else:
                module = os.path.basename(path).split(".", 1)[0]
                print(format_report(verdict.problems, target.description, module))
    return 0 if loadable else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:          # output piped into `head`: not an error of the check
        sys.stderr.close()
        sys.exit(1)
