"""The web app at `/`: a "not built" page without a build, then files, SPA fallback and no escapes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from .helpers import ROOT, Server


async def test_static_web_app(server: Server) -> None:
    static = Path(server.env["AGA_SWARM_STATIC_DIR"])
    shutil.rmtree(static, ignore_errors=True)
    async with httpx.AsyncClient(base_url=server.url) as c:
        for path in ("/", "/swarms/s123/chat"):
            r = await c.get(path)
            assert r.status_code == 200 and "not built" in r.text and "npm run build" in r.text

        (static / "assets").mkdir(parents=True)
        (static / "index.html").write_text("<!doctype html><div id=root>AGA app</div>")
        (static / "assets" / "app-1234.js").write_text("console.log('hi')")
        (static / "favicon.svg").write_text("<svg/>")
        try:
            r = await c.get("/")
            assert "AGA app" in r.text and r.headers["cache-control"] == "no-cache"
            # Client-side routes, whatever their ids contain (a chat id has dots).
            for route in ("/swarms/s123/chat", "/swarms/s123/chat/chat-n.1", "/swarms/s123/chat/chat-n.1.2.js",
                          "/swarms/s.1/tree?node=n.1", "/no/such.page"):
                r = await c.get(route)
                assert r.status_code == 200 and "AGA app" in r.text, route
            r = await c.get("/assets/app-1234.js")
            assert r.text == "console.log('hi')" and "immutable" in r.headers["cache-control"]
            assert "javascript" in r.headers["content-type"]
            assert (await c.get("/favicon.svg")).text == "<svg/>"
            for missing in ("/assets/missing-1.js", "/assets/deep/x.css", "/missing.ico"):
                assert (await c.get(missing)).status_code == 404, missing
            r = await c.get("/api/not-a-route")
            assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
            for sneaky in ("/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/a%00b"):
                r = await c.get(sneaky)
                assert "root:" not in r.text and r.status_code in (200, 404)
        finally:
            shutil.rmtree(static, ignore_errors=True)


def test_export_openapi_is_stable(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    subprocess.run([sys.executable, "-m", "aga_swarm.server.export_openapi", str(out)], check=True, cwd=ROOT)
    text = out.read_text()
    from aga_swarm.server.export_openapi import render

    assert text == render() == render()  # stable across runs and processes

    doc = json.loads(text)
    assert list(doc) == sorted(doc) and doc["openapi"].startswith("3.")
    assert {"SwarmNotice", "SwarmEvent", "AuthResponse", "Swarm"} <= set(doc["components"]["schemas"])
    ops = [op["operationId"] for path in doc["paths"].values() for op in path.values()]
    assert len(ops) == len(set(ops)) and "post_message" in ops
