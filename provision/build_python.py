"""Build one CPython from an upstream source tarball into its cache folder, all or nothing.

Everything happens in a temporary folder beside the final one: configure with the final prefix,
make, `make altinstall DESTDIR=stage`, then the staged interpreter is checked and moved into place
with one rename. A failed or interrupted build leaves no interpreter behind that a later run could
take for a good one, only a `.build-*` folder, removed by the next run.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: The packages a build needs from the system's own release (Debian names). These give the modules a
#: build must have to count (see `pythons.REQUIRED_MODULES`): without ssl, pip cannot install anything.
BUILD_PACKAGES = ("build-essential", "pkg-config", "libssl-dev", "libffi-dev", "zlib1g-dev", "liblzma-dev",
                  "libbz2-dev", "libsqlite3-dev")
#: Wanted, not required: readline, curses, dbm, uuid, the system's libmpdec (without it 3.13 falls
#: back to its bundled copy, with a warning) and the zstd that 3.14's compression.zstd uses.
OPTIONAL_BUILD_PACKAGES = ("libreadline-dev", "libncurses-dev", "libgdbm-dev", "uuid-dev", "libmpdec-dev", "libzstd-dev")
#: The same for every build, so a free-threaded build and its GIL twin differ only by --disable-gil.
#: No --enable-optimizations or --with-lto: PGO makes a build take several times its ~2 minutes here.
CONFIGURE_FLAGS: tuple[str, ...] = ()
FREE_THREADED_FLAG = "--disable-gil"
BUILD_RECORD = "build.json"  # beside bin/ in each build's prefix: what the lab reads to say which builds it compared
BUILD_RECORD_SCHEMA = 1
DPKG_LOCK_TIMEOUT_S = 300  # another apt run (unattended-upgrades) holds the lock for a while, then we go on


class BuildFailed(Exception):
    """The build did not produce a working interpreter; the message says at which step and why."""


def configure_flags(free_threaded: bool) -> list[str]:
    return [*CONFIGURE_FLAGS, *([FREE_THREADED_FLAG] if free_threaded else [])]


@dataclass(frozen=True)
class BuildRecord:
    """`build.json`: which source, which configure flags, what came out (schema-versioned)."""

    name: str
    python_version: str
    free_threaded: bool
    configure_flags: list[str]
    source: dict[str, str]
    source_sha256: str
    built_at: str
    build_seconds: float
    machine: dict[str, str] = field(default_factory=dict)
    schema: int = BUILD_RECORD_SCHEMA

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> BuildRecord:
        if data.get("schema") != BUILD_RECORD_SCHEMA:
            raise ValueError(f"build record schema {data.get('schema')!r}, this script reads {BUILD_RECORD_SCHEMA}")
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})

    @classmethod
    def read(cls, prefix: Path) -> BuildRecord | None:
        try:
            return cls.from_dict(json.loads((prefix / BUILD_RECORD).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError):
            return None


def missing_packages(packages: Sequence[str]) -> list[str] | None:
    """Which of `packages` dpkg does not list as installed (None: this system has no dpkg)."""
    if not shutil.which("dpkg-query"):
        return None
    listed = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev} ${Package}\n", *packages],
                            capture_output=True, text=True, check=False)
    installed = {line.split()[1] for line in listed.stdout.splitlines() if line.startswith("ii ") and len(line.split()) > 1}
    return [package for package in packages if package not in installed]


def installable(packages: Sequence[str]) -> list[str]:
    """Those of `packages` the system's own release offers (an optional one may not exist there: bookworm has no libmpdec-dev)."""
    listed = subprocess.run(["apt-cache", "policy", *packages], capture_output=True, text=True, check=False).stdout
    offered, package = set(), None
    for line in listed.splitlines():
        if re.match(r"^\S+:$", line):
            package = line[:-1]
        elif package and line.strip().startswith("Candidate:") and "(none)" not in line:
            offered.add(package)
    return [package for package in packages if package in offered]


def install_build_packages(install: bool, say: Callable[[str], None]) -> None:
    """Install the missing build packages from the system's own release (as root), or say which are missing."""
    for packages, required in ((BUILD_PACKAGES, True), (OPTIONAL_BUILD_PACKAGES, False)):
        missing = missing_packages(packages)
        if missing is None:
            say("build packages: no dpkg here, so not checked (a C compiler and the -dev files of OpenSSL, "
                "libffi, zlib, xz, bzip2 and SQLite are needed)")
            return
        if not missing:
            continue
        command = ["apt-get", "install", "-y", "--no-install-recommends", "-o", f"DPkg::Lock::Timeout={DPKG_LOCK_TIMEOUT_S}"]
        if not install or os.geteuid() != 0:
            say(f"build packages missing: {' '.join(missing)} (install them with: sudo apt-get install {' '.join(missing)})")
            continue
        if not required:
            offered = installable(missing)
            if len(offered) < len(missing):
                say(f"optional build packages this release does not offer: {' '.join(sorted(set(missing) - set(offered)))}")
            missing = offered
            if not missing:
                continue
        say(f"installing build packages from the system's own release: {' '.join(missing)}")
        done = subprocess.run([*command, *missing], capture_output=True, text=True, check=False)
        if done.returncode:  # the system's package lists may be older than its mirror: refresh them once
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
            done = subprocess.run([*command, *missing], capture_output=True, text=True, check=False)
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["?"])[-1]
            say(f"could not install {' '.join(missing)}: {last}" + ("" if required else " (optional: going on)"))


def sha256_of(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unpack(tarball: Path, into: Path) -> Path:
    """Unpack the tarball into `into` and return its single top folder (`Python-3.X.Y`)."""
    with tarfile.open(tarball) as archive:
        if hasattr(tarfile, "data_filter"):  # 3.12+ and the security releases before it: no links out, no devices
            archive.extractall(into, filter="data")
        else:  # pragma: no cover - an older Python; the tarball came through apt's checksums
            archive.extractall(into)
    tops = [path for path in into.iterdir() if path.is_dir()]
    if len(tops) != 1:
        raise BuildFailed(f"{tarball.name} does not unpack into one folder")
    return tops[0]


def _run(command: list[str], cwd: Path, log: Path, env: dict[str, str]) -> None:
    """Run one build step, its output appended to `log`; on any exception (Ctrl-C included) its whole
    process group (make's compilers) is stopped before the exception goes on."""
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = process.wait()
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    if code:
        raise BuildFailed(f"`{' '.join(command[:2])}` failed (exit status {code})")


def build(name: str, executable: str, free_threaded: bool, source_package, prefix: Path, log: Path, *,
          check: Callable[[Path], tuple[str | None, str]], say: Callable[[str], None], jobs: int) -> BuildRecord:
    """Build `source_package` into `prefix`, or raise BuildFailed; `check(exe)` returns (why it does not count, version)."""
    started = time.monotonic()
    prefix.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"{name} from {source_package.orig}\n", encoding="utf-8")
    flags = configure_flags(free_threaded)
    env = {**os.environ, "LC_ALL": "C"}
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    scratch = Path(tempfile.mkdtemp(prefix=f".build-{name}-", dir=prefix.parent))
    try:
        steps = []
        step_start = time.monotonic()
        tree = _unpack(source_package.orig, scratch / "src")
        steps.append(f"unpack {time.monotonic() - step_start:.0f} s")
        stage = scratch / "stage"
        for label, command in (
            ("configure", ["./configure", f"--prefix={prefix}", *flags]),
            (f"make -j{jobs}", ["make", f"-j{jobs}"]),
            ("make altinstall", ["make", "altinstall", f"DESTDIR={stage}"]),
        ):
            step_start = time.monotonic()
            _run(command, tree, log, env)
            steps.append(f"{label} {time.monotonic() - step_start:.0f} s")
        staged = stage / prefix.relative_to(prefix.anchor)
        problem, version = check(staged / "bin" / executable)
        if problem:
            raise BuildFailed(f"the built interpreter does not count: {problem}")
        record = BuildRecord(
            name=name, python_version=version, free_threaded=free_threaded, configure_flags=flags,
            source=source_package.to_dict(), source_sha256=sha256_of(source_package.orig),
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), build_seconds=round(time.monotonic() - started, 1),
            machine={"system": platform.system(), "machine": platform.machine(), "release": platform.release(),
                     "jobs": str(jobs)})
        (staged / BUILD_RECORD).write_text(json.dumps(record.to_dict(), indent=2) + "\n", encoding="utf-8")
        if prefix.exists() or prefix.is_symlink():  # an earlier build that no longer works: out of the way first
            prefix.rename(scratch / "replaced")
        staged.rename(prefix)  # the one step that makes it visible
        say(f"{name}: built in {record.build_seconds:.0f} s ({', '.join(steps)})")
        return record
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def remove_stale_builds(folder: Path) -> None:
    """Remove the `.build-*` folders of builds that failed or were stopped (callers hold the lock)."""
    for stale in folder.glob(".build-*"):
        shutil.rmtree(stale, ignore_errors=True)
