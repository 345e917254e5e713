"""The built web app at `/`: files from the static folder, index.html for client-side routes, and a short
"not built" page when there is no build."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from .errors import allowed_methods, method_not_allowed

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AGA Swarm</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5;padding:0 1rem}
code,pre{background:#f3f3f3;padding:.1rem .3rem;border-radius:4px}</style></head>
<body><h1>AGA Swarm</h1>
<p>The server is running, but the web app is not built, so there is nothing to show here yet.</p>
<p>Build it (Node.js 18+), then reload this page:</p>
<pre>cd web
npm ci
npm run build    # writes into src/aga_swarm/server/static/</pre>
<p>The API works without it: see <a href="/api/docs">/api/docs</a>.</p>
</body></html>
"""


def names_a_file(path: str) -> bool:
    """Is this path one the build could hold: under ``assets/`` or a top-level name with an extension
    (``favicon.svg``)? Anything else is a route of the app, whatever its ids contain (``chat/chat-n.1``)."""
    head, sep, _ = path.partition("/")
    return head == "assets" if sep else "." in head


def install_static(app: FastAPI, static_dir: Path) -> None:
    root = static_dir.resolve()

    @app.api_route("/{full_path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def web_app(full_path: str, request: Request) -> Response:
        if full_path == "api" or full_path.startswith("api/"):
            methods = allowed_methods(app, request.url.path)
            if methods:  # a known API path, another method
                return method_not_allowed(methods)
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        index = root / "index.html"
        if full_path:
            try:
                candidate = (root / full_path).resolve()
                found = candidate.is_relative_to(root) and candidate.is_file()
            except (OSError, ValueError):
                found = False
            if found:
                immutable = candidate.parent.name == "assets"  # Vite puts content-hashed names there
                return FileResponse(candidate, headers={
                    "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache"})
            if names_a_file(full_path):  # a missing file of the build, not a client-side route
                return JSONResponse({"detail": "Not Found"}, status_code=404)
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(NOT_BUILT)
