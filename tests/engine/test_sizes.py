"""Sizes in a person's units, as the upload limits' 413s give them."""

import pytest

from aga_swarm.engine.sizes import human_size


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 bytes"), (1, "1 byte"), (1000, "1000 bytes"), (1024, "1 KB"), (1536, "1.5 KB"),
    (10 * 1024 * 1024, "10 MB"), (25 * 1024 * 1024, "25 MB"), (3 * 1024 ** 3, "3 GB"),
    (10 * 1024 * 1024 + 1, "10.1 MB"),  # rounded up: over the limit never reads as the limit
    (1024 * 1024 - 1, "1024 KB"),  # rounded up within its own unit
])
def test_human_size(n: int, text: str) -> None:
    assert human_size(n) == text
