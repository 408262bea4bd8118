"""A request that fails inside a shared write fails alone, and concurrent duplicates of a
reference get "taken" (One API 422 / legacy 23), never a 500 — on both backends.

Single messages are written in group commits (services/single_sends.py): one transaction for
many requests, of many accounts.  Campaigns are one transaction each, but several run at once
on PostgreSQL.  Two API processes are two `Database`s on the same store here.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from relaybox.api.app import open_platform
from relaybox.domain.models import Caller
from relaybox.domain.status import MessageStatus
from relaybox.errors import LegacyCode, ValidationFailed
from relaybox.services import sending
from relaybox.services.recipients import Recipient
from relaybox.services.single_sends import PendingSend, SingleSendQueue
from relaybox.store import accounts as accounts_store
from relaybox.store.tables import messages
from tests.factories import make_account

PRICE = 350000  # units of one message to +380 97 on the default tariff (0.035 EUR)


async def pending(platform, caller: Caller, n: int, *, reference: str | None = None, text: str = "hello") -> PendingSend:
    """A single message ready for the group commit, checked and priced as the API would."""
    options = sending.SendOptions()
    now = platform.clock()
    recipient = Recipient(path="phone", phone=380971000100 + n, text="hello", sender="relaybox", reference=reference)
    account, prepared, validity, _ = await sending.check_single(platform, caller, recipient, options, now)
    row = sending.message_row(account, caller, prepared, options, validity=validity, status=MessageStatus.ACCEPTED,
                              now=now, due_at=now, campaign_id=None, callback_url=None)
    row["text"] = text  # past every check: what the store itself may refuse
    return PendingSend(caller=caller, row=row, digest=None, reference_path="phone.reference_id")


async def stored(platform, account_id: int) -> tuple[int, int]:
    """(messages, balance units) of one account."""
    async with platform.db.read() as conn:
        n = (await conn.execute(
            select(func.count()).select_from(messages).where(messages.c.account_id == account_id))).scalar_one()
        balance = (await accounts_store.get_account(conn, account_id)).balance
    return n, balance


async def test_a_request_the_store_refuses_fails_alone_in_its_group_commit(app, app_platform):
    """A value that slipped past every check (a lone surrogate: no UTF-8 form, so neither driver can
    send it) fails its own request; the other requests of the same transaction, of another account
    too, are written and charged."""
    first, _ = await make_account(app_platform, balance="100")
    second, _ = await make_account(app_platform, balance="100")
    jobs = []
    for n in range(20):
        caller = Caller(first if n % 2 else second, False)
        poisoned = n in (0, 7, 13)
        jobs.append(await pending(app_platform, caller, n, reference=f"r{n}", text="bad\ud800" if poisoned else "hi"))
    queue: SingleSendQueue = app.state.single_sends
    answers = await asyncio.gather(*(queue.submit(job) for job in jobs), return_exceptions=True)
    failed = [n for n, a in enumerate(answers) if isinstance(a, BaseException)]
    assert failed == [0, 7, 13], answers
    assert {a.reference_id for a in answers if not isinstance(a, BaseException)} == {
        f"r{n}" for n in range(20) if n not in (0, 7, 13)}
    assert await stored(app_platform, first) == (8, 10**9 - 8 * PRICE)  # odd n: 7 and 13 refused
    assert await stored(app_platform, second) == (9, 10**9 - 9 * PRICE)  # even n: 0 refused


async def test_a_reference_taken_by_another_process_meanwhile_is_taken_not_a_failed_batch(app, app_platform, settings):
    """Two API processes (two group-commit queues on two connections to the store) write batches at
    once, each holding the same reference among other requests: one wins, the other's request is
    answered "taken" (23) and its neighbours are written."""
    account_id, _ = await make_account(app_platform, balance="100")
    caller = Caller(account_id, False)
    other = await open_platform(settings, migrate=False)
    queues = [app.state.single_sends, SingleSendQueue(other)]
    queues[1].start()
    try:
        for round_ in range(3):  # a race may go either way each time: a few rounds
            jobs = [[await pending(app_platform, caller, 100 * round_ + 10 * q + n,
                                   reference=f"dup{round_}" if n == 0 else f"q{round_}x{q}x{n}")
                     for n in range(5)] for q in range(2)]
            before = await stored(app_platform, account_id)
            answers = await asyncio.gather(
                *(queues[q].submit(job) for q in range(2) for job in jobs[q]), return_exceptions=True)
            dups = [answers[0], answers[5]]
            others = answers[1:5] + answers[6:]
            assert all(not isinstance(a, BaseException) for a in others), others
            refused = [a for a in dups if isinstance(a, BaseException)]
            assert len(refused) == 1, dups
            assert isinstance(refused[0], ValidationFailed), repr(refused[0])
            assert [(e.path, e.legacy_code) for e in refused[0].errors] == [
                ("phone.reference_id", LegacyCode.REFERENCE_EXISTS)]
            n, balance = await stored(app_platform, account_id)
            assert (n, balance) == (before[0] + 9, before[1] - 9 * PRICE)
    finally:
        await queues[1].stop()
        await other.db.dispose()


# -- over the API: ten concurrent requests with one reference -----------------------------

def campaign_body(n: int) -> dict:
    return {"sender": "relaybox", "text": "hello", "phones": [{"number": 380972000100 + n, "reference_id": "same"}]}


def individual_body(n: int) -> dict:
    return {"messages": [{"phone": 380972000100 + n, "text": "hello", "sender": "relaybox", "reference_id": "same"}]}


def legacy_body(n: int) -> dict:
    return {"destination": "phones", "originator": "relaybox", "body": "hello",
            "phones": [{"msisdn": str(380972000100 + n), "reference": "same"}]}


def single_body(n: int) -> dict:
    return {"channels": ["sms"], "phone": {"number": 380972000100 + n, "reference_id": "same"},
            "sms": {"sender": "relaybox", "text": "hello"}}


def legacy_single_body(n: int) -> dict:
    return {"destination": "phone", "msisdn": str(380972000100 + n), "reference": "same", "originator": "relaybox",
            "body": "hello"}


@pytest.mark.parametrize(
    "path, make, field",
    [
        ("/api/campaigns/sms/send", campaign_body, "phones.0.reference_id"),
        ("/api/campaigns/sms/send-individual", individual_body, "messages.0.reference_id"),
        ("/api/messages/send", single_body, "phone.reference_id"),
        ("/rest/sms/create", legacy_body, None),
        ("/rest/sms/create", legacy_single_body, None),
    ],
    ids=["campaign", "individual", "single", "legacy-phones", "legacy-phone"],
)
async def test_ten_concurrent_sends_of_one_reference(client, app_platform, path, make, field):
    account_id, key = await make_account(app_platform, balance="100")
    headers = {"X-API-KEY": key}
    answers = await asyncio.gather(*(client.post(path, json=make(n), headers=headers) for n in range(10)))
    assert all(a.status_code in (200, 422) for a in answers), [a.text for a in answers]
    if field is not None:  # One API
        assert sum(a.status_code == 200 for a in answers) == 1, [a.text for a in answers]
        for a in answers:
            if a.status_code == 422:
                assert list(a.json()["errors"]) == [field], a.text
    else:  # legacy: a refused single message or task answers 23 (inside `result` for a single one)
        codes = []
        for a in answers:
            body = a.json()
            result = body["result"]
            codes.append(result["error"] if isinstance(result, dict) else result[0]["error"])
        assert sorted(codes) == [0] + [23] * 9, [a.text for a in answers]
    assert await stored(app_platform, account_id) == (1, 10**9 - PRICE)
