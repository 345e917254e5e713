"""aga_swarm: trees of LLM agents that work with people.

The Python API is :class:`aga_swarm.service.SwarmService`; the wire contract is :mod:`aga_swarm.schemas`.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["SwarmService", "__version__"]


def __getattr__(name: str) -> object:
    if name == "SwarmService":
        from .service import SwarmService

        return SwarmService
    raise AttributeError(name)
