"""The admin's reports: each report of the API as a chart and a table, with its CSV."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from helpwire.api.deps import Session
from helpwire.api.routing import TransactionalRoute
from helpwire.db.base import utcnow
from helpwire.problems import ValidationProblem
from helpwire.reports.export import as_csv
from helpwire.reports.service import (
    Dimension,
    ReportName,
    ReportQuery,
    report_query,
    run_report,
)
from helpwire.web.auth import AdminWeb
from helpwire.web.charts import Chart, bar_chart
from helpwire.web.i18n import PageLocale, current_locale, locale_of, rendering_for
from helpwire.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
HOUR = 3600.0


def _date(raw: str | None, errors: list[str], name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors.append(current_locale().gettext("%(name)s: a date (YYYY-MM-DD)", name=name))
        return None


def _read(request: Request) -> tuple[ReportName, ReportQuery | None, list[str], dict[str, str]]:
    params = request.query_params
    form = {
        k: (params.get(k) or "").strip()[:150]
        for k in ("report", "start", "end", "by", *(d.value for d in Dimension))
    }
    errors: list[str] = []
    try:
        name = ReportName(form["report"] or ReportName.TICKETS.value)
    except ValueError:
        errors.append(current_locale().gettext("report: tickets, times, sla or csat"))
        name = ReportName.TICKETS
    by = None
    if form["by"]:
        try:
            by = Dimension(form["by"])
        except ValueError:
            errors.append(current_locale().gettext("by: agent, group, topic or account"))
    start, end = _date(form["start"], errors, "start"), _date(form["end"], errors, "end")
    filters = {d: form[d.value] for d in Dimension if form[d.value]}
    try:
        q = report_query(start=start, end=end, filters=filters, by=by, today=utcnow().date())
    except ValidationProblem as refused:
        errors.append(refused.detail)
        return name, None, errors, form
    return name, (q if not errors else None), errors, form


@router.get("/admin/reports")
async def reports_page(request: Request, session: Session, _web: AdminWeb) -> Response:
    locale = locale_of(request)
    with rendering_for(locale):
        name, q, errors, form = _read(request)
    body: dict[str, Any] | None = None
    if q is not None:
        try:
            body = await run_report(session, name, q)
        except ValidationProblem as refused:
            errors.append(refused.detail)
    return render(
        request,
        "admin/reports.html",
        status_code=422 if errors else 200,
        name=name.value,
        names=[n.value for n in ReportName],
        dimensions=[d.value for d in Dimension],
        form=form,
        errors=errors,
        body=body,
        charts=charts_of(name, body, locale) if body is not None else [],
        csv_query=request.url.query,
    )


@router.get("/admin/reports.csv")
async def reports_csv(request: Request, session: Session, _web: AdminWeb) -> Response:
    name, q, errors, _form = _read(request)
    if q is None:
        raise ValidationProblem.for_field("report", "; ".join(errors))
    body = await run_report(session, name, q)
    return Response(
        as_csv(name, body),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name.value}-{q.start}-{q.end}.csv"'
        },
    )


def _groups(body: dict[str, Any], locale: PageLocale) -> tuple[list[str], list[dict[str, Any]]]:
    if "rows" in body:
        by = body["by"]
        none = locale.gettext("none")
        return [str(row[by] or none) for row in body["rows"]], body["rows"]
    return [locale.gettext("all")], [body]


def charts_of(name: ReportName, body: dict[str, Any], locale: PageLocale) -> list[Chart]:
    """The report's charts, their titles and legends in the reader's language."""
    if name == ReportName.TICKETS:
        days = body["days"]
        labels = [d["day"][5:] for d in days]
        every = max(1, len(days) // 12)
        return [
            bar_chart(
                locale.gettext("Tickets per day"),
                labels,
                [
                    (locale.gettext("created"), [d["created"] for d in days]),
                    (locale.gettext("solved"), [d["solved"] for d in days]),
                ],
                every=every,
            )
        ]
    labels, groups = _groups(body, locale)
    if name == ReportName.TIMES:
        titles = {
            "first_reply": locale.gettext("First reply time, hours"),
            "resolution": locale.gettext("Resolution time, hours"),
        }
        kinds = {"median": locale.gettext("median"), "p90": "p90"}
        return [
            bar_chart(
                title,
                labels,
                [
                    (kinds[kind], [_hours(g[measure][f"{kind}_seconds"]) for g in groups])
                    for kind in ("median", "p90")
                ],
                unit=" h",
            )
            for measure, title in titles.items()
        ]
    if name == ReportName.SLA:
        targets = {
            "first_reply": locale.gettext("first reply"),
            "next_reply": locale.gettext("next reply"),
            "resolution": locale.gettext("resolution"),
        }
        return [
            bar_chart(
                locale.gettext("SLA achieved, %"),
                labels,
                [
                    (said, [g[target]["achieved_percent"] for g in groups])
                    for target, said in targets.items()
                ],
                unit=" %",
            )
        ]
    return [
        bar_chart(
            locale.gettext("Ratings"),
            [str(score) for score in range(1, 6)],
            [
                (label, [g["distribution"][str(s)] for s in range(1, 6)])
                for label, g in zip(labels, groups, strict=True)
            ],
        )
    ]


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / HOUR, 2)
