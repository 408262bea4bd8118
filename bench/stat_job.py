"""A statistics job while the server sends: does the export slow the sends down?

Default deployment (`relaybox serve`: SQLite, the engine in a child process, simulator at full
speed). Seeds `--seed-messages` messages through the API (10,000-phone campaigns), waits until
they are final, then measures, `--repeat` times each and alternating, a 10,000-phone campaign:
the send's answer time and the time until the engine has made every message final —
without a job, and with a statistics job over every seeded message running in the engine.
Prints medians, and how long the job took (rows/s).

    .venv/bin/python bench/stat_job.py --seed-messages 200000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_server, machine, ua_phones  # noqa: E402


def send(client, phones, text) -> tuple[float, int]:
    t = time.perf_counter()
    r = client.post("/api/campaigns/sms/send", json={"sender": "bench", "text": text,
                                                      "phones": [{"number": p} for p in phones]})
    r.raise_for_status()
    return time.perf_counter() - t, r.json()["data"]["id"]


def wait_done(client, campaign_id, timeout=600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get(f"/api/campaigns/{campaign_id}").json()["data"]["status"] == "done":
            return
        time.sleep(0.05)
    raise RuntimeError(f"campaign {campaign_id} not done")


def job_status(client, key) -> str:
    for job in client.get("/api/stat/jobs").json()["result"]:
        if job["key"] == key:
            return job["status"]
    return "gone"


def verify(client, body, expected: int) -> None:
    """A job over the seeded range, its CSV against GET /api/messages (same range, sort id), row by row."""
    import csv
    import io

    key = client.post("/api/stat/jobs", json=body).json()["key"]
    while job_status(client, key) != "Done":
        time.sleep(0.2)
    text = client.get(f"/api/x-relaybox/stat/jobs/{key}/csv").text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    listed, offset = [], 0
    params = {"filter[from]": body["time_in_from"], "filter[to]": body["time_in_to"], "sort": "id", "page[limit]": 500}
    while True:
        page = client.get("/api/messages", params={**params, "page[offset]": offset}).json()
        listed += page["data"]
        offset += 500
        if offset >= page["meta"]["page"]["total"]:
            break
    mismatches = sum(
        1 for r, m in zip(rows, listed)
        if (int(r["message_id"]), int(r["msisdn"]), r["status"].lower(), r["price"], r["time_in"],
            r["time_sent"] or None, r["time_dlr"] or None, r["body"], r["originator"])
        != (m["id"], m["phone"], m["status"], m["amount"]["value"], m["created_at"], m["sent_at"],
            m["delivered_at"], m["text"], m["sender"])
    )
    print(f"verify: job CSV {len(rows):,} rows, messages list {len(listed):,} messages, "
          f"{mismatches} rows differ (expected {expected:,} of each)")
    client.delete(f"/api/stat/jobs/{key}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed-messages", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--verify", action="store_true",
                    help="also check a job's CSV over every seeded message against the messages list, row for row")
    args = ap.parse_args()
    print(f"# bench/stat_job.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    with fresh_server("--sim-speed", "0") as server:
        key = server.create_account(balance="10000000")
        with server.client(headers={"X-API-KEY": key}) as client:
            start = datetime.now(UTC) - timedelta(minutes=1)
            t = time.perf_counter()
            last = None
            for i in range(args.seed_messages // 10_000):
                _, last = send(client, ua_phones(10_000, start=i * 10_000), f"seed {i}")
            wait_done(client, last)
            print(f"seeded {args.seed_messages:,} messages in {time.perf_counter() - t:.0f} s")
            body = {"type": "params", "time_in_from": start.isoformat(),
                    "time_in_to": (datetime.now(UTC) + timedelta(seconds=1)).isoformat()}
            results = {"without a job": [], "with a job running": []}
            n = args.seed_messages
            for round_ in range(args.repeat):
                for label in results:
                    job = None
                    if label == "with a job running":
                        job = client.post("/api/stat/jobs", json=body).json()["key"]
                        while job_status(client, job) == "Pending":
                            time.sleep(0.05)
                        job_started = time.perf_counter()
                    phones = ua_phones(10_000, start=n)
                    n += 10_000
                    t0 = time.perf_counter()
                    answer, cid = send(client, phones, f"measure {round_} {label}")
                    wait_done(client, cid)
                    to_final = time.perf_counter() - t0
                    running = job_status(client, job) if job else None
                    results[label].append((answer, to_final))
                    print(f"  round {round_} {label}: answered {answer * 1000:.0f} ms, all final after {to_final:.2f} s")
                    if job:
                        while job_status(client, job) != "Done":
                            time.sleep(0.1)
                        took = time.perf_counter() - job_started
                        rows = [j for j in client.get("/api/stat/jobs").json()["result"] if j["key"] == job][0]["rows"]
                        print(f"  round {round_}: job of {rows:,} rows took {took:.1f} s ({rows / took:,.0f} rows/s); "
                              f"it was {running} when the campaign was final")
                        client.delete(f"/api/stat/jobs/{job}")
            if args.verify:
                verify(client, body, args.seed_messages)
    for label, values in results.items():
        if not values:
            continue
        print(f"{label:20s} median: send answered in {statistics.median(v[0] for v in values) * 1000:.0f} ms, "
              f"all 10,000 final after {statistics.median(v[1] for v in values):.2f} s")


if __name__ == "__main__":
    main()
