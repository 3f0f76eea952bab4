"""A login flood as its own process: `python -m tests.api.flood URL ATTACKERS SECONDS`.

A wave of ATTACKERS concurrent bad logins (unknown users and wrong passwords, one client per attacker,
Retry-After ignored) every WAVE_S seconds for SECONDS, whether the earlier waves were answered or not.
(Flooding with as many cheap requests as the network carries is for the reverse proxy to limit, not the
app: see docs/deploy.md.) Prints one JSON line:
{"statuses": {status: count}, "started": t, "ended": t} with time.monotonic() stamps (system-wide clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import sys
import time
from collections import Counter

import httpx

ACCOUNT = "inspector@example.com"
WAVE_S = 1.0
# Shorter than uvicorn's keep-alive (5 s): a connection it closes while idle is not used again.
KEEP_ALIVE = httpx.Limits(keepalive_expiry=2.0)


async def flood(url: str, attackers: int, seconds: float) -> dict[str, object]:
    statuses: Counter[int] = Counter()
    tls = ssl.create_default_context()  # plain http, but httpx would build (slowly) one per client
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=60, verify=tls, limits=KEEP_ALIVE)
            )
            for _ in range(attackers)
        ]
        started = time.monotonic()
        deadline = started + seconds

        async def attack(i: int, wave: int, client: httpx.AsyncClient) -> None:
            email = f"nobody{i}-{wave}@example.com" if i % 2 else ACCOUNT
            response = await client.post("/api/auth/token", data={"username": email, "password": "bad"})
            statuses[response.status_code] += 1

        tasks: list[asyncio.Task[None]] = []
        wave = 0
        while time.monotonic() < deadline:
            tasks += [asyncio.create_task(attack(i, wave, c)) for i, c in enumerate(clients)]
            wave += 1
            await asyncio.sleep(max(0.0, started + wave * WAVE_S - time.monotonic()))
        # Bounded: against a starved server (logins queued behind 100 hashes) this fails, not hangs.
        await asyncio.wait_for(asyncio.gather(*tasks), 90)
        return {"statuses": statuses, "waves": wave, "started": started, "ended": time.monotonic()}


if __name__ == "__main__":
    url, attackers, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(asyncio.run(flood(url, attackers, seconds))))
