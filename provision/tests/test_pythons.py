"""provision/pythons: where it looks, what counts, and (with fake source packages) that it builds each
target all or nothing: 3.14 and 3.14t the day their source is reachable, 3.13t and its GIL twin from one tarball."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from provision import debian_source, python_locations
from provision.build_python import BuildRecord

PROVISION = Path(__file__).resolve().parents[1]

BOOKWORM_SOURCES = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def test_the_release_mirror_is_the_one_carrying_the_system_s_own_suite():
    entries = debian_source.parse_deb822(BOOKWORM_SOURCES)
    mirror = debian_source.release_mirror(entries, "bookworm")
    assert (mirror.uri, mirror.signed_by) == ("http://deb.debian.org/debian", "/usr/share/keyrings/debian-archive-keyring.gpg")
    one_line = debian_source.parse_one_line("deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/ubuntu/ jammy main\n"
                                            "# deb-src http://x jammy main\n")
    assert one_line == [debian_source.AptEntry(("deb",), "http://mirror.example/ubuntu", ("jammy",), "/k.gpg")]


def test_debian_searches_its_own_suite_then_the_aliases_that_never_go_stale():
    release = {"ID": "debian", "VERSION_CODENAME": "bookworm"}
    assert debian_source.suites_to_search(release) == ("bookworm", "stable", "testing", "unstable")


def test_private_apt_writes_its_own_sources_and_leaves_the_system_s_alone(tmp_path):
    mirror = debian_source.release_mirror(debian_source.parse_deb822(BOOKWORM_SOURCES), "bookworm")
    apt = debian_source.PrivateApt(tmp_path, mirror, ("stable", "testing"))
    assert (tmp_path / "sources.list").read_text().splitlines() == [
        "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian stable main",
        "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian testing main"]
    assert "Dir::Etc::SourceParts=/nonexistent" in apt.options
    assert all(str(tmp_path) in option for option in apt.options if option.startswith("Dir::") and "Parts" not in option)


def test_a_failed_fetch_is_reported_by_its_http_status():
    done = subprocess.CompletedProcess([], 100, "", "E: Failed to fetch http://deb.debian.org/debian/pool/main/p/python3.14/"
                                                    "python3.14_3.14.10-1.dsc  404  Not Found [IP: 192.0.2.1 80]\n")
    assert debian_source._apt_error(done) == "404 Not Found"


@pytest.mark.parametrize(("facts", "reason"), [
    ({"version": "3.14.1", "free_threaded": True, "missing": []}, None),
    ({"version": "3.13.5", "free_threaded": True, "missing": []}, "is Python 3.13.5, not 3.14"),
    ({"version": "3.14.1", "free_threaded": False, "missing": []}, "is a GIL build"),
    ({"version": "3.14.1", "free_threaded": True, "missing": ["ssl (ModuleNotFoundError: No module named '_ssl')"]},
     "lacks ssl (ModuleNotFoundError: No module named '_ssl')"),
    ("does not run (exit status 127: not found)", "does not run (exit status 127: not found)"),
], ids=["counts", "other-version", "gil-build", "no-ssl", "broken"])
def test_what_counts_as_the_target(facts, reason):
    assert python_locations.why_not(python_locations.TARGET_BY_NAME["3.14t"], facts) == reason


def test_the_current_interpreter_probes_as_itself():
    facts = python_locations.probe(Path(sys.executable))
    assert facts["version"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert set(facts) == {"version", "free_threaded", "gil_enabled", "missing"}


def test_tox_gets_every_pyenv_version_newest_first_then_the_links(tmp_path):
    for version in ("3.9.18", "3.13.0", "3.10.13"):
        (tmp_path / "pyenv" / "versions" / version / "bin").mkdir(parents=True)
    env = {"PYENV_ROOT": str(tmp_path / "pyenv"), "CONCURRENCY_LAB_PYTHONS": str(tmp_path / "cache"),
           "PATH": os.pathsep.join([str(tmp_path / "pyenv" / "shims"), "/usr/bin"])}
    versions = tmp_path / "pyenv" / "versions"
    assert python_locations.tox_path_additions(env) == [str(versions / v / "bin") for v in ("3.13.0", "3.10.13", "3.9.18")] + [
        str(tmp_path / "cache" / "bin")]
    assert python_locations.interpreter_search_path(env)[0] == "/usr/bin"  # pyenv's shims answer only for its global versions


def test_the_cache_is_outside_the_repository_by_default():
    assert python_locations.pythons_root({"HOME": "/home/u"}) == Path("/home/u/.cache/concurrency-lab/pythons")
    assert python_locations.pythons_root({"HOME": "/home/u", "XDG_CACHE_HOME": "/c"}) == Path("/c/concurrency-lab/pythons")


def test_the_manifest_round_trips_and_refuses_another_schema(tmp_path):
    provided = python_locations.Provided({"3.13t": {"python": "/x/bin/python3.13t"}}, {"3.14": "no source"})
    assert python_locations.Provided.from_dict(json.loads(json.dumps(provided.to_dict()))) == provided
    assert python_locations.Provided.load(tmp_path) == python_locations.Provided({}, {})
    with pytest.raises(ValueError, match="schema 99"):
        python_locations.Provided.from_dict({**provided.to_dict(), "schema": 99})


# -- fake source packages: a configure and a Makefile whose altinstall installs a stand-in interpreter --

CONFIGURE = """#!{python}
import sys, time
from pathlib import Path
prefix = next(arg.split("=", 1)[1] for arg in sys.argv[1:] if arg.startswith("--prefix="))
Path("configured").write_text(repr(sys.argv[1:]))
if {hang}:
    time.sleep(60)
Path("Makefile").write_text("all:\\n\\t{python} -c pass\\naltinstall:\\n\\t{python} install.py $(DESTDIR) " + prefix
                            + (" t" if "--disable-gil" in sys.argv else " -") + "\\n")
"""
INSTALL = """import json, os, sys
destdir, prefix, t = sys.argv[1:]
facts = {{"version": "{version}", "free_threaded": t == "t", "gil_enabled": t != "t", "missing": {missing}}}
bin_dir = destdir + prefix + "/bin"
os.makedirs(bin_dir)
exe = bin_dir + "/python{minor}" + ("t" if t == "t" else "")
with open(exe, "w") as file:
    file.write("#!/bin/sh\\necho '" + json.dumps(facts) + "'\\n")
os.chmod(exe, 0o755)
"""


def fake_source(folder: Path, version: str, *, missing: tuple[str, ...] = (), hang: bool = False) -> None:
    """`python3.X_V.orig.tar.xz` and its `.dsc`, as `apt-get source --download-only` leaves them."""
    minor = ".".join(version.split(".")[:2])
    files = {"configure": CONFIGURE.format(python=sys.executable, hang=hang),
             "install.py": INSTALL.format(version=version, minor=minor, missing=list(missing))}
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / f"python{minor}_{version}.orig.tar.xz", "w:xz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"Python-{version}/{name}")
            info.size, info.mode = len(data), 0o755
            archive.addfile(info, io.BytesIO(data))
    (folder / f"python{minor}_{version}-1.dsc").write_text("fake\n")


@pytest.fixture
def isolated(tmp_path):
    """An environment with no Python to find (PATH holds only make) and the cache in tmp_path."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("needs make, which builds Python from source")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").symlink_to(make)
    return {"PATH": str(bin_dir), "HOME": str(tmp_path / "home"), "PYENV_ROOT": str(tmp_path / "no-pyenv"),
            "XDG_DATA_HOME": str(tmp_path / "no-uv"), "CONCURRENCY_LAB_PYTHONS": str(tmp_path / "pythons"), "LC_ALL": "C"}


def run_script(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(PROVISION / "pythons"), "--no-install", "--jobs", "1", *args],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_it_builds_3_14_and_3_14t_the_day_their_source_is_reachable(tmp_path, isolated):
    fake_source(tmp_path / "sources", "3.14.10")
    fake_source(tmp_path / "sources", "3.13.15")
    done = run_script(isolated, "--sources", str(tmp_path / "sources"))
    assert done.returncode == 0, done.stdout + done.stderr
    root = tmp_path / "pythons"
    for name, exe, package in (("3.13t", "python3.13t", "python3.13 3.13.15-1"),
                               ("twin3.13", "python3.13", "python3.13 3.13.15-1"),
                               ("3.14", "python3.14", "python3.14 3.14.10-1"),
                               ("3.14t", "python3.14t", "python3.14 3.14.10-1")):
        assert f"{name}: built from {package} (local folder" in done.stdout, done.stdout
        assert (root / name / "bin" / exe).exists()
    records = {name: BuildRecord.read(root / name) for name in ("3.13t", "twin3.13", "3.14", "3.14t")}
    assert records["3.14t"].configure_flags == ["--disable-gil"] and records["3.14"].configure_flags == []
    assert records["3.14t"].source == records["3.14"].source and records["3.14"].source["version"] == "3.14.10-1"
    assert records["twin3.13"].source_sha256 == records["3.13t"].source_sha256  # the twin: same tarball, GIL on
    assert (records["twin3.13"].free_threaded, records["3.13t"].free_threaded) == (False, True)
    links = {link.name: os.readlink(link) for link in (root / "bin").iterdir()}
    assert links == {"python3.13t": str(root / "3.13t/bin/python3.13t"), "python3.13-twin": str(root / "twin3.13/bin/python3.13"),
                     "python3.14": str(root / "3.14/bin/python3.14"), "python3.14t": str(root / "3.14t/bin/python3.14t")}
    assert set(python_locations.Provided.load(root).pythons) == {"3.13t", "twin3.13", "3.14", "3.14t"}
    assert not list(root.glob(".build-*"))

    again = run_script(isolated, "--sources", str(tmp_path / "sources"))
    assert "building" not in again.stdout and again.stdout.count(": built earlier from") == 4, again.stdout


def test_a_build_missing_a_required_module_does_not_count_and_leaves_nothing(tmp_path, isolated):
    fake_source(tmp_path / "sources", "3.14.10", missing=("ssl (ModuleNotFoundError: No module named '_ssl')",))
    done = run_script(isolated, "--sources", str(tmp_path / "sources"), "3.14t")
    assert done.returncode == 0, done.stderr  # unobtainable is not an error: tox skips it, saying so
    assert "3.14t: not available, tox will skip it: build failed: the built interpreter does not count: lacks ssl" in done.stdout
    root = tmp_path / "pythons"
    assert not (root / "3.14t").exists() and not list(root.glob(".build-*")) and not (root / "bin" / "python3.14t").exists()
    assert python_locations.Provided.load(root).unavailable["3.14t"].startswith("build failed")


def test_no_source_means_skipped_with_the_reason(tmp_path, isolated):
    (tmp_path / "empty").mkdir()
    done = run_script(isolated, "--sources", str(tmp_path / "empty"), "3.14")
    assert done.returncode == 0
    assert f"3.14: not available, tox will skip it: not on PATH, in pyenv or uv-managed, and no source to build it: " \
           f"no python3.14 source in {tmp_path / 'empty'}" in done.stdout


def test_an_interrupted_build_leaves_no_interpreter_behind(tmp_path, isolated):
    fake_source(tmp_path / "sources", "3.14.10", hang=True)
    script = subprocess.Popen([sys.executable, str(PROVISION / "pythons"), "--no-install", "--sources",
                               str(tmp_path / "sources"), "3.14"], env=isolated, stdout=subprocess.PIPE, text=True)
    root = tmp_path / "pythons"
    deadline = time.monotonic() + 60
    while not list(root.glob(".build-3.14-*/src/*/configured")) and time.monotonic() < deadline:
        time.sleep(0.05)
    script.send_signal(signal.SIGTERM)
    out, _ = script.communicate(timeout=60)
    assert script.returncode == 143, out
    assert not (root / "3.14").exists() and not list(root.glob(".build-*"))


def test_one_already_on_path_is_used_as_it_is_and_gets_no_twin(tmp_path, isolated):
    facts = {"version": "3.13.5", "free_threaded": True, "gil_enabled": False, "missing": []}
    present = Path(isolated["PATH"]) / "python3.13t"
    present.write_text(f"#!/bin/sh\necho '{json.dumps(facts)}'\n")
    present.chmod(0o755)
    fake_source(tmp_path / "sources", "3.13.15")
    done = run_script(isolated, "--sources", str(tmp_path / "sources"), "twin3.13")
    assert f"3.13t: found on PATH: {present} (Python 3.13.5)" in done.stdout, done.stdout
    assert "twin3.13: not available, tox will skip it: built only beside a 3.13t built here" in done.stdout
    assert not (tmp_path / "pythons" / "twin3.13").exists()
    assert os.readlink(tmp_path / "pythons" / "bin" / "python3.13t") == str(present)
