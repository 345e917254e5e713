"""The web server: a thin FastAPI + Socket.IO adapter over :class:`aga_swarm.service.SwarmService`."""

from .app import build_api, create_app
from .settings import Settings

__all__ = ["Settings", "build_api", "create_app"]
