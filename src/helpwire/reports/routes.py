"""The reports API: GET /api/v1/reports/{name}, as JSON or CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from helpwire.api.deps import Session, StaffPrincipal
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.db.base import utcnow
from helpwire.reports.export import as_csv
from helpwire.reports.service import Dimension, ReportName, report_query, run_report

router = APIRouter(prefix="/api/v1", tags=["reports"], responses=PROBLEM_RESPONSES)
_NAME = Query(max_length=150, description="Only this one's tickets.")


@router.get(
    "/reports/{name}",
    summary="A report (staff): tickets, times, sla or csat",
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_report(
    name: ReportName,
    session: Session,
    _staff: StaffPrincipal,
    start: Annotated[
        date | None, Query(description="First day (UTC); default 30 days back.")
    ] = None,
    end: Annotated[
        date | None, Query(description="The day after the last; default tomorrow.")
    ] = None,
    agent: Annotated[str | None, _NAME] = None,
    group: Annotated[str | None, _NAME] = None,
    topic: Annotated[str | None, _NAME] = None,
    account: Annotated[str | None, _NAME] = None,
    by: Annotated[
        Dimension | None, Query(description="One row per agent, group, topic or account.")
    ] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    filters = {
        dimension: value
        for dimension, value in (
            (Dimension.AGENT, agent),
            (Dimension.GROUP, group),
            (Dimension.TOPIC, topic),
            (Dimension.ACCOUNT, account),
        )
        if value
    }
    q = report_query(start=start, end=end, filters=filters, by=by, today=utcnow().date())
    body: dict[str, Any] = await run_report(session, name, q)
    if format == "csv":
        return Response(
            as_csv(name, body),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name.value}-{q.start}-{q.end}.csv"'
            },
        )
    return JSONResponse(jsonable_encoder(body))
