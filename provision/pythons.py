"""Get the Pythons tox's matrix names beyond the usual ones: use one already present, else build it.

    provision/pythons [NAME...] [--sources DIR] [--no-install] [--jobs N]

For 3.13t, 3.14 and 3.14t: an interpreter on PATH, in pyenv or uv-managed is used as it is; otherwise,
on a Debian-like system, it is built from the distribution's own source package (see
`debian_source.py`) into the cache folder (`pythons_root()`), and reused while it works. twin3.13 is
the GIL twin of a 3.13t built here: the same source, the same flags, the GIL on, for a fair
single-thread comparison (tox env `twin3.13`, command `python3.13-twin`, which tox's `3.13` never takes).

Each one that is provided gets a link in `pythons_root()/bin`, which toxfile.py puts on tox's PATH,
and an entry in `provided.json`, which .ci/run checks against what tox ran. One that cannot be had is
printed with the reason, and tox skips it; the exit status is still 0.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import build_python, debian_source
from .python_locations import MANIFEST, TARGET_BY_NAME, TARGETS, Provided, Target, candidates, check, pythons_root


@dataclass
class Outcome:
    """What the script did about one target: the interpreter it provides, or why there is none."""

    name: str
    python: str | None = None
    how: str = ""
    version: str | None = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    built_here: bool = False  # by this script, now or earlier: only such a 3.13t gets a twin


# -- finding one -------------------------------------------------------------------------------

def find_present(target: Target, env: Mapping[str, str]) -> Outcome:
    """The first interpreter already present that is `target` (none: python is None, notes say what was not)."""
    rejected: list[str] = []
    for where, path in candidates(target, env):
        if path.is_file() and os.access(path, os.X_OK):
            problem, version = check(target, path)
            if problem is None:
                return Outcome(target.name, str(path), f"found {where}", version, notes=rejected)
            rejected.append(f"{path} {problem}")
    return Outcome(target.name, notes=rejected)


# -- building one --------------------------------------------------------------------------------

class Sources:
    """Where the source of each Python comes from: a given folder only, or the cache's sources, then apt."""

    def __init__(self, root: Path, given: Path | None):
        self.root, self.given = root, given
        self.folder = given or root / "sources"
        self._apt: debian_source.PrivateApt | None = None
        self._unavailable: dict[tuple[str, str | None], debian_source.SourceUnavailable] = {}

    def get(self, minor: str, sha256: str | None = None, version: str | None = None) -> debian_source.SourcePackage:
        """The newest source of `minor` (or the one whose tarball has `sha256`), or SourceUnavailable."""
        if (minor, sha256) in self._unavailable:  # 3.14 and 3.14t share one answer
            raise self._unavailable[minor, sha256]
        try:
            return self._get(minor, sha256, version)
        except debian_source.SourceUnavailable as error:
            self._unavailable[minor, sha256] = error
            raise

    def _get(self, minor: str, sha256: str | None, version: str | None) -> debian_source.SourcePackage:
        local = debian_source.orig_tarballs(self.folder, minor) if self.folder.is_dir() else []
        if sha256:
            local = [source for source in local if build_python.sha256_of(source.orig) == sha256]
        if local:
            return local[0]
        if self.given:
            checksum = " with that checksum" if sha256 else ""
            raise debian_source.SourceUnavailable(f"no python{minor} source{checksum} in {self.given}")
        apt = self.apt()
        if not apt.updated:
            started = time.monotonic()
            apt.update()
            say(f"apt-get update with a private sources list, {apt.describe()}: {time.monotonic() - started:.1f} s")
        self.folder.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        source = debian_source.download_source(apt, minor, self.folder, version=version)
        say(f"python{minor}: downloaded {source.version} ({source.orig.stat().st_size / 1e6:.0f} MB, checked by apt) "
            f"in {time.monotonic() - started:.1f} s")
        if sha256 and build_python.sha256_of(source.orig) != sha256:
            raise debian_source.SourceUnavailable(f"the mirror's python{minor} {version} is not the tarball "
                                                  "that was built from (checksum differs)")
        return source

    def pinned(self, minor: str, record: build_python.BuildRecord) -> debian_source.SourcePackage:
        """The very source of an earlier build (kept in the cache; else downloaded again: same version and checksum)."""
        return self.get(minor, sha256=record.source_sha256, version=record.source["version"])

    def apt(self) -> debian_source.PrivateApt:
        if self._apt is None:
            release = debian_source.os_release()
            if not debian_source.is_debian_like(release):
                raise debian_source.SourceUnavailable(
                    f"building needs a Debian-like system with apt-get (this is {release.get('PRETTY_NAME', 'unknown')}); "
                    "install it with uv or pyenv instead")
            mirror = debian_source.release_mirror(debian_source.system_entries(), release.get("VERSION_CODENAME", ""))
            if mirror is None:
                raise debian_source.SourceUnavailable(
                    f"no apt source for this release ({release.get('VERSION_CODENAME', '?')}) in /etc/apt: no mirror to ask")
            self._apt = debian_source.PrivateApt(self.root / "apt", mirror, debian_source.suites_to_search(release))
        return self._apt


class Builder:
    """Builds targets into the cache, once per run installing the build packages."""

    def __init__(self, root: Path, sources: Sources, install: bool, jobs: int):
        self.root, self.sources, self.install, self.jobs = root, sources, install, jobs
        self._packages_checked = False

    def prefix(self, name: str) -> Path:
        return self.root / name

    def cached(self, target: Target) -> Outcome | None:
        """An earlier build of `target` that still works."""
        exe = self.prefix(target.name) / "bin" / target.executable
        record = build_python.BuildRecord.read(self.prefix(target.name))
        if record is None or not exe.exists():
            return None
        problem, version = check(target, exe)
        if problem:
            return Outcome(target.name, notes=[f"the earlier build {exe} {problem}: building again"])
        return Outcome(target.name, str(exe), f"built earlier from {_source_text(record.source)}", version, built_here=True)

    def build(self, target: Target, source: debian_source.SourcePackage) -> Outcome:
        if not self._packages_checked:
            build_python.install_build_packages(self.install, say)
            self._packages_checked = True
        say(f"{target.name}: building from {_source_text(source.to_dict())} (configure "
            f"{' '.join(build_python.configure_flags(target.free_threaded)) or '--prefix only'}; about 2-4 minutes on 2 cores)")
        log = self.root / "logs" / f"{target.name}.log"
        try:
            record = build_python.build(target.name, target.executable, target.free_threaded, source, self.prefix(target.name),
                                        log, check=lambda exe: check(target, exe), say=say, jobs=self.jobs)
        except build_python.BuildFailed as error:
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:] if log.exists() else []
            return Outcome(target.name, reason=f"build failed: {error} (log: {log})", notes=tail)
        exe = self.prefix(target.name) / "bin" / target.executable
        return Outcome(target.name, str(exe), f"built from {_source_text(record.source)}", record.python_version,
                       built_here=True)


def _source_text(source: Mapping[str, str]) -> str:
    return f"{source['package']} {source['version']} ({source['origin']})"


def resolve(target: Target, builder: Builder, done: Mapping[str, Outcome], env: Mapping[str, str]) -> Outcome:
    """Find, reuse or build `target`."""
    if target.twin_of:
        return resolve_twin(target, builder, done[target.twin_of])
    present = find_present(target, env)
    if present.python:
        return present
    notes = present.notes
    cached = builder.cached(target)
    if cached and cached.python:
        return cached
    notes += cached.notes if cached else []
    try:
        source = builder.sources.get(target.minor)
    except debian_source.SourceUnavailable as error:
        return Outcome(target.name, reason=f"not on PATH, in pyenv or uv-managed, and no source to build it: {error}",
                       notes=notes)
    outcome = builder.build(target, source)
    outcome.notes[:0] = notes
    return outcome


def resolve_twin(target: Target, builder: Builder, partner: Outcome) -> Outcome:
    """The GIL twin exists only beside a free-threaded build of ours, from its very source and flags."""
    partner_record = build_python.BuildRecord.read(builder.prefix(partner.name))
    if not partner.built_here or partner_record is None:
        state = f"{partner.how} ({partner.python})" if partner.python else "not available"
        return Outcome(target.name,
                       reason=f"built only beside a {partner.name} built here, from its source; {partner.name} is {state}")
    cached = builder.cached(target)
    record = build_python.BuildRecord.read(builder.prefix(target.name))
    if cached and cached.python and record and record.source_sha256 == partner_record.source_sha256 \
            and record.configure_flags == build_python.configure_flags(False) \
            and partner_record.configure_flags == build_python.configure_flags(True):
        return cached
    try:
        source = builder.sources.pinned(target.minor, partner_record)
    except debian_source.SourceUnavailable as error:
        return Outcome(target.name, reason=f"the source {partner.name} was built from is gone: {error}")
    return builder.build(target, source)


# -- what tox gets -------------------------------------------------------------------------------

def publish(root: Path, outcomes: list[Outcome]) -> None:
    """Point the links folder and the manifest at what this run provides (each change atomic)."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    wanted = {TARGET_BY_NAME[o.name].command: o.python for o in outcomes if o.python}
    for name, python in wanted.items():
        temporary = bin_dir / f".{name}.new"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(python)
        temporary.replace(bin_dir / name)
    selected = {TARGET_BY_NAME[o.name].command for o in outcomes}
    for stale in bin_dir.iterdir():  # links of targets this run decided on and did not provide
        if stale.name in selected and stale.name not in wanted:
            stale.unlink()
    try:
        previous = Provided.load(root)
    except ValueError:  # written by another version of this script: this run's word replaces it
        previous = Provided({}, {})
    decided = {o.name for o in outcomes}
    pythons = {name: entry for name, entry in previous.pythons.items() if name not in decided}
    unavailable = {name: why for name, why in previous.unavailable.items() if name not in decided}
    for o in outcomes:
        if o.python:
            pythons[o.name] = {"python": str(bin_dir / TARGET_BY_NAME[o.name].command), "real": o.python,
                               "how": o.how, "version": o.version or "?"}
        else:
            unavailable[o.name] = o.reason or ""
    manifest = Provided(pythons, unavailable)
    temporary = root / f".{MANIFEST}.new"
    temporary.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n", encoding="utf-8")
    temporary.replace(root / MANIFEST)


def say(line: str) -> None:
    print(line, flush=True)


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One run at a time per cache folder (two builds into one prefix would clash)."""
    with (root / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another provision/pythons run using {root}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="provision/pythons", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"which ones (default: all of {', '.join(TARGET_BY_NAME)})")
    parser.add_argument("--sources", type=Path, metavar="DIR",
                        help="build from the python3.X_*.orig.tar.* files in DIR (as `apt-get source --download-only` "
                             "leaves them) and download nothing")
    parser.add_argument("--no-install", action="store_true", help="do not install missing build packages, only name them")
    parser.add_argument("--jobs", type=int, default=_default_jobs(), help="make -j (default: the CPUs this process may use)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in TARGET_BY_NAME]
    if unknown:
        parser.error(f"unknown {', '.join(unknown)}: choose from {', '.join(TARGET_BY_NAME)}")
    names = set(args.names) | {TARGET_BY_NAME[n].twin_of for n in args.names if TARGET_BY_NAME[n].twin_of}
    selected = [target for target in TARGETS if not args.names or target.name in names]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so a stopped build cleans up as on Ctrl-C

    root = pythons_root()
    root.mkdir(parents=True, exist_ok=True)
    say(f"Pythons for tox, cached in {root}")
    with _locked(root):
        build_python.remove_stale_builds(root)
        builder = Builder(root, Sources(root, args.sources), install=not args.no_install, jobs=args.jobs)
        done: dict[str, Outcome] = {}
        for target in selected:
            done[target.name] = outcome = resolve(target, builder, done, os.environ)
            for note in outcome.notes:
                say(f"    {note}")
            if outcome.python:
                say(f"{target.name}: {outcome.how}: {outcome.python} (Python {outcome.version})")
            else:
                say(f"{target.name}: not available, tox will skip it: {outcome.reason}")
        publish(root, list(done.values()))
    say(f"tox finds them through {root / 'bin'} (toxfile.py puts it on PATH)")
    return 0
