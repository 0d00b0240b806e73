"""The admin's reports page: each report drawn as SVG bars with its numbers, its CSV, and
bad input shown rather than answered with an error page."""

from __future__ import annotations

import csv
import io
import re

from tests.conftest import World
from tests.web.conftest import WebHarness


async def test_each_report_is_drawn_and_tabled(web: WebHarness, world: World) -> None:
    for _ in range(3):
        number = (await world.create_ticket("owner"))["number"]
        await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "Hi"})
        closed = await world.post(
            "owner", f"/api/v1/tickets/{number}/close", json={"score": 4, "comment": "Fine"}
        )
        assert closed.status_code == 200
    admin = await web.sign_in("admin")

    tickets = await admin.get("/admin/reports")
    assert tickets.status_code == 200
    assert '<svg viewBox="0 0 720 220"' in tickets.text
    # Thirty days, two series: sixty bars, today's two of height above zero.
    bars = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', tickets.text)
    assert len(bars) == 60 and sum(1 for h in bars if float(h) > 0) == 2
    assert "3 created, 3 solved." in tickets.text

    for name, text in (("times", "First reply"), ("sla", "SLA achieved"), ("csat", "Fine")):
        for by in ("", "agent"):
            page = await admin.get(f"/admin/reports?report={name}&by={by}")
            assert page.status_code == 200, (name, by)
            assert text in page.text and "<svg" in page.text, (name, by)

    exported = await admin.get("/admin/reports.csv?report=csat")
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[1][:2] == ["3", "4.0"]

    wrong = await admin.get("/admin/reports?report=nope&start=yesterday")
    assert wrong.status_code == 422
    assert "start: a date (YYYY-MM-DD)" in wrong.text and "<svg" not in wrong.text
    agent = await web.sign_in("agent")
    assert (await agent.get("/admin/reports")).status_code == 403
