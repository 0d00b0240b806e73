"""The admin's data rights and audit pages: a person exported and erased from their page,
and every change made through the admin pages listed with who made it, before and after."""

from __future__ import annotations

import io
import json
import zipfile

from tests.conftest import World
from tests.web.conftest import WebHarness


async def test_changes_made_in_the_pages_are_in_the_audit_log(web: WebHarness) -> None:
    browser = await web.sign_in("admin")
    await browser.get("/admin/users/alice")
    disabled = await browser.post("/admin/users/alice/disable")
    assert disabled.status_code == 303

    page = await browser.get("/admin/audit", params={"actor": "admin"})
    assert page.status_code == 200
    assert "user.disabled" in page.text and "<strong>alice</strong>" in page.text
    assert "<del>true</del> → <ins>false</ins>" in page.text  # is_active, before and after
    filtered = await browser.get("/admin/audit", params={"target_type": "channel"})
    assert "user.disabled" not in filtered.text
    unknown = await browser.get("/admin/audit", params={"actor": "nobody"})
    assert "No user nobody." in unknown.text

    agent = await web.sign_in("agent")
    assert (await agent.get("/admin/audit")).status_code == 403


async def test_an_admin_exports_and_erases_a_person_from_their_page(
    web: WebHarness, world: World
) -> None:
    number = (await world.create_ticket("bob", subject="Bob's question"))["number"]
    browser = await web.sign_in("admin")
    page = await browser.get("/admin/users/bob")
    assert 'id="erase-form"' in page.text and 'id="export-link"' in page.text

    export = await browser.get("/admin/users/bob/export")
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    document = json.loads(zipfile.ZipFile(io.BytesIO(export.content)).read("person.json"))
    assert document["tickets_requested"][0]["subject"] == "Bob's question"
    log = await browser.get("/admin/audit", params={"actor": "admin"})
    assert "user.exported" in log.text

    unconfirmed = await browser.post("/admin/users/bob/erase", {"confirm": "bo"})
    assert unconfirmed.status_code == 422
    assert "Type bob to confirm the erasure." in unconfirmed.text
    assert (await world.get("bob", "/api/v1/me")).status_code == 200  # nothing was done

    erased = await browser.post("/admin/users/bob/erase", {"confirm": "bob"})
    assert erased.status_code == 303
    assert erased.headers["location"].startswith("/admin/users/erased-")
    shown = await browser.get(erased.headers["location"])
    assert "Erased: the user is now erased-" in shown.text
    assert "nothing personal is kept" in shown.text and 'id="erase-form"' not in shown.text
    assert (await world.get("bob", "/api/v1/me")).status_code == 401
    # The console shows the ticket with its requester erased, and says why in its timeline.
    console = await browser.get(f"/agent/tickets/{number}")
    assert "erased user" in console.text and "Bob B" not in console.text
    assert "erased the personal data of the ticket&#39;s requester" in console.text

    myself = await browser.post("/admin/users/admin/erase", {"confirm": "admin"})
    assert myself.status_code == 409
