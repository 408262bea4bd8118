"""Webhook signatures: HMAC-SHA256 of the exact body with the account's secret.  Pure.

relaybox sends `X-Relaybox-Signature: sha256=<hex digest>` with every webhook.
A receiver recomputes the digest over the raw body bytes it received (before
any JSON parsing) with its account's secret (`relaybox account webhook`) and
compares in constant time — `verify` below is the reference.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Relaybox-Signature"
DELIVERY_HEADER = "X-Relaybox-Delivery"  # the outbox id: the same on every retry of one change
ATTEMPT_HEADER = "X-Relaybox-Attempt"  # 1 on the first try


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(sign(secret, body), header.strip())
