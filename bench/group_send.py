"""Latency of POST /api/campaigns/sms/send-groups to one list of 100,000 contacts, with a
placeholder filled in per contact, and of POST /api/campaigns/price for the same list.

A fresh server (`--no-engine` by default, so that only the acceptance is measured) on a new SQLite
file; the contact book (a `name` field, one list of `--contacts` contacts with a name each, and
`--stop-listed` of them on the SMS stop list) is written straight into the database with sqlite3
before the measurement.  Each send has a different text (no 429 for a repeated body).

    .venv/bin/python bench/group_send.py
    .venv/bin/python bench/group_send.py --contacts 100000 --repeat 3 --mode engine
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CpuWatch, fresh_server, header, ua_phones, wait_quiet  # noqa: E402

NAMES = ["Olena", "Bob", "Іван", "Maria", "Jean-Pierre", "Zoë", "Ahmed", "Li"]


def seed(database_path: str, key_prefix: str, contacts: int, stop_listed: int) -> int:
    """The book of the account whose key starts with `key_prefix`: the list's id."""
    now = "2026-11-30 00:00:00.000000"
    with sqlite3.connect(database_path) as db:
        account_id = db.execute("SELECT account_id FROM api_keys WHERE prefix = ?", (key_prefix,)).fetchone()[0]
        field_id = db.execute("INSERT INTO contact_fields (account_id, name, type, is_visible, created_at) "
                              "VALUES (?, 'name', 'text', 1, ?) RETURNING id", (account_id, now)).fetchone()[0]
        group_id = db.execute("INSERT INTO contact_groups (account_id, name, is_default, created_at) "
                              "VALUES (?, 'bench', 0, ?) RETURNING id", (account_id, now)).fetchone()[0]
        phones = ua_phones(contacts)
        db.executemany(
            "INSERT INTO contacts (account_id, phone, created_at, updated_at, hlr_status, sms_stoplist, "
            "viber_stoplist, rcs_stoplist, whatsapp_stoplist) VALUES (?, ?, ?, ?, 'unknown', ?, 0, 0, 0)",
            [(account_id, p, now, now, 1 if i < stop_listed else 0) for i, p in enumerate(phones)],
        )
        ids = [r[0] for r in db.execute("SELECT id FROM contacts WHERE account_id = ? ORDER BY id", (account_id,))]
        db.executemany("INSERT INTO contact_group_members (group_id, contact_id, created_at) VALUES (?, ?, ?)",
                       [(group_id, i, now) for i in ids])
        db.executemany("INSERT INTO contact_field_values (contact_id, field_id, value) VALUES (?, ?, ?)",
                       [(i, field_id, NAMES[n % len(NAMES)]) for n, i in enumerate(ids)])
    return group_id


def run(mode: str, args: argparse.Namespace) -> dict[str, list[float]]:
    extra = ["--no-engine"] if mode == "no-engine" else ["--sim-speed", str(args.sim_speed)]
    found: dict[str, list[float]] = {"price": [], "send": []}
    with fresh_server(*extra) as server:
        key = server.create_account(balance=args.balance)
        started = time.perf_counter()
        group = seed(server.database_url.removeprefix("sqlite:///"), key[:12], args.contacts, args.stop_listed)
        print(f"  seeded {args.contacts:,} contacts in {time.perf_counter() - started:.1f} s")
        headers = {"X-API-KEY": key, "Content-Type": "application/json"}
        with server.client(headers=headers, timeout=600) as client:
            wait_quiet(max_wait=args.max_wait)
            with CpuWatch(server.pid) as cpu:
                for i in range(args.repeat):
                    text = f"Hi {{name}}, campaign {i} at {time.time():.6f}: your order has shipped."
                    body = {"groups": [group], "sender": "relaybox", "text": text}
                    t0 = time.perf_counter()
                    price = client.post("/api/campaigns/price", content=orjson.dumps(body))
                    t1 = time.perf_counter()
                    sent = client.post("/api/campaigns/sms/send-groups", content=orjson.dumps(body))
                    t2 = time.perf_counter()
                    if price.status_code != 200 or sent.status_code != 200:
                        print(f"  {i + 1}: HTTP {price.status_code}/{sent.status_code} {sent.text[:300]}")
                        continue
                    found["price"].append(t1 - t0)
                    found["send"].append(t2 - t1)
                    data = sent.json()["data"]
                    skipped = len(sent.json().get("skipped", {}))
                    print(f"  {i + 1}: price {1000 * (t1 - t0):8.1f} ms, send {1000 * (t2 - t1):8.1f} ms "
                          f"(campaign {data['id']}, {data['calculated_price']} {data['currency']}, "
                          f"{skipped} stop-listed skipped; price said {price.json()['price']})")
            print(f"  {cpu.describe()}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--stop-listed", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=("no-engine", "engine"), default="no-engine")
    parser.add_argument("--sim-speed", type=float, default=1.0)
    parser.add_argument("--balance", default="1000000")
    parser.add_argument("--max-wait", type=float, default=60)
    args = parser.parse_args()
    header(f"send to a list: POST /api/campaigns/sms/send-groups, {args.contacts:,} contacts, one placeholder")
    found = run(args.mode, args)
    for name, values in found.items():
        if values:
            print(f"  {name:<6} n={len(values)} min={min(values):.2f} s median={statistics.median(values):.2f} s "
                  f"max={max(values):.2f} s")


if __name__ == "__main__":
    main()
