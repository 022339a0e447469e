"""The one way a live collection says it cannot start at all (the CLI exits 2 with the message).

Missing data is never an exception: it is recorded in the snapshot's `meta.errors`. Only what
makes the whole scan meaningless (no token, a scope argument that names nothing, a malformed
endpoint setting) stops it before it begins.
"""
from __future__ import annotations


class CannotStart(Exception):
    """The scan cannot begin; the message says what to change."""
