"""relaybox.client: a typed Python client for BSG-compatible APIs (relaybox, or BSG's own cloud).

```python
from relaybox.client import Client

with Client("http://127.0.0.1:8000", "test_…") as client:
    campaign = client.send_sms([380971234567], "Hello", "relaybox")
    detail = client.campaign_detail(campaign.id)
    for message in client.iter_messages(campaign_id=campaign.id):
        print(message.phone, message.status)
```

`AsyncClient` has the same methods, awaited.  Both API families: the One API (`/api`, methods of
the client) and legacy REST (`/rest`, `client.legacy`).  Models: client/models.py; errors (one
hierarchy under `RelayboxClientError`): client/errors.py; retries and tokens: client/flow.py;
the calls themselves, each with its spec operation: client/calls.py.
"""

from relaybox.client.aio import AsyncClient, AsyncLegacyApi
from relaybox.client.calls import Call, CampaignFilters, IndividualMessage, MessageFilters, Recipient, SendOptions
from relaybox.client.errors import (
    AuthError,
    DuplicateRequest,
    LegacyAuthError,
    LegacyError,
    LegacyNotFound,
    NotFound,
    RateLimited,
    RelayboxClientError,
    ServerError,
    TransportError,
    ValidationError,
)
from relaybox.client.flow import Retry
from relaybox.client.models import (
    FINAL_CAMPAIGN_STATUSES,
    Amount,
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
    ShortStatistics,
    Tariff,
)
from relaybox.client.sync import Client, LegacyApi

__all__ = [
    "Amount", "AsyncClient", "AsyncLegacyApi", "AuthError", "Balance", "Call", "Campaign", "CampaignDetail",
    "CampaignFilters", "Client", "DuplicateRequest", "FINAL_CAMPAIGN_STATUSES", "IndividualMessage", "LegacyApi",
    "LegacyAuthError", "LegacyBalance", "LegacyError", "LegacyMessageStatus", "LegacyNotFound", "LegacyPrice",
    "LegacyResult", "LegacyTask", "LegacyTaskStatus", "Message", "MessageFilters", "NotFound", "Page", "Price",
    "RateLimited", "Recipient", "RelayboxClientError", "Retry", "SendOptions", "ServerError", "ShortStatistics",
    "Tariff", "TransportError", "ValidationError",
]
