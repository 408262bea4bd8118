"""Inbound SMS from a foreign SMSC: its deliver_sm written by `aiosmpplib`'s codec (not the `smpp34`
one relaybox reads with), over real TCP to the engine's SMPP connector.  A long UCS-2 text in
`message_payload`, Latin-1 (data_coding 3), GSM 03.38 parts tied by sar_* TLVs out of order, and a
redelivery: each stored once, every deliver_sm answered.  Both stores."""

from __future__ import annotations

from dataclasses import dataclass

from aiosmpplib.protocol import (
    SAR_MSG_REF_NUM,
    SAR_SEGMENT_SEQNUM,
    SAR_TOTAL_SEGMENTS,
    DeliverSm,
    OptionalParam,
)
from aiosmpplib.state import NPI, TON, PhoneNumber
from sqlalchemy import select

from relaybox.connectors.routing import Router
from relaybox.connectors.simulator import SimulatorConnector
from relaybox.connectors.smpp import SmppConnector
from relaybox.engine import Engine
from relaybox.services import inbound
from relaybox.store.tables import inbound_messages
from tests.aiosmpplib_smsc import AiosmpplibSmsc
from tests.conftest import wait_until
from tests.factories import make_account
from tests.integration.test_smpp_engine import smpp_settings

TWO_WAY = "447700900123"
LONG_UCS2 = "Добрий день! Так, підтверджую візит у четвер о 10:00. Дякую 🙂 " * 4


def mo(source: str, text: str, encoding: str, sar: tuple[int, int, int] | None = None) -> DeliverSm:
    params = None
    if sar is not None:
        params = [OptionalParam(SAR_MSG_REF_NUM, sar[0]), OptionalParam(SAR_TOTAL_SEGMENTS, sar[1]),
                  OptionalParam(SAR_SEGMENT_SEQNUM, sar[2])]
    return DeliverSm(
        short_message=text, source=PhoneNumber(source, TON.INTERNATIONAL, NPI.ISDN),
        destination=PhoneNumber(TWO_WAY, TON.INTERNATIONAL, NPI.ISDN), esm_class=0, registered_delivery=0,
        encoding=encoding, optional_params=params,
    )


@dataclass
class ForeignSmsc(AiosmpplibSmsc):
    """Binds any transceiver, then sends its MOs, one after another, and counts the answers."""

    messages: list[DeliverSm]

    def answer_bind(self, bind, header, writer, sequence) -> bool:
        super().answer_bind(bind, header, writer, sequence)
        for message in self.messages:
            message.sequence_num = next(sequence)
            writer.write(message.pdu())
        return True


async def test_a_foreign_smscs_mobile_originated_messages(platform):
    account_id, _ = await make_account(platform)
    await inbound.add_number(platform, account_id, TWO_WAY)
    messages = [
        mo("380971234561", LONG_UCS2, "ucs2"),  # 566 octets: aiosmpplib puts them in message_payload
        mo("380971234562", "Grüße aus Köln", "latin_1"),
        mo("380971234563", "second half.", "gsm0338", sar=(300, 2, 2)),
        mo("380971234563", "Sent in two parts, the ", "gsm0338", sar=(300, 2, 1)),
        mo("380971234564", "Yes {please} [ok] €5", "gsm0338"),
        mo("380971234564", "Yes {please} [ok] €5", "gsm0338"),  # redelivered
    ]
    smsc = ForeignSmsc(messages=messages)
    await smsc.start()
    builtin = SimulatorConnector(speed=0)
    smpp = SmppConnector(smpp_settings(smsc.port, system_id="x", password="y"))
    engine = Engine(platform, builtin, router=Router(builtin, {"operator": smpp}, default="operator"))
    await engine.start()
    try:
        await wait_until(lambda: _acked(smsc, len(messages)))
        async with platform.db.read() as conn:
            rows = (await conn.execute(select(inbound_messages).order_by(inbound_messages.c.id))).all()
    finally:
        await engine.stop()
        await smsc.stop()
    got = {r.sender: (r.text, r.encoding, r.parts) for r in rows}
    assert got == {
        "380971234561": (LONG_UCS2, "ucs2", 1),
        "380971234562": ("Grüße aus Köln", "latin1", 1),
        "380971234563": ("Sent in two parts, the second half.", "gsm7", 2),
        "380971234564": ("Yes {please} [ok] €5", "gsm7", 1),
    }
    assert {r.account_id for r in rows} == {account_id}


async def _acked(smsc: ForeignSmsc, n: int):
    return smsc.acked >= n
