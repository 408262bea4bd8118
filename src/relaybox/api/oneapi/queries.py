"""The query parameters of the One API lists, as the OpenAPI document describes them.

The lists read their parameters by hand (`oneapi/params.py:ListParams`, cheaper than a model per
request); these models only describe them, one field per parameter, aliased to its bracketed wire
name.  `tests/integration/test_openapi_params.py` proves each range, enum and default here is the one
`ListParams` enforces.  An empty value (`page[limit]=`) counts as absent.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

#: Dates of the filters (domain/timefmt.py).
DateFilter = Annotated[str | None, Field()]
DATE = "`YYYY-MM-DD HH:MM:SS` (UTC) or ISO 8601 with `T` and an optional offset; years 1970-9998"
OFFSET_MAX = 2**63 - 1


def _page_limit(minimum: int) -> object:
    return Field(50, alias="page[limit]", ge=minimum, le=500, description="items per page")


class _Paged(BaseModel):
    page_offset: int = Field(0, alias="page[offset]", ge=0, le=OFFSET_MAX, description="items to skip")
    way: Literal["asc", "desc"] = Field("asc", description="sort direction")


class TariffListQuery(_Paged):
    """GET /api/accounts/tariff."""

    page_limit: int = _page_limit(15)
    sort: Literal["id"] = "id"


class CampaignListQuery(_Paged):
    """GET /api/campaigns."""

    page_limit: int = _page_limit(30)
    sort: Literal["id", "sender", "type", "date", "status"] = "id"
    filter_type: Literal["sms", "rcs", "whatsapp"] | None = Field(None, alias="filter[type]")
    filter_from: DateFilter = Field(None, alias="filter[from]", description=f"on created_at: {DATE}")
    filter_to: DateFilter = Field(None, alias="filter[to]", description=f"at most 30 days ahead: {DATE}")
    search_field: Literal["sender", "taskname"] | None = Field(None, alias="search[field]")
    search_value: str | None = Field(None, alias="search[value]", description="compared with its first 255 characters")


class MessageListQuery(_Paged):
    """GET /api/messages: on created_at; `filter[to]` defaults to now, `filter[from]` to 3 months before it."""

    page_limit: int = _page_limit(15)
    sort: Literal["id", "phone", "delivered"] = "id"
    filter_id: int | None = Field(None, alias="filter[id]", ge=1, le=OFFSET_MAX)
    filter_campaign_id: int | None = Field(None, alias="filter[campaign_id]", ge=-(2**63), le=OFFSET_MAX)
    filter_reference_id: str | None = Field(None, alias="filter[reference_id]")
    filter_from: DateFilter = Field(None, alias="filter[from]", description=f"default: 3 months before to: {DATE}")
    filter_to: DateFilter = Field(None, alias="filter[to]",
                                  description=f"not in the future, at most 3 months after from; default now: {DATE}")


class StatJobPageQuery(_Paged):
    """GET /api/stat/jobs/{key}: one page of the job's rows (in message id order)."""

    page_limit: int = Field(1000, alias="page[limit]", ge=1, le=10000, description="rows per page")
    sort: Literal["id"] = Field("id", description="accepted for the list conventions; rows are in message id order")


class CsvQuery(BaseModel):
    """GET /api/x-relaybox/stat/jobs/{key}/csv."""

    format: Literal["csv", "csv.gz"] = Field(
        "csv", description="`csv`: text/csv (gzip-encoded in transit with `Accept-Encoding: gzip`); "
        "`csv.gz`: the file compressed, application/gzip")


RANGE = "`YYYY-MM-DD HH:MM:SS` (UTC) or ISO 8601; widened to whole hours; at most 3 months after from"


class BreakdownQuery(BaseModel):
    """GET /api/x-relaybox/breakdown: the messages accepted in [from, to)."""

    from_: DateFilter = Field(None, alias="from", description=f"default: 30 days before to: {RANGE}")
    to: DateFilter = Field(None, description=f"default now: {RANGE}")


class TimeSeriesQuery(_Paged):
    """GET /api/x-relaybox/timeseries.  The list parameters (`page[...]`, `sort`, `way`) are checked
    as everywhere but change nothing: every interval of the range is answered, oldest first."""

    page_limit: int = _page_limit(1)
    sort: Literal["id"] = "id"
    from_: DateFilter = Field(None, alias="from", description=f"default: 1 day before to: {RANGE}")
    to: DateFilter = Field(None, description=f"default now: {RANGE}; at most 5,000 intervals")
    interval: Literal["minute", "hour", "day"] = "hour"
    campaign_id: int | None = Field(None, ge=1, le=OFFSET_MAX, description="one campaign's messages only (404 if it is not the account's)")


class InboundListQuery(_Paged):
    """GET /api/x-relaybox/inbound: on received_at (the messages list's date rules)."""

    page_limit: int = _page_limit(15)
    sort: Literal["id", "date"] = "id"
    filter_from: DateFilter = Field(None, alias="filter[from]", description=f"default: 3 months before to: {DATE}")
    filter_to: DateFilter = Field(None, alias="filter[to]",
                                  description=f"not in the future, at most 3 months after from; default now: {DATE}")
    filter_sender: str | None = Field(None, alias="filter[sender]", max_length=64,
                                      description="the subscriber's number (`+` optional)")
    filter_recipient: str | None = Field(None, alias="filter[recipient]", max_length=64,
                                         description="the number or sender it was sent to (`+` optional)")
    filter_keyword: str | None = Field(None, alias="filter[keyword]", max_length=64,
                                       description="text containing this, case-insensitive (`%` and `_` literal)")
    filter_action: Literal["stoplisted"] | None = Field(None, alias="filter[action]")
