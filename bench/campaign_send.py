"""Latency of POST /api/campaigns/sms/send with 10,000 phones.

Target (2-core machine, SQLite): answered in <= 1.0 s.

Runs against a fresh server with the engine disabled (`--no-engine`) and then
enabled (the default `relaybox serve`), sending the campaign `--repeat` times
to each and printing min/median/max.  Each send has a different text, so no
body repeats within the 10 s duplicate window.  A small warm-up send first
fills the server's key cache and opens the keep-alive connection.

    .venv/bin/python bench/campaign_send.py
    .venv/bin/python bench/campaign_send.py --phones 10000 --repeat 5 --mode no-engine
    .venv/bin/python bench/campaign_send.py --mode no-engine --add-to-contact-book
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CpuWatch, fresh_server, header, maybe_profile, ua_phones, wait_quiet  # noqa: E402

TARGET_S = 1.0


def run(mode: str, args: argparse.Namespace) -> list[float]:
    extra = ["--no-engine"] if mode == "no-engine" else ["--sim-speed", str(args.sim_speed)]
    latencies: list[float] = []
    with fresh_server(*extra) as server:
        key = server.create_account(balance=args.balance)
        headers = {"X-API-KEY": key, "Content-Type": "application/json"}
        phones = [{"number": n} for n in ua_phones(args.phones)]
        with server.client(headers=headers) as client:
            warm = client.post(
                "/api/campaigns/sms/send",
                content=orjson.dumps({"sender": "relaybox", "text": f"warm-up {time.time()}", "phones": phones[:10]}),
            )
            if warm.status_code != 200:
                print(f"warm-up send failed: {warm.status_code} {warm.text[:300]}")
                return []
            profile = f"{args.profile.rsplit('.', 1)[0]}-{mode}.{args.profile.rsplit('.', 1)[1]}" if args.profile else None
            wait_quiet(max_wait=args.max_wait)
            with maybe_profile(server, profile), CpuWatch() as cpu:
                for i in range(args.repeat):
                    extra = {}
                    if args.add_to_contact_book:  # the worst case: every send's 10,000 phones are new to the book
                        extra = {"add_to_contact_book": True}
                        phones = [{"number": n} for n in ua_phones(args.phones, start=(i + 1) * args.phones)]
                    body = orjson.dumps(
                        {"sender": "relaybox", "text": f"Campaign {i} at {time.time():.6f}: your order has shipped.",
                         "phones": phones, **extra}
                    )
                    started = time.perf_counter()
                    response = client.post("/api/campaigns/sms/send", content=body)
                    elapsed = time.perf_counter() - started
                    if response.status_code != 200:
                        print(f"  send {i + 1}: HTTP {response.status_code} {response.text[:300]}")
                        continue
                    data = response.json()["data"]
                    latencies.append(elapsed)
                    print(f"  send {i + 1}: {elapsed * 1000:8.1f} ms  (campaign {data['id']}, status {data['status']}, "
                          f"{len(body) / 1e6:.2f} MB body)")
                    if args.pause:
                        time.sleep(args.pause)
            print(f"  {cpu.describe()}")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mode", choices=("both", "no-engine", "engine"), default="both")
    parser.add_argument("--sim-speed", type=float, default=1.0, help="simulator speed when the engine runs (default 1)")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between sends (default 0: back to back)")
    parser.add_argument("--balance", default="100000")
    parser.add_argument("--max-wait", type=float, default=600,
                        help="wait up to this many seconds for other processes to go quiet first (0: don't)")
    parser.add_argument("--add-to-contact-book", action="store_true",
                        help="send add_to_contact_book: true, each send to 10,000 phones new to the contact book")
    parser.add_argument("--profile", help="write a py-spy profile of the server per mode (e.g. /tmp/send.svg)")
    args = parser.parse_args()

    header(f"campaign send: POST /api/campaigns/sms/send with {args.phones} phones, target <= {TARGET_S:g} s")
    modes = ("no-engine", "engine") if args.mode == "both" else (args.mode,)
    results = {}
    for mode in modes:
        label = "engine disabled (--no-engine)" if mode == "no-engine" else f"engine enabled (--sim-speed {args.sim_speed:g})"
        print(f"\n{label}:")
        results[mode] = run(mode, args)

    print("\nsummary:")
    for mode, lat in results.items():
        if not lat:
            print(f"  {mode:<10} no successful sends")
            continue
        med = statistics.median(lat)
        verdict = "PASS" if max(lat) <= TARGET_S else ("PASS (median)" if med <= TARGET_S else "MISS")
        print(f"  {mode:<10} n={len(lat)}  min={min(lat) * 1000:7.1f} ms  median={med * 1000:7.1f} ms  "
              f"max={max(lat) * 1000:7.1f} ms  rate={args.phones / med:,.0f} phones/s (median)  "
              f"[target <= {TARGET_S * 1000:.0f} ms: {verdict}]")


if __name__ == "__main__":
    main()
