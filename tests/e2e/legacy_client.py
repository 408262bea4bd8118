"""A small BSG legacy REST client, written the way the official clients call relaybox's `/rest` routes.

Like them it sends JSON bodies with `X-API-KEY`, creates messages with `PUT`,
treats any HTTP status >= 400 as a transport failure, and otherwise hands
back the decoded body, whose `error` field carries the application's answer.
"""

from __future__ import annotations

from typing import Any

import httpx


class TransportError(Exception):
    """The server answered with an HTTP error status (the official clients stop there)."""

    def __init__(self, response: httpx.Response):
        super().__init__(f"HTTP {response.status_code}: {response.text[:200]}")
        self.status_code = response.status_code


class LegacyClient:
    def __init__(self, base_url: str, api_key: str | None, *, prefix: str = "/rest", timeout: float = 30.0):
        headers = {"Accept": "application/json"}
        if api_key is not None:
            headers["X-API-KEY"] = api_key
        self.http = httpx.Client(base_url=base_url.rstrip("/") + prefix, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> LegacyClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transport -----------------------------------------------------------------

    def call(self, method: str, path: str, payload: Any = None, *, content: bytes | None = None) -> dict:
        kwargs: dict = {}
        if content is not None:
            kwargs = {"content": content, "headers": {"Content-Type": "application/json; charset=utf-8"}}
        elif payload is not None:
            kwargs = {"json": payload}
        response = self.http.request(method, path.lstrip("/"), **kwargs)
        if response.status_code >= 400:
            raise TransportError(response)
        return response.json()

    # -- SMS ------------------------------------------------------------------------

    def send_sms(self, msisdn, body, reference, *, originator="relaybox", validity=72, tariff=None, **extra) -> dict:
        message = {"destination": "phone", "msisdn": msisdn, "originator": originator, "body": body,
                   "reference": reference, "validity": validity, **extra}
        if tariff is not None:
            message["tariff"] = tariff
        return self.call("PUT", "sms/create", message)

    def send_task(self, phones: list[dict], body, *, originator="relaybox", validity=72, tariff=None, **extra) -> dict:
        """The same text to `phones` = [{"msisdn", "reference"}, ...]."""
        message = {"destination": "phones", "phones": phones, "originator": originator, "body": body,
                   "validity": validity, **extra}
        if tariff is not None:
            message["tariff"] = tariff
        return self.call("PUT", "sms/create", message)

    def send_individual(self, messages: list[dict], *, validity=72, tariff=None, **extra) -> dict:
        """`messages` = [{"msisdn", "reference", "originator", "body"}, ...]."""
        message = {"destination": "individual", "phones": messages, "validity": validity, **extra}
        if tariff is not None:
            message["tariff"] = tariff
        return self.call("PUT", "sms/create", message)

    def price(self, message: dict) -> dict:
        """The same bodies as create, priced only."""
        return self.call("PUT", "sms/price", message)

    def status(self, sms_id) -> dict:
        return self.call("GET", f"sms/{sms_id}")

    def status_by_reference(self, reference: str) -> dict:
        return self.call("GET", f"sms/reference/{reference}")

    def task_status(self, task_id) -> dict:
        return self.call("GET", f"sms/task/{task_id}")

    def prices(self, tariff=None) -> dict:
        return self.call("GET", "sms/prices" if tariff is None else f"sms/prices/{tariff}")

    # -- account --------------------------------------------------------------------

    def balance(self) -> dict:
        return self.call("GET", "common/balance")
