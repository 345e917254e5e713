"""The service layer: ``SwarmService``, the one Python API over the engine, the actions and the store, which the CLI,
the web server (``aga_swarm.server``) and notebooks call. It holds no HTTP: "api" names only the HTTP layer."""

from .swarm_service import AUTO_APPROVED, OwnerUsage, SwarmService
from .text import clean_text

__all__ = ["AUTO_APPROVED", "OwnerUsage", "SwarmService", "clean_text"]
