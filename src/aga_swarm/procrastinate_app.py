"""The Procrastinate app of the store named by ``AGA_SWARM_DB_URL``, for Procrastinate's own admin tools:

    procrastinate --app=aga_swarm.procrastinate_app.app healthchecks
    procrastinate --app=aga_swarm.procrastinate_app.app shell      # list_jobs, list_locks, retry, cancel ...

Workers are ``aga-swarm worker`` (they run operations with the engine); this app only names the connection,
the queue (``aga_swarm``) and the task (``aga_swarm.operation``).
"""

from __future__ import annotations

import os

from .engine.jobs import make_app

app = make_app(os.environ.get("AGA_SWARM_DB_URL"))
