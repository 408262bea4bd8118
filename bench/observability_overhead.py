"""CPU cost per request of the observability layer (observability/http.py: request id + latency
histogram), measured in-process so that a busy machine does not blur it.

An ASGI app that answers at once is called N times bare and N times wrapped in `Observed`; the
difference of CPU time (process_time) per call is the layer's cost. Run it in both metric modes:

    .venv/bin/python bench/observability_overhead.py               # single-process registry
    .venv/bin/python bench/observability_overhead.py --multiprocess  # prometheus-client multiprocess files

Complements `bench/single_send.py --mode no-engine`, whose figures on a shared machine vary more
than this cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--multiprocess", action="store_true")
    args = parser.parse_args()
    if args.multiprocess:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="relaybox-bench-metrics-")
    from relaybox.observability.http import Observed
    from relaybox.observability.metrics import instruments

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})

    observed = Observed(app, instruments())
    scope = {"type": "http", "method": "POST", "path": "/api/messages/send",
             "headers": [(b"host", b"x"), (b"x-api-key", b"live_" + b"a" * 32), (b"content-type", b"application/json")]}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        return None

    async def run(target, n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            await target(scope, receive, send)
        return time.process_time() - started

    async def measure() -> tuple[float, float]:
        await run(app, 10_000)
        await run(observed, 10_000)
        bare = min([await run(app, args.requests) for _ in range(3)])
        wrapped = min([await run(observed, args.requests) for _ in range(3)])
        return bare, wrapped

    bare, wrapped = asyncio.run(measure())
    mode = "multiprocess" if args.multiprocess else "single-process"
    print(f"mode: {mode}; {args.requests} calls, best of 3")
    print(f"bare app: {bare / args.requests * 1e6:.2f} µs/call; with Observed: {wrapped / args.requests * 1e6:.2f} µs/call")
    print(f"RESULT overhead_us {(wrapped - bare) / args.requests * 1e6:.2f}")


if __name__ == "__main__":
    main()
