"""How the engine runs statistics jobs (engine/stat_jobs.py): filters, paging, a worker that dies
mid-job, a job deleted while it runs, the per-account limit; on both backends, no engine running
(each test runs the jobs itself)."""

from __future__ import annotations

import asyncio
import gzip
from datetime import timedelta

import pytest

from relaybox.domain.models import Caller
from relaybox.engine import stat_jobs as runner
from relaybox.services import sending, stat_jobs
from relaybox.services.recipients import Recipient
from relaybox.store import stat_jobs as store
from tests.factories import make_account

KYIVSTAR, VODAFONE = 380971230011, 380501230011


async def _send(platform, caller, numbers):
    recipients = [Recipient(path=f"phones.{i}", phone=n, text="Report", sender="relaybox")
                  for i, n in enumerate(numbers)]
    return await sending.send(platform, caller, recipients, sending.SendOptions(), common_text="Report")


def _window(platform, **extra):
    now = platform.clock()
    return {"type": "params", "time_in_from": (now - timedelta(hours=1)).isoformat(),
            "time_in_to": (now + timedelta(minutes=1)).isoformat(), **extra}


@pytest.fixture
async def caller(platform):
    account_id, _ = await make_account(platform, balance="1000")
    return Caller(account_id=account_id, is_test=False)


async def test_filters_paging_and_csv(platform, caller, monkeypatch):
    monkeypatch.setattr(stat_jobs, "CHUNK_ROWS", 7)  # several chunks from a few messages
    numbers = [KYIVSTAR + 10000 * i for i in range(15)] + [VODAFONE + 10000 * i for i in range(5)]
    outcome = await _send(platform, caller, numbers)
    job = await stat_jobs.create_job(platform, caller, _window(platform))
    with pytest.raises(stat_jobs.JobNotReady):
        await stat_jobs.load_page(platform, caller, job.key)
    assert await runner.run_one(platform, "w1")
    page = await stat_jobs.load_page(platform, caller, job.key, offset=5, limit=10)
    assert page.job.rows == 20 and len(page.rows) == 10
    all_rows = (await stat_jobs.load_page(platform, caller, job.key, limit=100)).rows
    assert [r["message_id"] for r in all_rows] == sorted((r["message_id"] for r in all_rows), key=int)
    assert page.rows == all_rows[5:15]
    pieces = [p async for p in await stat_jobs.csv_chunks(platform, caller, job.key, form="csv.gz")]
    text = gzip.decompress(b"".join(pieces)).decode()
    assert len(text.splitlines()) == 21 and len(pieces) == 1 + 3  # header + ceil(20 / 7) chunks
    # operator (MCC+MNC), country by name, phones, status
    for extra, count in [({"operator_id": "25501"}, 5), ({"operator_id": "25503"}, 15), ({"country": "Ukraine"}, 20),
                         ({"country": "PL"}, 0), ({"phones": [numbers[0], numbers[-1]]}, 2),
                         ({"status": "Accepted"}, 20), ({"status": "Delivered"}, 0),
                         ({"campaign_id": outcome.campaign.id}, 20), ({"campaign_id": outcome.campaign.id + 1}, 0)]:
        j = await stat_jobs.create_job(platform, caller, _window(platform, **extra))
        await runner.run_one(platform, "w1")
        assert (await stat_jobs.get_job(platform, caller, j.key)).rows == count, extra
        await stat_jobs.delete_job(platform, caller, j.key)


async def test_a_dead_workers_job_starts_over_and_a_deleted_job_stops(platform, caller):
    await _send(platform, caller, [KYIVSTAR + 10000 * i for i in range(5)])
    job = await stat_jobs.create_job(platform, caller, _window(platform))
    now = platform.clock()
    claimed = await platform.db.transact(lambda conn: store.claim_job(conn, "dead", now, now - runner.STALE))
    assert claimed.key == job.key
    assert not await runner.run_one(platform, "w2")  # still the dead worker's: its heartbeat is fresh
    stale = now - runner.STALE - timedelta(seconds=1)
    await platform.db.transact(lambda conn: store.add_chunk(conn, claimed.id, "dead", 0, 0, 1, b"x", stale))
    assert await runner.run_one(platform, "w2")  # taken over, run again from the start
    done = await stat_jobs.get_job(platform, caller, job.key)
    assert (done.status, done.rows) == ("done", 5)
    assert len((await stat_jobs.load_page(platform, caller, job.key)).rows) == 5
    # the dead worker's late chunk is refused
    assert not await platform.db.transact(lambda conn: store.add_chunk(conn, claimed.id, "dead", 9, 0, 1, b"x", now))
    # deleted while pending: nothing to run
    other = await stat_jobs.create_job(platform, caller, _window(platform))
    await stat_jobs.delete_job(platform, caller, other.key)
    assert not await runner.run_one(platform, "w2")
    with pytest.raises(stat_jobs.JobNotFound):
        await stat_jobs.delete_job(platform, caller, other.key)


async def test_limit_holds_for_requests_at_once(platform, caller):
    others = Caller(account_id=(await make_account(platform))[0], is_test=False)
    results = await asyncio.gather(*[stat_jobs.create_job(platform, caller, _window(platform)) for _ in range(6)],
                                   return_exceptions=True)
    accepted = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, stat_jobs.TooManyJobs)]
    assert len(accepted) == platform.settings.stat_jobs_per_account == 3 and len(refused) == 3
    assert (refused[0].code, refused[0].description) == (91, "Maximum count of exports reached")
    await stat_jobs.create_job(platform, others, _window(platform))  # another account's own limit
    for job in accepted:
        with pytest.raises(stat_jobs.JobNotFound):
            await stat_jobs.get_job(platform, others, job.key)
    await runner.run_one(platform, "w1")  # one finished: room for one more
    await stat_jobs.create_job(platform, caller, _window(platform))
    with pytest.raises(stat_jobs.TooManyJobs):
        await stat_jobs.create_job(platform, caller, _window(platform))
