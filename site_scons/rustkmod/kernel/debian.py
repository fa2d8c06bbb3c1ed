"""Debian kernels side by side, without touching the system: headers, kbuild and image, unpacked.
(Debian's packages as inputs: the kernels built for. Packages rustkmod makes are deb.py's.)

For a kernel series ("5.10", "6.1", "6.12") and an architecture, the newest Debian build's
packages are fetched with `apt-get download` through a private apt configuration (its own
sources, lists and cache, so the machine's apt setup is never changed) and unpacked with
`dpkg -x` into one private root per kernel. The arch headers include the common headers by
absolute path; that one line is rewritten to the private root. The kbuild package (host tools:
modpost, fixdep) is always the build machine's architecture, also for a cross (arm64) kernel.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import shutil
from typing import NamedTuple

from rustkmod.kernel import arch as arch_records
from rustkmod.kernel import suite_roots
from rustkmod import process
from rustkmod.errors import RustkmodError
from rustkmod.kernel.kbuild import named_compiler
from rustkmod.kernel.tree import parse_config

ARCHIVE = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

# series -> (suites holding it, the ABI part of its package names: a POSIX regex, as apt-cache takes)
SERIES = {
    "5.10": (("bullseye", "bullseye-security"), r"5\.10\.0-[0-9]+"),
    "6.1": (("bookworm", "bookworm-updates"), r"6\.1\.0-[0-9]+"),
    "6.12": (("bookworm-backports",), r"6\.12\.[0-9]+[+]deb12"),
    # Debian 13's own kernel, and 7.x: their Kbuild runs in a build root of their suite (suite_roots.py).
    "6.12-trixie": (("trixie",), r"6\.12\.[0-9]+[+]deb13"),
    "7.2": (("sid",), r"7\.2\.[0-9]+[+]deb14"),
    "7.3": (("trixie-backports",), r"7\.3\.[0-9]+[+]deb13"),
}
# The suite a build root is made of, for suites that only add to another.
ROOT_SUITES = {"trixie-backports": "trixie", "bookworm-backports": "bookworm"}
SECURITY_SUITES = {"bullseye-security", "bookworm-security"}
# Debian architecture -> rustkmod's, and -> the kernel flavour in its package names
# (linux-image-6.1.0-50-armmp): from arch.py.
ARCHES = {arch.debian: arch.name for arch in arch_records.ARCHES}
FLAVOURS = {arch.debian: arch.flavour for arch in arch_records.ARCHES}


SIGNING = "signing"     # '6.1-signing': built here from Debian's source, with its own signing key


class KernelSpec(NamedTuple):
    series: str
    deb_arch: str
    built: bool = False       # built from source (signing_kernel) rather than fetched

    @property
    def flavour(self) -> str:
        return FLAVOURS[self.deb_arch]

    @property
    def name(self) -> str:
        if self.built:
            return f"{self.series}-{SIGNING}"
        return self.series if self.deb_arch == "amd64" else f"{self.series}-{self.deb_arch}"

    @classmethod
    def parse(cls, text: str) -> "KernelSpec":
        """'6.1' (amd64), '6.1-arm64', '6.12-trixie-arm64', or '6.1-signing'."""
        series = max((s for s in SERIES if text == s or text.startswith(s + "-")), key=len, default=text)
        deb_arch = text[len(series) + 1:]
        if deb_arch == SIGNING and series == "6.1":
            return cls(series, "amd64", built=True)
        deb_arch = deb_arch or "amd64"
        if series not in SERIES or deb_arch not in ARCHES:
            raise RustkmodError(f"kernel '{text}' is not one rustkmod can fetch", f"use one of {NAMES_TEXT}")
        return cls(series, deb_arch)


# The kernel names fetch-kernel takes, as help texts and errors list them (from SERIES and ARCHES).
NAMES_TEXT = (f"{', '.join(SERIES)}, optionally with -{', -'.join(a for a in ARCHES if a != 'amd64')} "
              f"(e.g. 6.1-arm64), or 6.1-{SIGNING} (built here from linux-source-6.1, module signing on)")


class ProvisionedKernel(NamedTuple):
    spec: str
    kdir: str          # the arch headers, ready for make -C
    image: str         # vmlinuz to boot
    release: str       # e.g. 5.10.0-32-amd64
    busybox: str = ""  # a static busybox of the kernel's architecture, for its boot test
    config: str = ""   # a kernel built here: its configuration's digest (signing_kernel.config_digest)


def default_cache() -> str:
    """KERNEL_CACHE when set (the build variable's environment form: fetch-kernel and the build
    then agree), else ~/.cache/rustkmod (XDG_CACHE_HOME honoured)."""
    if os.environ.get("KERNEL_CACHE"):
        return os.environ["KERNEL_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "rustkmod")


def lookup(spec: KernelSpec, cache: str) -> ProvisionedKernel | None:
    """The kernel fetched earlier into `cache`, or None."""
    marker = os.path.join(cache, "kernels", spec.name, "kernel.json")
    try:
        with open(marker, encoding="utf-8") as handle:
            return ProvisionedKernel(**json.load(handle))
    except (OSError, ValueError, TypeError):
        return None


def lost_root(kernel: ProvisionedKernel, cache: str) -> str:
    """Why a kernel unpacked into a build root cannot be used now ("" when it can): the root's
    marker is gone, so Kbuild would run on the host and miss the root's files."""
    roots = os.path.join(cache, "roots")
    if not os.path.abspath(kernel.kdir).startswith(roots + os.sep) or suite_roots.root_of(kernel.kdir):
        return ""
    root = os.path.join(roots, os.path.relpath(kernel.kdir, roots).split(os.sep)[0])
    return f"its build root {root} has no {suite_roots.MARKER} (made incompletely, or the file was removed)"


def unusable(kernel: ProvisionedKernel, spec: "KernelSpec", cache: str) -> str:
    """Why a kernel found in the cache cannot be used now ("" when it can): its build root lost
    its marker, or it was built here from a configuration rustkmod no longer uses."""
    lost = lost_root(kernel, cache)
    if not lost and spec.built and configured_otherwise(kernel):
        lost = "it was built with another configuration (an older rustkmod's)"
    return lost


def provision(spec: KernelSpec, cache: str, log=print) -> ProvisionedKernel:
    """Fetches and unpacks the newest build of `spec` into `cache` (nothing if already there and
    usable: a kernel whose build root lost its marker is fetched again, the root made again; one
    built from an older configuration is built again)."""
    found = lookup(spec, cache)
    if found and not unusable(found, spec, cache):
        return found
    # One fetch (or build) of a kernel at a time: a second process (another scons, a test's
    # fetch-kernel, a build a timeout left running) waits for the first, then finds its kernel.
    os.makedirs(os.path.join(cache, "kernels"), exist_ok=True)
    with open(os.path.join(cache, "kernels", spec.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = lookup(spec, cache)
        if found and not unusable(found, spec, cache):
            return found
        return _provision(spec, cache, log)


def _provision(spec: KernelSpec, cache: str, log) -> ProvisionedKernel:
    """provision's work, under its lock."""
    if spec.built:
        return _build(spec, cache, log)
    # One apt state per architecture: a stale index of one (the mirror's armhf ones can be)
    # cannot then hide the packages of the others.
    apt = _PrivateApt(os.path.join(cache, "apt" if spec.deb_arch in ("amd64", "arm64") else f"apt-{spec.deb_arch}"),
                      ("amd64", "arm64") if spec.deb_arch in ("amd64", "arm64") else ("amd64", spec.deb_arch))
    apt.update(SERIES[spec.series][0])
    abi = _newest_abi(apt, spec)
    release = f"{abi}-{spec.flavour}"
    headers = f"linux-headers-{release}"
    # The kbuild tools of the headers' own source version: the host's installed one may be newer,
    # from a suite this private state does not list.
    depends, version = apt.fields(f"{headers}:{spec.deb_arch}", "Depends", "Version")
    common = _dependency(depends, r"linux-headers-\S+-common", headers)
    kbuild = _dependency(depends, r"linux-kbuild-\S+", headers)
    # 7.x: linux-image-<release> only depends on linux-binary-<release>, which holds the kernel
    # at /usr/lib/modules/<release>/vmlinuz; earlier ones have an -unsigned image on amd64.
    image_path = os.path.join("boot", f"{arch_records.BY_DEBIAN[spec.deb_arch].debian_image}-{release}")
    image = next((name for name in (f"linux-image-{release}-unsigned", f"linux-binary-{release}")
                  if apt.available(f"{name}:{spec.deb_arch}")), f"linux-image-{release}")
    if image.startswith("linux-binary-"):
        image_path = os.path.join("usr/lib/modules", release, "vmlinuz")
    root = os.path.join(cache, "kernels", spec.name)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    packages = [f"{headers}:{spec.deb_arch}", common, f"{kbuild}:amd64={version}", f"{image}:{spec.deb_arch}",
                f"busybox-static:{spec.deb_arch}"]
    log(f"fetching Linux {release}: {', '.join(packages)}")
    debs = apt.download(packages, os.path.join(cache, "debs", spec.name))
    for deb in debs:
        process.run(["dpkg", "-x", deb, root], check=True, progress=f"unpacking {os.path.basename(deb)}")
    kdir = os.path.join(root, "usr/src", headers)
    compiler = _root_compiler(kdir, os.path.join(root, "usr/lib", kbuild))
    if compiler:
        # Kbuild runs inside a root of the kernel's suite: the headers and tools are unpacked there,
        # at the paths their Makefiles name.
        suite = ROOT_SUITES.get(SERIES[spec.series][0][0], SERIES[spec.series][0][0])
        build_root = os.path.join(cache, "roots", suite)
        suite_roots.make(build_root, suite, compiler, ARCHIVE, log)
        for deb in debs:
            if not os.path.basename(deb).startswith(("linux-image", "busybox")):
                process.run(["dpkg", "-x", deb, build_root], check=True,
                            progress=f"unpacking {os.path.basename(deb)} into the build root")
        kdir = os.path.join(build_root, "usr/src", headers)
    else:
        _point_at_private_root(kdir, root)
    busybox = next((path for path in (os.path.join(root, "bin", "busybox"), os.path.join(root, "usr/bin/busybox"))
                    if os.path.isfile(path)), "")       # trixie's package has it in /usr/bin
    kernel = ProvisionedKernel(spec.name, kdir, os.path.join(root, image_path), release, busybox)
    if not os.path.isfile(kernel.image):
        raise RustkmodError(f"{image} holds no {kernel.image}", "report this Debian package layout")
    _write_marker(root, kernel)
    return kernel


def _root_compiler(kdir: str, kbuild_dir: str) -> str:
    """The compiler a build root needs for this kernel (gcc-14), or "" when the host can run its
    Kbuild tools (their C library is not newer than the host's; a compiler the host lacks is
    replaced by its gcc, as kbuild.kbuild_cc says). Decided from what the kernel's tools
    require, not from the host's name: on a Debian 13 host a trixie kernel needs no root."""
    with open(os.path.join(kdir, ".config"), encoding="utf-8", errors="replace") as handle:
        _, prefix, base = named_compiler(parse_config(handle.read()))
    # x86_64-linux-gnu-gcc-14 comes in gcc-14; another triplet's <triplet>-gcc-14 in gcc-14-<triplet>.
    compiler = (base or "gcc") if prefix in ("", "x86_64-linux-gnu") else f"{base}-{prefix}"
    tools = [os.path.join(dirpath, name) for dirpath, _, names in os.walk(kbuild_dir) for name in names
             if _is_elf(os.path.join(dirpath, name))]     # modpost.real-lsb-64 and the like, not the wrappers
    newest = max((suite_roots.needed_glibc(tool) for tool in tools), default=(0,))
    if newest <= suite_roots.host_glibc():
        return ""
    return compiler


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return not os.path.islink(path) and handle.read(4) == b"\x7fELF"
    except OSError:
        return False


# What fetch_source keeps of linux-source-<series>: the loader's sources and the Rust samples.
SOURCE_MEMBERS = ("Makefile", "arch/*/kernel/module.c", "kernel/module/main.c", "samples/rust/*")


def newest_series() -> str:
    """The newest series rustkmod builds for (whose samples the kernel crate follows)."""
    return max((s for s in SERIES if "-" not in s), key=lambda s: tuple(int(p) for p in s.split(".")))


def fetch_loader_source(series: str, cache: str, log=print) -> str:
    """The loader sources of Debian's linux-source-<series> (the top Makefile, every
    arch/*/kernel/module.c and kernel/module/main.c) and its Rust samples (samples/rust),
    unpacked once into `cache`; returns the tree, for `check --kernel-src`, for comparing the
    verifier's tables with a new release, and for building the upstream samples unchanged."""
    if series not in SERIES or "-" in series:
        raise RustkmodError(f"no Debian linux-source for '{series}'", f"use one of {', '.join(s for s in SERIES if '-' not in s)}")
    tree = os.path.join(cache, "sources", f"linux-source-{series}")
    if os.path.isfile(os.path.join(tree, "Makefile")) and os.path.isdir(os.path.join(tree, "samples", "rust")):
        return tree
    apt = _PrivateApt(os.path.join(cache, "apt"))
    apt.update(SERIES[series][0])
    log(f"fetching linux-source-{series} (the loader sources and the Rust samples only are kept)")
    debs = apt.download([f"linux-source-{series}"], os.path.join(cache, "debs", f"source-{series}"))
    staging = tree + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    members = " ".join(shlex.quote(f"linux-source-{series}/{member}") for member in SOURCE_MEMBERS)
    tarball = process.run(f"dpkg-deb --fsys-tarfile {shlex.quote(debs[0])} | tar -x -O ./usr/src/linux-source-{series}.tar.xz"
                           f" | tar -xJ -C {shlex.quote(staging)} --strip-components=1 --wildcards {members}",
                           shell=True, capture_output=True, text=True)
    if tarball.returncode != 0 or not os.path.isfile(os.path.join(staging, "Makefile")):
        raise RustkmodError(f"linux-source-{series} could not be unpacked ({tarball.stderr.strip()[-200:]})",
                            "report this Debian package layout")
    shutil.rmtree(debs[0].rsplit("/", 1)[0], ignore_errors=True)       # 160 MB not kept
    shutil.rmtree(tree, ignore_errors=True)
    os.replace(staging, tree)
    return tree


def source_version(tree: str) -> str:
    """The kernel version a fetched source tree is of (its Makefile's VERSION.PATCHLEVEL.SUBLEVEL)."""
    with open(os.path.join(tree, "Makefile"), encoding="utf-8", errors="replace") as handle:
        fields = dict(re.findall(r"^(VERSION|PATCHLEVEL|SUBLEVEL) = (\d+)", handle.read(), re.M))
    return ".".join(fields.get(key, "0") for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL"))


def _write_marker(root: str, kernel: ProvisionedKernel) -> None:
    """kernel.json: what `lookup` finds next time."""
    with open(os.path.join(root, "kernel.json"), "w", encoding="utf-8") as handle:
        json.dump(kernel._asdict(), handle, indent=1)


def configured_otherwise(kernel: ProvisionedKernel) -> bool:
    """A kernel built here from a configuration rustkmod no longer uses (an older rustkmod's)."""
    from rustkmod.kernel import signing_kernel
    return kernel.config != signing_kernel.config_digest()


def _build(spec: KernelSpec, cache: str, log) -> ProvisionedKernel:
    from rustkmod.kernel import signing_kernel
    root = os.path.join(cache, "kernels", spec.name)
    tree, image, release = signing_kernel.build_signing_kernel(spec.series, root, os.cpu_count() or 1, log)
    kernel = ProvisionedKernel(spec.name, tree, image, release, config=signing_kernel.config_digest())
    _write_marker(root, kernel)
    return kernel


def _point_at_private_root(kdir: str, root: str) -> None:
    """The arch headers' Makefile includes the common tree by absolute path: make it ours."""
    makefile = os.path.join(kdir, "Makefile")
    with open(makefile, encoding="utf-8") as handle:
        text = handle.read()
    fixed = re.sub(r"^include (/usr/src/\S+)", lambda m: f"include {root}{m.group(1)}", text, flags=re.M)
    with open(makefile, "w", encoding="utf-8") as handle:
        handle.write(fixed)


def _newest_abi(apt: "_PrivateApt", spec: KernelSpec) -> str:
    pattern = SERIES[spec.series][1]
    names = apt.search(rf"^linux-headers-{pattern}-{spec.flavour}$")
    abis = [re.match(rf"linux-headers-({pattern})-", n).group(1) for n in names]
    if not abis:
        raise RustkmodError(f"no Debian headers for Linux {spec.series} on {spec.deb_arch}",
                            "check the machine reaches Debian's archive")
    return max(abis, key=lambda abi: [int(x) for x in re.findall(r"\d+", abi)])


def _dependency(depends: str, pattern: str, package: str) -> str:
    match = re.search(rf"\b({pattern})\b", depends)
    if not match:
        raise RustkmodError(f"{package} does not depend on a package like {pattern}", "report this Debian layout")
    return match.group(1)


class _PrivateApt:
    """apt-get and apt-cache with their own sources, lists and cache under one directory."""

    def __init__(self, directory: str, architectures=("amd64", "arm64")):
        self.directory = directory
        self.architectures = architectures
        for sub in ("lists/partial", "cache/archives/partial"):
            os.makedirs(os.path.join(directory, sub), exist_ok=True)
        self.sources = os.path.join(directory, "sources.list")
        self.options = ["-o", f"Dir::Etc::SourceList={self.sources}", "-o", "Dir::Etc::SourceParts=/dev/null",
                        "-o", f"Dir::State::Lists={directory}/lists", "-o", f"Dir::Cache={directory}/cache",
                        *(word for arch in architectures for word in ("-o", f"APT::Architectures::={arch}"))]

    def update(self, suites) -> None:
        # bookworm for busybox-static; its security suite where the mirror's indexes are whole
        # (amd64, arm64: the newest 6.1 builds are there).
        always = {"bookworm", "bookworm-security"} if set(self.architectures) <= {"amd64", "arm64"} else {"bookworm"}
        suites = sorted(set(suites) | always)
        lines = [f"deb [signed-by={KEYRING}] {ARCHIVE}{'-security' if s in SECURITY_SUITES else ''} {s} main"
                 for s in suites]
        with open(self.sources, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        self._run(["apt-get", *self.options, "-q", "update"], "update the package lists",
                  progress=f"apt: reading the package lists of {', '.join(suites)}")

    def search(self, regex: str) -> list[str]:
        out = self._run(["apt-cache", *self.options, "search", "--names-only", regex], "search")
        return [line.split(" - ", 1)[0] for line in out.splitlines() if line.strip()]

    def fields(self, package: str, *names: str) -> tuple:
        """Each named field, its first value in `apt-cache show` of the package ("" if absent)."""
        out = self._run(["apt-cache", *self.options, "show", package], f"read {package}")
        found = (re.search(rf"^{name}: (.*)$", out, re.M) for name in names)
        return tuple(match.group(1) if match else "" for match in found)

    def available(self, package: str) -> bool:
        try:
            return bool(self.fields(package, "Package")[0])
        except RustkmodError:
            return False

    def download(self, packages: list[str], directory: str) -> list[str]:
        """Downloads into an emptied `directory`; returns the .deb files."""
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        self._run(["apt-get", *self.options, "-q", "download", *packages], "download", cwd=directory,
                  progress=f"apt: downloading {len(packages)} package(s) into {directory}")
        return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".deb"))

    def _run(self, command: list[str], what: str, cwd: str | None = None, progress: str = "") -> str:
        result = process.run(command, capture_output=True, text=True, cwd=cwd, progress=progress)
        if result.returncode != 0:
            last = process.last_line(result.stderr)
            raise RustkmodError(f"apt could not {what} ({last})", "check the machine reaches Debian's archive")
        return result.stdout
