"""Where the statistics services plug into the console.

The campaign page's delivery-time histogram and per-country/operator table, and the statistics
jobs page, come from services that are built separately (`relaybox.services.breakdowns`,
`relaybox.services.stat_jobs`).  Until those exist, each function here returns None and the page
shows "not available" in that block (templates/partials/breakdown_*.html, stat_jobs.html).

To plug them in: make `campaign_breakdown` return the service's answer (a mapping with
`histogram`: [{"label", "count"}] and `by_network`: [{"country", "operator", "mcc", "mnc",
"messages", "delivered", "cost"}]) and `stat_jobs` the caller's jobs; the templates already
render those shapes.
"""

from __future__ import annotations

from relaybox.domain.models import Caller, Campaign
from relaybox.services.platform import Platform


async def campaign_breakdown(platform: Platform, caller: Caller, campaign: Campaign) -> dict | None:
    """The campaign's delivery-time histogram and per-network table, or None (not available)."""
    # PLUG-IN POINT: relaybox.services.breakdowns
    return None


async def stat_jobs(platform: Platform, caller: Caller) -> list | None:
    """The caller's statistics export jobs, or None (not available)."""
    # PLUG-IN POINT: relaybox.services.stat_jobs
    return None
