"""`Client`: the blocking client (httpx.Client).  Every method is one call of client/calls.py,
carried by client/flow.py; nothing here decides anything."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar, Unpack

import httpx

from relaybox.client import calls
from relaybox.client._doc import doc_from
from relaybox.client.calls import Call, CampaignFilters, IndividualMessage, MessageFilters, PhoneInput, Recipient
from relaybox.client.flow import Reply, Retry, Send, Session, Step
from relaybox.client.models import (
    Balance,
    Campaign,
    CampaignDetail,
    LegacyBalance,
    LegacyMessageStatus,
    LegacyPrice,
    LegacyResult,
    LegacyTask,
    LegacyTaskStatus,
    Message,
    Page,
    Price,
    Tariff,
)

T = TypeVar("T")



class Client:
    """A BSG-compatible API at `base_url` (relaybox, or BSG's own cloud), blocking.

    `api_key`: `live_…`/`test_…`.  `auth`: "bearer" (log in for a JWT and refresh it, as BSG
    documents) or "key" (send `X-API-KEY` on every call).  `legacy_url`: where `/rest/...` lives
    when not at `base_url`.  `timeout` in seconds; `retry`: see client/flow.py.  Use as a context
    manager, or call `close()`.  Errors: client/errors.py (every method raises only those).
    """

    def __init__(self, base_url: str, api_key: str | None = None, *, legacy_url: str | None = None,
                 auth: Literal["bearer", "key"] = "bearer", timeout: float = 30.0, retry: Retry | None = None,
                 transport: httpx.BaseTransport | None = None):
        self._session = Session(base_url, api_key, legacy_url=legacy_url, auth=auth, retry=retry)
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._sleep = time.sleep
        self.legacy = LegacyApi(self)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, call: Call[T]) -> T:
        """Make any call of client/calls.py (the methods below are shorthands)."""
        return self._drive(self._session.run(call))

    def _drive(self, flow: Generator[Step, Reply, T]) -> T:
        # carry out what the session asks for (client/flow.py) until it has the result
        try:
            step = next(flow)
            while True:
                if isinstance(step, Send):
                    try:
                        reply: Reply = self._http.request(step.method, step.url, params=step.params, json=step.json,
                                                          headers=step.headers)
                    except (httpx.HTTPError, httpx.InvalidURL) as exc:
                        reply = exc
                    step = flow.send(reply)
                else:
                    self._sleep(step.seconds)
                    step = flow.send(None)
        except StopIteration as done:
            return done.value

    def pages(self, call: Call[Page[T]]) -> Iterator[Page[T]]:
        """The page `call` asks for, then each following one (`page[offset]` moved on) until the last."""
        next_call: Call[Page[T]] | None = call
        while next_call is not None:
            page = self.call(next_call)
            yield page
            next_call = calls.next_page(next_call, page)

    # -- One API ----------------------------------------------------------------------------------

    @doc_from(calls.login)
    def login(self) -> str:
        return self._drive(self._session.login_now())

    @doc_from(calls.refresh)
    def refresh(self) -> str:
        return self._drive(self._session.refresh_now())

    @doc_from(calls.balance)
    def balance(self) -> Balance:
        return self.call(calls.balance())

    @doc_from(calls.tariffs)
    def tariffs(self, *, offset: int = 0, limit: int = 50) -> list[Tariff]:
        return self.call(calls.tariffs(offset=offset, limit=limit))

    @doc_from(calls.send_sms)
    def send_sms(self, phones: Iterable[PhoneInput | Recipient | tuple[PhoneInput, str | None]], text: str,
                 sender: str, **options: Unpack[calls.SendOptions]) -> Campaign:
        return self.call(calls.send_sms(phones, text, sender, **options))

    @doc_from(calls.send_individual)
    def send_individual(self, messages: Iterable[IndividualMessage], **options: Unpack[calls.SendOptions]) -> Campaign:
        return self.call(calls.send_individual(messages, **options))

    @doc_from(calls.send_message)
    def send_message(self, phone: PhoneInput, text: str, sender: str, **options: Any) -> Message:
        return self.call(calls.send_message(phone, text, sender, **options))

    @doc_from(calls.price)
    def price(self, phones: Iterable[PhoneInput], text: str, sender: str, *, tariff_code: int | None = None) -> Price:
        return self.call(calls.price(phones, text, sender, tariff_code=tariff_code))

    @doc_from(calls.campaigns)
    def campaigns(self, **filters: Unpack[CampaignFilters]) -> Page[Campaign]:
        return self.call(calls.campaigns(**filters))

    def iter_campaigns(self, **filters: Unpack[CampaignFilters]) -> Iterator[Campaign]:
        """Every campaign matching `filters`, walking the pages (`limit` is the page size)."""
        for page in self.pages(calls.campaigns(**filters)):
            yield from page.items

    @doc_from(calls.campaign)
    def campaign(self, campaign_id: int) -> Campaign:
        return self.call(calls.campaign(campaign_id))

    @doc_from(calls.campaign_detail)
    def campaign_detail(self, campaign_id: int) -> CampaignDetail:
        return self.call(calls.campaign_detail(campaign_id))

    @doc_from(calls.stop_campaign)
    def stop_campaign(self, campaign_id: int) -> Campaign:
        return self.call(calls.stop_campaign(campaign_id))

    @doc_from(calls.messages)
    def messages(self, **filters: Unpack[MessageFilters]) -> Page[Message]:
        return self.call(calls.messages(**filters))

    def iter_messages(self, **filters: Unpack[MessageFilters]) -> Iterator[Message]:
        """Every message matching `filters`, walking the pages (`limit` is the page size, 15–500)."""
        for page in self.pages(calls.messages(**filters)):
            yield from page.items

    @doc_from(calls.message)
    def message(self, message_id: int) -> Message:
        return self.call(calls.message(message_id))

    @doc_from(calls.message_by_reference)
    def message_by_reference(self, reference_id: str) -> Message:
        return self.call(calls.message_by_reference(reference_id))


class LegacyApi:
    """The legacy REST family (`/rest/...`, `X-API-KEY`) through the same client: `client.legacy`."""

    def __init__(self, client: Client):
        self._client = client

    @doc_from(calls.legacy_create_sms)
    def create_sms(self, msisdn: PhoneInput, body: str, reference: str, originator: str, *,
                   validity: int | None = None, tariff: int | None = None,
                   send_time: datetime | str | None = None) -> LegacyResult:
        return self._client.call(calls.legacy_create_sms(msisdn, body, reference, originator, validity=validity,
                                                         tariff=tariff, send_time=send_time))

    @doc_from(calls.legacy_create_task)
    def create_task(self, phones: Sequence[tuple[PhoneInput, str]], body: str, originator: str, *,
                    validity: int | None = None, tariff: int | None = None,
                    send_time: datetime | str | None = None) -> LegacyTask:
        return self._client.call(calls.legacy_create_task(phones, body, originator, validity=validity, tariff=tariff,
                                                          send_time=send_time))

    @doc_from(calls.legacy_create_individual)
    def create_individual(self, messages: Sequence[Mapping[str, Any]], *, validity: int | None = None,
                          tariff: int | None = None, send_time: datetime | str | None = None) -> LegacyTask:
        return self._client.call(calls.legacy_create_individual(messages, validity=validity, tariff=tariff,
                                                                send_time=send_time))

    @doc_from(calls.legacy_sms_status)
    def sms_status(self, message_id: int | str) -> LegacyMessageStatus:
        return self._client.call(calls.legacy_sms_status(message_id))

    @doc_from(calls.legacy_sms_status_by_reference)
    def sms_status_by_reference(self, reference: str) -> LegacyMessageStatus:
        return self._client.call(calls.legacy_sms_status_by_reference(reference))

    @doc_from(calls.legacy_task_status)
    def task_status(self, task_id: int | str) -> LegacyTaskStatus:
        return self._client.call(calls.legacy_task_status(task_id))

    @doc_from(calls.legacy_prices)
    def prices(self, tariff: int | None = None) -> list[LegacyPrice]:
        return self._client.call(calls.legacy_prices(tariff))

    @doc_from(calls.legacy_balance)
    def balance(self) -> LegacyBalance:
        return self._client.call(calls.legacy_balance())
