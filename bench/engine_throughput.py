"""How fast the engine takes a 10,000-message campaign to final statuses.

Target (2-core machine, SQLite): <= 3 s with `--sim-speed 0`.

A fresh server runs with the engine and the simulator at full speed.  Each run
sends a campaign of 10,000 distinct phones (none with a magic ending, so all
are delivered), then polls GET /api/campaigns/{id}/detail every 20 ms until the
campaign's status is `done`, and prints the time from the send response to
`done` and the resulting messages per second.  Runs are sequential on the same
server (the second and later runs see a database that already holds the
earlier campaigns).

    .venv/bin/python bench/engine_throughput.py
    .venv/bin/python bench/engine_throughput.py --phones 10000 --runs 3
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

TARGET_S = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--poll", type=float, default=0.020, help="seconds between detail polls (default 0.02)")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up on a run after this many seconds")
    parser.add_argument("--sim-speed", type=float, default=0.0)
    parser.add_argument("--balance", default="100000")
    parser.add_argument("--max-wait", type=float, default=600,
                        help="wait up to this many seconds for other processes to go quiet first (0: don't)")
    parser.add_argument("--profile", help="write a py-spy profile of the server (e.g. /tmp/engine.svg)")
    args = parser.parse_args()

    header(f"engine throughput: {args.phones} messages to final statuses, --sim-speed {args.sim_speed:g}, "
           f"target <= {TARGET_S:g} s")
    durations: list[float] = []
    with fresh_server("--sim-speed", str(args.sim_speed)) as server:
        key = server.create_account(balance=args.balance)
        with server.client(headers={"X-API-KEY": key, "Content-Type": "application/json"}) as client:
            client.get("/api/campaigns/0/detail")  # warm the key cache and the connection
            with maybe_profile(server, args.profile):
                for run in range(args.runs):
                    phones = [{"number": n} for n in ua_phones(args.phones, start=run * args.phones)]
                    body = orjson.dumps({"sender": "relaybox", "text": f"Engine run {run} at {time.time():.6f}",
                                         "phones": phones})
                    wait_quiet(max_wait=args.max_wait)
                    cpu = CpuWatch().__enter__()
                    t0 = time.perf_counter()
                    sent = client.post("/api/campaigns/sms/send", content=body)
                    t_sent = time.perf_counter()
                    if sent.status_code != 200:
                        print(f"run {run + 1}: send failed: HTTP {sent.status_code} {sent.text[:300]}")
                        continue
                    campaign_id = sent.json()["data"]["id"]
                    detail, polls = None, 0
                    while time.perf_counter() - t_sent < args.timeout:
                        detail = client.get(f"/api/campaigns/{campaign_id}/detail").json()["data"]
                        polls += 1
                        if detail["status"] == "done":
                            break
                        time.sleep(args.poll)
                    t_done = time.perf_counter()
                    cpu.__exit__(None, None, None)
                    if not detail or detail["status"] != "done":
                        print(f"run {run + 1}: not done after {args.timeout:g} s: {detail}")
                        continue
                    took = t_done - t_sent
                    durations.append(took)
                    stats = {k: v for k, v in detail["statistics"].items() if v} if isinstance(detail.get("statistics"), dict) \
                        else detail.get("statistics")
                    print(f"run {run + 1}: send answered in {(t_sent - t0) * 1000:6.0f} ms; done {took:6.3f} s after the "
                          f"answer ({args.phones / took:,.0f} msgs/s, {polls} polls); campaign {campaign_id}: {stats}\n"
                          f"       {cpu.describe()}")

    if durations:
        med = statistics.median(durations)
        verdict = "PASS" if max(durations) <= TARGET_S else ("PASS (median)" if med <= TARGET_S else "MISS")
        print(f"\nsummary: n={len(durations)}  min={min(durations):.3f} s  median={med:.3f} s  max={max(durations):.3f} s  "
              f"throughput={args.phones / med:,.0f} msgs/s (median)  [target <= {TARGET_S:g} s: {verdict}]")


if __name__ == "__main__":
    main()
