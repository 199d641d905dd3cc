"""The client's version: its installed distribution's, as the User-Agent announces it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("notes-client")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

USER_AGENT = f"notes-client/{__version__}"
