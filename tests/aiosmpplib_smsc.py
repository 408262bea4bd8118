"""A foreign SMSC for the SMPP tests: every PDU read and written with `aiosmpplib`'s protocol
classes (a pure-Python SMPP 3.4 implementation, independent of the `smpp34` codec and of the
framing in relaybox's `connectors/smpp/`), over real TCP on 127.0.0.1.

`AiosmpplibSmsc` serves one transceiver session at a time: it answers the bind (`answer_bind`),
hands each submit_sm, decoded, to `on_submit`, counts the deliver_sm_resp it gets (`acked`),
answers enquire_link and unbind, and closes the connection when the client goes away.
Subclasses (tests/integration/test_smpp_interop.py, test_smpp_receipt_styles.py,
test_inbound_foreign_smsc.py) decide what a bind and a submit_sm are answered with and which
deliver_sm they send.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiosmpplib.protocol import (
    BindTransceiver,
    BindTransceiverResp,
    EnquireLinkResp,
    PduHeader,
    SmppMessage,
    SubmitSm,
    UnbindResp,
)
from aiosmpplib.state import SmppCommand, SmppCommandStatus

Numbers = Iterator[int]  # the session's sequence numbers, for the PDUs the SMSC starts


@dataclass(kw_only=True)
class AiosmpplibSmsc:
    """The session loop; `port` is set by `start()`. Background tasks a subclass starts go in
    `tasks`, and `stop()` cancels them."""

    system_id: str = "FOREIGN"  # what the bind's answer names the SMSC
    port: int = 0
    acked: int = 0  # deliver_sm_resp received
    tasks: set = field(default_factory=set)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.server.close()
        for task in list(self.tasks):
            task.cancel()

    def answer_bind(self, bind: BindTransceiver, header: PduHeader, writer: asyncio.StreamWriter,
                    sequence: Numbers) -> bool:
        """Write the answer to a bind_transceiver (and anything the SMSC sends right after it);
        False ends the session. This one takes any credentials."""
        writer.write(BindTransceiverResp(header.sequence_num, SmppCommandStatus.ESME_ROK,
                                         system_id=self.system_id).pdu())
        return True

    def on_submit(self, submit: SubmitSm, header: PduHeader, writer: asyncio.StreamWriter,
                  sequence: Numbers) -> None:
        """Answer a submit_sm (its text decoded by data_coding, GSM 03.38 for 0). This one leaves
        it unanswered: an SMSC that only sends has nothing to say."""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sequence = itertools.count(1)
        try:
            while True:
                head = await reader.readexactly(16)
                header = SmppMessage.parse_header(head)
                raw = head + await reader.readexactly(header.pdu_length - 16)
                command = header.smpp_command
                if command == SmppCommand.BIND_TRANSCEIVER:
                    if not self.answer_bind(BindTransceiver.from_pdu(raw, header), header, writer, sequence):
                        await writer.drain()
                        return
                elif command == SmppCommand.SUBMIT_SM:
                    self.on_submit(SubmitSm.from_pdu(raw, header, "gsm0338"), header, writer, sequence)
                elif command == SmppCommand.DELIVER_SM_RESP:
                    self.acked += 1
                elif command == SmppCommand.ENQUIRE_LINK:
                    writer.write(EnquireLinkResp(header.sequence_num).pdu())
                elif command == SmppCommand.UNBIND:
                    writer.write(UnbindResp(header.sequence_num).pdu())
                    await writer.drain()
                    return
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
