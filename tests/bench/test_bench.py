"""The benchmark tools, run at tiny sizes so that they keep working: bench/fill.py on both
engines (then the app reads, searches and files tickets on what it wrote), and
bench/http_load.py for half a second per scenario against helpwire and the baseline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from helpwire.app import create_app
from helpwire.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TICKETS = 200


def run_bench(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


def fill(url: str, credentials: Path) -> dict[str, Any]:
    done = run_bench(
        "fill.py", "--tickets", str(TICKETS), "--database-url", url,
        "--credentials", str(credentials), "--batch", "64",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(credentials.read_text())
    return data


async def test_filled_database_works_in_the_app(settings: Settings, tmp_path: Path) -> None:
    filled = fill(settings.database_url, tmp_path / "credentials.json")
    assert filled["tickets"] == TICKETS
    assert set(filled["tokens"]) == {"agent", "admin", "customer", "member"}

    app = create_app(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as client,
    ):

        def auth(role: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {filled['tokens'][role]['token']}"}

        newest = await client.get("/api/v1/tickets", params={"limit": 3}, headers=auth("agent"))
        assert newest.status_code == 200, newest.text
        assert [t["number"] for t in newest.json()["items"]] == [200, 199, 198]

        # The search index was filled: the word picked for ~1 % of tickets is found, in
        # tickets that hold it.
        word = filled["words"]["mid"]
        found = await client.get(
            "/api/v1/tickets", params={"q": word, "limit": 200}, headers=auth("agent")
        )
        assert found.status_code == 200, found.text
        numbers = [t["number"] for t in found.json()["items"]]
        assert numbers
        comments = await client.get(f"/api/v1/tickets/{numbers[0]}/comments", headers=auth("agent"))
        ticket = await client.get(f"/api/v1/tickets/{numbers[0]}", headers=auth("agent"))
        text = (
            ticket.json()["subject"] + " " + " ".join(c["body"] for c in comments.json()["items"])
        )
        assert word in text.split()

        # A customer sees only their account's tickets.
        own = await client.get("/api/v1/tickets", params={"limit": 200}, headers=auth("customer"))
        assert own.status_code == 200
        assert 0 < len(own.json()["items"]) < TICKETS

        # Ticket numbers go on after the filled ones.
        created = await client.post(
            "/api/v1/tickets",
            json={"subject": "printer down", "body": "it stopped"},
            headers=auth("customer"),
        )
        assert created.status_code == 201, created.text
        assert created.json()["number"] == TICKETS + 1

    again = run_bench("fill.py", "--tickets", "10", "--database-url", settings.database_url)
    assert again.returncode == 1
    assert "not empty" in again.stderr


def test_http_harness_measures_helpwire_the_baseline_and_the_framework(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    fill(f"sqlite:///{tmp_path / 'bench.db'}", credentials)
    out = tmp_path / "results"
    done = run_bench(
        "http_load.py", "--filled", str(credentials), "--targets", "helpwire,baseline,framework",
        "--workers", "1", "--rates", "8", "--duration", "0.5", "--repeat", "1",
        "--scenarios", "healthz,create,get,search_rare", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    result = json.loads((out / "http.json").read_text())
    assert result["targets"] == ["helpwire", "baseline", "framework"]
    cells = {(c["target"], c["scenario"]): c for c in result["cells"]}
    for cell in cells.values():
        assert cell["sent"] == 4
        assert cell["ok"] == 4, cell["errors"]
        assert cell["latency_p50_ms"] > 0
    assert ("baseline", "search_rare") not in cells  # the baseline has no search
    assert ("framework", "search_rare") not in cells
    table = (out / "http.md").read_text()
    rows = {
        line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")
    }
    assert set(rows) >= {"healthz", "create", "get", "search_rare"}
    column = [c.strip() for c in rows["scenario"].split("|")].index("ratio vs baseline")
    ratio = rows["get"].split("|")[column].strip()
    assert ratio.endswith("x") and float(ratio[:-1]) > 0
    header = [c.strip() for c in rows["scenario"].split("|")]
    cpu = rows["create"].split("|")[header.index("CPU ms/req (helpwire / baseline / framework)")]
    # Four requests may cost less than one tick of /proc's CPU clock (10 ms): 0.00 is a
    # measurement here, and a ratio with it is shown as "-".
    assert len(cpu.split("/")) == 3 and all(float(part) >= 0 for part in cpu.split("/"))
    share = rows["create"].split("|")[header.index("throughput vs framework")].strip()
    assert share == "-" or (share.endswith("x") and float(share[:-1]) > 0)
    assert (out / "http-latency.png").stat().st_size > 0


def test_notification_latency_is_measured_for_every_ticket_filed(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    fill(f"sqlite:///{tmp_path / 'bench.db'}", credentials)
    out = tmp_path / "results"
    done = run_bench(
        "notify_latency.py", "--filled", str(credentials), "--rates", "4",
        "--duration", "1", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((out / "notify.json").read_text())
    (cell,) = result["cells"]
    assert cell["filed"] == cell["delivered"] == 4, cell
    assert cell["errors"] == 0 and result["duplicates"] == 0
    assert 0 < cell["p50_ms"] <= cell["p99_ms"] <= cell["max_ms"]
    assert "| 4 | 4 | 4 |" in (out / "notify.md").read_text()


def test_concurrent_creates_are_measured_for_each_number_of_clients(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    fill(f"sqlite:///{tmp_path / 'bench.db'}", credentials)
    out = tmp_path / "results"
    done = run_bench(
        "create_concurrency.py", "--filled", str(credentials), "--clients", "1,3",
        "--tickets", "6", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((out / "create-concurrency.json").read_text())
    assert result["engine"] == "sqlite"
    assert [c["clients"] for c in result["cells"]] == [1, 3]
    for cell in result["cells"]:
        assert cell["creates"] == 6
        assert cell["rate"] > 0 and cell["numbering_p50_ms"] > 0
    assert "| 3 | 6 |" in (out / "create-concurrency.md").read_text()


def test_mail_in_is_measured_through_the_pipeline(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = run_bench(
        "mail_inbound.py", "--messages", "20", "--engines", "sqlite", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((out / "mail-inbound.json").read_text())
    (cell,) = result["cells"]
    assert cell["engine"] == "sqlite"
    assert cell["messages"] == cell["processed"] == 20
    assert cell["rate"] > 0 and 0 < cell["p50_ms"] <= cell["p95_ms"] <= cell["max_ms"]
    assert "| sqlite | 20 | 4 |" in (out / "mail-inbound.md").read_text()


def test_reports_are_timed_on_a_filled_database(settings: Settings, tmp_path: Path) -> None:
    if not settings.is_sqlite:
        pytest.skip("the harness is the same on both engines; SQLite is enough here")
    fill(settings.database_url, tmp_path / "credentials.json")
    out = tmp_path / "results"
    done = run_bench(
        "reports.py", "--database-url", settings.database_url, "--runs", "1", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    cells = json.loads((out / "reports.json").read_text())
    # Four reports, three ranges, three shapes (the per-day report has no breakdown).
    assert len(cells) == 4 * 3 * 3 - 3
    assert {c["tickets"] for c in cells} == {TICKETS}
    assert "| sqlite | csat | 3 years | per agent |" in (out / "reports.md").read_text()
