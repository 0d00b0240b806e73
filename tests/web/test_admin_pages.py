"""The admin pages: users, tokens, accounts, topics, channels and the delivery log, driven
through their forms as a browser posts them."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpwire.accounts.models import User
from helpwire.db.session import Database
from helpwire.notify import channels as channels_service
from helpwire.notify.models import Channel, ChannelKind, Delivery
from helpwire.notify.outbound import STRICT, AddressPolicy
from helpwire.notify.relay import RETRY_SCHEDULE, Relay
from helpwire.notify.schemas import ChannelCreate
from helpwire.web import admin_channels
from tests.conftest import World
from tests.notify.conftest import Answer, FakeClock, Receiver
from tests.web.conftest import PASSWORD, Browser, WebHarness

_SHOWN_SECRET = re.compile(r'id="shown-secret"[^>]*value="([^"]+)"')
# Nothing listens on the discard port: every attempt is refused.
REFUSING_URL = "http://127.0.0.1:9/nothing-listens"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
async def relay(database: Database) -> AsyncIterator[tuple[Relay, FakeClock]]:
    clock = FakeClock()
    loopback = AddressPolicy(["127.0.0.0/8"])  # where the test receivers listen
    r = Relay(database, base_url="http://helpwire.test", clock=clock, policy=loopback)
    yield r, clock
    await r.aclose()


def shown_secret(html: str) -> str:
    found = _SHOWN_SECRET.search(html)
    assert found, "the page shows no secret"
    return found.group(1)


async def admin_browser(web: WebHarness) -> Browser:
    browser = await web.sign_in("admin")
    await browser.get("/admin")
    return browser


async def can_sign_in(web: WebHarness, login: str, password: str) -> bool:
    browser = web.anonymous()
    await browser.get("/login")
    answer = await browser.post("/login", {"login": login, "password": password})
    return answer.status_code == 303


async def user_count(world: World) -> int:
    async with world.database.reader() as session:
        return int(await session.scalar(select(func.count(User.id))) or 0)


# --- who may come in -------------------------------------------------------------------


async def test_agents_and_customers_get_a_403_page(web: WebHarness, world: World) -> None:
    for who in ("agent", "alice"):
        browser = await web.sign_in(who)
        for url in ("/admin", "/admin/users", "/admin/tokens", "/admin/channels"):
            page = await browser.get(url)
            assert page.status_code == 403, (who, url)
            assert "this page is for admins" in page.text
        before = await user_count(world)
        await browser.get("/tickets")
        refused = await browser.post(
            "/admin/users", {"username": "sneaky", "role": "admin", "password": PASSWORD}
        )
        assert refused.status_code == 403
        assert await user_count(world) == before


async def test_the_overview_shows_counts_and_links(web: WebHarness) -> None:
    browser = await admin_browser(web)
    page = await browser.get("/admin")
    assert page.status_code == 200
    # admin, agent, agent2, owner, alice, bob, carol, gus, acme-portal
    assert re.search(r'id="count-users">9<', page.text)
    assert re.search(r'id="count-accounts">2<', page.text)
    assert re.search(r'id="count-topics">2<', page.text)
    for link in ("/admin/users", "/admin/tokens", "/admin/accounts", "/admin/topics"):
        assert f'href="{link}"' in page.text


# --- users -----------------------------------------------------------------------------


async def test_a_created_user_signs_in_with_the_generated_password_shown_once(
    web: WebHarness, world: World
) -> None:
    browser = await admin_browser(web)
    form = await browser.get("/admin/users/new")
    assert form.status_code == 200
    created = await browser.post(
        "/admin/users",
        {
            "username": "dora",
            "email": "Dora@Acme.test",
            "real_name": "Dora D",
            "role": "customer",
            "account": "acme",
            "account_wide": "1",
            "projects": "p1, p2",
        },
    )
    assert created.status_code == 200, created.text
    password = shown_secret(created.text)
    assert "shown only this once" in created.text
    assert created.headers["cache-control"] == "no-store"
    # The user page does not show it again.
    assert password not in (await browser.get("/admin/users/dora")).text
    assert await can_sign_in(web, "dora", password)
    shown = (await world.get("admin", "/api/v1/users/dora")).json()
    assert shown["email"] == "dora@acme.test"
    assert shown["account"] == "acme" and shown["projects"] == ["p1", "p2"]
    # The list finds her by the start of her name.
    listed = await browser.get("/admin/users?q=do")
    assert "/admin/users/dora" in listed.text and "/admin/users/alice" not in listed.text


async def test_a_typed_password_is_set_and_not_shown(web: WebHarness) -> None:
    browser = await admin_browser(web)
    created = await browser.post(
        "/admin/users", {"username": "sam2", "role": "agent", "password": "a long enough one"}
    )
    assert created.status_code == 200
    assert 'id="shown-secret"' not in created.text
    assert await can_sign_in(web, "sam2", "a long enough one")


BAD_USERS = [
    ({"username": "alice", "role": "agent"}, "user 'alice' exists already"),
    ({"username": "eve", "role": "agent", "email": "not-an-address"}, "is not an e-mail"),
    ({"username": "eve", "role": "customer"}, "must belong to an account"),
    ({"username": "eve", "role": "agent", "account": "acme"}, "serve every account"),
    ({"username": "eve", "role": "customer", "account": "acme", "projects": "zz"}, "zz"),
    ({"username": "eve", "role": "customer", "account": "nope"}, "no account 'nope'"),
    ({"username": "eve", "role": "agent", "password": "short"}, "at least 8"),
    ({"username": "bad name", "role": "agent"}, "must be 1..150 characters"),
]


async def test_bad_user_input_is_a_422_form_error_that_creates_nothing(
    web: WebHarness, world: World
) -> None:
    browser = await admin_browser(web)
    await browser.get("/admin/users/new")
    before = await user_count(world)
    for fields, message in BAD_USERS:
        refused = await browser.post("/admin/users", fields)
        assert refused.status_code == 422, fields
        assert 'id="form-error"' in refused.text
        assert message in html.unescape(refused.text), fields
        # What was typed is kept in the form.
        assert f'value="{fields["username"]}"' in refused.text
    assert await user_count(world) == before


async def test_role_and_account_changes(web: WebHarness, world: World) -> None:
    browser = await admin_browser(web)
    page = await browser.get("/admin/users/alice")
    assert page.status_code == 200
    moved = await browser.post(
        "/admin/users/alice",
        {
            "real_name": "Alice Moved",
            "email": "alice@globex.test",
            "role": "customer",
            "account": "globex",
            "account_wide": "1",
            "projects": "g1",
        },
    )
    assert moved.status_code == 303
    shown = (await world.get("admin", "/api/v1/users/alice")).json()
    assert shown["account"] == "globex" and shown["projects"] == ["g1"]
    assert shown["account_wide"] is True and shown["real_name"] == "Alice Moved"
    promoted = await browser.post(
        "/admin/users/alice",
        {
            "real_name": "Alice Moved",
            "email": "alice@globex.test",
            "role": "agent",
            "account": "",
            "projects": "",
        },
    )
    assert promoted.status_code == 303
    shown = (await world.get("admin", "/api/v1/users/alice")).json()
    assert shown["role"] == "agent" and shown["account"] is None and shown["projects"] == []
    # A project of another account is refused, and nothing of the change is kept.
    refused = await browser.post(
        "/admin/users/bob",
        {
            "real_name": "Bob B",
            "email": "bob@acme.test",
            "role": "customer",
            "account": "globex",
            "projects": "p2",
        },
    )
    assert refused.status_code == 422
    assert "unknown project(s) p2" in refused.text
    shown = (await world.get("admin", "/api/v1/users/bob")).json()
    assert shown["account"] == "acme" and shown["projects"] == ["p2"]


async def test_disabling_signs_the_user_out_and_refuses_their_sign_in(web: WebHarness) -> None:
    alice = await web.sign_in("alice")
    assert (await alice.get("/tickets")).status_code == 200
    browser = await admin_browser(web)
    await browser.get("/admin/users/alice")
    disabled = await browser.post("/admin/users/alice/disable")
    assert disabled.status_code == 303
    page = await browser.get(disabled.headers["location"])
    assert 'id="user-state">disabled' in page.text
    signed_out = await alice.get("/tickets")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login")
    assert not await can_sign_in(web, "alice", PASSWORD)
    listed = await browser.get("/admin/users?active=no")
    assert "/admin/users/alice" in listed.text and "/admin/users/bob" not in listed.text
    await browser.post("/admin/users/alice/enable")
    assert await can_sign_in(web, "alice", PASSWORD)
    # The old browser session stays ended.
    assert (await alice.get("/tickets")).status_code == 303


async def test_reset_password_shows_a_new_one_once_and_ends_the_old(web: WebHarness) -> None:
    alice = await web.sign_in("alice")
    browser = await admin_browser(web)
    await browser.get("/admin/users/alice")
    reset = await browser.post("/admin/users/alice/reset-password")
    assert reset.status_code == 200
    assert reset.headers["cache-control"] == "no-store"
    new_password = shown_secret(reset.text)
    assert new_password != PASSWORD
    assert new_password not in (await browser.get("/admin/users/alice")).text
    assert (await alice.get("/tickets")).status_code == 303
    assert not await can_sign_in(web, "alice", PASSWORD)
    assert await can_sign_in(web, "alice", new_password)


async def test_an_admin_cannot_disable_or_demote_themselves(web: WebHarness, world: World) -> None:
    browser = await admin_browser(web)
    await browser.get("/admin/users/admin")
    refused = await browser.post("/admin/users/admin/disable")
    assert refused.status_code == 409
    assert "you cannot disable your own user" in refused.text
    demoted = await browser.post(
        "/admin/users/admin",
        {"real_name": "Ada Admin", "email": "admin@helpwire.test", "role": "agent"},
    )
    assert demoted.status_code == 409
    assert "you cannot take away your own admin role" in demoted.text
    shown = (await world.get("admin", "/api/v1/users/admin")).json()
    assert shown["role"] == "admin" and shown["is_active"] is True
    assert (await browser.get("/admin")).status_code == 200


# --- API tokens ------------------------------------------------------------------------


async def test_a_token_is_shown_once_works_and_stops_when_revoked(
    web: WebHarness, world: World
) -> None:
    browser = await admin_browser(web)
    await browser.get("/admin/tokens")
    created = await browser.post("/admin/tokens", {"username": "gus", "label": "gus laptop"})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    assert "cannot be shown again" in created.text
    token = shown_secret(created.text)
    me = await world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "gus"
    listing = await browser.get("/admin/tokens?username=gus")
    assert token not in listing.text
    assert "gus laptop" in listing.text and token[:9] in listing.text
    token_id = int(re.findall(r"/admin/tokens/(\d+)/revoke", listing.text)[0])
    revoked = await browser.post(f"/admin/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    me = await world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert "revoked" in (await browser.get("/admin/tokens?username=gus")).text


async def test_a_token_for_an_unknown_user_is_a_form_error(web: WebHarness) -> None:
    browser = await admin_browser(web)
    await browser.get("/admin/tokens")
    refused = await browser.post("/admin/tokens", {"username": "nobody", "label": "x"})
    assert refused.status_code == 422
    assert "no user 'nobody'" in html.unescape(refused.text)


# --- accounts and projects -------------------------------------------------------------


async def test_accounts_and_projects_are_created_and_counted(web: WebHarness, world: World) -> None:
    browser = await admin_browser(web)
    listing = await browser.get("/admin/accounts")
    assert "/admin/accounts/acme" in listing.text
    created = await browser.post("/admin/accounts", {"key": "initech", "name": "Initech"})
    assert created.status_code == 303
    assert created.headers["location"] == "/admin/accounts/initech"
    await browser.get("/admin/accounts/initech")
    added = await browser.post("/admin/accounts/initech/projects", {"key": "tps", "name": "TPS"})
    assert added.status_code == 303
    shown = (await world.get("admin", "/api/v1/accounts/initech")).json()
    assert shown["name"] == "Initech"
    assert [(p["key"], p["name"]) for p in shown["projects"]] == [("tps", "TPS")]
    acme = await browser.get("/admin/accounts/acme")
    # acme has owner, alice, bob, carol and acme-portal; p1 has alice as its member.
    assert 'id="account-user-count">5<' in acme.text
    duplicate = await browser.post("/admin/accounts", {"key": "initech", "name": "Again"})
    assert duplicate.status_code == 422
    assert "exists already" in duplicate.text
    bad = await browser.post("/admin/accounts/acme/projects", {"key": "no spaces"})
    assert bad.status_code == 422
    assert len((await world.get("admin", "/api/v1/accounts/acme")).json()["projects"]) == 2


# --- topics ----------------------------------------------------------------------------


async def test_topics_are_created_and_changed_with_localized_names(
    web: WebHarness, world: World
) -> None:
    browser = await admin_browser(web)
    await browser.get("/admin/topics/new")
    created = await browser.post(
        "/admin/topics",
        {
            "key": "hardware",
            "names": "en: Hardware\nde: Hardware-Probleme\nru: Оборудование",
            "position": "5",
            "subtopic_rows": "2",
            "sub-0-key": "disks",
            "sub-0-names": "en: Disks\nru: Диски",
            "sub-0-active": "1",
            "sub-1-key": "",
            "sub-1-names": "",
            "sub-1-active": "1",
        },
    )
    assert created.status_code == 303, created.text
    topics = {t["key"]: t for t in (await world.get("agent", "/api/v1/topics")).json()}
    assert topics["hardware"]["names"] == {
        "en": "Hardware",
        "de": "Hardware-Probleme",
        "ru": "Оборудование",
    }
    assert [s["key"] for s in topics["hardware"]["subtopics"]] == ["disks"]
    listing = await browser.get("/admin/topics")
    assert "Оборудование" in listing.text
    edit = await browser.get("/admin/topics/hardware")
    assert "ru: Оборудование" in edit.text
    changed = await browser.post(
        "/admin/topics/hardware",
        {
            "names": "en: Hardware and disks\nfr: Matériel",
            "position": "1",
            "active": "1",
            "subtopic_rows": "2",
            "sub-0-existing": "1",
            "sub-0-key": "disks",
            "sub-0-names": "en: Disks",
            "sub-1-key": "memory",
            "sub-1-names": "en: Memory",
            "sub-1-active": "1",
        },
    )
    assert changed.status_code == 303, changed.text
    topics = {t["key"]: t for t in (await world.get("agent", "/api/v1/topics")).json()}
    hardware = topics["hardware"]
    assert hardware["names"] == {"en": "Hardware and disks", "fr": "Matériel"}
    assert hardware["position"] == 1
    assert {s["key"]: s["is_active"] for s in hardware["subtopics"]} == {
        "disks": False,
        "memory": True,
    }
    # Customers see only the active subtopics.
    customer_view = {t["key"]: t for t in (await world.get("alice", "/api/v1/topics")).json()}
    assert [s["key"] for s in customer_view["hardware"]["subtopics"]] == ["memory"]


async def test_bad_topic_input_is_a_422_form_error(web: WebHarness, world: World) -> None:
    browser = await admin_browser(web)
    await browser.get("/admin/topics/new")
    for fields, message in (
        ({"key": "x", "names": "de: Nur Deutsch"}, "needs at least an English name"),
        ({"key": "x", "names": "Billing"}, "locale: name"),
        ({"key": "billing", "names": "en: Again"}, "exists already"),
        ({"key": "Bad Key", "names": "en: Bad"}, "lower-case letters"),
    ):
        refused = await browser.post("/admin/topics", {"position": "0", **fields})
        assert refused.status_code == 422, fields
        assert message in html.unescape(refused.text)
    keys = [t["key"] for t in (await world.get("agent", "/api/v1/topics")).json()]
    assert sorted(keys) == ["billing", "network"]


# --- channels and deliveries -----------------------------------------------------------


def channel_form(**fields: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "name": "hook",
        "kind": "webhook",
        "url": "",
        "events": ["ticket.created", "comment.created"],
        "audience": "staff",
        "enabled": "1",
        **fields,
    }


async def channel_id(world: World, name: str) -> int:
    async with world.database.reader() as session:
        found = await session.scalar(select(Channel.id).where(Channel.name == name))
    assert found is not None
    return int(found)


async def test_send_test_shows_the_receivers_answer(
    web: WebHarness, world: World, receiver: Receiver
) -> None:
    browser = await admin_browser(web)
    await browser.get("/admin/channels/new")
    created = await browser.post("/admin/channels", channel_form(url=receiver.url))
    assert created.status_code == 200
    secret = shown_secret(created.text)
    assert secret.startswith("whsec_")
    number = await channel_id(world, "hook")
    page = await browser.get(f"/admin/channels/{number}")
    assert secret not in page.text
    receiver.answer(Answer(202, body=b"thanks"))
    tested = await browser.post(f"/admin/channels/{number}/test")
    assert tested.status_code == 200
    assert 'id="test-status">202<' in tested.text
    assert "thanks" in tested.text
    [request] = await receiver.wait_for(1)
    assert request.json()["type"] == "channel.test"
    receiver.answer(Answer(500, body=b"<b>broken</b>"))
    failed = await browser.post(f"/admin/channels/{number}/test")
    assert 'id="test-status">500<' in failed.text
    assert "&lt;b&gt;broken&lt;/b&gt;" in failed.text  # the answer is shown as text
    # The failed test shows in the channel's health, on its page and in the list.
    for health_page in (f"/admin/channels/{number}", "/admin/channels"):
        shown = await browser.get(health_page)
        assert "failing" in shown.text and "healthy" not in shown.text
        assert "Send test: HTTP 500" in shown.text
    # A forged form sends nothing.
    forged = await browser.post(f"/admin/channels/{number}/test", {"csrf_token": "forgé"})
    assert forged.status_code == 403
    assert len(receiver.requests) == 2
    rotated = await browser.post(f"/admin/channels/{number}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = shown_secret(rotated.text)
    assert new_secret.startswith("whsec_") and new_secret != secret
    assert "previous secret keeps signing for 24 hours" in rotated.text


async def test_a_channel_is_changed_and_deleted(web: WebHarness, world: World) -> None:
    browser = await admin_browser(web)
    await browser.get("/admin/channels/new")
    created = await browser.post(
        "/admin/channels", channel_form(name="chat", kind="slack", url="https://chat.test/x")
    )
    assert created.status_code == 303
    number = await channel_id(world, "chat")
    await browser.get(f"/admin/channels/{number}")
    changed = await browser.post(
        f"/admin/channels/{number}",
        channel_form(
            name="chat",
            url="https://chat.test/y",
            events=["ticket.escalated"],
            filter_priorities=["urgent"],
            filter_accounts="acme",
            filter_followers="agent, admin",
        ),
    )
    assert changed.status_code == 303, changed.text
    shown = (await world.get("admin", f"/api/v1/channels/{number}")).json()
    assert shown["url"] == "https://chat.test/y" and shown["events"] == ["ticket.escalated"]
    assert shown["filters"] == {
        "topics": [],
        "priorities": ["urgent"],
        "accounts": ["acme"],
        "followers": ["agent", "admin"],
    }
    form_page = await browser.get(f"/admin/channels/{number}")
    assert 'name="filter_followers" type="text" value="agent admin"' in form_page.text
    refused = await browser.post(
        f"/admin/channels/{number}", channel_form(name="chat", url="ftp://chat.test/")
    )
    assert refused.status_code == 422
    assert "must be an absolute http:// or https:// URL" in refused.text
    deleted = await browser.post(f"/admin/channels/{number}/delete")
    assert deleted.status_code == 303
    assert (await world.get("admin", f"/api/v1/channels/{number}")).status_code == 404


BAD_CHANNELS: list[tuple[dict[str, str | list[str]], str]] = [
    ({"url": "not a url"}, "must be an absolute http:// or https:// URL"),
    ({"url": ""}, "needs the receiver's URL"),
    ({"url": "https://x.test/", "events": []}, "name at least one event type"),
    ({"kind": "email", "smtp_host": "", "email_to": ""}, "email.host"),
    ({"url": "https://x.test/", "filter_accounts": "nope"}, "unknown account nope"),
    ({"url": "https://x.test/", "filter_followers": "bob"}, "not a member of staff: bob"),
    ({"url": "https://x.test/", "rate_per_second": "fast"}, "must be a number"),
    (
        {"url": "https://x.test/", "include_internal": "1", "audience": "customers"},
        "internal notes are never sent",
    ),
]


async def test_bad_channel_input_is_a_422_form_error_that_creates_nothing(
    web: WebHarness, world: World
) -> None:
    browser = await admin_browser(web)
    await browser.get("/admin/channels/new")
    for fields, message in BAD_CHANNELS:
        refused = await browser.post("/admin/channels", channel_form(**fields))
        assert refused.status_code == 422, fields
        assert 'id="form-error"' in refused.text
        assert message in html.unescape(refused.text), fields
    assert (await world.get("admin", "/api/v1/channels")).json() == []


async def test_the_delivery_log_lists_a_dead_delivery_and_redeliver_requeues_it(
    web: WebHarness, world: World, relay: tuple[Relay, FakeClock]
) -> None:
    relay_, clock = relay
    browser = await admin_browser(web)
    await browser.get("/admin/channels/new")
    await browser.post("/admin/channels", channel_form(url=REFUSING_URL))
    number = await channel_id(world, "hook")
    ticket = await world.create_ticket("alice", subject="Nobody hears this")
    for _ in RETRY_SCHEDULE:
        clock.advance(timedelta(hours=30))
        assert await relay_.run_once() == 1
    log = await browser.get(f"/admin/channels/{number}/deliveries?state=dead")
    assert log.status_code == 200
    [delivery_id] = [int(d) for d in re.findall(r'id="delivery-(\d+)"', log.text)]
    assert f"/agent/tickets/{ticket['number']}" in log.text
    assert "ticket.created" in log.text
    assert (
        re.findall(
            r'id="delivery-\d+"',
            (await browser.get(f"/admin/channels/{number}/deliveries?state=delivered")).text,
        )
        == []
    )
    detail = await browser.get(f"/admin/deliveries/{delivery_id}")
    assert 'id="delivery-state">dead<' in detail.text
    assert detail.text.count('<td data-label="Outcome">') == len(RETRY_SCHEDULE)
    assert "Connect" in detail.text  # the refused connection, as each attempt recorded it
    again = await browser.post(f"/admin/deliveries/{delivery_id}/redeliver")
    assert again.status_code == 303
    async with world.database.reader() as session:
        delivery = await session.get(Delivery, delivery_id)
        assert delivery is not None and delivery.state == "pending"
        assert delivery.schedule_step == 0
    page = await browser.get(again.headers["location"])
    assert 'id="delivery-state">pending<' in page.text
    assert "queued to be sent again" in page.text


async def test_the_delivery_log_pages_newest_first(
    web: WebHarness, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_channels, "PAGE_SIZE", 2)
    browser = await admin_browser(web)
    await browser.get("/admin/channels/new")
    await browser.post("/admin/channels", channel_form(url=REFUSING_URL, events=["ticket.created"]))
    number = await channel_id(world, "hook")
    for _ in range(3):
        await world.create_ticket("owner")
    first = await browser.get(f"/admin/channels/{number}/deliveries")
    ids = [int(d) for d in re.findall(r'id="delivery-(\d+)"', first.text)]
    assert len(ids) == 2 and ids == sorted(ids, reverse=True)
    older = re.search(r'href="([^"]+before=\d+)" rel="next"', first.text)
    assert older
    second = await browser.get(older.group(1).replace("&amp;", "&"))
    rest = [int(d) for d in re.findall(r'id="delivery-(\d+)"', second.text)]
    assert len(rest) == 1 and rest[0] < min(ids)
    assert 'rel="next"' not in second.text


async def test_channels_declared_in_the_settings_are_read_only_here(
    web: WebHarness, world: World
) -> None:
    async with world.database.writing() as session:
        await channels_service.create_channel(
            session,
            spec=ChannelCreate(name="declared", kind=ChannelKind.SLACK, url="https://chat.test/"),
            policy=STRICT,
            managed_by="settings",
        )
    number = await channel_id(world, "declared")
    browser = await admin_browser(web)
    page = await browser.get(f"/admin/channels/{number}")
    assert page.status_code == 200
    assert "read-only here" in page.text
    assert 'id="channel-form"' not in page.text and "Delete channel" not in page.text
    assert "Send test" in page.text
    refused = await browser.post(f"/admin/channels/{number}/delete")
    assert refused.status_code == 409
    assert "declared in the settings" in refused.text
