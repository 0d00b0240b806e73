"""Behaviour every page shares: links that keep the filters, caching of files, sessions."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, WebHarness


async def test_next_page_links_keep_repeated_filters(web: WebHarness) -> None:
    for subject in ("first", "second", "third"):
        await web.world.create_ticket("alice", subject=subject)
    agent = await web.sign_in("agent")
    page = await agent.get("/agent?status=new&status=open&limit=1")
    assert page.status_code == 200
    assert "status=new&amp;status=open&amp;limit=1&amp;cursor=" in page.text


async def test_files_are_not_kept_in_the_browser_cache(web: WebHarness) -> None:
    uploaded = await web.world.upload("alice", "notes.txt", b"private notes")
    ticket = await web.world.create_ticket("alice", files=[uploaded["id"]])
    assert ticket["number"]
    alice = await web.sign_in("alice")
    answer = await alice.get(f"/files/{uploaded['id']}/notes.txt")
    assert answer.status_code == 200
    assert answer.content == b"private notes"
    assert "no-store" in answer.headers["cache-control"]


async def test_signing_in_again_ends_the_previous_session(web: WebHarness) -> None:
    alice = await web.sign_in("alice")
    old_cookie = alice.client.cookies.get("helpwire_session") or ""
    await alice.get("/login")
    answer = await alice.post("/login", {"login": "alice", "password": PASSWORD})
    assert answer.status_code == 303
    assert alice.client.cookies.get("helpwire_session") != old_cookie
    copy = web.anonymous()
    copy.client.cookies.set("helpwire_session", old_cookie)
    answer = await copy.get("/tickets")
    assert answer.status_code == 303


async def test_scripts_may_send_the_token_in_a_header(web: WebHarness) -> None:
    alice = await web.sign_in("alice")
    await alice.get("/tickets")
    answer = await alice.post(
        "/ui/preview", {"body": "**bold**"}, csrf=False, headers={"X-CSRF-Token": alice.csrf}
    )
    assert answer.status_code == 200
    assert "<strong>bold</strong>" in answer.json()["html"]
    answer = await alice.post("/ui/preview", {"body": "x"}, csrf=False)
    assert answer.status_code == 403
