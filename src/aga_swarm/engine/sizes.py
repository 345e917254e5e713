"""Sizes in the units a person reads ("10 MB", "2.5 KB"), for messages such as the upload limits' 413s."""

from __future__ import annotations

_UNITS = (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024))


def human_size(n: int) -> str:
    """``n`` bytes in the largest unit it reaches (1024-based): a whole number when exact, else one decimal,
    rounded up so that a size over a limit never reads as the limit itself (10 MB + 1 byte is "10.1 MB")."""
    for unit, scale in _UNITS:
        if n >= scale:
            if n % scale == 0:
                return f"{n // scale} {unit}"
            tenths = -(-n * 10 // scale)  # ceiling
            return f"{tenths // 10}.{tenths % 10} {unit}" if tenths % 10 else f"{tenths // 10} {unit}"
    return f"{n} byte" if n == 1 else f"{n} bytes"
