"""CPython source packages from the system's own Debian-like mirror, through apt with a private configuration.

The system's package sources are only read: apt gets a one-file sources list, a lists folder and a
cache folder of its own (`PrivateApt`), so nothing under /etc/apt or /var/lib/apt changes. apt checks
the index signatures and the files' checksums, as for any `apt-get source`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cmp_to_key
from pathlib import Path

ETC_APT = Path("/etc/apt")
OS_RELEASE = Path("/etc/os-release")
#: Debian's suite aliases, oldest first: whichever codenames they stand for, a new Python shows up in
#: one of them (the system's own release rarely carries one), and this list never needs an update.
DEBIAN_SUITES = ("stable", "testing", "unstable")
#: The Python source packages are in "main" on Debian and Ubuntu alike.
COMPONENT = "main"
APT_TIMEOUT_S = 600  # one update or one 25 MB download; a stalled mirror fails instead of hanging CI


class SourceUnavailable(Exception):
    """No source of this Python could be had; the message says why."""


@dataclass(frozen=True)
class AptEntry:
    """One entry of the system's apt sources."""

    types: tuple[str, ...]
    uri: str
    suites: tuple[str, ...]
    signed_by: str | None


@dataclass(frozen=True)
class SourcePackage:
    """A downloaded (or given) source package: its upstream tarball and where it came from."""

    package: str
    version: str
    orig: Path
    origin: str

    def to_dict(self) -> dict[str, str]:
        return {"package": self.package, "version": self.version, "file": self.orig.name, "origin": self.origin}


def os_release(path: Path = OS_RELEASE) -> dict[str, str]:
    fields: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                fields[key.strip()] = value.strip().strip("\"'")
    return fields


def is_debian_like(release: dict[str, str]) -> bool:
    family = {release.get("ID", "")} | set(release.get("ID_LIKE", "").split())
    return bool(family & {"debian", "ubuntu"}) and shutil.which("apt-get") is not None


def parse_one_line(text: str) -> list[AptEntry]:
    """Entries of a `sources.list`-style file: `deb [options] URI SUITE COMPONENT...`."""
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.match(r"^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)", line)
        if match:
            options = dict(option.split("=", 1) for option in (match[2] or "").split() if "=" in option)
            entries.append(AptEntry((match[1],), match[3].rstrip("/"), (match[4],), options.get("signed-by")))
    return entries


def parse_deb822(text: str) -> list[AptEntry]:
    """Entries of a `.sources` file: stanzas of `Types:`, `URIs:`, `Suites:`, `Signed-By:` fields."""
    entries = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith("#"):
                continue
            if line[:1].isspace() and key:  # a continuation line (e.g. an inline key block)
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no" or not fields.get("uris"):
            continue
        signed_by = fields.get("signed-by")
        entries.append(AptEntry(tuple(fields.get("types", "").split()), fields["uris"].split()[0].rstrip("/"),
                                tuple(fields.get("suites", "").split()),
                                signed_by if signed_by and "\n" not in signed_by else None))
    return entries


def system_entries(etc: Path = ETC_APT) -> list[AptEntry]:
    entries = []
    if (etc / "sources.list").exists():
        entries += parse_one_line((etc / "sources.list").read_text(encoding="utf-8", errors="replace"))
    for path in sorted((etc / "sources.list.d").glob("*")):
        if path.suffix == ".list":
            entries += parse_one_line(path.read_text(encoding="utf-8", errors="replace"))
        elif path.suffix == ".sources":
            entries += parse_deb822(path.read_text(encoding="utf-8", errors="replace"))
    return entries


def release_mirror(entries: list[AptEntry], codename: str) -> AptEntry | None:
    """The mirror the system takes its own release from (not its security or third-party sources)."""
    return next((entry for entry in entries if codename in entry.suites), None)


def suites_to_search(release: dict[str, str]) -> tuple[str, ...]:
    """The system's own suite, then the newer ones of its distribution that may carry another Python."""
    own = release.get("VERSION_CODENAME", "")
    if release.get("ID") == "debian":
        newer: tuple[str, ...] = DEBIAN_SUITES
    else:  # Ubuntu and derivatives: distro-info knows the codenames, when it is installed
        newer = ()
        if shutil.which("ubuntu-distro-info"):
            found = subprocess.run(["ubuntu-distro-info", "--supported"], capture_output=True, text=True, check=False)
            newer = tuple(found.stdout.split())
    return tuple(dict.fromkeys(suite for suite in (own, *newer) if suite))


def debian_version_key():
    """A sort key ordering Debian versions as dpkg does (`3.14.0~rc1-1` before `3.14.0-1`)."""

    def compare(a: str, b: str) -> int:
        if a == b:
            return 0
        later = subprocess.run(["dpkg", "--compare-versions", a, "gt", b], check=False).returncode == 0
        return 1 if later else -1

    return cmp_to_key(compare)


class PrivateApt:
    """apt with its own sources list, lists and cache under `root`: the system's configuration is not touched."""

    def __init__(self, root: Path, mirror: AptEntry, suites: tuple[str, ...]):
        self.root, self.mirror, self.suites = root, mirror, suites
        (root / "lists" / "partial").mkdir(parents=True, exist_ok=True)
        (root / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
        signed_by = f" [signed-by={mirror.signed_by}]" if mirror.signed_by else ""
        (root / "sources.list").write_text(
            "".join(f"deb-src{signed_by} {mirror.uri} {suite} {COMPONENT}\n" for suite in suites), encoding="utf-8")
        self.options = ["-o", f"Dir::Etc::SourceList={root / 'sources.list'}", "-o", "Dir::Etc::SourceParts=/nonexistent",
                        "-o", f"Dir::State::Lists={root / 'lists'}", "-o", f"Dir::Cache={root / 'cache'}"]
        self.updated = False

    def _apt(self, tool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([tool, *self.options, *args], cwd=cwd, capture_output=True, text=True,
                              timeout=APT_TIMEOUT_S, check=False)

    def update(self) -> None:
        if not self.updated:
            done = self._apt("apt-get", "update")
            if done.returncode:
                raise SourceUnavailable(f"apt-get update of {self.describe()} failed: {_apt_error(done)}")
            self.updated = True

    def describe(self) -> str:
        return f"{self.mirror.uri} ({', '.join(self.suites)})"

    def candidates(self, package: str) -> list[tuple[str, str]]:
        """(version, suite) of every `package` source the lists offer, newest first."""
        self.update()
        listed = self._apt("apt-cache", "madison", package)
        found: dict[str, str] = {}  # version -> suite
        for line in listed.stdout.splitlines():
            parts = [part.strip() for part in line.split("|")]
            if len(parts) == 3 and parts[0] == package and parts[2].endswith("Sources"):
                found.setdefault(parts[1], parts[2].split()[-2].split("/")[0])
        newest_first = debian_version_key()
        return sorted(found.items(), key=lambda item: newest_first(item[0]), reverse=True)

    def download(self, package: str, version: str, into: Path) -> None:
        done = self._apt("apt-get", "source", "--download-only", f"{package}={version}", cwd=into)
        if done.returncode:
            raise SourceUnavailable(_apt_error(done))


def _apt_error(done: subprocess.CompletedProcess[str]) -> str:
    errors = [line[3:].strip() for line in done.stderr.splitlines() if line.startswith("E: ")]
    first = errors[0] if errors else (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    status = re.search(r"\b(\d{3}\s+[A-Z][\w ]*?)\s*(?:\[|$)", first)  # "404  Not Found" of a failed fetch
    return re.sub(r"\s+", " ", status[1]) if status else first


def orig_tarballs(folder: Path, minor: str) -> list[SourcePackage]:
    """The `python3.X_*.orig.tar.*` files in `folder` (what `apt-get source --download-only` leaves), newest first."""
    package = f"python{minor}"
    found = []
    for orig in folder.glob(f"{package}_*.orig.tar.*"):
        if orig.name.endswith(".asc"):
            continue
        upstream = orig.name[len(package) + 1:].split(".orig.tar.")[0]
        origin_file = next(iter(sorted(folder.glob(f"{package}_{upstream}-*.origin.json"))), None)
        if origin_file:
            origin = json.loads(origin_file.read_text(encoding="utf-8"))
            found.append(SourcePackage(package, origin["version"], orig, origin["origin"]))
        else:
            dsc = next(iter(sorted(folder.glob(f"{package}_{upstream}-*.dsc"))), None)
            version = dsc.name[len(package) + 1:-len(".dsc")] if dsc else upstream
            found.append(SourcePackage(package, version, orig, f"local folder {folder}"))
    return sorted(found, key=lambda source: [int(n) for n in re.findall(r"\d+", source.version)], reverse=True)


def download_source(apt: PrivateApt, minor: str, into: Path, version: str | None = None) -> SourcePackage:
    """Download the newest `python3.X` source the mirror serves (or exactly `version`) into `into`.

    A suite's index can list a version whose files the mirror no longer (or not yet) serves: each
    candidate is tried, newest first, and the reason names every one that failed.
    """
    package = f"python{minor}"
    candidates = apt.candidates(package)
    if version is not None:
        candidates = [(v, suite) for v, suite in candidates if v == version]
    if not candidates:
        wanted = f"{package} {version}" if version else package
        raise SourceUnavailable(f"{apt.describe()} lists no {wanted} source")
    failures = []
    for candidate, suite in candidates:
        with tempfile.TemporaryDirectory(prefix=".download-", dir=into) as scratch:
            try:
                apt.download(package, candidate, Path(scratch))
            except SourceUnavailable as error:
                failures.append(f"{candidate} ({suite}): {error}")
                continue
            for path in Path(scratch).iterdir():
                path.replace(into / path.name)
        origin = f"apt-get source {package}={candidate} from {apt.mirror.uri} {suite}"
        upstream = candidate.split(":")[-1].rsplit("-", 1)[0]
        (into / f"{package}_{candidate}.origin.json").write_text(
            json.dumps({"version": candidate, "origin": origin}), encoding="utf-8")
        return next(source for source in orig_tarballs(into, minor) if source.orig.name.startswith(f"{package}_{upstream}."))
    raise SourceUnavailable(f"{package} is listed but could not be downloaded: {'; '.join(failures)}")
