"""Typed errors the Python API raises. Each carries a message fit to show a user."""

from __future__ import annotations

from ..sdk.errors import InvalidInput, InvalidPlan, MalformedContinuation, SwarmError, UnknownPolicy, UnknownStep

__all__ = ["ChatNotAwaiting", "ChatNotFound", "ConfigNotFound", "Conflict", "FileTooLarge", "HistoryCompacted",
           "InvalidInput", "InvalidPlan", "InvalidTransition", "LimitExceeded", "MalformedContinuation",
           "MemoryFileNotFound", "NodeNotFound", "NotFound", "QuotaExceeded", "SwarmError", "SwarmNotFound",
           "UnknownPolicy", "UnknownStep", "UnsupportedFileType"]


class NotFound(SwarmError):
    pass


class SwarmNotFound(NotFound):
    def __init__(self, swarm_id: str) -> None:
        super().__init__(f"swarm {swarm_id!r} not found")


class NodeNotFound(NotFound):
    def __init__(self, node_id: str) -> None:
        super().__init__(f"node {node_id!r} not found")


class ChatNotFound(NotFound):
    def __init__(self, chat_id: str) -> None:
        super().__init__(f"chat {chat_id!r} not found")


class MemoryFileNotFound(NotFound):
    def __init__(self, path: str) -> None:
        super().__init__(f"no file {path!r} in the memory space")


class ConfigNotFound(NotFound):
    def __init__(self, config_id: str) -> None:
        super().__init__(f"config {config_id!r} not found")


class Conflict(SwarmError):
    """The request is valid but the swarm is not in a state that allows it."""


class InvalidTransition(Conflict):
    pass


class ChatNotAwaiting(Conflict):
    def __init__(self, chat_id: str) -> None:
        super().__init__(f"chat {chat_id!r} is not awaiting a reply")


class HistoryCompacted(SwarmError):
    def __init__(self, seq: int, first_seq: int) -> None:
        super().__init__(f"history before seq {first_seq} was compacted; cannot show seq {seq}")


class LimitExceeded(SwarmError):
    """A final per-swarm bound was reached: the node that hit it fails, the rest of the swarm is cancelled and
    the swarm fails, with this message (``<limit> <value> reached at node <id>``, and what was measured)."""

    def __init__(self, limit: str, node_id: str, detail: str = "") -> None:
        super().__init__(f"{limit} reached at node {node_id}" + (f" ({detail})" if detail else ""))
        self.limit = limit
        self.node_id = node_id


class FileTooLarge(SwarmError):
    """A file (or a request's files together) is over the operator's size limit (HTTP 413)."""


class UnsupportedFileType(SwarmError):
    """A file's type is not on the operator's allowlist, or its bytes are not what its name says (HTTP 415)."""


class QuotaExceeded(SwarmError):
    """A per-user limit the operator set was reached (HTTP 429); the message names it and what to do."""
