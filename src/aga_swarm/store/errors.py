"""Settings that cannot work. Raised at startup, each with one line an operator can act on."""

from __future__ import annotations


class SetupError(Exception):
    """A setting that cannot work (unknown blob store scheme, missing credentials, a database behind the code).

    The CLI prints its message as one line; servers and workers refuse to start with it."""


class BlobUrlError(SetupError, ValueError):
    """``AGA_SWARM_BLOB_URL`` names no blob store this code can open."""
