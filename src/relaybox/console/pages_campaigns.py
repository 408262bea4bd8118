"""Campaign list, campaign page, and the campaign's live progress fragment (polled by htmx): its
counters, funnel, cost, delivery-time histogram and per-country/operator table."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import QueryParams

from relaybox.api.oneapi.params import ListParams
from relaybox.console import breakdowns, present, stat_job_forms
from relaybox.console.errors import path_id
from relaybox.console.session import caller_of
from relaybox.console.templating import render
from relaybox.domain.models import Caller
from relaybox.domain.status import short_statistics
from relaybox.errors import ValidationFailed
from relaybox.services import queries
from relaybox.store import campaign_costs

router = APIRouter(prefix="/console")
Signed = Annotated[Caller, Depends(caller_of)]

#: Campaigns a list page shows (the One API's list allows 30-500).
PAGE = 30


def _with_defaults(query: QueryParams, **defaults: str) -> QueryParams:
    merged = dict(defaults)
    merged.update({k: v for k, v in query.items()})
    return QueryParams(merged)


@router.get("/campaigns")
async def campaign_list(request: Request, caller: Signed):
    """The One API's campaign list (filters filter[from], filter[to], filter[type], search[field],
    search[value], sort, way, page[offset]), newest first by default."""
    query = _with_defaults(request.query_params, sort="id", way="desc")
    params = ListParams(query, sorts=("id", "sender", "type", "date", "status"), min_limit=30, default_limit=PAGE)
    total, found, errors = 0, [], []
    try:
        params.check()
        total, found = await queries.list_campaigns(
            request.app.state.platform, caller, raw_from=params.text("filter[from]"), raw_to=params.text("filter[to]"),
            type=params.text("filter[type]"), search_field=params.text("search[field]"),
            search_value=params.text("search[value]"), sort=params.sort, descending=params.descending,
            offset=params.offset, limit=params.limit,
        )
    except ValidationFailed as exc:
        errors = exc.errors
    rows = []
    for c in found:
        stats = short_statistics(c.counts)
        rows.append({"campaign": c, "sent": stats["sent"], "delivered": stats["delivered"],
                     "sent_pct": present.percent(stats["sent"], c.total_messages),
                     "delivered_pct": present.percent(stats["delivered"], c.total_messages)})
    return render(request, "campaigns.html", {
        "rows": rows, "total": total, "params": params, "query": query, "errors": errors,
        "prev_offset": max(0, params.offset - params.limit) if params.offset else None,
        "next_offset": params.offset + params.limit if params.offset + params.limit < total else None,
    })


async def _campaign_context(request: Request, caller: Caller, campaign_id: str) -> dict:
    platform = request.app.state.platform
    campaign = await queries.get_campaign(platform, caller, path_id(campaign_id))  # NotFound: another account's too
    async with platform.db.read() as conn:
        groups = await campaign_costs.price_groups(conn, caller.account_id, campaign.id)
    counts = dict(campaign.counts)
    for status, n in campaign.alt_counts.items():  # SMS fallbacks of RCS messages count as messages too
        counts[status] = counts.get(status, 0) + n
    total = campaign.total_messages + sum(campaign.alt_counts.values())
    return {
        "campaign": campaign,
        "live": campaign.status in present.LIVE_CAMPAIGN,
        "funnel": present.funnel(counts, total),
        "statuses": present.status_rows(counts),
        "chart": present.chart_data(counts),
        "cost": present.cost(groups),
        "total": total,
        # from the roll-ups (a few rows whatever the campaign's size), so the live poll re-reads it too
        "breakdown": await breakdowns.campaign_stats(platform, caller, campaign),
    }


@router.get("/campaigns/{campaign_id}")
async def campaign_page(request: Request, caller: Signed, campaign_id: str):
    """`GET /console/campaigns/{campaign_id}`: one campaign with its statistics and an export link."""
    context = await _campaign_context(request, caller, campaign_id)
    context["export_url"] = stat_job_forms.campaign_export_url(context["campaign"])
    return render(request, "campaign.html", context)


@router.get("/campaigns/{campaign_id}/progress")
async def campaign_progress(request: Request, caller: Signed, campaign_id: str):
    """The live part of the campaign page; it polls again only while the campaign can still move."""
    return render(request, "partials/progress.html", await _campaign_context(request, caller, campaign_id))
