"""A GitHub code scanning API fake on loopback, for the uploader's tests (see server.py)."""
from .server import FakeCodeScanning, running

__all__ = ["FakeCodeScanning", "running"]
