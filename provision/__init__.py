"""Interpreter provisioning: the Pythons tox's matrix names beyond the usual ones (3.13t, 3.14, 3.14t, 3.13's
GIL twin), found on this machine or built from Debian's source packages, and where they are kept.

`pythons.py` is the command (run as `provision/pythons`), `python_locations.py` the places and targets that
toxfile.py and .ci/run read too, `debian_source.py` and `build_python.py` the fetching and the build.
Standard library only, and apart from `concurrency_lab`: tox's own Python and a bare `python3` import it.
"""
