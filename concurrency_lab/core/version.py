"""The lab's version: one place, read by the package, its commands and the build (pyproject.toml)."""

__version__ = "0.1.0"
