"""Signing in and out, the session cookie, the lock-out, and CSRF on every form."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from helpwire.accounts.signin import (
    FIRST_LOCK,
    FORGET_AFTER,
    LOGIN_ALLOWANCE,
    LONGEST_LOCK,
    _count_attempt,
    _Key,
)
from helpwire.db.session import Database
from tests.web.conftest import PASSWORD, WebHarness


async def test_sign_in_by_username_or_email_lands_on_the_start_page(web: WebHarness) -> None:
    await web.set_password("alice")
    await web.set_password("agent")
    for login, start in (("alice", "/tickets"), ("AGENT@helpwire.test", "/agent")):
        browser = web.anonymous()
        page = await browser.get("/login")
        assert page.status_code == 200
        assert 'autocomplete="current-password"' in page.text
        answer = await browser.post("/login", {"login": login, "password": PASSWORD})
        assert answer.status_code == 303
        assert answer.headers["location"] == start
        cookie = answer.headers["set-cookie"]
        assert "helpwire_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain http here; see the https test


async def test_session_cookie_is_secure_behind_https(web: WebHarness) -> None:
    await web.set_password("alice")
    browser = web.anonymous()
    await browser.get("/login")
    answer = await browser.post(
        "/login",
        {"login": "alice", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert answer.status_code == 303
    assert "Secure" in answer.headers["set-cookie"]


async def test_wrong_password_says_so_and_does_not_sign_in(web: WebHarness) -> None:
    await web.set_password("alice")
    browser = web.anonymous()
    await browser.get("/login")
    answer = await browser.post("/login", {"login": "alice", "password": "nope"})
    assert answer.status_code == 401
    assert "Wrong user name or password." in answer.text
    assert "helpwire_session" not in answer.headers.get("set-cookie", "")
    # An unknown name gets the very same answer: the form does not reveal who exists.
    answer = await browser.post("/login", {"login": "nobody", "password": "nope"})
    assert answer.status_code == 401
    assert "Wrong user name or password." in answer.text


async def test_repeated_failures_lock_the_login_out(web: WebHarness) -> None:
    await web.set_password("alice")
    browser = web.anonymous()
    await browser.get("/login")
    for _ in range(4):
        answer = await browser.post("/login", {"login": "alice", "password": "wrong"})
        assert answer.status_code == 401
    answer = await browser.post("/login", {"login": "alice", "password": "wrong"})
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in answer.text
    # While locked, even the right password is refused.
    answer = await browser.post("/login", {"login": "alice", "password": PASSWORD})
    assert answer.status_code == 429
    # Another login name is not locked by alice's failures.
    await web.set_password("bob")
    answer = await browser.post("/login", {"login": "bob", "password": PASSWORD})
    assert answer.status_code == 303


async def test_disabled_users_and_service_accounts_cannot_sign_in(web: WebHarness) -> None:
    await web.set_password("acme-portal")
    browser = web.anonymous()
    await browser.get("/login")
    answer = await browser.post("/login", {"login": "acme-portal", "password": PASSWORD})
    assert answer.status_code == 401


async def test_pages_need_a_session_and_come_back_after_sign_in(web: WebHarness) -> None:
    browser = web.anonymous()
    answer = await browser.get("/tickets?status=open")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/tickets%3Fstatus%3Dopen"
    await web.set_password("alice")
    await browser.get(answer.headers["location"])
    answer = await browser.post(
        "/login", {"login": "alice", "password": PASSWORD, "next": "/tickets?status=open"}
    )
    assert answer.headers["location"] == "/tickets?status=open"


async def test_next_never_leads_to_another_site(web: WebHarness) -> None:
    await web.set_password("alice")
    for evil in ("https://evil.test/", "//evil.test/", "/\\evil.test"):
        browser = web.anonymous()
        await browser.get("/login")
        answer = await browser.post(
            "/login", {"login": "alice", "password": PASSWORD, "next": evil}
        )
        assert answer.headers["location"] == "/tickets"


async def test_sign_out_ends_the_session(web: WebHarness) -> None:
    browser = await web.sign_in("alice")
    cookie = browser.client.cookies.get("helpwire_session")
    await browser.get("/tickets")
    answer = await browser.post("/logout")
    assert answer.status_code == 303
    # The old cookie no longer works, even if a copy of it was kept.
    copy = web.anonymous()
    copy.client.cookies.set("helpwire_session", cookie or "")
    answer = await copy.get("/tickets")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


async def test_sign_in_form_without_its_token_is_refused(web: WebHarness) -> None:
    await web.set_password("alice")
    browser = web.anonymous()
    await browser.get("/login")
    answer = await browser.post("/login", {"login": "alice", "password": PASSWORD}, csrf=False)
    assert answer.status_code == 403
    assert "security token" in answer.text


async def test_forms_without_the_session_token_are_refused(web: WebHarness) -> None:
    browser = await web.sign_in("alice")
    await browser.get("/tickets")
    answer = await browser.post("/logout", {"csrf_token": "forged"})
    assert answer.status_code == 403
    answer = await browser.post("/logout", csrf=False)
    assert answer.status_code == 403
    # Still signed in: the refused posts did nothing.
    assert (await browser.get("/tickets")).status_code == 200


async def test_cross_site_posts_are_refused_even_with_a_token(web: WebHarness) -> None:
    browser = await web.sign_in("alice")
    await browser.get("/tickets")
    answer = await browser.post("/logout", headers={"Origin": "https://evil.test"})
    assert answer.status_code == 403
    answer = await browser.post("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403
    answer = await browser.post("/logout", headers={"Origin": "null"})
    assert answer.status_code == 403
    assert (await browser.get("/tickets")).status_code == 200


async def test_pages_forbid_framing_and_foreign_scripts(web: WebHarness) -> None:
    browser = web.anonymous()
    page = await browser.get("/login")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


async def test_parallel_guesses_cannot_pass_the_lock_out(web: WebHarness) -> None:
    """Thirty guesses at once: the attempts are counted before any password is checked, so
    no more than the allowance are checked, whichever order the server takes them in (the
    right password among them signs in only if it was one of those few), and the rest are
    refused unchecked."""
    await web.set_password("alice")
    browser = web.anonymous()
    await browser.get("/login")
    guesses = ["wrong"] * 25 + [PASSWORD] + ["wrong"] * 4
    answers = await asyncio.gather(
        *(browser.post("/login", {"login": "alice", "password": guess}) for guess in guesses)
    )
    codes = [answer.status_code for answer in answers]
    assert 500 not in codes
    wrong = [a for a in answers if "Wrong user name or password" in a.text]
    signed_in = codes.count(303)
    assert signed_in <= 1
    assert len(wrong) + signed_in <= LOGIN_ALLOWANCE, codes
    assert codes.count(429) >= len(guesses) - LOGIN_ALLOWANCE, codes


async def test_the_right_password_after_the_allowance_is_refused_unchecked(
    web: WebHarness,
) -> None:
    """Parallel guesses use up the allowance; the right password after them is refused."""
    await web.set_password("alice")
    browser = web.anonymous()
    await browser.get("/login")
    await asyncio.gather(
        *(browser.post("/login", {"login": "alice", "password": "wrong"}) for _ in range(25))
    )
    answer = await browser.post("/login", {"login": "alice", "password": PASSWORD})
    assert answer.status_code == 429


async def test_the_lock_out_is_per_person_whatever_name_they_type(web: WebHarness) -> None:
    await web.set_password("alice")
    browser = web.anonymous()
    await browser.get("/login")
    for _ in range(LOGIN_ALLOWANCE):
        await browser.post("/login", {"login": "alice", "password": "wrong"})
    answer = await browser.post("/login", {"login": "alice@acme.test", "password": PASSWORD})
    assert answer.status_code == 429


async def test_nul_characters_in_any_form_are_refused(web: WebHarness) -> None:
    await web.set_password("alice")
    browser = web.anonymous()
    await browser.get("/login")
    # As multipart, which the door's NUL check leaves to the forms (files may hold NUL).
    fields = {"login": "ali\x00ce", "password": PASSWORD, "csrf_token": browser.csrf}
    answer = await browser.client.post(
        "/login",
        data=fields,
        files={"unused": ("a.txt", b"\x00", "text/plain")},
        headers={"Origin": "http://helpwire.test"},
    )
    assert answer.status_code == 422
    assert "NUL" in answer.text
    signed_in = await web.sign_in("alice")
    await signed_in.get("/tickets/new")
    before = await web.world.row_counts()
    answer = await signed_in.client.post(
        "/tickets/new",
        data={"subject": "a\x00b", "body": "text", "csrf_token": signed_in.csrf},
        files={"files": ("a.txt", b"\x00 is fine in a file", "text/plain")},
        headers={"Origin": "http://helpwire.test"},
    )
    assert answer.status_code == 422
    assert await web.world.row_counts() == before


async def test_a_new_password_signs_the_old_sessions_out(web: WebHarness) -> None:
    browser = await web.sign_in("alice")
    assert (await browser.get("/tickets")).status_code == 200
    answer = await web.world.patch(
        "admin", "/api/v1/users/alice", json={"password": "a brand new password"}
    )
    assert answer.status_code == 200
    answer = await browser.get("/tickets")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


async def test_each_lock_lets_one_attempt_through_when_it_runs_out(database: Database) -> None:
    key = _Key("user:test", LOGIN_ALLOWANCE)
    start = datetime(2026, 1, 1, tzinfo=UTC)

    async def attempt(at: datetime) -> bool:
        async with database.writing() as session:
            return await _count_attempt(session, key, at)

    for i in range(LOGIN_ALLOWANCE):
        # The attempt that reaches the allowance sets the lock and is still checked.
        assert await attempt(start + timedelta(seconds=i))
    locked_at = start + timedelta(seconds=LOGIN_ALLOWANCE - 1)
    assert not await attempt(locked_at + timedelta(seconds=1))
    assert not await attempt(locked_at + FIRST_LOCK - timedelta(seconds=1))
    # The lock ran out: one more attempt, which sets a longer lock (each attempt, refused
    # ones too, doubles it).
    reopened = locked_at + FIRST_LOCK + timedelta(seconds=1)
    assert await attempt(reopened)
    assert not await attempt(reopened + timedelta(seconds=1))
    assert not await attempt(reopened + FIRST_LOCK * 2)
    # An hour later the failures are forgotten.
    assert await attempt(reopened + FORGET_AFTER + LONGEST_LOCK)
