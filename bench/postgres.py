"""The benchmarks on PostgreSQL, scaled out: API processes and engine workers on one database.

Three measurements, each on a fresh database on the server at
RELAYBOX_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test,
used only to create and drop the benchmark's own databases):

  ingest    POST /api/campaigns/sms/send of 10,000 phones to `serve --no-engine`
            (5 sends, different texts)                                 target <= 1.0 s
  engine    a 10,000-message campaign to final statuses with `serve --no-engine`
            and 1, then 2 `relaybox worker --sim-speed 0` processes   target >= 10,000 msgs/s with 2
            (also prints the campaigns table's row updates per run: the summed counter deltas)
  queries   list and detail latencies at N stored messages (default 1,000,000;
            --messages 10000000), filled with COPY                     target p95 <= 50 ms / 10 ms

    .venv/bin/python bench/postgres.py ingest
    .venv/bin/python bench/postgres.py engine --workers 1 2
    .venv/bin/python bench/postgres.py queries --messages 1000000
    .venv/bin/python bench/postgres.py queries --messages 10000000 --keep   # keep the filled database

The query data has the shape of bench/query_latency.py's (one 100,000-message
campaign, the rest in ~1-10,000-message campaigns and 5 % single messages over
80 days, statuses mostly final), written with asyncpg's `copy_records_to_table`
with the message indexes dropped and then rebuilt from the migrations' own DDL;
the `message_hours` roll-up is computed from the same rows, as
store/messages.record_hours would have kept it, and the API's total is checked
against a plain count before measuring.  A filled database is kept (by name,
`relaybox_bench_q<N>`) with --keep and reused by later runs with the same N.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import UNLIMITED, CpuWatch, api_up, free_port, ua_phones, wait_quiet  # noqa: E402

ADMIN_URL = os.environ.get("RELAYBOX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
INGEST_TARGET_S = 1.0
ENGINE_TARGET = 10_000  # msgs/s with 2 workers
LIST_TARGET_MS = 50.0
DETAIL_TARGET_MS = 10.0


# -- databases and processes ---------------------------------------------------------


def db_url(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


async def _admin(sql: str) -> list:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


def admin(sql: str) -> list:
    return asyncio.run(_admin(sql))


def fresh_database(name: str) -> str:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    return db_url(name)


def database_exists(name: str) -> bool:
    return bool(admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))


def relaybox(*args: str, url: str, cwd: Path) -> str:
    result = subprocess.run([sys.executable, "-m", "relaybox.cli", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "RELAYBOX_DATABASE_URL": url}, timeout=300)
    if result.returncode:
        raise RuntimeError(f"relaybox {' '.join(args)}: {result.stdout}\n{result.stderr}")
    return result.stdout


class Cluster:
    """`serve --no-engine` (API processes) and `worker`s on one database."""

    def __init__(self, url: str, workdir: Path):
        self.url = url
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen] = []

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        process = subprocess.Popen([sys.executable, "-m", "relaybox.cli", *args], cwd=self.workdir,
                                   env={**os.environ, "RELAYBOX_DATABASE_URL": self.url},
                                   stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def api(self, processes: int = 1) -> None:
        self._spawn("api", "serve", "--no-engine", "--port", str(self.port), "--workers", str(processes))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if api_up(httpx.get(f"{self.base}/healthz", timeout=1)):  # the workers start after it
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the API did not start")

    def workers(self, n: int, *extra: str) -> None:
        for i in range(n):
            self._spawn(f"worker{i}", "worker", "--sim-speed", "0", *extra)
        time.sleep(3)  # imports, migration check, recovery

    def stop(self) -> None:
        for p in self.processes:
            p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in sorted(self.workdir.glob("*.log")):
            text = log.read_text(errors="replace").strip()
            lines = [l for l in text.splitlines() if "running (pid" not in l]
            if lines:
                print(f"--- {log.name} (last lines) ---\n" + "\n".join(lines[-10:]), file=sys.stderr)


def machine() -> str:
    from _common import machine as base

    version = admin("SHOW server_version")[0][0]
    settings = {r[0]: r[1] for r in admin(
        "SELECT name, setting FROM pg_settings WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync')")}
    return (f"{base()}, PostgreSQL {version} (shared_buffers {int(settings['shared_buffers']) * 8 // 1024} MB, "
            f"fsync {settings['fsync']}, synchronous_commit {settings['synchronous_commit']})")


def header(title: str) -> None:
    print(f"== {title} ==\nmachine: {machine()}\ndate: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")


# -- ingest ----------------------------------------------------------------------------


def bench_ingest(args) -> None:
    header(f"PostgreSQL ingest: POST /api/campaigns/sms/send with {args.phones:,} phones, serve --no-engine, "
           f"target <= {INGEST_TARGET_S:g} s")
    with tempfile.TemporaryDirectory(prefix="relaybox-pgbench-") as tmp:
        url = fresh_database("relaybox_bench_ingest")
        relaybox("migrate", url=url, cwd=Path(tmp))
        key = relaybox("account", "create", "--name", "bench", "--balance", "100000", *UNLIMITED, url=url, cwd=Path(tmp)).split()[-1]
        cluster = Cluster(url, Path(tmp))
        try:
            cluster.api()
            times = []
            with httpx.Client(base_url=cluster.base, headers={"X-API-KEY": key, "Content-Type": "application/json"},
                              timeout=120) as client:
                client.post("/api/campaigns/sms/send", content=orjson.dumps(
                    {"sender": "relaybox", "text": "warm-up", "phones": [{"number": n} for n in ua_phones(10)]}))
                for run in range(args.repeat):
                    body = orjson.dumps({"sender": "relaybox", "text": f"Ingest run {run} {time.time()}",
                                         "phones": [{"number": n} for n in ua_phones(args.phones, start=run * args.phones)]})
                    wait_quiet(max_wait=args.max_wait)
                    t0 = time.perf_counter()
                    answer = client.post("/api/campaigns/sms/send", content=body)
                    took = time.perf_counter() - t0
                    assert answer.status_code == 200, answer.text[:300]
                    times.append(took)
                    print(f"send {run + 1}: {took * 1000:7.0f} ms")
            verdict = "PASS" if sorted(times)[len(times) // 2] <= INGEST_TARGET_S else "MISS"
            print(f"min {min(times) * 1000:.0f} ms, median {sorted(times)[len(times) // 2] * 1000:.0f} ms, "
                  f"max {max(times) * 1000:.0f} ms   [target median <= {INGEST_TARGET_S:g} s: {verdict}]")
        finally:
            cluster.stop()
            admin('DROP DATABASE IF EXISTS "relaybox_bench_ingest" WITH (FORCE)')


# -- engine ----------------------------------------------------------------------------


async def _updates(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = await conn.fetch("SELECT relname, n_tup_upd FROM pg_stat_user_tables WHERE relname IN ('campaigns', 'messages')")
        return {r["relname"]: r["n_tup_upd"] for r in rows}
    finally:
        await conn.close()


def bench_engine(args) -> None:
    header(f"PostgreSQL engine: {args.phones:,} messages to final statuses, serve --no-engine + N workers "
           f"(--sim-speed 0), target >= {ENGINE_TARGET:,} msgs/s with 2 workers")
    for n_workers in args.workers:
        print(f"\n-- {n_workers} worker{'s' if n_workers > 1 else ''} --")
        with tempfile.TemporaryDirectory(prefix="relaybox-pgbench-") as tmp:
            name = f"relaybox_bench_engine{n_workers}"
            url = fresh_database(name)
            relaybox("migrate", url=url, cwd=Path(tmp))
            key = relaybox("account", "create", "--name", "bench", "--balance", "100000", *UNLIMITED, url=url, cwd=Path(tmp)).split()[-1]
            cluster = Cluster(url, Path(tmp))
            rates = []
            try:
                cluster.api()
                cluster.workers(n_workers, *args.worker_args)
                with httpx.Client(base_url=cluster.base, headers={"X-API-KEY": key, "Content-Type": "application/json"},
                                  timeout=120) as client:
                    client.get("/api/campaigns/0/detail")
                    for run in range(args.runs):
                        body = orjson.dumps({"sender": "relaybox", "text": f"Engine run {run} {time.time()}",
                                             "phones": [{"number": n} for n in ua_phones(args.phones, start=run * args.phones)]})
                        wait_quiet(max_wait=args.max_wait)
                        before = asyncio.run(_updates(url))
                        cpu = CpuWatch().__enter__()
                        sent = client.post("/api/campaigns/sms/send", content=body)
                        t_sent = time.perf_counter()
                        assert sent.status_code == 200, sent.text[:300]
                        campaign = sent.json()["data"]["id"]
                        while True:
                            detail = client.get(f"/api/campaigns/{campaign}/detail").json()["data"]
                            if detail["status"] == "done" or time.perf_counter() - t_sent > args.timeout:
                                break
                            time.sleep(0.02)
                        took = time.perf_counter() - t_sent
                        cpu.__exit__(None, None, None)
                        time.sleep(1.5)  # table statistics reach pg_stat_user_tables asynchronously
                        after = asyncio.run(_updates(url))
                        if detail["status"] != "done":
                            print(f"run {run + 1}: not done after {args.timeout:g} s")
                            continue
                        rates.append(args.phones / took)
                        print(f"run {run + 1}: done {took:6.3f} s after the send answer ({args.phones / took:,.0f} msgs/s); "
                              f"row updates: messages {after['messages'] - before['messages']:,}, "
                              f"campaigns {after['campaigns'] - before['campaigns']:,}\n       {cpu.describe()}")
            finally:
                cluster.stop()
                admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if rates:
                best = max(rates)
                median = sorted(rates)[len(rates) // 2]
                line = f"{n_workers} worker(s): median {median:,.0f} msgs/s, best {best:,.0f} msgs/s"
                if n_workers == 2:
                    line += f"   [target >= {ENGINE_TARGET:,}: {'PASS' if median >= ENGINE_TARGET else 'MISS'}]"
                print(line)


# -- queries ---------------------------------------------------------------------------


async def fill(url: str, total: int, seed: int, workdir: Path) -> dict:
    """relaybox migrates and seeds the database and creates the account; COPY writes the rest."""
    from query_latency import DAYS, FINAL, FINAL_WEIGHTS, REPORTED, TEXTS, plan

    relaybox("migrate", url=url, cwd=workdir)
    key = relaybox("account", "create", "--name", "bench", "--balance", "100000", *UNLIMITED, url=url, cwd=workdir).split()[-1]
    conn = await asyncpg.connect(url)
    try:
        account_id = await conn.fetchval("SELECT max(id) FROM accounts")
        price = await conn.fetchval("SELECT price FROM rates WHERE tariff_code = 0 AND country = 'UA' AND channel = 'sms'")
        indexes = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'messages' "
                                   "AND indexname <> 'pk_messages'")
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        message_columns = [r["attname"] for r in await conn.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'messages'::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum")]
        counter_columns = [r["attname"] for r in await conn.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'campaigns'::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attname LIKE 'n\\_%' AND attname <> 'n_pending'")]
        campaign_columns = [r["attname"] for r in await conn.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'campaigns'::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum")]

        rng = random.Random(seed)
        end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        start = end - timedelta(days=DAYS)
        events = plan(total, rng, start, end)
        recent = end - timedelta(days=1)
        statuses, weights = list(FINAL_WEIGHTS), list(FINAL_WEIGHTS.values())
        hours: dict[datetime, list[int]] = {}
        batch: list[dict] = []
        campaign_rows: list[tuple] = []
        message_id = campaign_id = 0
        big = None
        started = time.perf_counter()

        async def flush() -> None:
            if campaign_rows:
                await conn.copy_records_to_table("campaigns", records=campaign_rows, columns=campaign_columns)
            if batch:
                await conn.copy_records_to_table("messages", records=[tuple(r.get(c) for c in message_columns) for r in batch],
                                                 columns=message_columns)
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
                    big = cid
            counts = dict.fromkeys(counter_columns, 0)
            pending = 0
            last = created
            sender = "relaybox" if kind is not None else "Verify"
            drawn = rng.choices(statuses, weights, k=size)
            hour = created.replace(minute=0, second=0, microsecond=0)
            for status in drawn:
                message_id += 1
                if created >= recent and not kind and rng.random() < 0.2:
                    status = "sent"
                sent_at = delivered_at = None
                if status != "failed":
                    sent_at = created + timedelta(seconds=1.5)
                    if status in REPORTED:
                        delivered_at = sent_at + timedelta(seconds=5 + message_id % 25)
                        last = max(last, delivered_at)
                counts[f"n_{status}"] += 1
                pending += status not in FINAL
                slot = hours.get(hour)
                if slot is None:
                    hours[hour] = [message_id, message_id, 1]
                else:
                    slot[1] = message_id
                    slot[2] += 1
                batch.append({
                    "id": message_id, "account_id": account_id, "campaign_id": cid, "type": "sms",
                    "source": "web" if kind is not None or message_id % 2 else "rest",
                    "reference_id": f"ref-{message_id}" if kind is None and message_id % 2 else None,
                    "phone": 380_970_000_000 + (message_id * 7919) % 10_000_000, "country": "UA", "sender": sender,
                    "text": text.replace("{n}", str(message_id % 1_000_000)),
                    "encoding": "gsm7" if text.isascii() else "ucs2", "parts": 2 if long_text else 1,
                    "validity": 72, "tariff_code": 0, "price": price * (2 if long_text else 1), "currency": "EUR",
                    "status": status, "is_test": False, "created_at": created, "due_at": created,
                    "expires_at": created + timedelta(hours=72), "sent_at": sent_at, "delivered_at": delivered_at,
                    "connector": "simulator", "operator_id": f"sim-{message_id}" if status != "failed" else None,
                    "attempts": 1, "callback_url": None,
                })
            if cid is not None:
                done = pending == 0
                row = {
                    "id": cid, "account_id": account_id, "name": f"SMS {sender} {created:%Y-%m-%d %H:%M:%S}",
                    "type": "sms", "source": "web", "sender": sender, "text": text, "validity": 72, "tariff_code": 0,
                    "status": "done" if done else "sending", "is_test": False, "start_at": created,
                    "real_start_at": created + timedelta(seconds=0.5), "finished_at": last if done else None,
                    "created_at": created, "total_messages": size, "total_phones": size,
                    "total_price": size * price * (2 if long_text else 1), "currency": "EUR", "callback_url": None,
                    **counts, "n_pending": pending,
                }
                campaign_rows.append(tuple(row.get(c, 0 if c.startswith("n_") else None) for c in campaign_columns))
            if len(batch) >= 50_000:
                await flush()
                if message_id % 1_000_000 < 50_000:
                    print(f"  {message_id:,} messages ({time.perf_counter() - started:.0f} s)", flush=True)
        await flush()
        # The roll-up, exactly as store/messages.record_hours keeps it (ids grow with created_at here).
        await conn.copy_records_to_table(
            "message_hours", records=[(account_id, h, lo, hi, n) for h, (lo, hi, n) in hours.items()],
            columns=["account_id", "hour", "min_id", "max_id", "n"])
        for table in ("messages", "campaigns"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        loaded = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '1GB'")
        for row in indexes:
            await conn.execute(row["indexdef"])
        indexed = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        print(f"filled {message_id:,} messages, {campaign_id:,} campaigns in {loaded - started:.0f} s; "
              f"indexes {indexed - loaded:.0f} s; VACUUM ANALYZE {time.perf_counter() - indexed:.0f} s")
        size_mb = await conn.fetchval("SELECT pg_database_size(current_database()) / 1000000")
        print(f"database size {size_mb:,} MB")
    finally:
        await conn.close()
    return {"key": key, "account_id": account_id, "big": big, "start": start, "end": end}


async def _count(url: str, account_id: int, frm: datetime, to: datetime) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT count(*) FROM messages WHERE account_id = $1 AND created_at >= $2 "
                                   "AND created_at <= $3", account_id, frm, to)
    finally:
        await conn.close()


def bench_queries(args) -> None:
    from query_latency import DAYS, fmt_time, measure

    header(f"PostgreSQL query latency at {args.messages:,} messages: list p95 <= {LIST_TARGET_MS:g} ms, "
           f"detail p95 <= {DETAIL_TARGET_MS:g} ms")
    name = f"relaybox_bench_q{args.messages}"
    url = db_url(name)
    with tempfile.TemporaryDirectory(prefix="relaybox-pgbench-") as tmp:
        meta_path = Path(__file__).resolve().parent / ".cache" / f"{name}.json"
        if args.keep and database_exists(name) and meta_path.exists() and not args.rebuild:
            meta = orjson.loads(meta_path.read_bytes())
            meta["start"], meta["end"] = datetime.fromisoformat(meta["start"]), datetime.fromisoformat(meta["end"])
            print(f"using the kept database {name}")
        else:
            fresh_database(name)
            meta = asyncio.run(fill(url, args.messages, args.seed, Path(tmp)))
            meta_path.parent.mkdir(exist_ok=True)
            meta_path.write_bytes(orjson.dumps({**meta, "start": meta["start"].isoformat(), "end": meta["end"].isoformat()}))
        end = meta["end"].replace(tzinfo=None)
        start = meta["start"].replace(tzinfo=None)
        range_from = end - timedelta(days=args.range_days)
        rng = random.Random(7)

        def lister(sort: str = "id", days: float | None = None, **filters):
            frm = max(end - timedelta(days=days), start) if days else range_from

            def make():
                return {"page[limit]": 500, "page[offset]": rng.randint(0, args.max_offset), "sort": sort,
                        "filter[from]": fmt_time(frm), "filter[to]": fmt_time(end), **filters}
            return make

        cluster = Cluster(url, Path(tmp))
        try:
            cluster.api()
            with httpx.Client(base_url=cluster.base, headers={"X-API-KEY": meta["key"]}, timeout=120) as client:
                expected = asyncio.run(_count(url, meta["account_id"], range_from.replace(tzinfo=UTC), end.replace(tzinfo=UTC)))
                got = client.get("/api/messages", params={"page[limit]": 15, "filter[from]": fmt_time(range_from),
                                                          "filter[to]": fmt_time(end)}).json()["meta"]["page"]["total"]
                print(f"check: API total {got:,} for the range, SQL count {expected:,}: "
                      f"{'ok' if got == expected else 'MISMATCH'}\n")
                wait_quiet(max_wait=args.max_wait)
                print("targets:")
                with CpuWatch() as cpu:
                    measure(client, f"GET /api/messages sort=id ({args.range_days:g} days)", lister("id"),
                            args.list_requests, 10, LIST_TARGET_MS, expect_rows=500)
                    measure(client, f"GET /api/campaigns/{meta['big']}/detail (100k msgs)", dict, args.detail_requests,
                            10, DETAIL_TARGET_MS, path=f"/api/campaigns/{meta['big']}/detail")
                print(cpu.describe())
                print("\nfor information:")
                measure(client, "GET /api/messages filter[campaign_id]=big",
                        lister("id", None, **{"filter[campaign_id]": meta["big"]}), args.info_requests, 2, expect_rows=500)
                measure(client, f"GET /api/messages sort=phone ({args.range_days:g} days)", lister("phone"),
                        args.info_requests, 2, expect_rows=500)
                measure(client, f"GET /api/messages sort=delivered ({args.range_days:g} days)", lister("delivered"),
                        args.info_requests, 2, expect_rows=500)
                measure(client, "GET /api/messages sort=id (7 days)", lister("id", 7), args.info_requests, 2,
                        expect_rows=500)
                measure(client, f"GET /api/messages sort=id ({DAYS} days, all)", lister("id", DAYS + 1),
                        args.info_requests, 2, expect_rows=500)
                measure(client, "GET /api/messages sort=id way=desc (30 days)",
                        lambda: {**lister("id")(), "way": "desc"}, args.info_requests, 2, expect_rows=500)
        finally:
            cluster.stop()
            if not args.keep:
                admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-wait", type=float, default=300,
                        help="wait up to this many seconds for other processes to go quiet first (0: don't)")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest")
    ingest.add_argument("--phones", type=int, default=10_000)
    ingest.add_argument("--repeat", type=int, default=5)
    engine = sub.add_parser("engine")
    engine.add_argument("--phones", type=int, default=10_000)
    engine.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    engine.add_argument("--runs", type=int, default=3)
    engine.add_argument("--timeout", type=float, default=120)
    engine.add_argument("--worker-args", nargs="*", default=[], help="extra flags for `relaybox worker`")
    queries = sub.add_parser("queries")
    queries.add_argument("--messages", type=int, default=1_000_000)
    queries.add_argument("--seed", type=int, default=1)
    queries.add_argument("--keep", action="store_true", help="keep the filled database, and reuse a kept one")
    queries.add_argument("--rebuild", action="store_true")
    queries.add_argument("--list-requests", type=int, default=300)
    queries.add_argument("--detail-requests", type=int, default=1000)
    queries.add_argument("--info-requests", type=int, default=50)
    queries.add_argument("--max-offset", type=int, default=5000)
    queries.add_argument("--range-days", type=float, default=30.0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the `finally`s: stop the servers
    {"ingest": bench_ingest, "engine": bench_engine, "queries": bench_queries}[args.command](args)


if __name__ == "__main__":
    main()
