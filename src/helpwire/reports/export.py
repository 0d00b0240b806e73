"""Reports as CSV: one header row, then one row per day, target or breakdown value."""

from __future__ import annotations

import csv
import io
from typing import Any

from helpwire.reports.service import ReportName


def _rows(name: ReportName, body: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    if name == ReportName.TICKETS:
        return ["day", "created", "solved"], [
            [d["day"], d["created"], d["solved"]] for d in body["days"]
        ]
    groups = body.get("rows", [body])
    by = body.get("by")
    lead = [by] if by else []
    out: list[list[Any]] = []
    if name == ReportName.TIMES:
        header = [*lead, "measure", "count", "median_seconds", "p90_seconds"]
        for g in groups:
            for measure in ("first_reply", "resolution"):
                m = g[measure]
                out.append(
                    [
                        *([g[by]] if by else []),
                        measure,
                        m["count"],
                        m["median_seconds"],
                        m["p90_seconds"],
                    ]
                )
        return header, out
    if name == ReportName.SLA:
        header = [*lead, "target", "met", "breached", "achieved_percent"]
        for g in groups:
            for target in ("first_reply", "next_reply", "resolution"):
                t = g[target]
                out.append(
                    [
                        *([g[by]] if by else []),
                        target,
                        t["met"],
                        t["breached"],
                        t["achieved_percent"],
                    ]
                )
        return header, out
    header = [*lead, "ratings", "average", *(f"score_{s}" for s in range(1, 6))]
    for g in groups:
        scores = [g["distribution"][str(s)] for s in range(1, 6)]
        out.append([*([g[by]] if by else []), g["count"], g["average"], *scores])
    return header, out


def as_csv(name: ReportName, body: dict[str, Any]) -> str:
    header, rows = _rows(name, body)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        # A cell a spreadsheet would run as a formula is written as text.
        writer.writerow([f"'{c}" if isinstance(c, str) and c[:1] in "=+-@" else c for c in row])
    return buffer.getvalue()
