"""Interoperability: relaybox's SMPP connector against an SMSC that relaybox did not write.

The SMSC below reads and writes every PDU with `aiosmpplib`'s protocol classes — a
pure-Python SMPP 3.4 implementation independent of the `smpp34` codec and of the
framing in `connectors/smpp/` — over real TCP on 127.0.0.1.  It checks the bind's
credentials, decodes each submit_sm's text by its data_coding and UDH, and sends
receipts in both common forms: `stat:` text only (no TLVs), and TLVs with a text whose
`stat:` differs (the TLV must win).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

import pytest
from aiosmpplib.protocol import BindTransceiverResp, DeliverSm, SubmitSm, SubmitSmResp
from aiosmpplib.state import NPI, TON, OptionalParam, PhoneNumber, SmppCommandStatus

from relaybox.connectors.base import Submission
from relaybox.connectors.smpp import SmppConnector, SmppSettings
from relaybox.domain.segments import analyze
from relaybox.domain.status import MessageStatus
from tests.aiosmpplib_smsc import AiosmpplibSmsc

RECEIPTED_MESSAGE_ID = 0x001E
MESSAGE_STATE = 0x0427

#: destination's last digit -> (stat in the text, message_state TLV or None)
OUTCOMES = {
    "1": ("DELIVRD", None),
    "2": ("UNDELIV", None),
    "3": ("EXPIRED", None),
    "4": ("REJECTD", None),
    "5": ("UNKNOWN", None),
    "6": ("ENROUTE", 2),  # the text says en route, the TLV says delivered: the TLV wins
    "7": ("DELETED", None),
}


@dataclass
class ForeignSmsc(AiosmpplibSmsc):
    """A small SMSC on aiosmpplib's codec: checks the bind's credentials, answers each submit_sm
    and, when asked, sends its receipt by OUTCOMES."""

    login: str = "interop"
    password: str = "pw123"
    submits: list[SubmitSm] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(5000))

    def answer_bind(self, bind, header, writer, sequence) -> bool:
        ok = bind.system_id == self.login and bind.password == self.password
        status = SmppCommandStatus.ESME_ROK if ok else SmppCommandStatus.ESME_RINVPASWD
        writer.write(BindTransceiverResp(header.sequence_num, status, system_id=self.system_id).pdu())
        return ok

    def on_submit(self, submit, header, writer, sequence) -> None:
        self.submits.append(submit)
        message_id = f"{next(self.ids)}"
        writer.write(SubmitSmResp(header.sequence_num, message_id=message_id).pdu())
        if submit.registered_delivery & 1:
            stat, state = OUTCOMES[submit.destination.number[-1]]
            params = []
            if state is not None:
                params = [OptionalParam(RECEIPTED_MESSAGE_ID, message_id), OptionalParam(MESSAGE_STATE, state)]
            receipt = DeliverSm(
                sequence_num=next(sequence),
                short_message=DeliverSm.encode_receipt({"id": message_id, "stat": stat, "sub": 1}),
                source=PhoneNumber(submit.destination.number, TON.INTERNATIONAL, NPI.ISDN),
                destination=PhoneNumber(submit.source.number, submit.source.ton, submit.source.npi),
                esm_class=0x04,
                registered_delivery=0,
                optional_params=params,
            )
            writer.write(receipt.pdu())


@pytest.fixture
async def foreign():
    smsc = ForeignSmsc()
    await smsc.start()
    yield smsc
    await smsc.stop()


def connector_for(smsc: ForeignSmsc, password: str = "pw123") -> SmppConnector:
    return SmppConnector(
        SmppSettings(name="foreign", host="127.0.0.1", port=smsc.port, system_id="interop", password=password,
                     tps=0, window=20, reconnect_min=0.05, reconnect_max=0.1, response_timeout=2.0)
    )


def sub(message_id: int, phone: int, text: str, sender: str = "Relaybox") -> Submission:
    info = analyze(text)
    return Submission(message_id, phone, "UA", sender, text, info.encoding.value, info.parts, "sms")


async def test_submits_and_receipts_interoperate(foreign):
    connector = connector_for(foreign)
    await connector.start()
    try:
        await asyncio.wait_for(connector.wait_bound(), 5)
        long_text = "Interop check @ £5 {ok} " * 12  # GSM-7 with extension characters, 3 parts
        unicode_text = "Ünïcødé ✓ " * 10
        batch = [sub(100 + int(d), 380971230000 + int(d), f"hi {d}") for d in OUTCOMES]
        batch += [sub(200, 380971230001, long_text), sub(201, 380971230001, unicode_text)]
        results = {r.message_id: r for r in await connector.submit(batch)}
        assert all(r.accepted for r in results.values())

        # the foreign codec reads what we wrote: addresses, TON/NPI, text by data_coding and UDH
        first = foreign.submits[0]
        assert first.destination.number == "380971230001" and first.destination.ton == TON.INTERNATIONAL
        assert first.source.number == "Relaybox" and first.source.ton == TON.ALPHANUMERIC
        assert first.short_message == "hi 1"
        long_parts = [s for s in foreign.submits if s.get_segmentation_data()[2] == 3]
        assert len(long_parts) == analyze(long_text).parts == 3
        assert "".join(s.short_message for s in long_parts) == long_text
        unicode_parts = [s for s in foreign.submits if s.encoding == "ucs2"]
        assert "".join(s.short_message for s in unicode_parts) == unicode_text

        expected = {
            "1": MessageStatus.DELIVERED, "2": MessageStatus.UNDELIVERED, "3": MessageStatus.EXPIRED,
            "4": MessageStatus.FAILED, "5": MessageStatus.UNKNOWN, "6": MessageStatus.DELIVERED,
            "7": MessageStatus.UNDELIVERED,
        }
        got: dict[str, MessageStatus] = {}
        while len(got) < len(batch):
            for receipt in await asyncio.wait_for(connector.receipts(), 5):
                got[receipt.operator_id] = receipt.status
                await connector.acknowledge([receipt])
        for digit, status in expected.items():
            assert got[results[100 + int(digit)].operator_id] is status, digit
        await asyncio.sleep(0.1)
        assert foreign.acked == len(batch)  # every receipt answered
    finally:
        await connector.stop()


async def test_foreign_smsc_refusing_the_bind(foreign):
    connector = connector_for(foreign, password="nope")
    await connector.start()
    try:
        await asyncio.sleep(0.3)
        assert not connector.bound and "ESME_RINVPASWD" in connector.last_error
    finally:
        await connector.stop()
