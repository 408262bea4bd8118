"""Webhook signatures.  Pure.

Every webhook carries two signatures, both HMAC-SHA256 keyed by the account's
secret (64 hex characters, shown by `relaybox account webhook`):

- **Standard Webhooks** (https://www.standardwebhooks.com, spec v1): headers
  `webhook-id` (the outbox row's id: the same on every retry of one change),
  `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`
  (`v1,<base64 HMAC of "<id>.<timestamp>.<body>">`).  The id and time are
  signed, so a captured request cannot be sent again later (receivers refuse
  timestamps more than 5 minutes away) or passed off as another delivery.
  The key is the secret's 64 characters as bytes, written for Standard
  Webhooks libraries as `whsec_<base64 of those bytes>` (`standard_secret`):
  `standardwebhooks.Webhook(standard_secret(secret)).verify(body, headers)`.
- `X-Relaybox-Signature: sha256=<hex HMAC of the body>` (the same key), kept
  for receivers written before; it signs the body only and can be replayed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from standardwebhooks import Webhook

SIGNATURE_HEADER = "X-Relaybox-Signature"
DELIVERY_HEADER = "X-Relaybox-Delivery"  # the outbox id: the same on every retry of one change
ATTEMPT_HEADER = "X-Relaybox-Attempt"  # 1 on the first try
#: Standard Webhooks headers (spec v1, "Webhook headers").
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"


def sign(secret: str, body: bytes) -> str:
    """`X-Relaybox-Signature` of `body`: "sha256=" and the hex HMAC-SHA256 keyed by the secret's text."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether an `X-Relaybox-Signature` header is the body's, compared in constant time."""
    return header is not None and hmac.compare_digest(sign(secret, body), header.strip())


def standard_secret(secret: str) -> str:
    """The account's secret as a Standard Webhooks secret: `whsec_` + base64 of the key bytes
    (the same key as `X-Relaybox-Signature`'s)."""
    return SECRET_PREFIX + base64.b64encode(secret.encode()).decode("ascii")


def standard_headers(secret: str, delivery_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt sent at `at` (an aware UTC datetime)."""
    signature = Webhook(secret.encode()).sign(delivery_id, at, body.decode())
    return {
        ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(int(at.timestamp())),
        STANDARD_SIGNATURE_HEADER: signature,
    }
