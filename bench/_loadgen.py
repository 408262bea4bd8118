"""Fallback load generator for single_send.py when `wrk` is not installed.

An asyncio httpx client with keep-alive and N concurrent connections, run as
its own process so that it does not share a core's event loop with the
server.  Sends POST /api/messages/send with a different body every time and
prints "RESULT name value" lines like bench/single_send.lua.  It is much
slower per request than wrk; on a 2-core machine it may be the bottleneck.

    python bench/_loadgen.py URL KEY --duration 10 --concurrency 32 --nonce abc
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentile  # noqa: E402


async def worker(client: httpx.AsyncClient, wid: int, nonce: str, deadline: float, lat: list[float],
                 statuses: Counter, errors: Counter) -> None:
    counter = 0
    while time.perf_counter() < deadline:
        counter += 1
        suffix = (wid * 300_000 + counter) % 10_000_000
        if 1 <= suffix % 10_000 <= 5:
            suffix += 10
        body = (
            '{"channels":["sms"],"phone":{"number":%d},"sms":{"sender":"relaybox","text":"Your code is %d (%s-%d)"}}'
            % (380_970_000_000 + suffix, counter, nonce, wid)
        ).encode()
        started = time.perf_counter()
        try:
            response = await client.post("/api/messages/send", content=body)
        except httpx.HTTPError as exc:
            errors[type(exc).__name__] += 1
            continue
        lat.append(time.perf_counter() - started)
        statuses[response.status_code] += 1


async def run(args: argparse.Namespace) -> None:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    headers = {"X-API-KEY": args.key, "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=args.url, headers=headers, limits=limits, timeout=30) as client:
        lat: list[float] = []
        statuses: Counter = Counter()
        errors: Counter = Counter()
        started = time.perf_counter()
        deadline = started + args.duration
        await asyncio.gather(*(worker(client, i + 1, args.nonce, deadline, lat, statuses, errors)
                               for i in range(args.concurrency)))
        elapsed = time.perf_counter() - started
    ms = [v * 1000 for v in lat]
    print(f"RESULT requests {len(lat)}")
    print(f"RESULT duration_s {elapsed:.6f}")
    print(f"RESULT rps {len(lat) / elapsed:.2f}")
    for p in (50, 90, 95, 99, 99.9):
        print(f"RESULT p{p:g}_ms {percentile(ms, p):.3f}")
    print(f"RESULT mean_ms {sum(ms) / max(len(ms), 1):.3f}")
    print(f"RESULT max_ms {max(ms, default=0):.3f}")
    print(f"RESULT non200 {sum(n for code, n in statuses.items() if code != 200)}")
    for code, n in statuses.items():
        if code != 200:
            print(f"RESULT status_{code} {n}")
    print(f"RESULT socket_errors {sum(errors.values())}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("key")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--nonce", default=str(time.time()))
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(run(args))
    else:
        uvloop.run(run(args))


if __name__ == "__main__":
    main()
