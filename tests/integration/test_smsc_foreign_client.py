"""`relaybox smsc` seen from an ESME that relaybox did not write, over real TCP.

The client reads and writes every PDU with `aiosmpplib`'s protocol classes (not the
`smpp34` codec, not `connectors/smpp/`).  It submits GSM 03.38 and UCS-2 texts, in
`short_message` and in `message_payload`, and decodes every receipt strictly with the
coding the receipt declares (aiosmpplib's GSM 03.38 codec for data_coding 0, UCS-2 for
8): a receipt whose octets are not in its declared coding fails the decode.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest
from aiosmpplib.protocol import (
    BindTransceiver,
    DeliverSm,
    DeliverSmResp,
    SmppMessage,
    SubmitSm,
    SubmitSmResp,
    Unbind,
)
from aiosmpplib.state import NPI, TON, PhoneNumber, SmppCommand, SmppCommandStatus

from relaybox.smsc import SmscSimulator

#: (text, sent in message_payload, the data_coding relaybox smsc must declare on the receipt)
TEXTS = [
    ("café é", False, 0),  # é is in the GSM 03.38 basic table (0x05); it went out as Latin-1 0xE9
    ("€5 [ok] {x} ~^|\\", False, 0),  # extension characters: ESC + code
    ("@£$¥ èéùìò Ç Ø", False, 0),
    ("Привет, é € [", False, 8),  # not GSM 03.38: the receipt says UCS-2 and is UCS-2
    ("ok 🙂 €", False, 8),
    ("payload é € [" + "x" * 170, True, 0),  # 183 septets: message_payload, echoed all the same
    ("payload Привет " * 6, True, 8),
]


@pytest.fixture
async def smsc():
    server = SmscSimulator(port=0, speed=0)
    await server.start()
    yield server
    await server.stop()


async def read(reader: asyncio.StreamReader) -> tuple[object, bytes]:
    head = await reader.readexactly(16)
    header = SmppMessage.parse_header(head)
    return header, head + await reader.readexactly(header.pdu_length - 16)


async def test_receipts_decode_strictly_with_their_declared_coding(smsc):
    reader, writer = await asyncio.open_connection("127.0.0.1", smsc.port)
    sequence = itertools.count(1)
    try:
        writer.write(BindTransceiver(next(sequence), system_id="foreign", password="pw").pdu())
        header, _ = await asyncio.wait_for(read(reader), 5)
        assert header.smpp_command == SmppCommand.BIND_TRANSCEIVER_RESP
        assert header.command_status == SmppCommandStatus.ESME_ROK

        sent: dict[int, tuple[str, int]] = {}  # submit sequence -> (text, expected data_coding)
        for index, (text, as_payload, coding) in enumerate(TEXTS):
            submit = SubmitSm(
                sequence_num=next(sequence),
                short_message="" if as_payload else text,
                message_payload=text if as_payload else "",
                source=PhoneNumber("Foreign", TON.ALPHANUMERIC, NPI.UNKNOWN),
                destination=PhoneNumber(f"3809712{index:03d}11", TON.INTERNATIONAL, NPI.ISDN),
                registered_delivery=1,
            )
            writer.write(submit.pdu())
            sent[submit.sequence_num] = (text, coding)
        await writer.drain()

        ids: dict[int, str] = {}  # submit sequence -> SMSC message id
        receipts: list[tuple[int, DeliverSm]] = []  # (declared data_coding, decoded receipt)
        while len(receipts) < len(TEXTS) or len(ids) < len(TEXTS):
            header, raw = await asyncio.wait_for(read(reader), 5)
            if header.smpp_command == SmppCommand.SUBMIT_SM_RESP:
                assert header.command_status == SmppCommandStatus.ESME_ROK
                ids[header.sequence_num] = SubmitSmResp.from_pdu(raw, header).message_id
            elif header.smpp_command == SmppCommand.DELIVER_SM:
                # strict: the GSM 03.38 codec raises on an octet that is not a septet
                receipt = DeliverSm.from_pdu(raw, header, "gsm0338")
                declared = 8 if receipt.encoding == "ucs2" else 0 if receipt.encoding is None else -1
                receipts.append((declared, receipt))
                writer.write(DeliverSmResp(header.sequence_num).pdu())

        by_id = {ids[seq]: (text, coding) for seq, (text, coding) in sent.items()}
        assert len(by_id) == len(TEXTS)
        for declared, receipt in receipts:
            assert receipt.is_receipt()
            fields = receipt.parse_receipt()  # aiosmpplib's own reading of the Appendix B text
            text, coding = by_id[fields["id"]]
            assert declared == coding, text
            assert fields["stat"] == "DELIVRD"
            assert fields["text"] == text[:20]  # the first 20 characters of the message, intact
        assert {r.parse_receipt()["id"] for _, r in receipts} == set(by_id)
        writer.write(Unbind(next(sequence)).pdu())
        await writer.drain()
    finally:
        writer.close()
