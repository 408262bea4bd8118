"""Statistics export jobs (with download links) once the stat-jobs service exists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from relaybox.console import breakdowns
from relaybox.console.session import caller_of
from relaybox.console.templating import render
from relaybox.domain.models import Caller

router = APIRouter(prefix="/console")
Signed = Annotated[Caller, Depends(caller_of)]


@router.get("/stat-jobs")
async def stat_jobs(request: Request, caller: Signed):
    jobs = await breakdowns.stat_jobs(request.app.state.platform, caller)
    return render(request, "stat_jobs.html", {"jobs": jobs})
