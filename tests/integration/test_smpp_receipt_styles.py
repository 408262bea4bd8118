"""Receipts as real SMSCs write them, end to end: a foreign SMSC over real TCP, the engine, the store.

The SMSC below reads and writes every PDU with `aiosmpplib`'s protocol classes (not the
`smpp34` codec relaybox's connector uses).  Each destination has a plan: the number
the SMSC gives the message, the form of that id in `submit_sm_resp` and in the
receipt (zero-padded, upper or lower case, hexadecimal or decimal), and the receipts
it sends — text only, no TLVs — in one SMSC's style: fields reordered, names in mixed
case, vendor fields, 12-digit dates, `ACCEPTD` or `ENROUTE` before the final state,
and an echoed message text whose own `stat:` says the opposite.  Every message must
reach the final status of its last receipt, on both stores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from aiosmpplib.protocol import DeliverSm, SubmitSm, SubmitSmResp
from aiosmpplib.state import NPI, TON, PhoneNumber
from sqlalchemy import select, update

from relaybox.connectors.routing import Router
from relaybox.connectors.simulator import SimulatorConnector
from relaybox.connectors.smpp import SmppConnector, SmppSettings
from relaybox.domain.models import Caller
from relaybox.engine import Engine
from relaybox.services import sending
from relaybox.services.recipients import Recipient
from relaybox.store.tables import messages
from relaybox.domain.timefmt import utcnow
from tests.aiosmpplib_smsc import AiosmpplibSmsc
from tests.conftest import wait_until
from tests.factories import make_account

Template = Callable[[str, str, str], str]  # (receipt id, stat, message text) -> receipt text


def appendix_b(rid: str, stat: str, text: str) -> str:
    return (f"id:{rid} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} submit date:2611251200 "
            f"done date:2611251201 stat:{stat} err:000 text:{text[:20]}")


def reordered_mixed_case(rid: str, stat: str, text: str) -> str:
    return (f"Stat:{stat} ERR:001 Id:{rid} Submit Date:2611251200 DONE DATE:2611251202 Sub:001 Dlvrd:000 "
            f"Text:{text[:20]}")


def cloudhopper_seconds(rid: str, stat: str, text: str) -> str:
    return (f"id:{rid} sub:001 dlvrd:001 submit date:261125120030 done date:261125120131 "
            f"stat:{stat.lower()} err:000 text:{text[:20]}")


def vendor_fields_and_spaces(rid: str, stat: str, text: str) -> str:
    return f"id: {rid}  sub:001  dlvrd:000 mcc:255 mnc:03  submit_date:2611251200  stat: {stat}  err:045 text:{text}"


def bare(rid: str, stat: str, text: str) -> str:
    return f"id:{rid} stat:{stat}"


@dataclass(frozen=True)
class Plan:
    number: int  # the SMSC's own number for the message
    submit_form: str  # format spec of the id in submit_sm_resp
    receipt_form: str  # and in the receipt
    receipts: tuple[tuple[str, Template], ...]  # (stat, style), sent in order
    expected: str  # the message's status once they are all applied
    text: str = "Your code is 4812"


@dataclass
class StyledSmsc(AiosmpplibSmsc):
    """An SMSC on aiosmpplib's codec that answers and reports by plan, per destination."""

    plans: dict[str, Plan]
    gap: float = 0.3  # seconds between a message's receipts
    submits: int = 0
    system_id: str = field(default="STYLED", kw_only=True)

    async def report(self, writer, sequence, plan: Plan, submit: SubmitSm) -> None:
        rid = format(plan.number, plan.receipt_form)
        for stat, style in plan.receipts:
            await asyncio.sleep(self.gap)
            writer.write(DeliverSm(
                sequence_num=next(sequence),
                short_message=style(rid, stat, submit.short_message),
                source=PhoneNumber(submit.destination.number, TON.INTERNATIONAL, NPI.ISDN),
                destination=PhoneNumber(submit.source.number, submit.source.ton, submit.source.npi),
                esm_class=0x04,
                registered_delivery=0,
            ).pdu())

    def on_submit(self, submit, header, writer, sequence) -> None:
        self.submits += 1
        plan = self.plans[submit.destination.number]
        writer.write(SubmitSmResp(header.sequence_num, message_id=format(plan.number, plan.submit_form)).pdu())
        task = asyncio.create_task(self.report(writer, sequence, plan, submit))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


MISLEADING = "Reply stat:DELIVRD id:1 to confirm"  # the subscriber's own text, echoed after text:

#: destination -> plan, for the default receipt_id_format (auto).
AUTO_PLANS = {
    "380971250001": Plan(6, "010d", "d", (("DELIVRD", appendix_b),), "delivered"),  # 0000000006 then 6
    "380971250002": Plan(0xABCDEF, "X", "x", (("UNDELIV", appendix_b),), "undelivered"),  # ABCDEF then abcdef
    "380971250003": Plan(0x1A2B3C, "x", "d", (("DELIVRD", appendix_b),), "delivered"),  # hex then decimal
    "380971250004": Plan(0x5F3E2D, "d", "010X", (("EXPIRED", appendix_b),), "expired"),  # decimal then hex
    "380971250005": Plan(7001, "d", "d", (("UNDELIV", reordered_mixed_case),), "undelivered"),
    "380971250006": Plan(7002, "d", "d", (("ACCEPTD", appendix_b), ("DELIVRD", appendix_b)), "delivered"),
    "380971250007": Plan(7003, "d", "d", (("ENROUTE", bare), ("UNDELIV", reordered_mixed_case)), "undelivered"),
    "380971250008": Plan(7004, "d", "d", (("UNDELIV", appendix_b),), "undelivered", MISLEADING),
    "380971250009": Plan(0xC0FFEE, "08X", "x", (("DELIVRD", cloudhopper_seconds),), "delivered"),
    "380971250010": Plan(7005, "d", "d", (("REJECTD", vendor_fields_and_spaces),), "failed"),
    "380971250011": Plan(7006, "d", "d", (("ACCEPTD", appendix_b),), "sent"),  # no final receipt: waits
    "380971250012": Plan(0xBEEF, "x", "d", (("ACCEPTD", bare), ("UNDELIV", appendix_b)), "undelivered"),
}

#: An operator known to answer in hexadecimal and report in decimal, with ids that are digits in
#: both bases: 0x1010 is reported as 4112, which is also another message's submit id (0x4112).
#: Only the forced receipt_id_format tells them apart.
HEX_DECIMAL_PLANS = {
    "380971260001": Plan(0x1010, "x", "d", (("DELIVRD", appendix_b),), "delivered"),
    "380971260002": Plan(0x4112, "x", "d", (("UNDELIV", appendix_b),), "undelivered"),
    "380971260003": Plan(0x0100, "08x", "010d", (("EXPIRED", appendix_b),), "expired"),
    "380971260004": Plan(0x0256, "x", "d", (("DELIVRD", appendix_b),), "delivered"),  # 598; 0x598 isn't sent
}


def engine_for(platform, smsc: StyledSmsc, **overrides) -> tuple[Engine, SmppConnector]:
    settings = dict(name="operator", host="127.0.0.1", port=smsc.port, system_id="relaybox", password="pw",
                    tps=0, window=20, reconnect_min=0.05, reconnect_max=0.2, response_timeout=2.0,
                    receipt_ack_timeout=1.0)
    smpp = SmppConnector(SmppSettings(**{**settings, **overrides}))
    builtin = SimulatorConnector(speed=0)
    return Engine(platform, builtin, router=Router(builtin, {"operator": smpp}, default="operator")), smpp


async def send_plans(platform, plans: dict[str, Plan]) -> int:
    account_id, _ = await make_account(platform)
    recipients = [Recipient(path=f"messages.{i}", phone=int(phone), text=plan.text, sender="relaybox")
                  for i, (phone, plan) in enumerate(plans.items())]
    outcome = await sending.send(platform, Caller(account_id, False), recipients, sending.SendOptions())
    return outcome.campaign.id


async def statuses(platform, campaign_id: int) -> dict[str, str]:
    async with platform.db.read() as conn:
        rows = (await conn.execute(select(messages).where(messages.c.campaign_id == campaign_id))).all()
    return {str(r.phone): r.status for r in rows}


async def settled(platform, campaign_id: int, plans: dict[str, Plan]):
    now = await statuses(platform, campaign_id)
    return now if now == {phone: plan.expected for phone, plan in plans.items()} else None


@pytest.fixture
async def styled():
    smscs: list[StyledSmsc] = []

    async def start(plans: dict[str, Plan]) -> StyledSmsc:
        smsc = StyledSmsc(plans=plans)
        await smsc.start()
        smscs.append(smsc)
        return smsc

    yield start
    for smsc in smscs:
        await smsc.stop()


async def test_every_receipt_style_reaches_its_final_status(platform, styled):
    smsc = await styled(AUTO_PLANS)
    campaign_id = await send_plans(platform, AUTO_PLANS)
    engine, smpp = engine_for(platform, smsc)
    await engine.start()
    try:
        await wait_until(lambda: settled(platform, campaign_id, AUTO_PLANS), timeout=20)
        await asyncio.sleep(smsc.gap * 3)  # any receipt still on its way must change nothing
        assert await settled(platform, campaign_id, AUTO_PLANS)
        receipts = sum(len(p.receipts) for p in AUTO_PLANS.values())
        await wait_until(lambda: _true(smsc.acked == receipts))  # every deliver_sm answered
        # a message whose operator sent only ACCEPTD is ended by its validity, as expired
        waiting = "380971250011"
        async with platform.db.write() as conn:
            await conn.execute(update(messages).where(messages.c.campaign_id == campaign_id,
                                                      messages.c.phone == int(waiting)).values(expires_at=utcnow()))
        await engine._expire()
        assert (await statuses(platform, campaign_id))[waiting] == "expired"
    finally:
        await engine.stop()
    assert smsc.submits == len(AUTO_PLANS)


async def test_a_forced_receipt_id_format_for_an_ambiguous_operator(platform, styled):
    smsc = await styled(HEX_DECIMAL_PLANS)
    campaign_id = await send_plans(platform, HEX_DECIMAL_PLANS)
    engine, smpp = engine_for(platform, smsc, receipt_id_format="hex-decimal")
    await engine.start()
    try:
        await wait_until(lambda: settled(platform, campaign_id, HEX_DECIMAL_PLANS), timeout=20)
        await asyncio.sleep(smsc.gap * 3)
        assert await settled(platform, campaign_id, HEX_DECIMAL_PLANS)
    finally:
        await engine.stop()


async def _true(value: bool) -> bool:
    return value
