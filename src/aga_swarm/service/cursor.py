"""The swarm list's page cursor: opaque to clients, it says where the previous page ended (creation time, id)."""

from __future__ import annotations

import base64
import json

from ..engine.errors import InvalidInput


def encode_cursor(created_at: float, swarm_id: str) -> str:
    """An opaque page cursor: where the previous page ended (creation time and id)."""
    return base64.urlsafe_b64encode(json.dumps([created_at, swarm_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """The creation time and id a cursor names (InvalidInput for a cursor this server did not give)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, swarm_id = json.loads(raw)
        if isinstance(created_at, (int, float)) and not isinstance(created_at, bool) and isinstance(swarm_id, str):
            return float(created_at), swarm_id
    except (ValueError, TypeError):
        pass
    raise InvalidInput("the cursor is not one this server gave; start again without it")
