"""A model call's ``LLMRequest`` from its stored request, each prompt message validated once per process.

A turn of a tool-using loop sends the whole conversation again: its request holds the previous turn's message
dicts (the same objects: ``RequestStore`` hands out what it cached, and the loop builds on them) plus the new
ones. Validating every message of every turn made the call's setup grow with the conversation (2-3 % of an
approved tool call's CPU at 20 calls). So each message dict's ``PromptMessage`` is kept, by the dict's identity
(the dict kept alongside, so a reused id never matches another dict), and only new dicts are validated; the rest
of the request is validated as before. Stored requests and their messages are never changed once made (their
rows are keyed by content), and nothing changes a ``PromptMessage`` once made."""

from __future__ import annotations

from typing import Any

from ..llm.protocol import LLMRequest
from ..schemas import PromptMessage

MAX_KEPT = 4096  # messages kept; past it, or past MAX_KEPT_CHARS of their text, the memo starts again (a loop's
MAX_KEPT_CHARS = 8_000_000  # next turn then validates its whole prompt): what it holds stays bounded


class Requests:
    """Builds ``LLMRequest`` objects for one process's model calls (one thread: the runner's loop)."""

    def __init__(self) -> None:
        self._messages: dict[int, tuple[dict[str, Any], PromptMessage]] = {}
        self._chars = 0

    def request(self, stored: dict[str, Any]) -> LLMRequest:
        kept = self._messages
        messages: list[PromptMessage] = []
        for m in stored["messages"]:
            hit = kept.get(id(m))
            if hit is not None and hit[0] is m:
                messages.append(hit[1])
                continue
            made = PromptMessage.model_validate(m)
            if len(kept) >= MAX_KEPT or self._chars > MAX_KEPT_CHARS:
                kept.clear()
                self._chars = 0
            kept[id(m)] = (m, made)
            self._chars += len(made.content)
            messages.append(made)
        return LLMRequest.model_validate({**stored, "messages": messages})  # instances: taken as they are
