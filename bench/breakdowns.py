"""Breakdowns and statistics jobs at scale, on PostgreSQL.

    python bench/breakdowns.py --messages 10000000             # build once (minutes; kept), measure
    python bench/breakdowns.py --reuse                          # measure again on the kept database
    python bench/breakdowns.py --reuse --stat-job-campaign      # + time a stat job of the 1,000,000-message campaign
    python bench/breakdowns.py --reuse --drop                   # drop it

Builds `rb_bench_breakdowns` on RELAYBOX_BENCH_POSTGRES_URL's server (default
postgresql://postgres@127.0.0.1:5432/test): one account, N messages over 30 days (1 % of them
in one campaign of up to 1,000,000, the rest in 1,000-message campaigns and single messages),
statuses, countries and operators mixed, made with generate_series; then the roll-ups from
them with INSERT … SELECT … GROUP BY — the state the engine's transactions keep, built at once.
Measures the service functions the API and the console call (no HTTP): a campaign's breakdown,
an account's 30-day breakdown, a 30-day hourly time series; prints p50/p95/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, summary  # noqa: E402

ADMIN = os.environ.get("RELAYBOX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DB = "rb_bench_breakdowns"
URL = ADMIN.rsplit("/", 1)[0] + "/" + DB
END = datetime(2026, 11, 1, tzinfo=UTC)
START = END - timedelta(days=30)


async def build(n: int, big: int) -> None:
    admin = await asyncpg.connect(ADMIN)
    await admin.execute(f"DROP DATABASE IF EXISTS {DB}")
    await admin.execute(f"CREATE DATABASE {DB}")
    await admin.close()
    from relaybox.api.app import open_platform
    from relaybox.config import Settings

    platform = await open_platform(Settings(database_url=URL))
    await platform.db.dispose()
    conn = await asyncpg.connect(URL)
    t0 = time.perf_counter()
    await conn.execute("INSERT INTO accounts (id, name, currency, balance, credit, created_at) "
                       "VALUES (1, 'bench', 'EUR', 0, 0, now())")
    campaigns = 1 + (n - big) // 1000
    await conn.execute(f"""
        INSERT INTO campaigns (id, account_id, name, type, source, sender, text, validity, tariff_code, status,
                               is_test, start_at, created_at, total_messages, total_phones, total_price, currency)
        SELECT g, 1, 'c' || g, 'sms', 'web', 'relaybox', 'Hello', 72, 0, 'done', false,
               '{START.isoformat()}'::timestamptz, '{START.isoformat()}'::timestamptz, 0, 0, 0, 'EUR'
        FROM generate_series(1, {campaigns}) g""")
    # message g: campaign 1 for the first `big`, then 1,000 per campaign, every 10th of those single
    await conn.execute(f"""
        INSERT INTO messages (id, account_id, campaign_id, type, source, phone, country, brand, sender, text,
                              encoding, parts, validity, tariff_code, price, currency, status, is_test,
                              created_at, due_at, expires_at, sent_at, delivered_at)
        SELECT g, 1,
               CASE WHEN g <= {big} THEN 1 WHEN g % 10 = 0 THEN NULL ELSE 2 + (g - {big}) / 1000 END,
               'sms', 'web', 380970000000 + g, c.country, c.brand, 'relaybox', 'Hello', 'gsm7', 1, 72, 0,
               350000, 'EUR', s.status, false, t.created, t.created, t.created + interval '72 hours',
               CASE WHEN s.status IN ('sent','delivered','undelivered','expired','unknown')
                    THEN t.created + interval '2 seconds' END,
               CASE WHEN s.status IN ('delivered','undelivered','expired','unknown')
                    THEN t.created + interval '2 seconds' + (g % 600) * interval '1 second' END
        FROM generate_series(1, {n}) g
        CROSS JOIN LATERAL (SELECT '{START.isoformat()}'::timestamptz
                                   + (g::float8 / {n}) * interval '30 days' AS created) t
        CROSS JOIN LATERAL (SELECT (ARRAY['delivered','delivered','delivered','delivered','delivered',
                                          'delivered','delivered','undelivered','failed','expired'])[1 + g % 10]
                                   AS status) s
        CROSS JOIN LATERAL (SELECT (ARRAY['UA','UA','PL','DE'])[1 + (g / 7) % 4] AS country,
                                   (ARRAY['Kyivstar','Vodafone','Play','T-Mobile'])[1 + (g / 7) % 4] AS brand) c
    """)
    await conn.execute(f"SELECT setval(pg_get_serial_sequence('messages', 'id'), {n})")
    t1 = time.perf_counter()
    await conn.execute("""
        INSERT INTO message_hours (account_id, hour, min_id, max_id, n)
        SELECT account_id, date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', min(id), max(id), count(*)
        FROM messages GROUP BY 1, 2""")
    await conn.execute("""
        INSERT INTO traffic_rollups (account_id, campaign_id, hour, country, brand, status, n, cost)
        SELECT account_id, coalesce(campaign_id, 0), date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
               country, coalesce(brand, ''), status, count(*),
               sum(CASE WHEN status = 'failed' THEN 0 ELSE price END)
        FROM messages GROUP BY 1, 2, 3, 4, 5, 6""")
    await conn.execute("""
        INSERT INTO traffic_minutes (account_id, campaign_id, minute, sent, delivered, failed)
        SELECT account_id, campaign_id, minute, sum(sent), sum(delivered), sum(failed) FROM (
            SELECT account_id, coalesce(campaign_id, 0) AS campaign_id,
                   date_trunc('minute', sent_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS minute,
                   1 AS sent, 0 AS delivered, 0 AS failed FROM messages WHERE sent_at IS NOT NULL
            UNION ALL
            SELECT account_id, coalesce(campaign_id, 0),
                   date_trunc('minute', coalesce(delivered_at, created_at) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                   0, (status = 'delivered')::int, (status <> 'delivered')::int
            FROM messages WHERE status IN ('delivered', 'undelivered', 'expired', 'failed')
        ) e GROUP BY 1, 2, 3""")
    from relaybox.domain.delivery_times import EDGES

    edges = "ARRAY[" + ",".join(str(e) for e in EDGES) + "]::float8[]"
    await conn.execute(f"""
        INSERT INTO delivery_times (account_id, campaign_id, hour, bucket, n)
        SELECT account_id, coalesce(campaign_id, 0), date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
               (SELECT count(*) FROM unnest({edges}) e WHERE e < extract(epoch FROM delivered_at - sent_at)),
               count(*)
        FROM messages WHERE status = 'delivered' GROUP BY 1, 2, 3, 4""")
    await account_rows(conn)
    await conn.execute("VACUUM ANALYZE")
    t2 = time.perf_counter()
    sizes = await conn.fetch("SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname IN "
                             "('messages','traffic_rollups','traffic_minutes','delivery_times') ORDER BY 1")
    await conn.close()
    print(f"built {n:,} messages in {t1 - t0:.0f} s; roll-ups from them in {t2 - t1:.0f} s")
    for r in sizes:
        print(f"  {r['relname']}: {r['n_live_tup']:,} rows")


async def account_rows(conn) -> None:
    """The whole account's rows (campaign_id -1, and -2 per hour in traffic_minutes: store/rollups.py),
    from the per-campaign ones (campaign 0: messages of no campaign, kept in traffic_minutes only here)."""
    await conn.execute("""
        INSERT INTO traffic_rollups (account_id, campaign_id, hour, country, brand, status, n, cost)
        SELECT account_id, -1, hour, country, brand, status, sum(n), sum(cost) FROM traffic_rollups
        WHERE campaign_id >= 0 GROUP BY 1, 3, 4, 5, 6""")
    await conn.execute("""
        INSERT INTO delivery_times (account_id, campaign_id, hour, bucket, n)
        SELECT account_id, -1, hour, bucket, sum(n) FROM delivery_times WHERE campaign_id >= 0 GROUP BY 1, 3, 4""")
    await conn.execute("""
        INSERT INTO traffic_minutes (account_id, campaign_id, minute, sent, delivered, failed)
        SELECT account_id, -1, minute, sum(sent), sum(delivered), sum(failed) FROM traffic_minutes
        WHERE campaign_id >= 0 GROUP BY 1, 3""")
    await conn.execute("DELETE FROM traffic_minutes WHERE campaign_id = 0")  # the engine keeps none
    await conn.execute("""
        INSERT INTO traffic_minutes (account_id, campaign_id, minute, sent, delivered, failed)
        SELECT account_id, -2, date_trunc('hour', minute AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
               sum(sent), sum(delivered), sum(failed) FROM traffic_minutes WHERE campaign_id = -1 GROUP BY 1, 3""")


async def measure(runs: int, stat_job: bool) -> None:
    from relaybox.api.app import open_platform
    from relaybox.config import Settings
    from relaybox.domain.models import Caller
    from relaybox.services import breakdowns, stat_jobs

    platform = await open_platform(Settings(database_url=URL), migrate=False)
    caller = Caller(account_id=1, is_test=False)
    big_campaign, small_campaign = 1, 5

    async def timed(label, fn, target_ms):
        for _ in range(5):
            await fn()
        values = []
        for _ in range(runs):
            t = time.perf_counter()
            await fn()
            values.append(time.perf_counter() - t)
        s = summary(values)
        print(f"{label:58s} p50 {s['p50']:7.2f} ms  p95 {s['p95']:7.2f} ms  p99 {s['p99']:7.2f} ms"
              f"  (target p95 ≤ {target_ms} ms)")

    await timed("campaign breakdown (1,000,000-message campaign)",
                lambda: breakdowns.campaign_breakdown(platform, caller, big_campaign), 50)
    await timed("campaign breakdown (1,000-message campaign)",
                lambda: breakdowns.campaign_breakdown(platform, caller, small_campaign), 50)
    await timed("account time series, 30 days per hour",
                lambda: breakdowns.time_series(platform, caller, START, END, "hour"), 200)
    await timed("account time series, 30 days per day",
                lambda: breakdowns.time_series(platform, caller, START, END, "day"), 200)
    await timed("account breakdown, 30 days",
                lambda: breakdowns.account_breakdown(platform, caller, START, END), 200)
    if stat_job:
        from relaybox.engine.stat_jobs import run_one

        job = await stat_jobs.create_job(platform, caller, {
            "type": "params", "time_in_from": START.isoformat(), "time_in_to": END.isoformat(),
            "campaign_id": big_campaign})
        t = time.perf_counter()
        await run_one(platform, "bench")
        took = time.perf_counter() - t
        done = await stat_jobs.get_job(platform, caller, job.key)
        size = 0
        t = time.perf_counter()
        async for piece in await stat_jobs.csv_chunks(platform, caller, job.key, form="csv.gz"):
            size += len(piece)
        stream = time.perf_counter() - t
        print(f"stat job of {done.rows:,} messages: {took:.1f} s ({done.rows / took:,.0f} rows/s); "
              f"csv.gz {size / 1e6:.1f} MB streamed in {stream:.1f} s")
        await stat_jobs.delete_job(platform, caller, job.key)
    await platform.db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=10_000_000)
    ap.add_argument("--big-campaign", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--reuse", action="store_true", help="measure the kept database, do not build")
    ap.add_argument("--stat-job-campaign", action="store_true", help="also time a stat job of the big campaign")
    ap.add_argument("--drop", action="store_true", help="drop the database and exit")
    args = ap.parse_args()
    if args.drop:
        async def drop():
            admin = await asyncpg.connect(ADMIN)
            await admin.execute(f"DROP DATABASE IF EXISTS {DB}")
            await admin.close()
        asyncio.run(drop())
        return
    print(f"# bench/breakdowns.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    if not args.reuse:
        asyncio.run(build(args.messages, args.big_campaign))
    asyncio.run(measure(args.runs, args.stat_job_campaign))


if __name__ == "__main__":
    main()
