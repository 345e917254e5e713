"""Login burst: how long another user's `GET /api/swarms` takes while 40 logins hash their passwords at once.

Each login costs a bcrypt hash (rounds 12 here, the default: about a quarter of a second of one core). The
server bounds how many run at once (AGA_SWARM_HASH_CONCURRENCY, default half the cores); this compares that
bound with 40 (no real bound, as before issue 10 item 9). 40 users log in with their right passwords (so the
login limiter refuses none) while one other user reads the swarm list in a loop.

    .venv/bin/python bench/bench_login_burst.py [--logins 40] [--bounds 40,1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))
from bench_server import ServerProcess, environment, pct


async def run(bound: int, logins: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp), {"AGA_SWARM_BCRYPT_ROUNDS": "12", "AGA_SWARM_HASH_CONCURRENCY": str(bound),
                                        "AGA_SWARM_HASH_MAX_WAITING": "1000"})
        srv.start()
        try:
            async with aiohttp.ClientSession() as http:
                accounts = []
                for _ in range(logins + 1):
                    name, password = f"burst_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
                    async with http.post(srv.url + "/api/auth/signup",
                                         json={"username": name, "password": password}) as r:
                        assert r.status == 201, await r.text()
                        token = (await r.json())["token"]
                    accounts.append((name, password, token))
                reader = {"Authorization": f"Bearer {accounts[-1][2]}"}
                for i in range(5):
                    async with http.post(srv.url + "/api/swarms", json={"goal": f"Goal {i}"}, headers=reader) as r:
                        assert r.status == 201
                done = asyncio.Event()
                waits: list[float] = []

                async def read_loop() -> None:
                    while not done.is_set():
                        t0 = time.perf_counter()
                        async with http.get(srv.url + "/api/swarms", headers=reader) as r:
                            assert r.status == 200
                            await r.read()
                        waits.append((time.perf_counter() - t0) * 1000)

                async def login(name: str, password: str) -> int:
                    async with http.post(srv.url + "/api/auth/login",
                                         json={"username": name, "password": password}) as r:
                        return r.status

                reading = asyncio.create_task(read_loop())
                await asyncio.sleep(0.5)
                before = len(waits)
                t0 = time.perf_counter()
                statuses = await asyncio.gather(*(login(n, p) for n, p, _ in accounts[:-1]))
                burst = time.perf_counter() - t0
                done.set()
                await reading
                assert statuses == [200] * logins, statuses
                during = waits[before:]
                return {"burst_s": burst, "reads": len(during), "p50": pct(during, 50), "p95": pct(during, 95),
                        "max": max(during), "idle_p50": pct(waits[:before], 50)}
        finally:
            srv.stop()


async def main_async(args: argparse.Namespace) -> None:
    print(f"# Login burst\n\n{environment()} · bcrypt rounds 12 · {args.logins} logins at once\n")
    print("| hash bound | burst wall | GET /api/swarms during it: reads | p50 | p95 | max | p50 before |")
    print("|---|---|---|---|---|---|---|")
    for bound in args.bounds:
        r = await run(bound, args.logins)
        print(f"| {bound} | {r['burst_s']:.1f} s | {r['reads']:.0f} | {r['p50']:.0f} ms | {r['p95']:.0f} ms | "
              f"{r['max']:.0f} ms | {r['idle_p50']:.1f} ms |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--logins", type=int, default=40)
    p.add_argument("--bounds", type=lambda s: [int(x) for x in s.split(",")], default=[40, 1])
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
