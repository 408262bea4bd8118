"""The messages list by date range (hourly roll-up path) against a brute-force answer."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import update

from relaybox.domain.models import Caller
from relaybox.domain.timefmt import format_time, utcnow
from relaybox.services import queries, sending
from relaybox.services.recipients import Recipient
from relaybox.store import messages as messages_store
from relaybox.store.tables import messages
from tests.factories import make_account


async def test_ranges_cutting_hours_give_exact_totals_and_order(platform):
    account_id, _ = await make_account(platform, balance="1000")
    other_id, _ = await make_account(platform, balance="1000")
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)
    created = []  # (created_at, id) of account_id's messages
    rng = random.Random(5)
    for step in range(24):
        moment = start + timedelta(minutes=15 * step + rng.randint(0, 10), seconds=rng.randint(0, 59))
        platform.clock = lambda moment=moment: moment
        for who in (account_id, other_id):
            phones = [380971000000 + step * 100 + k + (50 if who == other_id else 0) for k in range(rng.randint(1, 4))]
            outcome = await sending.send(
                platform,
                Caller(who, False),
                [Recipient(path=f"phones.{i}", phone=p, text=f"t{step}", sender="relaybox") for i, p in enumerate(phones)],
                sending.SendOptions(),
                message_ids=True,
            )
            if who == account_id:
                created += [(moment, i) for i in outcome.message_ids]
    platform.clock = lambda: start + timedelta(hours=7)
    caller = Caller(account_id, False)

    cuts = [start + timedelta(minutes=m) for m in (0, 7, 44, 60, 61, 119, 150, 200, 359, 400)]
    for lo in cuts:
        for hi in cuts:
            if hi < lo:
                continue
            expected = sorted(i for at, i in created if lo <= at.replace(microsecond=0) <= hi)
            for descending in (False, True):
                total, page = await queries.list_messages(
                    platform, caller, raw_from=format_time(lo), raw_to=format_time(hi), message_id=None,
                    campaign_id=None, reference_id=None, sort="id", descending=descending, offset=0, limit=500,
                )
                assert total == len(expected), (lo, hi)
                assert [m.id for m in page] == (expected[::-1] if descending else expected)


async def test_a_campaign_filter_gives_that_campaigns_messages_in_the_range(platform):
    account_id, _ = await make_account(platform, balance="1000")
    other_id, _ = await make_account(platform, balance="1000")
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    campaigns = {}  # campaign id -> (account, created_at, message ids)
    for step in range(6):
        moment = start + timedelta(minutes=30 * step)
        platform.clock = lambda moment=moment: moment
        for who in (account_id, other_id):
            phones = [380971000000 + step * 100 + k + (50 if who == other_id else 0) for k in range(3)]
            outcome = await sending.send(
                platform, Caller(who, False),
                [Recipient(path=f"phones.{i}", phone=p, text=f"c{step}", sender="relaybox") for i, p in enumerate(phones)],
                sending.SendOptions(), message_ids=True,
            )
            campaigns[outcome.campaign.id] = (who, moment, sorted(outcome.message_ids))
    platform.clock = lambda: start + timedelta(hours=4)
    caller = Caller(account_id, False)
    ranges = [(start, start + timedelta(hours=4)), (start + timedelta(minutes=45), start + timedelta(minutes=95))]
    for campaign_id, (who, moment, ids) in campaigns.items():
        for lo, hi in ranges:
            expected = ids if who == account_id and lo <= moment <= hi else []
            for sort, descending in (("id", False), ("id", True), ("phone", False)):
                total, page = await queries.list_messages(
                    platform, caller, raw_from=format_time(lo), raw_to=format_time(hi), message_id=None,
                    campaign_id=campaign_id, reference_id=None, sort=sort, descending=descending, offset=0, limit=500,
                )
                assert total == len(expected)
                assert [m.id for m in page] == (expected[::-1] if descending else expected)


@pytest.mark.parametrize("walk_by_phone", [True, False], ids=["phone-walk", "phone-sort"])
async def test_sort_by_delivery_and_by_phone_pages_match_a_brute_force_order(platform, monkeypatch, walk_by_phone):
    async def decided(*_):
        return walk_by_phone  # SQLite's choice between walking (account_id, phone) and sorting the range

    monkeypatch.setattr(messages_store, "_walk_by_phone", decided)
    account_id, _ = await make_account(platform, balance="1000")
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    rng = random.Random(11)
    created = {}  # id -> created_at
    phones = {}  # id -> phone
    for step in range(10):
        moment = start + timedelta(minutes=25 * step, seconds=rng.randint(0, 59))
        platform.clock = lambda moment=moment: moment
        numbers = [380971000000 + n * 7 for n in rng.sample(range(40), rng.randint(1, 4))]  # repeats across sends
        outcome = await sending.send(
            platform, Caller(account_id, False),
            [Recipient(path=f"phones.{i}", phone=p, text=f"d{step}", sender="relaybox") for i, p in enumerate(numbers)],
            sending.SendOptions(), message_ids=True,
        )
        created.update({i: moment.replace(microsecond=0) for i in outcome.message_ids})
        phones.update(zip(outcome.message_ids, numbers))
    delivered = {}  # id -> delivered_at or None (a third not delivered), never before creation
    for i, at in created.items():
        delivered[i] = None if rng.random() < 0.33 else at + timedelta(minutes=rng.randint(0, 300))
    async with platform.db.write() as conn:
        for i, at in delivered.items():
            await conn.execute(update(messages).where(messages.c.id == i).values(delivered_at=at))
    platform.clock = lambda: start + timedelta(hours=6)
    caller = Caller(account_id, False)

    for lo, hi in [(start, start + timedelta(hours=6)), (start + timedelta(minutes=60), start + timedelta(minutes=170))]:
        ids = [i for i, at in created.items() if lo <= at <= hi]
        for descending in (False, True):
            done = sorted((i for i in ids if delivered[i]), key=lambda i: (delivered[i], i), reverse=descending)
            rest = sorted((i for i in ids if not delivered[i]), reverse=descending)
            by_sort = {
                "delivered": done + rest,  # undelivered last, whichever the direction
                "phone": sorted(ids, key=lambda i: (phones[i], i), reverse=descending),
            }
            for sort, expected in by_sort.items():
                for limit in (3, 500):
                    for offset in range(0, len(expected) + 2, 2):
                        total, page = await queries.list_messages(
                            platform, caller, raw_from=format_time(lo), raw_to=format_time(hi), message_id=None,
                            campaign_id=None, reference_id=None, sort=sort, descending=descending,
                            offset=offset, limit=limit,
                        )
                        assert total == len(expected)
                        assert [m.id for m in page] == expected[offset : offset + limit], (sort, lo, hi, descending, limit, offset)
