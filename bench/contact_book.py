"""The contact book at 100,000 contacts: the CSV import, and the list endpoints whose counts are exact.

Starts a fresh server (`--no-engine`, SQLite), creates an account with two custom fields, writes a
CSV of `--rows` contacts (phone, name, age) and times `relaybox contacts import` of it into one
list, then of the same file again (the idempotent re-run), puts `--stoplisted` of them on the SMS
stop list, and times sequential requests, each `--requests` times:

- `GET /api/groups` (every list with `items` and `stop_list_count`, counted exactly),
- `GET /api/groups/{id}` of the 100,000-contact list,
- `GET /api/contacts?page[limit]=50` (the total counts the whole book),
- `GET /api/contacts?groups[]={id}` (the total counts the list's members),
- `GET /api/stoplist?type=sms`,
- `GET /api/contacts/search` on the number field (`age >= 89`).

    .venv/bin/python bench/contact_book.py
    .venv/bin/python bench/contact_book.py --rows 100000 --requests 20
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import format_summary, fresh_server, header, run_cli, ua_phones  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--stoplisted", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    header(f"contact book: import of {args.rows:,} rows, list endpoints at {args.rows:,} contacts")
    with fresh_server("--no-engine") as server:
        out = server.cli("account", "create", "--name", "bench", "--balance", "1")
        account_id = int(out.split("account ", 1)[1].split()[0])
        key = out.strip().splitlines()[-1]
        with server.client(headers={"X-API-KEY": key}) as client:
            for name, kind in (("name", "text"), ("age", "number")):
                client.post("/api/contacts/fields", json={"name": name, "type": kind}).raise_for_status()
            csv_path = server.workdir / "contacts.csv"
            phones = ua_phones(args.rows)
            with csv_path.open("w") as f:
                f.write("phone,name,age\n")
                f.writelines(f"{p},Name {i},{i % 90}\n" for i, p in enumerate(phones))
            for label in ("import", "re-run (nothing new)"):
                started = time.perf_counter()
                run_cli(server.database_url, "contacts", "import", str(csv_path), "--account", str(account_id),
                        "--list", "Bench list", cwd=server.workdir)
                took = time.perf_counter() - started
                print(f"{label}: {args.rows:,} rows in {took:.1f} s ({args.rows / took:,.0f} rows/s)")
            lists = client.get("/api/groups").json()["data"]
            big = next(g for g in lists if g["name"] == "Bench list")
            for start in range(0, args.stoplisted, 1000):
                client.post("/api/stoplist/attach", json={
                    "phones": phones[start:min(start + 1000, args.stoplisted)], "types": ["sms"]}).raise_for_status()
            checks = {
                "GET /api/groups": "/api/groups",
                "GET /api/groups/{id}": f"/api/groups/{big['id']}",
                "GET /api/contacts": "/api/contacts?page[limit]=50",
                "GET /api/contacts?groups[]": f"/api/contacts?groups[]={big['id']}&page[limit]=50",
                "GET /api/stoplist?type=sms": "/api/stoplist?type=sms&page[limit]=50",
                "GET /api/contacts/search age>=89": "/api/contacts/search?search[field]=2&search[operator]=>="
                                                    "&search[value]=89&page[limit]=50",
            }
            group = client.get(f"/api/groups/{big['id']}").json()["data"]
            print(f"list {big['id']}: items {group['items']:,}, stop_list_count {group['stop_list_count']:,}")
            for name, path in checks.items():
                latencies = []
                for _ in range(args.requests):
                    started = time.perf_counter()
                    r = client.get(path)
                    latencies.append(time.perf_counter() - started)
                    r.raise_for_status()
                print(format_summary(name, latencies))


if __name__ == "__main__":
    main()
