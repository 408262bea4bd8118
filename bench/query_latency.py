"""Read latency at 1,000,000 stored messages: GET /api/messages and campaign detail.

Targets (2-core machine, SQLite):
  * GET /api/messages (page[limit]=500, a filter[from]/filter[to] range, sort=id,
    random page[offset] 0-5000): p95 <= 50 ms
  * GET /api/campaigns/{id}/detail of a 100,000-message campaign: p95 <= 10 ms

The database is filled directly (not through the API) and kept in
bench/.cache/ so that reruns start at once (it is rebuilt when the schema, the
migrations or the store's insert code change): relaybox's own `open_platform`
migrates and seeds it, `create_account` adds the account, then campaigns and
messages are inserted in creation order, in batches of 20,000, through the
store's own insert functions (SQLAlchemy Core on the real tables of
store/tables.py, so whatever the store keeps beside the rows stays exact).  The data: one account; one campaign of 100,000 messages
(all final, per-status counters consistent); the rest spread over ~800
campaigns of 1-10,000 messages plus single messages (5%), over 80 days of
created_at; statuses mostly final (the last day has some `sent`).  Message
indexes are dropped during the load and recreated from the migration's own DDL.
No ANALYZE is run, since relaybox does not run one either.

The server is started with `--no-engine` on that file; requests are sent one
at a time over a keep-alive connection and timed at the client.

    .venv/bin/python bench/query_latency.py
    .venv/bin/python bench/query_latency.py --messages 200000 --list-requests 300
    .venv/bin/python bench/query_latency.py --rebuild        # refill the cached database
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CACHE_DIR, CpuWatch, format_summary, header, maybe_profile, server_on, sqlite_url, wait_quiet  # noqa: E402

#: Bump when the generated data changes shape, so cached databases are rebuilt.
GENERATOR_VERSION = 2

LIST_TARGET_MS = 50.0
DETAIL_TARGET_MS = 10.0
BIG_CAMPAIGN = 100_000
DAYS = 80
SINGLE_SHARE = 0.05

FINAL_WEIGHTS = {"delivered": 0.90, "undelivered": 0.04, "expired": 0.02, "failed": 0.02, "unknown": 0.02}
REPORTED = {"delivered", "undelivered", "expired", "unknown"}
FINAL = {"delivered", "read", "expired", "failed", "undelivered", "unknown", "not_service_user"}
TEXTS = [
    "Your order #{n} has shipped and will arrive tomorrow.",
    "Black Friday: -30% on everything until Sunday! Reply STOP to opt out.",
    "Нагадування: ваш запис до лікаря завтра о 10:00.",
    "Your verification code is {n}. Do not share it with anyone.",
    "Dear customer, your balance is low. Top up now to keep your services running without interruption. "
    "Visit our website or call the support line, we are available around the clock every day of the week.",
]


def schema_fingerprint() -> str:
    """Changes when the schema or the store's insert path changes, so a cached database is rebuilt."""
    import hashlib

    import relaybox.store.migrations as migrations
    from relaybox.store import messages as messages_store
    from relaybox.store import tables

    digest = hashlib.sha256(str(GENERATOR_VERSION).encode())
    files = [Path(tables.__file__), Path(messages_store.__file__), Path(__file__)]
    files += sorted((Path(migrations.__file__).parent / "versions").glob("*.py"))
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


# -- filling the database -------------------------------------------------------


def plan(total: int, rng: random.Random, start: datetime, end: datetime) -> list[tuple[datetime, int, bool | None]]:
    """(created_at, size, is_big) for every campaign, and (created_at, 1, None) for single messages."""
    rest = max(total - BIG_CAMPAIGN, 0) if total >= BIG_CAMPAIGN else total
    singles = int(rest * SINGLE_SHARE)
    in_campaigns = rest - singles
    span = (end - start).total_seconds()
    events: list[tuple[datetime, int, bool | None]] = []
    while in_campaigns > 0:
        size = min(in_campaigns, max(1, int(math.exp(rng.uniform(0, math.log(10_000))))))
        events.append((start + timedelta(seconds=rng.uniform(0, span)), size, False))
        in_campaigns -= size
    for _ in range(singles):
        events.append((start + timedelta(seconds=rng.uniform(0, span)), 1, None))
    if total >= BIG_CAMPAIGN:
        events.append((end - timedelta(days=10), BIG_CAMPAIGN, True))
    events.sort(key=lambda e: e[0])
    return events


async def fill(url: str, total: int, seed: int, via_store: bool) -> dict:
    """Migrate and seed with relaybox's own code, then insert campaigns with the store's `insert_campaign`
    and messages with large executemany batches of SQLAlchemy Core on the real `messages` table, plus
    the store's own `record_hours` roll-up when it has one (`via_store`: through the store's
    `insert_messages`, exact whatever it keeps beside the rows, but slow if it inserts row by row)."""
    from sqlalchemy import insert

    from relaybox.api.app import open_platform
    from relaybox.config import Settings
    from relaybox.services.accounts import create_account
    from relaybox.store import campaigns as campaigns_store
    from relaybox.store.rate_limits import set_limits
    from relaybox.store import messages as messages_store
    from relaybox.store.tables import messages

    started = time.perf_counter()
    platform = await open_platform(Settings(database_url=url))
    account_id, key = await create_account(platform, name="bench", currency="EUR", balance=Decimal("100000"))
    async with platform.db.write() as conn:  # limits far above the benchmark's load (bench/_common.py, UNLIMITED)
        await set_limits(conn, account_id, {"rate_requests_per_second": 10_000_000, "rate_requests_burst": 10_000_000})
    tariff = platform.prices.default_tariff
    price = platform.prices.rate(tariff, "UA", "sms", "EUR") or 250_000

    # Building indexes once at the end is much faster than maintaining them row by row;
    # they are recreated from the migration's own DDL.
    async with platform.db.write() as conn:
        indexes = (await conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='messages' AND sql IS NOT NULL"
        )).all()
        for name, _ in indexes:
            await conn.exec_driver_sql(f'DROP INDEX "{name}"')
        counter_columns = [r[1] for r in (await conn.exec_driver_sql("PRAGMA table_info(campaigns)")).all()
                           if r[1].startswith("n_") and r[1] != "n_pending"]

    rng = random.Random(seed)
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=DAYS)
    events = plan(total, rng, start, end)
    recent = end - timedelta(days=1)
    statuses = list(FINAL_WEIGHTS)
    weights = list(FINAL_WEIGHTS.values())

    batch: list[dict] = []
    campaign_rows: list[dict] = []
    message_id = campaign_id = 0
    big_campaign_id = None

    # The store's bookkeeping beside the message rows (the hourly roll-up), when it has one.
    record_hours = getattr(messages_store, "record_hours", None)

    async def flush() -> None:
        async with platform.db.write() as conn:
            for row in campaign_rows:
                await campaigns_store.insert_campaign(conn, row)
            if via_store:
                await messages_store.insert_messages(conn, batch)
            else:
                await conn.execute(insert(messages), batch)
                if record_hours is not None:
                    await record_hours(conn, [(r["account_id"], r["created_at"], r["id"]) for r in batch])
        batch.clear()
        campaign_rows.clear()

    for created, size, kind in events:
        cid = None
        text = rng.choice(TEXTS)
        long_text = len(text) > 160
        if kind is not None:
            campaign_id += 1
            cid = campaign_id
            if kind:
                big_campaign_id = cid
        counts = dict.fromkeys(counter_columns, 0)
        pending = 0
        last_report = created
        sender = "relaybox" if kind is not None else "Verify"
        for _ in range(size):
            message_id += 1
            if created >= recent and not kind and rng.random() < 0.2:
                status = "sent"
            else:
                status = rng.choices(statuses, weights)[0]
            sent_at = delivered_at = None
            if status != "failed":
                sent_at = created + timedelta(seconds=rng.uniform(0.5, 3))
                if status in REPORTED:
                    delivered_at = sent_at + timedelta(seconds=rng.uniform(2, 30))
                    last_report = max(last_report, delivered_at)
            counts[f"n_{status}"] += 1
            pending += status not in FINAL
            batch.append({
                "id": message_id,
                "account_id": account_id,
                "campaign_id": cid,
                "type": "sms",
                "source": "web" if kind is not None or message_id % 2 else "rest",
                "reference_id": f"ref-{message_id}" if kind is None and message_id % 2 else None,
                "phone": 380_970_000_000 + rng.randrange(10_000_000),
                "country": "UA",
                "sender": sender,
                "text": text.replace("{n}", str(message_id % 1_000_000)),
                "encoding": "gsm7" if text.isascii() else "ucs2",
                "parts": 2 if long_text else 1,
                "validity": 72,
                "tariff_code": tariff,
                "price": price * (2 if long_text else 1),
                "currency": "EUR",
                "status": status,
                "is_test": False,
                "created_at": created,
                "due_at": created,
                "expires_at": created + timedelta(hours=72),
                "sent_at": sent_at,
                "delivered_at": delivered_at,
                "connector": "simulator",
                "operator_id": f"sim-{message_id}" if status != "failed" else None,
                "attempts": 1,
                "callback_url": None,
            })
        if cid is not None:
            done = pending == 0
            campaign_rows.append({
                "id": cid, "account_id": account_id, "name": f"SMS {sender} {created:%Y-%m-%d %H:%M:%S}",
                "type": "sms", "source": "web", "sender": sender, "text": text, "validity": 72,
                "tariff_code": tariff, "status": "done" if done else "sending", "is_test": False,
                "start_at": created, "real_start_at": created + timedelta(seconds=0.5),
                "finished_at": last_report if done else None, "created_at": created,
                "total_messages": size, "total_phones": size, "total_price": size * price * (2 if long_text else 1),
                "currency": "EUR", "callback_url": None, **counts, "n_pending": pending,
            })
        if len(batch) >= 20_000:
            await flush()
    if batch or campaign_rows:
        await flush()
    loaded = time.perf_counter()
    async with platform.db.write() as conn:
        for _, ddl in indexes:
            await conn.exec_driver_sql(ddl)
    await platform.db.dispose()
    print(f"filled {message_id:,} messages and {campaign_id:,} campaigns in {loaded - started:.1f} s, "
          f"indexes in {time.perf_counter() - loaded:.1f} s")
    return {
        "messages": message_id,
        "campaigns": campaign_id,
        "account_id": account_id,
        "api_key": key,
        "big_campaign_id": big_campaign_id,
        "data_start": start.replace(tzinfo=None).isoformat(sep=" "),
        "data_end": end.replace(tzinfo=None).isoformat(sep=" "),
    }


def populate(path: Path, total: int, seed: int, via_store: bool) -> dict:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    meta = asyncio.run(fill(sqlite_url(path), total, seed, via_store))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"database {path}: {path.stat().st_size / 1e6:,.0f} MB")
    return meta


def cached_database(total: int, seed: int, rebuild: bool, via_store: bool = False) -> tuple[Path, dict]:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"messages-{total}.db"
    meta_path = CACHE_DIR / f"messages-{total}.json"
    fingerprint = schema_fingerprint()
    if not rebuild and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("fingerprint") == fingerprint and meta.get("seed") == seed:
            print(f"using cached {path} ({meta['messages']:,} messages, built {meta['built_at']})")
            return path, meta
        print(f"the schema or the store's insert code changed since {path} was built: rebuilding it")
    building = CACHE_DIR / f"messages-{total}.building.db"
    meta = populate(building, total, seed, via_store)
    meta.update(fingerprint=fingerprint, seed=seed, built_at=time.strftime("%Y-%m-%d %H:%M:%S"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    building.replace(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    meta_path.write_text(json.dumps(meta, indent=2))
    return path, meta


# -- measuring ------------------------------------------------------------------


def fmt_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def measure(client, label: str, make_params, n: int, warmup: int, target_ms: float | None = None,
            expect_rows: int | None = None, path: str = "/api/messages") -> list[float]:
    for _ in range(warmup):
        client.get(path, params=make_params())
    latencies: list[float] = []
    bad = 0
    short = 0
    totals = set()
    for _ in range(n):
        params = make_params()
        started = time.perf_counter()
        response = client.get(path, params=params)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            bad += 1
            if bad == 1:
                print(f"  {label}: HTTP {response.status_code} {response.text[:300]}")
            continue
        latencies.append(elapsed)
        if expect_rows is not None:
            body = response.json()
            if len(body["data"]) < expect_rows:
                short += 1
            totals.add(body.get("meta", {}).get("page", {}).get("total"))
    if latencies:
        print(format_summary(label, latencies, target_ms))
    extra = []
    if bad:
        extra.append(f"{bad} non-200")
    if short:
        extra.append(f"{short} pages shorter than {expect_rows}")
    if totals - {None}:
        extra.append(f"matching rows: {', '.join(f'{t:,}' for t in sorted(totals - {None}))}")
    if extra:
        print(f"{'':<50}({'; '.join(extra)})")
    return latencies


def check_totals(client, path: Path, meta: dict, range_from: datetime, range_to: datetime) -> None:
    """The API's total for the measured range must equal a plain count: a filled database that lacks
    something the store keeps beside the rows would otherwise be measured giving wrong answers."""
    with sqlite3.connect(path) as conn:
        expected = conn.execute(
            "SELECT count(*) FROM messages WHERE account_id = ? AND created_at >= ? AND created_at <= ?",
            (meta["account_id"], f"{fmt_time(range_from)}.000000", f"{fmt_time(range_to)}.000000"),
        ).fetchone()[0]
    response = client.get("/api/messages", params={"page[limit]": 15, "filter[from]": fmt_time(range_from),
                                                   "filter[to]": fmt_time(range_to)})
    total = response.json().get("meta", {}).get("page", {}).get("total") if response.status_code == 200 else None
    verdict = "ok" if total == expected else "MISMATCH: the measured answers are wrong (rebuild with --via-store?)"
    print(f"check: API total {total} for the range, SQL count {expected}: {verdict}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages stored (default 1,000,000)")
    parser.add_argument("--rebuild", action="store_true", help="refill the cached database")
    parser.add_argument("--via-store", action="store_true",
                        help="fill through the store's insert_messages (exact, slower) instead of Core executemany")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--list-requests", type=int, default=300)
    parser.add_argument("--detail-requests", type=int, default=1000)
    parser.add_argument("--info-requests", type=int, default=50, help="requests per informational list variant")
    parser.add_argument("--max-offset", type=int, default=5000)
    parser.add_argument("--range-days", type=float, default=30.0, help="filter[from]..filter[to] span (default 30 days)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--max-wait", type=float, default=600,
                        help="wait up to this many seconds for other processes to go quiet first (0: don't)")
    parser.add_argument("--profile", help="write a py-spy profile of the server during the target lists (e.g. /tmp/q.svg)")
    args = parser.parse_args()

    header(f"query latency at {args.messages:,} messages: list p95 <= {LIST_TARGET_MS:g} ms, "
           f"detail p95 <= {DETAIL_TARGET_MS:g} ms")
    path, meta = cached_database(args.messages, args.seed, args.rebuild, args.via_store)
    data_end = datetime.fromisoformat(meta["data_end"])
    data_start = datetime.fromisoformat(meta["data_start"])
    range_to = data_end
    range_from = data_end - timedelta(days=args.range_days)
    rng = random.Random(7)

    def lister(sort: str = "id", days: float | None = None, **filters):
        frm = max(data_end - timedelta(days=days), data_start) if days else range_from

        def make():
            return {"page[limit]": 500, "page[offset]": rng.randint(0, args.max_offset), "sort": sort,
                    "filter[from]": fmt_time(frm), "filter[to]": fmt_time(range_to), **filters}
        return make

    big = meta["big_campaign_id"]
    with server_on(path, "--no-engine") as server:
        print(f"server pid {server.pid} on {server.base_url}; range {fmt_time(range_from)} .. {fmt_time(range_to)}; "
              f"offsets 0-{args.max_offset}\n")
        with server.client(headers={"X-API-KEY": meta["api_key"]}) as client:
            check_totals(client, path, meta, range_from, range_to)
            wait_quiet(max_wait=args.max_wait)
            print("targets:")
            with maybe_profile(server, args.profile), CpuWatch() as cpu:
                measure(client, f"GET /api/messages sort=id ({args.range_days:g} days)", lister("id"),
                        args.list_requests, args.warmup, LIST_TARGET_MS, expect_rows=500)
                if big:
                    measure(client, f"GET /api/campaigns/{big}/detail (100k msgs)", dict, args.detail_requests,
                            args.warmup, DETAIL_TARGET_MS, path=f"/api/campaigns/{big}/detail")
            print(cpu.describe())
            wait_quiet(max_wait=args.max_wait)
            print("\nfor information:")
            info_cpu = CpuWatch().__enter__()
            if big:
                measure(client, "GET /api/messages filter[campaign_id]=big", lister("id", None,
                        **{"filter[campaign_id]": big}), args.info_requests, 2, expect_rows=500)
            measure(client, f"GET /api/messages sort=phone ({args.range_days:g} days)", lister("phone"),
                    args.info_requests, 2, expect_rows=500)
            measure(client, f"GET /api/messages sort=delivered ({args.range_days:g} days)", lister("delivered"),
                    args.info_requests, 2, expect_rows=500)
            measure(client, "GET /api/messages sort=id (7 days)", lister("id", 7), args.info_requests, 2, expect_rows=500)
            measure(client, f"GET /api/messages sort=id ({DAYS} days, all)", lister("id", DAYS + 1),
                    args.info_requests, 2, expect_rows=500)
            measure(client, "GET /api/messages sort=id way=desc (30 days)",
                    lambda: {**lister("id")(), "way": "desc"}, args.info_requests, 2, expect_rows=500)
            measure(client, "GET /api/messages page[limit]=50 offset 0 (30 d)",
                    lambda: {**lister("id")(), "page[limit]": 50, "page[offset]": 0}, args.info_requests, 2,
                    expect_rows=50)
            info_cpu.__exit__(None, None, None)
            print(info_cpu.describe())


if __name__ == "__main__":
    main()
