"""SMPP 3.4 on the wire: framing, command ids, command statuses, and the PDUs relaybox uses.

`submit_sm` and `deliver_sm` — the PDUs with many fields and optional parameters
(TLVs) — are encoded and decoded by the `smpp34` library's codec
(docs/connectors.md, "Library").  The session PDUs — binds, `enquire_link`,
`unbind`, the responses and `generic_nack` — are a 16-octet header and at most a
few C-octet strings; they are built and read here.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from enum import IntEnum

import smpp34

HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number
HEADER_SIZE = HEADER.size
#: Longest PDU accepted from a peer: a short_message of 254 octets plus generous TLVs.
#: A longer command_length means the stream is out of step (or hostile): the link is dropped.
MAX_PDU = 8 * 1024
RESPONSE = 0x80000000

#: Vendor-specific optional parameter (0x1400-0x3FFF) carrying relaybox's message id as
#: ASCII digits.  The SMSC simulator drops a resubmission by it (docs/connectors.md).
TLV_RELAYBOX_MESSAGE_ID = 0x1501
TLV_RECEIPTED_MESSAGE_ID = smpp34.TLV_RECEIPTED_MESSAGE_ID  # 0x001E
TLV_MESSAGE_STATE = smpp34.TLV_MESSAGE_STATE  # 0x0427
TLV_MESSAGE_PAYLOAD = 0x0424  # the message's octets when they are not in short_message (SMPP 3.4 §5.3.2.32)

SMPP_VERSION = 0x34


class Command(IntEnum):
    """SMPP 3.4 command_id values (§5.1.2.1) relaybox sends or answers."""
    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015


BINDS = frozenset({Command.BIND_RECEIVER, Command.BIND_TRANSMITTER, Command.BIND_TRANSCEIVER})


class Status(IntEnum):
    """command_status values (SMPP 3.4 §5.1.3) that relaybox reads or sends."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RINVREGDLVFLG = 0x07
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RMSGQFUL = 0x14
    ESME_RINVSERTYP = 0x15
    ESME_RINVESMCLASS = 0x43
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF


def status_name(code: int) -> str:
    """`ESME_RTHROTTLED (0x00000058)`; the hex code alone for a status this module does not name."""
    try:
        return f"{Status(code).name} (0x{code:08X})"
    except ValueError:
        return f"0x{code:08X}"


class ProtocolError(Exception):
    """The peer sent something that is not SMPP 3.4: the link cannot continue."""


@dataclass(frozen=True, slots=True)
class Header:
    """A PDU header (SMPP 3.4 §3.2): command_length (bytes, header included), command_id, command_status, sequence_number."""
    length: int
    command_id: int
    status: int
    sequence: int


def frame(command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    """A whole PDU: the 16-byte header and `body`."""
    return HEADER.pack(HEADER_SIZE + len(body), command_id, status, sequence) + body


async def read_pdu(reader: asyncio.StreamReader) -> tuple[Header, bytes]:
    """The next whole PDU: its header and the PDU's bytes (header included)."""
    raw = await reader.readexactly(HEADER_SIZE)
    header = Header(*HEADER.unpack(raw))
    if not HEADER_SIZE <= header.length <= MAX_PDU:
        raise ProtocolError(f"command_length {header.length} out of range")
    return header, raw + await reader.readexactly(header.length - HEADER_SIZE)


def c_string(value: str, limit: int) -> bytes:
    """A C-Octet String (SMPP 3.4 §3.1): ASCII and a NUL, `limit` counting the NUL.

    Raises ValueError when it is too long, UnicodeEncodeError when it is not ASCII.
    """
    data = value.encode("ascii")
    if len(data) >= limit:
        raise ValueError(f"{value!r} is longer than {limit - 1} characters")
    return data + b"\0"


def read_c_strings(body: bytes, count: int) -> tuple[list[str], int]:
    """`count` C-octet strings from the start of `body`, and the offset after them."""
    values: list[str] = []
    offset = 0
    for _ in range(count):
        end = body.find(b"\0", offset)
        if end < 0:
            raise ProtocolError("C-octet string without its terminating NUL")
        values.append(body[offset:end].decode("latin-1"))
        offset = end + 1
    return values, offset


# -- session PDUs ---------------------------------------------------------------


def bind(command: Command, sequence: int, system_id: str, password: str, system_type: str = "") -> bytes:
    """A bind_transmitter, bind_receiver or bind_transceiver PDU (SMPP 3.4 §4.1) for interface version 3.4, any address range.

    Raises ValueError when a field exceeds its length (system_id 15, password 8, system_type 12).
    """
    body = (
        c_string(system_id, 16)
        + c_string(password, 9)
        + c_string(system_type, 13)
        + bytes((SMPP_VERSION, 0, 0))  # interface_version, addr_ton, addr_npi
        + b"\0"  # address_range: any
    )
    return frame(command, sequence, body)


@dataclass(frozen=True, slots=True)
class BindRequest:
    """An ESME's bind request as the SMSC simulator reads it."""
    system_id: str
    password: str
    system_type: str
    interface_version: int


def parse_bind(pdu: bytes) -> BindRequest:
    """Read a bind PDU (SMPP 3.4 §4.1). Raises ProtocolError when it is short or a string lacks its NUL."""
    (system_id, password, system_type), offset = read_c_strings(pdu[HEADER_SIZE:], 3)
    body = pdu[HEADER_SIZE:]
    if len(body) < offset + 3:
        raise ProtocolError("bind too short")
    return BindRequest(system_id, password, system_type, body[offset])


def bind_resp(request: Command, sequence: int, status: int, system_id: str) -> bytes:
    """The response to a bind `request`: system_id on success, no body on an error."""
    # An error response carries no body (SMPP 3.4 §4.1: "the body ... is not returned").
    body = c_string(system_id, 16) if status == Status.ESME_ROK else b""
    return frame(request | RESPONSE, sequence, body, status)


def submit_sm_resp(sequence: int, status: int, message_id: str = "") -> bytes:
    """A submit_sm_resp (SMPP 3.4 §4.4.2): the message_id on success, no body on an error."""
    body = c_string(message_id, 65) if status == Status.ESME_ROK else b""
    return frame(Command.SUBMIT_SM_RESP, sequence, body, status)


def response_message_id(pdu: bytes) -> str:
    """The message_id of a submit_sm_resp ("" when the body is empty, as after an error)."""
    body = pdu[HEADER_SIZE:]
    if not body:
        return ""
    return read_c_strings(body, 1)[0][0]


def empty(command_id: int, sequence: int, status: int = 0) -> bytes:
    """enquire_link, unbind, their responses, deliver_sm_resp (a NUL message_id), generic_nack."""
    body = b"\0" if command_id == Command.DELIVER_SM_RESP else b""
    return frame(command_id, sequence, body, status)


# -- submit_sm and deliver_sm, through smpp34's codec -----------------------------------


def submit_sm(
    sequence: int,
    *,
    source: str,
    source_ton: int,
    source_npi: int,
    destination: str,
    short_message: bytes,
    data_coding: int,
    esm_class: int,
    registered_delivery: int,
    service_type: str = "",
    validity_period: str = "",
    tlvs: list[tuple[int, bytes]] = (),
) -> bytes:
    """A submit_sm PDU (SMPP 3.4 §4.4.1) to an international E.164 destination (TON 1, NPI 1)."""
    return smpp34.SubmitSm(
        source,
        destination,
        short_message,
        service_type=service_type,
        source_addr_ton=source_ton,
        source_addr_npi=source_npi,
        dest_addr_ton=1,  # international
        dest_addr_npi=1,  # E.164
        esm_class=esm_class,
        registered_delivery=registered_delivery,
        data_coding=data_coding,
        validity_period=validity_period,
        tlvs=[smpp34.Tlv(tag, value) for tag, value in tlvs],
        sequence_number=sequence,
    ).encode()


def deliver_sm(
    sequence: int,
    *,
    source: str,
    destination: str,
    short_message: bytes,
    esm_class: int,
    data_coding: int = 0,
    tlvs: list[tuple[int, bytes]] = (),
) -> bytes:
    """A deliver_sm PDU (SMPP 3.4 §4.6.1) from an international E.164 source, as an SMSC sends a DLR or an MO."""
    return smpp34.DeliverSm(
        source,
        destination,
        short_message,
        source_addr_ton=1,
        source_addr_npi=1,
        esm_class=esm_class,
        data_coding=data_coding,
        tlvs=[smpp34.Tlv(tag, value) for tag, value in tlvs],
        sequence_number=sequence,
    ).encode()


def decode(pdu: bytes):
    """A submit_sm or deliver_sm as smpp34's typed object (fields, `tlvs`); ProtocolError if malformed."""
    try:
        return smpp34.decode(pdu)
    except smpp34.SmppError as exc:
        raise ProtocolError(str(exc)) from exc


def tlv(message, tag: int) -> bytes | None:
    """The value of a decoded PDU's optional parameter, or None."""
    for item in message.tlvs:
        if item.tag == tag:
            return bytes(item.value)
    return None
