"""Text a person sends (goals, names, messages): control characters stripped, bounds enforced with a clear error."""

from __future__ import annotations

import re

from ..engine.errors import InvalidInput

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str, *, field: str, max_chars: int, allow_empty: bool = False) -> str:
    """Strip control characters (keeping newlines and tabs) and enforce bounds, with a clear error."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text")
    value = _CONTROL.sub("", value).strip()
    if not value and not allow_empty:
        raise InvalidInput(f"{field} must not be empty")
    if len(value) > max_chars:
        raise InvalidInput(f"{field} is too long ({len(value)} characters; the limit is {max_chars})")
    return value
