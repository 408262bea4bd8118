"""Throughput of POST /api/messages/send against one server process.

Target (2-core machine, SQLite): >= 1,000 requests/s, with no non-200 answers.

A fresh server (`relaybox serve`, engine enabled by default, or `--no-engine`)
gets ~10 s of closed-loop load from a separate process: `wrk` with
bench/single_send.lua when it is installed (`apt-get install wrk`), otherwise
bench/_loadgen.py (asyncio + httpx, keep-alive).  Every request body differs
(phone and text), since an identical body within 10 s is refused with 429.
The account is a live one with a large balance (so each send reserves money),
or a `test_` key with `--test-key` (never charged).

    .venv/bin/python bench/single_send.py
    .venv/bin/python bench/single_send.py --connections 64 --duration 10 --mode both
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DIR, CpuWatch, Server, fresh_server, header, maybe_profile, wait_quiet  # noqa: E402

TARGET_RPS = 1000.0


def load(server: Server, key: str, args: argparse.Namespace, connections: int, duration: float, nonce: str) -> dict:
    if args.client == "wrk":
        cmd = ["wrk", f"-t{args.threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s",
               "-s", str(BENCH_DIR / "single_send.lua"), server.base_url, "--", key, nonce]
    else:
        cmd = [sys.executable, str(BENCH_DIR / "_loadgen.py"), server.base_url, key, "--duration", str(duration),
               "--concurrency", str(connections), "--nonce", nonce]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    result: dict = {}
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            _, name, value = line.split()
            result[name] = float(value)
    if not result:
        raise RuntimeError(f"load generator failed:\n{out.stdout}\n{out.stderr}")
    return result


def stored_messages(server: Server) -> int:
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM messages WHERE campaign_id IS NULL").fetchone()[0]


def run(mode: str, args: argparse.Namespace) -> list[tuple[int, dict]]:
    extra = ["--no-engine"] if mode == "no-engine" else ["--sim-speed", str(args.sim_speed)]
    results = []
    with fresh_server(*extra) as server:
        key = server.create_account(balance=args.balance, api_key=("test_" + "Bench" * 6) if args.test_key else None)
        # warm-up: the key cache, the price book path, the first connections
        with httpx.Client(base_url=server.base_url, headers={"X-API-KEY": key}) as client:
            for i in range(50):
                r = client.post("/api/messages/send", json={"channels": ["sms"], "phone": {"number": 380971110000 + i * 10},
                                                             "sms": {"sender": "relaybox", "text": f"warm-up {i} {time.time()}"}})
                if r.status_code != 200:
                    raise RuntimeError(f"warm-up send failed: {r.status_code} {r.text[:300]}")
        for connections in args.connections:
            before = stored_messages(server)
            profile = None
            if args.profile:
                stem, ext = args.profile.rsplit(".", 1)
                profile = f"{stem}-{mode}-c{connections}.{ext}"
            wait_quiet(max_wait=args.max_wait)
            with maybe_profile(server, profile), CpuWatch(server.pid) as cpu:
                r = load(server, key, args, connections, args.duration, nonce=f"{mode}{connections}t{int(time.time())}")
            r["stored"] = stored_messages(server) - before
            results.append((connections, r))
            statuses = ", ".join(f"{k.removeprefix('status_')}: {int(v)}" for k, v in r.items() if k.startswith("status_"))
            verdict = "PASS" if r["rps"] >= TARGET_RPS and r["non200"] == 0 and r["socket_errors"] == 0 else "MISS"
            print(f"  {connections:>3} connections: {r['rps']:8.1f} req/s  ({int(r['requests'])} requests in "
                  f"{r['duration_s']:.1f} s, {int(r['stored'])} messages stored)\n"
                  f"      latency p50={r['p50_ms']:.2f}  p90={r['p90_ms']:.2f}  p95={r['p95_ms']:.2f}  "
                  f"p99={r['p99_ms']:.2f}  max={r['max_ms']:.2f} ms\n"
                  f"      non-200 responses: {int(r['non200'])}{f' ({statuses})' if statuses else ''}; "
                  f"socket errors: {int(r['socket_errors'])}   [target >= {TARGET_RPS:g} req/s, 0 non-200: {verdict}]\n"
                  f"      {cpu.describe()}\n"
                  f"      API process: {cpu.process / r['duration_s']:.2f} cores, "
                  f"{cpu.process / max(r['requests'], 1) * 1e6:.0f} µs of CPU per request")
            time.sleep(1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: the server needs the other core)")
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--mode", choices=("both", "engine", "no-engine"), default="both")
    parser.add_argument("--sim-speed", type=float, default=1.0)
    parser.add_argument("--balance", default="10000000")
    parser.add_argument("--test-key", action="store_true", help="use a test_ key (never charged)")
    parser.add_argument("--max-wait", type=float, default=600,
                        help="wait up to this many seconds for other processes to go quiet first (0: don't)")
    parser.add_argument("--profile", help="write a py-spy profile of the server per run (e.g. /tmp/single.svg)")
    args = parser.parse_args()
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "httpx"

    header(f"single send: POST /api/messages/send, {args.duration:g} s per run, load generator {args.client}, "
           f"target >= {TARGET_RPS:g} req/s")
    modes = ("engine", "no-engine") if args.mode == "both" else (args.mode,)
    for mode in modes:
        label = "engine disabled (--no-engine)" if mode == "no-engine" else f"engine enabled (--sim-speed {args.sim_speed:g})"
        print(f"\n{label}, {'test' if args.test_key else 'live'} key:")
        run(mode, args)


if __name__ == "__main__":
    main()
