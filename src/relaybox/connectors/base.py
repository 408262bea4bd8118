"""The connector contract: submit a batch, later report delivery receipts.

A connector is where messages leave relaybox.  The engine hands it batches of
`Submission`s and gets back one `SubmitResult` each; receipts arrive later,
keyed by the operator id the connector gave at submit, and so do the clicks
on an RCS message's suggestion buttons.  Submissions carry relaybox's message id so that a connector can drop a resubmission of a
message it already has (the engine resubmits messages whose result was lost
in a crash).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from collections.abc import Callable
from typing import Protocol

from relaybox.domain.status import MessageStatus


@dataclass(frozen=True, slots=True)
class Submission:
    """One MT to hand to a connector: E.164 phone as an integer, ISO country, `encoding` (gsm7 | ucs2), `parts`
    (SMS segments) and, for RCS, its content.
    """
    message_id: int
    phone: int
    country: str
    sender: str
    text: str
    encoding: str
    parts: int
    channel: str  # sms | rcs
    rcs_options: dict | None = None  # RCS content: {"text"?, "cards"?} (domain/rcs.py)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """A connector's answer to one Submission: accepted with the SMSC's message id (`operator_id`), or refused with `error`."""
    message_id: int
    accepted: bool
    operator_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """A DLR: the SMSC's message id, the status it reports and when."""
    operator_id: str
    status: MessageStatus
    at: datetime
    #: Other forms of the id that may name the same message, tried in the same lookup:
    #: `alternatives` at once, `converted` only once `operator_id` has found nothing for a
    #: while and only onto a message still waiting for its receipt (an SMSC that writes the
    #: id in another base; connectors/smpp/message_ids.py).
    alternatives: tuple[str, ...] = ()
    converted: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Click:
    """The recipient pressed a suggestion button of an RCS message (not a status change)."""

    operator_id: str
    text: str  # the button's text
    postback: str | None  # the button's postback_data
    at: datetime


@dataclass(frozen=True, slots=True, eq=False)
class Inbound:
    """A mobile-originated message, or one part of a concatenated one (not about a submitted message).

    `reference`/`total`/`number`: the concatenation (UDH 8- or 16-bit reference, or sar_* TLVs);
    reference None and total 1 for a message in one piece.  `network_id`: an id the network gives
    the message, when it gives one (the simulator does), which tells a redelivery from a new
    message with the same text.  Compared by identity: two deliveries of one MO are two reports.
    """

    sender: str  # the subscriber (source_addr)
    recipient: str  # the number or sender it was sent to (destination_addr)
    text: str
    encoding: str  # gsm7 | ucs2 | latin1 | ascii | binary
    at: datetime
    reference: int | None = None
    total: int = 1
    number: int = 1
    network_id: str | None = None


#: What a connector reports: delivery receipts, RCS suggestion clicks, and inbound messages.
Report = Receipt | Click | Inbound


class Connector(Protocol):
    """The connector contract (docs/connectors.md): submit batches of MTs, receive receipts; the simulator is both the
    default and the tests' fake.
    """
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def submit(self, batch: list[Submission]) -> list[SubmitResult]:
        """Hand messages over; one result per submission, in any order."""
        ...

    async def receipts(self) -> list[Report]:
        """Wait for delivery receipts (and clicks) and return those available (at least one)."""
        ...


class TransactionalNetwork(Protocol):
    """Optional hooks of a connector whose network keeps its state in relaybox's own database.

    The database-backed simulator (connectors/shared_simulator.py) records what
    it was handed and the reports it owes in the same transactions in which the
    engine records the submit results and the reports, instead of in
    transactions of its own: on SQLite each of those would queue for the one
    write lock that the API's sends need too.  Since both records commit
    together, a crash can never leave a message `sent` without the report it
    waits for being stored, nor a report stored after it was recorded.
    """

    async def record_submitted(self, conn, results: list[SubmitResult]) -> tuple[list[SubmitResult], Callable[[], None]]:
        """In the engine's transaction that records `results` (from `submit`): the network's own
        record of them.  Returns the results to record (a resubmitted id gets the answer it got
        the first time) and what to do once that transaction has committed."""
        ...

    async def forget_reports(self, conn, reports: list[Report]) -> None:
        """In the engine's transaction that records `reports`: the network forgets them."""
        ...
