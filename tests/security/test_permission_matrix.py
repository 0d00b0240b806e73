"""The permission matrix: every route of the app, for every kind of caller, on tickets of every
access level, each cell with its expected answer, and no answer leaking what its reader may
not see (DESIGN.md section 3, Visibility).

The routes come from the app's own route table: a route without an entry in ROUTES below
fails `test_every_route_of_the_app_has_an_entry_in_the_matrix`, so a new route cannot be
added without deciding who may call it.

The world (built once per module and engine): acme has projects p1 and p2; owner has
account-wide access, alice is a member of p1, carol of no project; gus is a customer of
another account (globex). bob (acme, p2) is the requester of the acme tickets, one per access
level (support files the p1 one for him, a project he may not name himself); gus files one at
globex. Support answers each with a public reply carrying a file and an internal
note carrying a file. Every text of a ticket holds a word written nowhere else, so a leak is
a substring search over every answer body.

Each cell's expectation is one of four outcomes, which every face spells its own way:
``ok`` (let through), ``unauth`` (no or bad credentials), ``forbidden`` (known, not allowed)
and ``hidden`` (answers exactly as if the thing did not exist). A let-through write may
still be refused by the ticket's state (409) or its input (400/422): the matrix decides who
gets past authorization, the domain tests decide the rest.

Callers: anonymous, gus, alice, carol, owner, acme's service token as itself (account-wide)
and speaking for carol (On-Behalf-Of), an agent and an admin; the web UI's callers sign in
through its form and post with their session's CSRF token. A new route gets a row in the
group it belongs to, with one of the rules below ("admin_only", "sees_ticket", ...).
Each test prints how many cells it checked (`pytest -s`).
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.routing import BaseRoute

from helpwire.app import create_app
from helpwire.jobs.service import enqueue_job, list_jobs
from helpwire.settings import Settings
from tests.conftest import ENGINES, World, _truncate_postgres, build_world
from tests.notify.conftest import Receiver
from tests.web.conftest import Browser, WebHarness

# The async tests share the module's world, so they share its event loop.
on_module_loop = pytest.mark.asyncio(loop_scope="module")

# --- who is who ----------------------------------------------------------------------------

STAFF = frozenset({"agent", "admin"})
# The service token of acme (account-wide as itself), and the same token speaking for carol.
API_ACTORS = (
    "anonymous",
    "gus",
    "alice",
    "carol",
    "owner",
    "service",
    "service_obo",
    "agent",
    "admin",
)
OBO_AS = "carol"
# Borrowed identities that must be refused: a service token speaking for a customer of
# another account, and a customer's token (not a service) speaking for a colleague.
BAD_OBO: dict[str, tuple[str, str]] = {
    "service_obo_foreign": ("acme-portal", "gus"),
    "customer_obo": ("alice", OBO_AS),
}
WEB_ACTORS = ("anonymous", "gus", "alice", "carol", "owner", "agent", "admin")

# key -> (access level, projects, requester)
TICKETS: dict[str, tuple[str, list[str], str]] = {
    "acct": ("account_users", [], "bob"),
    "proj": ("project_users", ["p1"], "bob"),
    "all": ("all_users", [], "bob"),
    "globex": ("account_users", [], "gus"),
}
# Who sees each ticket: written out from the design, not computed by the code under test.
SEES: dict[str, frozenset[str]] = {
    "acct": STAFF | {"owner", "service"},
    "proj": STAFF | {"owner", "alice", "service"},
    "all": STAFF | {"owner", "alice", "carol", "service", "service_obo"},
    "globex": STAFF | {"gus"},
}
# Who may change who sees a ticket and rate it: staff, its requester, account-wide users.
SPEAKS: dict[str, frozenset[str]] = {
    "acct": STAFF | {"owner", "service"},
    "proj": STAFF | {"owner", "service"},
    "all": STAFF | {"owner", "service"},
    "globex": STAFF | {"gus"},
}


def secrets_of(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(public words, internal words) of a ticket: the subject, the first message, the
    reply and its file are public; the note and its file are internal."""
    public = (f"{key}subjzq", f"{key}bodyzq", f"{key}replyzq", f"{key}pubfilezq")
    internal = (f"{key}notezq", f"{key}notefilezq")
    return public, internal


# --- the world -----------------------------------------------------------------------------


@dataclass
class Matrix:
    app: FastAPI
    world: World
    engine: str
    numbers: dict[str, int] = field(default_factory=dict)
    comments: dict[str, int] = field(default_factory=dict)  # "acct:reply" -> id
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # "acct:note" -> (id, name)
    channel: int = 0
    doomed_channels: list[int] = field(default_factory=list)
    doomed_tokens: list[int] = field(default_factory=list)
    doomed_users: list[str] = field(default_factory=list)
    doomed_groups: list[str] = field(default_factory=list)
    doomed_calendars: list[str] = field(default_factory=list)
    doomed_policies: list[int] = field(default_factory=list)
    policy: int = 0
    # A shared view to read and change, and shared views to delete.
    view: int = 0
    doomed_views: list[int] = field(default_factory=list)
    # A trigger, an automation and a shared macro to read and change; more to delete.
    rules: dict[str, int] = field(default_factory=dict)
    doomed_rules: dict[str, list[int]] = field(default_factory=dict)
    delivery: int = 0
    job: int = 0
    mail: int = 0  # a received message kept in the quarantine
    browsers: dict[str, Browser] = field(default_factory=dict)
    serial: Iterator[int] = field(default_factory=itertools.count)

    def api_headers(self, actor: str, scheme: str = "bearer") -> dict[str, str]:
        if actor == "anonymous":
            return {}
        user, obo = BAD_OBO.get(
            actor, ("acme-portal" if actor.startswith("service") else actor, "")
        )
        token = self.world.tokens[user]
        headers = {
            "bearer": {"Authorization": f"Bearer {token}"},
            "xtoken": {"X-Token": token},
            "apitoken": {"Authorization": f"APIToken {token}"},
        }[scheme]
        if actor == "service_obo":
            obo = OBO_AS
        if obo:
            headers["On-Behalf-Of"] = obo
        return headers


async def _seed_ticket(world: World, key: str) -> tuple[int, dict[str, int], dict[str, Any]]:
    level, projects, requester = TICKETS[key]
    # bob is no member of p1, so he may not name it himself: support files that one for him.
    ticket = await world.create_ticket(
        "agent" if projects else requester,
        **({"requester": requester} if projects else {}),
        subject=f"Subject {key}subjzq",
        body=f"Body {key}bodyzq",
        access_level=level,
        tp_id=f"{key}-ref",  # F5's partner calls find tickets by it
        **({"projects": projects} if projects else {}),
    )
    number = ticket["number"]
    files = {}
    comments = {}
    for kind, internal in (("reply", False), ("note", True)):
        word = "pubfilezq" if kind == "reply" else "notefilezq"
        upload = await world.upload("agent", f"{key}{word}.txt", b"bytes")
        files[f"{key}:{kind}"] = (upload["id"], upload["filename"])
        response = await world.post(
            "agent",
            f"/api/v1/tickets/{number}/comments",
            json={"body": f"{kind} {key}{kind}zq", "internal": internal, "files": [upload["id"]]},
        )
        assert response.status_code == 201, response.text
        comments[f"{key}:{kind}"] = response.json()["id"]
    return number, comments, files


async def _admin_things(m: Matrix, receiver: Receiver) -> None:
    """Channels (one to act on, two to delete) and tokens to revoke, before the tickets, so
    that the tickets' events leave deliveries to look at."""
    w = m.world
    for i in range(3):
        response = await w.post(
            "admin",
            "/api/v1/channels",
            json={"name": f"matrix-{i}", "kind": "webhook", "url": receiver.url},
        )
        assert response.status_code == 201, response.text
        if i == 0:
            m.channel = response.json()["id"]
        else:
            m.doomed_channels.append(response.json()["id"])
    response = await w.post(
        "admin", "/api/v1/users", json={"username": "target", "role": "customer", "account": "acme"}
    )
    assert response.status_code == 201, response.text
    for _ in range(2):
        response = await w.post("admin", "/api/v1/tokens", json={"username": "target"})
        assert response.status_code == 201, response.text
        m.doomed_tokens.append(response.json()["id"])
    # People to erase (one per call of the API's and the pages' matrices, and one left).
    for i in range(33):
        username = f"doomed-user-{i}"
        response = await w.post(
            "admin",
            "/api/v1/users",
            json={"username": username, "role": "customer", "account": "acme"},
        )
        assert response.status_code == 201, response.text
        m.doomed_users.append(username)
    # A group to read and change, and groups to delete (one per admin call, and one left).
    for key in ("matrix-team", *(f"doomed-{i}" for i in range(16))):
        response = await w.post(
            "admin", "/api/v1/groups", json={"key": key, "name": key, "members": ["agent"]}
        )
        assert response.status_code == 201, response.text
        if key != "matrix-team":
            m.doomed_groups.append(key)
    # A calendar and a policy to read and change, and more of each to delete.
    for key in ("matrix-hours", *(f"doomed-{i}" for i in range(16))):
        response = await w.post(
            "admin",
            "/api/v1/calendars",
            json={"key": key, "name": key, "windows": CALENDAR_WINDOWS},
        )
        assert response.status_code == 201, response.text
        if key != "matrix-hours":
            m.doomed_calendars.append(key)
    for i in range(17):
        response = await w.post(
            "admin",
            "/api/v1/sla-policies",
            json={"name": f"matrix-{i}", "position": 100 + i, "targets": SLA_TARGETS},
        )
        assert response.status_code == 201, response.text
        if i == 0:
            m.policy = response.json()["id"]
        else:
            m.doomed_policies.append(response.json()["id"])
    # A custom field shown to customers, to read and change.
    response = await w.post(
        "admin", "/api/v1/fields", json={"key": "matrix-field", "name": "M", "kind": "text"}
    )
    assert response.status_code == 201, response.text
    for kind, url, spec in RULE_SPECS:
        for i in range(17):
            response = await w.post("admin", url, json={**spec, "name": f"matrix-{kind}-{i}"})
            assert response.status_code == 201, response.text
            if i == 0:
                m.rules[kind] = response.json()["id"]
            else:
                m.doomed_rules.setdefault(kind, []).append(response.json()["id"])
    # A job no worker here runs, so it stays to be looked at and retried.
    async with w.database.writing() as session:
        await enqueue_job(session, kind="matrix.example", payload={})
    async with w.database.reader() as session:
        jobs, _ = await list_jobs(
            session, state=None, kind="matrix.example", before_id=None, limit=1
        )
    m.job = jobs[0].id
    # A message that stays in the quarantine however often it is retried (broken MIME).
    response = await w.post(
        "admin",
        "/api/v1/mail/inbound",
        content=MATRIX_MAIL,
        headers={"Content-Type": "message/rfc822"},
    )
    assert response.status_code == 202, response.text
    m.mail = response.json()["id"]


async def _views(m: Matrix) -> None:
    """A shared view to read and change, and shared views to delete."""
    for i in range(31):
        response = await m.world.post(
            "admin", "/api/v1/views", json={"name": f"matrix-{i}", "shared": True}
        )
        assert response.status_code == 201, response.text
        if i == 0:
            m.view = response.json()["id"]
        else:
            m.doomed_views.append(response.json()["id"])


MATRIX_MAIL = (
    b"From: owner@acme.test\r\nSubject: matrix\r\nMessage-ID: <matrix@acme.test>\r\n"
    b"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n"
)


@pytest.fixture(scope="module", params=ENGINES)
def matrix_database(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> tuple[str, str, Path]:
    """(engine, database URL, a directory) for the module's world. Synchronous, as the
    session's PostgreSQL fixture is (it runs its own event loop)."""
    engine = str(request.param)
    root = tmp_path_factory.mktemp(f"matrix-{engine}")
    if engine == "sqlite":
        shutil.copy(sqlite_template, root / "helpwire.db")
        return engine, f"sqlite+aiosqlite:///{root / 'helpwire.db'}", root
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(_truncate_postgres(url))
    return engine, url, root


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def matrix(matrix_database: tuple[str, str, Path]) -> AsyncIterator[Matrix]:
    engine, url, root = matrix_database
    settings = Settings(
        database_url=url,
        files_dir=root / "files",
        base_url="http://helpwire.test",
        log_json=False,
        relay_in_process=False,
        worker_in_process=False,
        # As tests/conftest.py: loopback receivers allowed, rate limits off (one client
        # making many requests; their own tests turn them on).
        channel_allowed_networks="127.0.0.0/8,::1,localhost",
        rate_limit_enabled=False,
    )
    app = create_app(settings)
    receiver = Receiver()
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://helpwire.test") as c:
            world = await build_world(c, app.state.database)
            m = Matrix(app=app, world=world, engine=engine)
            await _admin_things(m, receiver)
            await _views(m)
            for key in TICKETS:
                m.numbers[key], comments, files = await _seed_ticket(world, key)
                m.comments |= comments
                m.files |= files
            # A file nobody attached yet: its uploader's and staff's alone.
            loose = await world.upload("owner", "loosefilezq.txt", b"draft")
            m.files[LOOSE] = (loose["id"], loose["filename"])
            deliveries = await world.get("admin", f"/api/v1/channels/{m.channel}/deliveries")
            assert deliveries.status_code == 200, deliveries.text
            m.delivery = deliveries.json()["items"][0]["id"]
            harness = WebHarness(app=app, world=world)
            for actor in WEB_ACTORS:
                m.browsers[actor] = (
                    harness.anonymous() if actor == "anonymous" else await harness.sign_in(actor)
                )
                # A page with a form, for the session's CSRF token.
                page = {"anonymous": "/login", "agent": "/agent", "admin": "/agent"}
                await m.browsers[actor].get(page.get(actor, "/tickets/new"))
            yield m
            for client in harness.opened:
                await client.aclose()
    receiver.close()


# --- rules: who may call a route, per target -----------------------------------------------

Rule = Callable[[str, str], str]  # (actor, target) -> ok | unauth | forbidden | hidden


def public(actor: str, target: str) -> str:
    return "ok"


def signed_in(actor: str, target: str) -> str:
    return "unauth" if actor == "anonymous" else "ok"


def signed_link_only(actor: str, target: str) -> str:
    return "hidden"


def posts_mail(actor: str, target: str) -> str:
    """An admin, or a service HELPWIRE_MAIL_INBOUND_SERVICES names (none here): a service
    token acts for its own account elsewhere, and mail may claim to be from anyone."""
    if actor == "anonymous":
        return "unauth"
    return "ok" if actor == "admin" else "forbidden"


def staff_only(actor: str, target: str) -> str:
    if actor == "anonymous":
        return "unauth"
    return "ok" if actor in STAFF else "forbidden"


def admin_only(actor: str, target: str) -> str:
    if actor == "anonymous":
        return "unauth"
    return "ok" if actor == "admin" else "forbidden"


def sees_ticket(actor: str, target: str) -> str:
    """Customers see their own account's tickets per access level; the rest is 404."""
    if actor == "anonymous":
        return "unauth"
    return "ok" if actor in SEES[target.split(":")[0]] else "hidden"


def speaks_for_ticket(actor: str, target: str) -> str:
    """Changing who sees a ticket, rating it: those who see it and speak for it."""
    seen = sees_ticket(actor, target)
    if seen != "ok":
        return seen
    return "ok" if actor in SPEAKS[target] else "forbidden"


def sees_message(actor: str, target: str) -> str:
    """A comment or file: as its ticket, but internal notes only to staff; a file not
    attached to anything only to its uploader and staff."""
    if target == LOOSE:
        return "unauth" if actor == "anonymous" else "ok" if actor in LOOSE_SEEN else "hidden"
    seen = sees_ticket(actor, target)
    if seen == "ok" and target.endswith(":note") and actor not in STAFF:
        return "hidden"
    return seen


def rates_ticket(actor: str, target: str) -> str:
    """Ratings are the customer side's word: those who speak for the ticket; staff never."""
    seen = sees_ticket(actor, target)
    if seen != "ok":
        return seen
    return "ok" if actor in SPEAKS[target] - STAFF else "forbidden"


def rates_reply(actor: str, target: str) -> str:
    """A reply is rated as its ticket is; an internal note is not there for customers."""
    seen = sees_message(actor, target)
    if seen != "ok":
        return seen
    return rates_ticket(actor, target.split(":")[0])


def customers_only(actor: str, target: str) -> str:
    """The customer portal's forms: staff work in the console instead."""
    if actor == "anonymous":
        return "unauth"
    return "forbidden" if actor in STAFF else "ok"


def customer_ticket(actor: str, target: str) -> str:
    """The portal's forms on one ticket: a customer who sees it; staff use the console."""
    seen = sees_ticket(actor, target)
    return "forbidden" if seen == "ok" and actor in STAFF else seen


def answered(actor: str, target: str) -> str:
    """The sign-in form answers everyone (its answers are tests/web's business); the cell
    checks only that the answer is no error and leaks nothing."""
    return "answered"


# --- the calls -----------------------------------------------------------------------------

Build = Callable[[Matrix, str], tuple[str, dict[str, Any]]]  # -> (url, httpx kwargs)


# A check of what a let-through answer holds: (actor, target, answer) -> problem or None.
Check = Callable[[str, str, httpx.Response], str | None]


@dataclass(frozen=True)
class Entry:
    rule: Rule
    build: Build
    targets: tuple[str, ...] = ("-",)
    check: Check | None = None


def search_finds_no_note(actor: str, target: str, response: httpx.Response) -> str | None:
    """A word written only in internal notes finds nothing for a customer: not even a
    ticket they may see (that would tell them what the note says). Every seeded ticket's
    subject holds "subjzq", so a found one shows in the answer."""
    if "notezq" not in target or actor in STAFF or response.status_code != 200:
        return None
    return "searching a note's word found a ticket" if "subjzq" in response.text else None


def lists_what_it_sees(actor: str, target: str, response: httpx.Response) -> str | None:
    """The native list (and its search by subject) shows exactly the seeded tickets the
    reader sees: the positive side of the leak scan, so that an empty answer cannot pass
    for a safe one."""
    if response.status_code != 200:
        return None
    if problem := search_finds_no_note(actor, target, response):
        return problem
    if target != "-" and not target.endswith("subjzq"):
        return None
    keys = [k for k in TICKETS if target in ("-", f"{k}subjzq")]
    shown = {k for k in keys if f"{k}subjzq" in response.text}
    wanted = {k for k in keys if actor in SEES[k]}
    return None if shown == wanted else f"lists {sorted(shown)}, should list {sorted(wanted)}"


def counts_what_it_lists(actor: str, target: str, response: httpx.Response) -> str | None:
    """A list's count is the count of what the reader may see (one page holds them all)."""
    if response.status_code != 200:
        return None
    if problem := search_finds_no_note(actor, target, response):
        return problem
    body = response.json()
    if body["item_count"] != len(body["items"]):
        return f"item_count {body['item_count']} for {len(body['items'])} listed tickets"
    return None


TICKET_KEYS = tuple(TICKETS)
# A list unfiltered, then searched for each ticket's subject, reply and internal note.
SEARCHES = ("-", *(f"{k}{part}zq" for k in TICKETS for part in ("subj", "note", "reply")))
# Filters that name what a customer may not see: they narrow, never widen.
FILTERS = ("requester=bob", "requester=gus", "account=acme", "account=globex")
MESSAGE_KEYS = tuple(f"{k}:{kind}" for k in TICKETS for kind in ("reply", "note"))
LOOSE = "loose"  # a file owner uploaded and attached to nothing
LOOSE_SEEN = STAFF | {"owner"}
FILE_KEYS = (*MESSAGE_KEYS, LOOSE)
NOTHING: dict[str, Any] = {}


def at(url: str, **kwargs: Any) -> Build:
    """A fixed URL; `{n}` is the target ticket's number, `{c}` the target comment's id,
    `{f}`/`{fname}` the target file, `{ch}`, `{dch}`, `{dtok}`, `{dl}` admin things, `{i}`
    a number used once."""

    def build(m: Matrix, target: str) -> tuple[str, dict[str, Any]]:
        key = target.split(":")[0]
        values = {
            "n": m.numbers.get(key, 0),
            "t": key,
            "c": m.comments.get(target, 0),
            "f": m.files.get(target, ("", ""))[0],
            "fname": m.files.get(target, ("", ""))[1],
            "ch": m.channel,
            "dl": m.delivery,
            "j": m.job,
            "ml": m.mail,
            "i": next(m.serial),
        }
        if "{dch}" in url:
            values["dch"] = m.doomed_channels.pop(0) if len(m.doomed_channels) > 1 else 0
        if "{dtok}" in url:
            values["dtok"] = m.doomed_tokens.pop(0) if len(m.doomed_tokens) > 1 else 0
        if "{dusr}" in url:
            values["dusr"] = m.doomed_users.pop(0) if len(m.doomed_users) > 1 else "gone"
        if "{dgr}" in url:
            values["dgr"] = m.doomed_groups.pop(0) if len(m.doomed_groups) > 1 else "gone"
        if "{dcal}" in url:
            values["dcal"] = m.doomed_calendars.pop(0) if len(m.doomed_calendars) > 1 else "gone"
        if "{dpol}" in url:
            values["dpol"] = m.doomed_policies.pop(0) if len(m.doomed_policies) > 1 else 0
        values["pol"] = m.policy
        values["vw"] = m.view
        if "{dvw}" in url:
            values["dvw"] = m.doomed_views.pop(0) if len(m.doomed_views) > 1 else 0
        for kind in ("trg", "aut", "mac"):
            values[kind] = m.rules.get(kind, 0)
            if "{d" + kind + "}" in url:
                doomed = m.doomed_rules.get(kind, [])
                values["d" + kind] = doomed.pop(0) if len(doomed) > 1 else 0
        return url.format(**values), dict(kwargs)

    return build


def searching(url: str, **params: Any) -> Build:
    """A list; a target other than "-" is a word to search for."""

    def build(m: Matrix, target: str) -> tuple[str, dict[str, Any]]:
        if "=" in target:
            name, value = target.split("=")
            return url, {"params": params | {name: value}}
        return url, {"params": params | ({"q": target} if target != "-" else {})}

    return build


def same_access(m: Matrix, target: str) -> tuple[str, dict[str, Any]]:
    level, projects, _ = TICKETS[target]
    body: dict[str, Any] = {"access_level": level}
    if projects:
        body["projects"] = projects
    return f"/api/v1/tickets/{m.numbers[target]}", {"json": body}


TICKET_JSON = {"subject": "Matrix ticket", "body": "A matrix ticket."}
CALENDAR_WINDOWS = {"mon": [["09:00", "17:00"]]}
SLA_TARGETS = {"resolution": {"minutes": 600}}
API = "/api/v1"
RFC822 = "message/rfc822"
T = API + "/tickets/{n}"  # to call
TK = API + "/tickets/{number}"  # as the app names it

NOTE = [{"type": "add_tags", "value": ["matrix"]}]
TRIGGER_SPEC = {"events": ["sla.breached"], "actions": NOTE}
WAIT = [{"field": "minutes_since_update", "op": "gte", "value": 525600}]
AUTOMATION_SPEC = {"conditions": WAIT, "actions": NOTE}
MACRO_SPEC = {"body": "Hello {{ ticket.requester.first_name }}", "shared": True}
RULE_SPECS = (
    ("trg", API + "/triggers", TRIGGER_SPEC),
    ("aut", API + "/automations", AUTOMATION_SPEC),
    ("mac", API + "/macros", MACRO_SPEC),
)


def bulk_json(m: Matrix, target: str) -> tuple[str, dict[str, Any]]:
    """Tag the target ticket by a bulk change (staff only, refused before any ticket)."""
    change = {"add_tags": ["matrix"]}
    return API + "/tickets/bulk", {"json": {"tickets": [m.numbers[target]], "change": change}}


NATIVE: dict[tuple[str, str], Entry] = {
    ("POST", API + "/tickets"): Entry(signed_in, at(API + "/tickets", json=TICKET_JSON)),
    ("GET", API + "/tickets"): Entry(
        signed_in,
        searching(API + "/tickets", limit=200),
        (*SEARCHES, *FILTERS),
        lists_what_it_sees,
    ),
    ("GET", TK): Entry(sees_ticket, at(T), TICKET_KEYS),
    ("PATCH", TK): Entry(speaks_for_ticket, same_access, TICKET_KEYS),
    ("POST", TK + "/comments"): Entry(
        sees_ticket, at(T + "/comments", json={"body": "Matrix comment"}), TICKET_KEYS
    ),
    ("GET", TK + "/comments"): Entry(sees_ticket, at(T + "/comments"), TICKET_KEYS),
    ("GET", API + "/comments/{comment_id}"): Entry(
        sees_message, at(API + "/comments/{c}"), MESSAGE_KEYS
    ),
    ("POST", TK + "/close"): Entry(sees_ticket, at(T + "/close", json={}), TICKET_KEYS),
    ("POST", TK + "/reopen"): Entry(
        sees_ticket, at(T + "/reopen", json={"body": "Again"}), TICKET_KEYS
    ),
    ("POST", TK + "/escalate"): Entry(sees_ticket, at(T + "/escalate"), TICKET_KEYS),
    ("POST", TK + "/rating"): Entry(
        rates_ticket, at(T + "/rating", json={"score": 5}), TICKET_KEYS
    ),
    ("POST", TK + "/read"): Entry(sees_ticket, at(T + "/read"), TICKET_KEYS),
    ("POST", API + "/comments/{comment_id}/rating"): Entry(
        rates_reply, at(API + "/comments/{c}/rating", json={"score": 1}), MESSAGE_KEYS
    ),
    ("GET", TK + "/events"): Entry(sees_ticket, at(T + "/events"), TICKET_KEYS),
    ("POST", API + "/files"): Entry(
        signed_in, at(API + "/files", files={"file": ("m.txt", b"m", "text/plain")})
    ),
    ("GET", API + "/files/{file_id}"): Entry(sees_message, at(API + "/files/{f}"), FILE_KEYS),
    ("GET", API + "/topics"): Entry(signed_in, at(API + "/topics")),
    ("POST", API + "/topics"): Entry(
        admin_only, at(API + "/topics", json={"key": "matrix", "names": {"en": "Matrix"}})
    ),
    ("PATCH", API + "/topics/{key}"): Entry(
        admin_only, at(API + "/topics/network", json={"position": 2})
    ),
    ("GET", API + "/groups"): Entry(staff_only, at(API + "/groups")),
    ("POST", API + "/groups"): Entry(
        admin_only, at(API + "/groups", json={"key": "mg{i}", "name": "Matrix group"})
    ),
    ("GET", API + "/groups/{key}"): Entry(staff_only, at(API + "/groups/matrix-team")),
    ("PATCH", API + "/groups/{key}"): Entry(
        admin_only, at(API + "/groups/matrix-team", json={"description": "Team"})
    ),
    ("DELETE", API + "/groups/{key}"): Entry(admin_only, at(API + "/groups/{dgr}")),
    ("GET", API + "/fields"): Entry(signed_in, at(API + "/fields")),
    ("POST", API + "/fields"): Entry(
        admin_only, at(API + "/fields", json={"key": "mf{i}", "name": "M", "kind": "number"})
    ),
    ("GET", API + "/fields/{key}"): Entry(signed_in, at(API + "/fields/matrix-field")),
    ("PATCH", API + "/fields/{key}"): Entry(
        admin_only, at(API + "/fields/matrix-field", json={"description": "Matrix field"})
    ),
    ("GET", API + "/calendars"): Entry(staff_only, at(API + "/calendars")),
    ("POST", API + "/calendars"): Entry(
        admin_only,
        at(API + "/calendars", json={"key": "mc{i}", "name": "M", "windows": CALENDAR_WINDOWS}),
    ),
    ("GET", API + "/calendars/{key}"): Entry(staff_only, at(API + "/calendars/24-7")),
    ("PATCH", API + "/calendars/{key}"): Entry(
        admin_only, at(API + "/calendars/matrix-hours", json={"name": "Matrix hours"})
    ),
    ("DELETE", API + "/calendars/{key}"): Entry(admin_only, at(API + "/calendars/{dcal}")),
    ("GET", API + "/sla-policies"): Entry(staff_only, at(API + "/sla-policies")),
    ("POST", API + "/sla-policies"): Entry(
        admin_only,
        at(API + "/sla-policies", json={"name": "mp{i}", "targets": SLA_TARGETS}),
    ),
    ("GET", API + "/sla-policies/{policy_id}"): Entry(staff_only, at(API + "/sla-policies/{pol}")),
    ("PATCH", API + "/sla-policies/{policy_id}"): Entry(
        admin_only, at(API + "/sla-policies/{pol}", json={"warning_minutes": 5})
    ),
    ("DELETE", API + "/sla-policies/{policy_id}"): Entry(
        admin_only, at(API + "/sla-policies/{dpol}")
    ),
    ("GET", API + "/triggers"): Entry(staff_only, at(API + "/triggers")),
    ("POST", API + "/triggers"): Entry(
        admin_only, at(API + "/triggers", json={"name": "mt{i}", **TRIGGER_SPEC})
    ),
    ("GET", API + "/triggers/{rule_id}"): Entry(staff_only, at(API + "/triggers/{trg}")),
    ("PATCH", API + "/triggers/{rule_id}"): Entry(
        admin_only, at(API + "/triggers/{trg}", json={"position": 3})
    ),
    ("DELETE", API + "/triggers/{rule_id}"): Entry(admin_only, at(API + "/triggers/{dtrg}")),
    ("POST", API + "/triggers/{rule_id}/dry-run"): Entry(
        staff_only, at(API + "/triggers/{trg}/dry-run")
    ),
    ("GET", API + "/automations"): Entry(staff_only, at(API + "/automations")),
    ("POST", API + "/automations"): Entry(
        admin_only, at(API + "/automations", json={"name": "ma{i}", **AUTOMATION_SPEC})
    ),
    ("GET", API + "/automations/{rule_id}"): Entry(staff_only, at(API + "/automations/{aut}")),
    ("PATCH", API + "/automations/{rule_id}"): Entry(
        admin_only, at(API + "/automations/{aut}", json={"position": 3})
    ),
    ("DELETE", API + "/automations/{rule_id}"): Entry(admin_only, at(API + "/automations/{daut}")),
    ("POST", API + "/automations/{rule_id}/dry-run"): Entry(
        staff_only, at(API + "/automations/{aut}/dry-run")
    ),
    ("GET", API + "/macros"): Entry(staff_only, at(API + "/macros")),
    ("POST", API + "/macros"): Entry(
        staff_only, at(API + "/macros", json={"name": "mm{i}", "body": "Hi"})
    ),
    ("GET", API + "/macros/{macro_id}"): Entry(staff_only, at(API + "/macros/{mac}")),
    # A shared macro: admins change and delete it, agents use it.
    ("PATCH", API + "/macros/{macro_id}"): Entry(
        admin_only, at(API + "/macros/{mac}", json={"body": "Hello"})
    ),
    ("DELETE", API + "/macros/{macro_id}"): Entry(admin_only, at(API + "/macros/{dmac}")),
    ("POST", TK + "/macros/{macro_id}"): Entry(
        staff_only, at(T + "/macros/{mac}?preview=true"), TICKET_KEYS
    ),
    ("GET", API + "/reports/{name}"): Entry(staff_only, at(API + "/reports/csat")),
    ("POST", API + "/tickets/bulk"): Entry(staff_only, bulk_json, TICKET_KEYS),
    ("GET", API + "/views"): Entry(staff_only, at(API + "/views")),
    ("POST", API + "/views"): Entry(staff_only, at(API + "/views", json={"name": "mv{i}"})),
    ("GET", API + "/views/{view_id}"): Entry(staff_only, at(API + "/views/{vw}")),
    # A shared view: admins change and delete it, agents read it.
    ("PATCH", API + "/views/{view_id}"): Entry(
        admin_only, at(API + "/views/{vw}", json={"position": 1})
    ),
    ("DELETE", API + "/views/{view_id}"): Entry(admin_only, at(API + "/views/{dvw}")),
    ("GET", API + "/views/{view_id}/tickets"): Entry(staff_only, at(API + "/views/{vw}/tickets")),
    ("GET", API + "/me"): Entry(signed_in, at(API + "/me")),
    ("GET", API + "/accounts"): Entry(admin_only, at(API + "/accounts")),
    ("POST", API + "/accounts"): Entry(
        admin_only, at(API + "/accounts", json={"key": "matrixco", "name": "Matrix"})
    ),
    ("GET", API + "/accounts/{key}"): Entry(admin_only, at(API + "/accounts/acme")),
    ("POST", API + "/accounts/{key}/projects"): Entry(
        admin_only, at(API + "/accounts/acme/projects", json={"key": "pm{i}"})
    ),
    ("GET", API + "/users"): Entry(admin_only, at(API + "/users")),
    ("POST", API + "/users"): Entry(
        admin_only,
        at(API + "/users", json={"username": "matrix-new", "role": "customer", "account": "acme"}),
    ),
    ("GET", API + "/users/{username}"): Entry(admin_only, at(API + "/users/target")),
    ("PATCH", API + "/users/{username}"): Entry(
        admin_only, at(API + "/users/target", json={"real_name": "Target"})
    ),
    ("GET", API + "/tokens"): Entry(admin_only, at(API + "/tokens")),
    ("POST", API + "/tokens"): Entry(admin_only, at(API + "/tokens", json={"username": "target"})),
    ("DELETE", API + "/tokens/{token_id}"): Entry(admin_only, at(API + "/tokens/{dtok}")),
    # A person's own export is theirs too; none of the matrix's callers is "target".
    ("GET", API + "/users/{username}/export"): Entry(admin_only, at(API + "/users/target/export")),
    ("POST", API + "/users/{username}/erase"): Entry(admin_only, at(API + "/users/{dusr}/erase")),
    ("GET", API + "/audit"): Entry(admin_only, at(API + "/audit")),
    ("POST", API + "/channels"): Entry(
        admin_only,
        at(API + "/channels", json={"name": "m", "kind": "webhook", "url": "http://127.0.0.1:9/"}),
    ),
    ("GET", API + "/channels"): Entry(admin_only, at(API + "/channels")),
    ("GET", API + "/channels/{channel_id}"): Entry(admin_only, at(API + "/channels/{ch}")),
    ("PATCH", API + "/channels/{channel_id}"): Entry(
        admin_only, at(API + "/channels/{ch}", json={"name": "matrix-0"})
    ),
    ("DELETE", API + "/channels/{channel_id}"): Entry(admin_only, at(API + "/channels/{dch}")),
    ("POST", API + "/channels/{channel_id}/test"): Entry(
        admin_only, at(API + "/channels/{ch}/test")
    ),
    ("GET", API + "/channels/{channel_id}/deliveries"): Entry(
        admin_only, at(API + "/channels/{ch}/deliveries")
    ),
    ("GET", API + "/deliveries/{delivery_id}"): Entry(admin_only, at(API + "/deliveries/{dl}")),
    ("POST", API + "/deliveries/{delivery_id}/redeliver"): Entry(
        admin_only, at(API + "/deliveries/{dl}/redeliver")
    ),
    # Presence is staff only, refused as such before the ticket is looked at.
    ("PUT", TK + "/presence"): Entry(
        staff_only, at(T + "/presence", json={"state": "viewing"}), TICKET_KEYS
    ),
    ("GET", TK + "/presence"): Entry(staff_only, at(T + "/presence"), TICKET_KEYS),
    ("DELETE", TK + "/presence"): Entry(staff_only, at(T + "/presence"), TICKET_KEYS),
    ("PATCH", API + "/me"): Entry(signed_in, at(API + "/me", json={"time_zone": "Europe/Berlin"})),
    ("GET", TK + "/cc"): Entry(sees_ticket, at(T + "/cc"), TICKET_KEYS),
    # Staff only, and refused as such before the ticket is looked at: a customer learns
    # nothing of a ticket they may not see.
    ("POST", TK + "/cc"): Entry(
        staff_only, at(T + "/cc", json={"address": "m{i}@matrix.test"}), TICKET_KEYS
    ),
    ("DELETE", TK + "/cc/{address}"): Entry(
        staff_only, at(T + "/cc/nobody@matrix.test"), TICKET_KEYS
    ),
    # Staff only, refused as such before the ticket is looked at. The let-through calls
    # are refused by their input (no such ticket, no such comment), so the matrix's
    # tickets are neither merged nor split.
    ("POST", TK + "/merge"): Entry(
        staff_only, at(T + "/merge", json={"into": 999_999_999}), TICKET_KEYS
    ),
    ("POST", TK + "/split"): Entry(
        staff_only, at(T + "/split", json={"comment_ids": [2_000_000_000]}), TICKET_KEYS
    ),
    ("GET", TK + "/followers"): Entry(staff_only, at(T + "/followers"), TICKET_KEYS),
    ("POST", TK + "/followers"): Entry(staff_only, at(T + "/followers", json={}), TICKET_KEYS),
    ("DELETE", TK + "/followers/{username}"): Entry(
        staff_only, at(T + "/followers/nobody"), TICKET_KEYS
    ),
    ("GET", API + "/mail/templates"): Entry(admin_only, at(API + "/mail/templates")),
    ("GET", API + "/mail/templates/{kind}/{language}"): Entry(
        admin_only, at(API + "/mail/templates/reply/en")
    ),
    ("PUT", API + "/mail/templates/{kind}/{language}"): Entry(
        admin_only,
        at(API + "/mail/templates/status/de", json={"subject": "s", "text": "t", "html": "h"}),
    ),
    ("DELETE", API + "/mail/templates/{kind}/{language}"): Entry(
        admin_only, at(API + "/mail/templates/status/de")
    ),
    ("GET", API + "/mail/messages"): Entry(admin_only, at(API + "/mail/messages")),
    ("GET", API + "/mail/messages/{message_id}/original"): Entry(
        staff_only, at(API + "/mail/messages/{ml}/original")
    ),
    ("GET", API + "/mail/quarantine"): Entry(admin_only, at(API + "/mail/quarantine")),
    ("POST", API + "/mail/quarantine/{message_id}/retry"): Entry(
        admin_only, at(API + "/mail/quarantine/{ml}/retry")
    ),
    ("POST", API + "/mail/inbound"): Entry(
        posts_mail,
        at(API + "/mail/inbound", content=MATRIX_MAIL, headers={"Content-Type": RFC822}),
    ),
    ("GET", API + "/jobs"): Entry(admin_only, at(API + "/jobs")),
    ("GET", API + "/jobs/{job_id}"): Entry(admin_only, at(API + "/jobs/{j}")),
    ("POST", API + "/jobs/{job_id}/retry"): Entry(admin_only, at(API + "/jobs/{j}/retry")),
    ("GET", "/healthz"): Entry(public, at("/healthz")),
    ("GET", "/readyz"): Entry(public, at("/readyz")),
    ("GET", "/metrics"): Entry(public, at("/metrics")),
    ("GET", "/openapi.json"): Entry(public, at("/openapi.json")),
    ("GET", "/docs"): Entry(public, at("/docs")),
    ("GET", "/redoc"): Entry(public, at("/redoc")),
    ("GET", "/docs-assets"): Entry(public, at("/docs-assets/swagger-ui.css")),
}

SEL = "/selectel/tickets/v1"
ST = SEL + "/tickets/{n}"


def selectel_access(m: Matrix, target: str) -> tuple[str, dict[str, Any]]:
    level, projects, _ = TICKETS[target]
    body: dict[str, Any] = {"access_level": level}
    if projects:
        body["keystone_projects"] = projects
    return f"{SEL}/tickets/{m.numbers[target]}", {"json": body}


SELECTEL: dict[tuple[str, str], Entry] = {
    ("POST", SEL + "/tickets"): Entry(
        signed_in, at(SEL + "/tickets", json={"comment_body": "Matrix", "summary": "Matrix"})
    ),
    ("GET", SEL + "/tickets"): Entry(
        signed_in,
        searching(SEL + "/tickets", items_per_page=100),
        SEARCHES,
        counts_what_it_lists,
    ),
    ("GET", SEL + "/tickets/{ticket_number}"): Entry(sees_ticket, at(ST), TICKET_KEYS),
    ("PATCH", SEL + "/tickets/{ticket_number}"): Entry(
        speaks_for_ticket, selectel_access, TICKET_KEYS
    ),
    ("POST", SEL + "/tickets/{ticket_number}/close"): Entry(
        sees_ticket, at(ST + "/close", json={}), TICKET_KEYS
    ),
    ("POST", SEL + "/tickets/{ticket_number}/reopen"): Entry(
        sees_ticket, at(ST + "/reopen", json={"body": "Again"}), TICKET_KEYS
    ),
    ("POST", SEL + "/tickets/{ticket_number}/vote"): Entry(
        rates_ticket, at(ST + "/vote", json={"score": 5, "comment": "ok"}), TICKET_KEYS
    ),
    ("POST", SEL + "/tickets/{ticket_number}/comments"): Entry(
        sees_ticket, at(ST + "/comments", json={"body": "Matrix"}), TICKET_KEYS
    ),
    ("GET", SEL + "/tickets/{ticket_number}/comments"): Entry(
        sees_ticket, at(ST + "/comments"), TICKET_KEYS
    ),
    ("GET", SEL + "/comments/{comment_id}"): Entry(
        sees_message, at(SEL + "/comments/{c}"), MESSAGE_KEYS
    ),
    ("POST", SEL + "/comments/{comment_id}/vote"): Entry(
        rates_reply, at(SEL + "/comments/{c}/vote", json={"score": 1}), MESSAGE_KEYS
    ),
    ("GET", SEL + "/topics"): Entry(signed_in, at(SEL + "/topics")),
}

UCLOUD_COCALC: dict[tuple[str, str], Entry] = {
    ("POST", "/api/support/ticket"): Entry(
        signed_in, at("/api/support/ticket", json={"subject": "Matrix", "message": "Matrix"})
    ),
    ("POST", "/api/v1/create_support_ticket"): Entry(
        signed_in,
        at(
            "/api/v1/create_support_ticket",
            json={"email_address": "m@acme.test", "subject": "Matrix", "body": "Matrix"},
        ),
    ),
    ("POST", "/api/v1/get_support_tickets"): Entry(
        signed_in, at("/api/v1/get_support_tickets", json={})
    ),
}

F5_PREFIXES = (
    "",
    "/api/v1/api/{environment}/{region}/namespaces/{gateway_namespace}",
)
F5_GATEWAY = "/api/v1/api/production/us-east-1/namespaces/default"
NSP = "/api/web/namespaces/{namespace}"
SYS = "/api/web/namespaces/system"
PARTNER = SYS + "/partner-management/customer_supports"
F5_CREATE = {
    "metadata": {"name": "matrix", "namespace": "system"},
    "spec": {"subject": "Matrix", "description": "Matrix"},
}
# path (as the app names it, after the prefix) -> (rule, path to call, body or None, targets)
F5_CALLS: dict[tuple[str, str], tuple[Rule, str, dict[str, Any] | None, tuple[str, ...]]] = {
    ("POST", NSP + "/customer_supports"): (
        signed_in,
        SYS + "/customer_supports",
        F5_CREATE,
        ("-",),
    ),
    ("GET", NSP + "/customer_supports"): (signed_in, SYS + "/customer_supports", None, ("-",)),
    ("GET", NSP + "/admin/customer_supports"): (
        signed_in,
        SYS + "/admin/customer_supports",
        None,
        ("-",),
    ),
    ("GET", NSP + "/customer_supports/{name}"): (
        sees_ticket,
        SYS + "/customer_supports/{n}",
        None,
        TICKET_KEYS,
    ),
    **{
        ("POST", NSP + "/customer_support/{name}/" + verb): (
            sees_ticket,
            SYS + "/customer_support/{n}/" + verb,
            body,
            TICKET_KEYS,
        )
        for verb, body in (
            ("close", {}),
            ("reopen", {}),
            ("escalate", {}),
            ("priority", {"priority": "PRIORITY_HIGH"}),
            ("comment", {"comment": "Matrix"}),
        )
    },
    ("POST", SYS + "/child_tenant/support_tickets"): (
        signed_in,
        SYS + "/child_tenant/support_tickets",
        {
            "priority": ["PRIORITY_NORMAL", "PRIORITY_URGENT", "PRIORITY_HIGH"],
            "status": ["STATUS_NEW", "STATUS_OPEN", "STATUS_CLOSED", "STATUS_PENDING"],
        },
        ("-",),
    ),
    ("POST", SYS + "/customer_support/tax_exempt_request"): (
        signed_in,
        SYS + "/customer_support/tax_exempt_request",
        {"request_description": "Matrix"},
        ("-",),
    ),
    ("GET", PARTNER): (signed_in, PARTNER, None, ("-",)),
    ("POST", PARTNER): (signed_in, PARTNER, F5_CREATE, ("-",)),
    ("GET", PARTNER + "/{tp_id}"): (sees_ticket, PARTNER + "/{t}-ref", None, TICKET_KEYS),
    **{
        ("POST", PARTNER + "/{tp_id}/" + verb): (
            sees_ticket,
            PARTNER + "/{t}-ref/" + verb,
            body,
            TICKET_KEYS,
        )
        for verb, body in (
            ("close", {}),
            ("reopen", {}),
            ("escalate", {}),
            ("priority", {"priority": "PRIORITY_HIGH"}),
            ("comment", {"comment": "Matrix"}),
        )
    },
}


def _f5_entries() -> dict[tuple[str, str], Entry]:
    entries = {}
    for prefix, called in zip(F5_PREFIXES, ("", F5_GATEWAY), strict=True):
        for (method, path), (rule, url, body, targets) in F5_CALLS.items():
            kwargs = {} if body is None else {"json": body}
            entries[(method, prefix + path)] = Entry(rule, at(called + url, **kwargs), targets)
    return entries


F5XC = _f5_entries()

# --- the web UI: session cookies; forms carry the session's CSRF token ---------------------

WT = "/tickets/{n}"
AT = "/agent/tickets/{n}"


def form(url: str, /, **fields: str) -> Build:
    return at(url, data=fields)


def macro_form(m: Matrix, target: str) -> tuple[str, dict[str, Any]]:
    """Apply the shared macro (its text only) to the target ticket from the console."""
    return f"/agent/tickets/{m.numbers[target]}/macro", {"data": {"macro_id": str(m.rules["mac"])}}


def bulk_form(m: Matrix, target: str) -> tuple[str, dict[str, Any]]:
    """Tick the target ticket in the console's list and tag it."""
    return "/agent/bulk", {"data": {"ticket": str(m.numbers[target]), "add_tags": "matrix"}}


def staff_new_ticket_form(m: Matrix, target: str) -> tuple[str, dict[str, Any]]:
    """File a ticket for bob from the console (each form with its one-time id)."""
    fields = {"requester": "bob", "via": "phone", "subject": "Matrix", "body": "Matrix"}
    return "/agent/tickets/new", {"data": {**fields, "submission": f"matrix-{next(m.serial)}"}}


def erase_form(m: Matrix, target: str) -> tuple[str, dict[str, Any]]:
    """Erase one of the doomed people from their admin page, confirmed by their name."""
    username = m.doomed_users.pop(0) if len(m.doomed_users) > 1 else "gone"
    return f"/admin/users/{username}/erase", {"data": {"confirm": username}}


WEB: dict[tuple[str, str], Entry] = {
    ("GET", "/"): Entry(signed_in, at("/")),
    ("GET", "/login"): Entry(public, at("/login")),
    ("POST", "/login"): Entry(answered, form("/login", login="nobody", password="wrong password")),
    ("POST", "/logout"): Entry(signed_in, form("/logout")),
    ("GET", "/files/{file_id}/{filename}"): Entry(
        sees_message, at("/files/{f}/{fname}"), FILE_KEYS
    ),
    ("POST", "/ui/preview"): Entry(signed_in, form("/ui/preview", body="*matrix*")),
    ("GET", "/tickets"): Entry(
        signed_in, searching("/tickets", status="all"), SEARCHES, search_finds_no_note
    ),
    ("GET", "/tickets/new"): Entry(signed_in, at("/tickets/new")),
    ("POST", "/tickets/new"): Entry(
        customers_only, form("/tickets/new", subject="Matrix", body="Matrix", submission_id="m{i}")
    ),
    ("GET", "/tickets/{number}"): Entry(sees_ticket, at(WT), TICKET_KEYS),
    ("POST", "/tickets/{number}/reply"): Entry(
        customer_ticket, form(WT + "/reply", body="Matrix reply"), TICKET_KEYS
    ),
    ("POST", "/tickets/{number}/close"): Entry(customer_ticket, form(WT + "/close"), TICKET_KEYS),
    ("POST", "/tickets/{number}/reopen"): Entry(
        customer_ticket, form(WT + "/reopen", body="Again"), TICKET_KEYS
    ),
    ("POST", "/tickets/{number}/rate"): Entry(
        rates_ticket, form(WT + "/rate", score="5"), TICKET_KEYS
    ),
    ("POST", "/tickets/{number}/comments/{comment_id}/rate"): Entry(
        rates_reply, form(WT + "/comments/{c}/rate", score="1"), MESSAGE_KEYS
    ),
    # A rating link from a solved ticket's mail: its signature, not a sign-in, decides; one
    # without a valid signature is a ticket that does not exist, for everyone.
    ("GET", "/mail/rate/{number}/{score}"): Entry(
        signed_link_only, at("/mail/rate/{n}/5?u=1&s=aaaaaaaaaaaaaaaa"), TICKET_KEYS
    ),
    ("GET", "/agent"): Entry(staff_only, at("/agent")),
    ("POST", "/agent/tickets/{number}/cc"): Entry(
        staff_only, form(AT + "/cc", address="m{i}@matrix.test"), TICKET_KEYS
    ),
    ("POST", "/agent/tickets/{number}/cc/remove"): Entry(
        staff_only, form(AT + "/cc/remove", address="nobody@matrix.test"), TICKET_KEYS
    ),
    # Let through, then refused by their input (no number typed, no message ticked), so
    # the matrix's tickets are neither merged nor split.
    ("POST", "/agent/tickets/{number}/merge"): Entry(
        staff_only, form(AT + "/merge", into=""), TICKET_KEYS
    ),
    ("POST", "/agent/tickets/{number}/split"): Entry(staff_only, form(AT + "/split"), TICKET_KEYS),
    ("POST", "/agent/tickets/{number}/follow"): Entry(
        staff_only, form(AT + "/follow", follow="1"), TICKET_KEYS
    ),
    ("GET", "/agent/mail/{message_id}/original"): Entry(
        staff_only, at("/agent/mail/{ml}/original")
    ),
    ("GET", "/agent/mail/{message_id}"): Entry(staff_only, at("/agent/mail/{ml}")),
    ("GET", "/admin/mail"): Entry(admin_only, at("/admin/mail")),
    ("GET", "/admin/reports"): Entry(admin_only, at("/admin/reports?report=sla&by=group")),
    ("GET", "/admin/reports.csv"): Entry(admin_only, at("/admin/reports.csv?report=times")),
    ("POST", "/agent/tickets/{number}/macro"): Entry(staff_only, macro_form, TICKET_KEYS),
    ("GET", "/agent/tickets/new"): Entry(staff_only, at("/agent/tickets/new?who=bob")),
    ("POST", "/agent/tickets/new"): Entry(staff_only, staff_new_ticket_form),
    ("POST", "/agent/bulk"): Entry(staff_only, bulk_form, TICKET_KEYS),
    ("POST", "/agent/views"): Entry(
        staff_only, form("/agent/views", name="wv{i}", query="status=open")
    ),
    # A shared view: an admin deletes it; an agent is told only admins may.
    ("POST", "/agent/views/{view_id}/delete"): Entry(staff_only, form("/agent/views/{dvw}/delete")),
    ("POST", "/admin/mail/{message_id}/retry"): Entry(admin_only, form("/admin/mail/{ml}/retry")),
    ("GET", "/agent/counts"): Entry(staff_only, at("/agent/counts")),
    ("POST", "/agent/tickets/{number}/presence"): Entry(
        staff_only, form(AT + "/presence", state="viewing"), TICKET_KEYS
    ),
    ("POST", "/agent/tickets/{number}/presence/leave"): Entry(
        staff_only, form(AT + "/presence/leave"), TICKET_KEYS
    ),
    ("GET", "/settings"): Entry(signed_in, at("/settings")),
    ("POST", "/settings"): Entry(signed_in, form("/settings", language="", time_zone="")),
    ("GET", "/agent/tickets/{number}"): Entry(staff_only, at(AT), TICKET_KEYS),
    ("POST", "/agent/tickets/{number}/comment"): Entry(
        staff_only, form(AT + "/comment", body="Matrix note", internal="1"), TICKET_KEYS
    ),
    ("POST", "/agent/tickets/{number}/update"): Entry(
        staff_only, form(AT + "/update", priority="high"), TICKET_KEYS
    ),
    ("POST", "/agent/tickets/{number}/escalate"): Entry(
        staff_only, form(AT + "/escalate"), TICKET_KEYS
    ),
    ("GET", "/admin"): Entry(admin_only, at("/admin")),
    ("GET", "/admin/users"): Entry(admin_only, at("/admin/users")),
    ("GET", "/admin/users/new"): Entry(admin_only, at("/admin/users/new")),
    ("POST", "/admin/users"): Entry(
        admin_only,
        form("/admin/users", username="webnew{i}", role="customer", account="acme", email=""),
    ),
    ("GET", "/admin/users/{username}"): Entry(admin_only, at("/admin/users/target")),
    ("POST", "/admin/users/{username}"): Entry(
        admin_only, form("/admin/users/target", real_name="Target", role="customer", account="acme")
    ),
    ("POST", "/admin/users/{username}/disable"): Entry(
        admin_only, form("/admin/users/target/disable")
    ),
    ("POST", "/admin/users/{username}/enable"): Entry(
        admin_only, form("/admin/users/target/enable")
    ),
    ("POST", "/admin/users/{username}/reset-password"): Entry(
        admin_only, form("/admin/users/target/reset-password")
    ),
    ("GET", "/admin/tokens"): Entry(admin_only, at("/admin/tokens")),
    ("GET", "/admin/audit"): Entry(admin_only, at("/admin/audit")),
    ("GET", "/admin/users/{username}/export"): Entry(admin_only, at("/admin/users/target/export")),
    ("POST", "/admin/users/{username}/erase"): Entry(admin_only, erase_form),
    ("POST", "/admin/tokens"): Entry(admin_only, form("/admin/tokens", username="target")),
    ("POST", "/admin/tokens/{token_id}/revoke"): Entry(
        admin_only, form("/admin/tokens/{dtok}/revoke")
    ),
    ("GET", "/admin/accounts"): Entry(admin_only, at("/admin/accounts")),
    ("POST", "/admin/accounts"): Entry(
        admin_only, form("/admin/accounts", key="webco{i}", name="Web Co")
    ),
    ("GET", "/admin/accounts/{key}"): Entry(admin_only, at("/admin/accounts/acme")),
    ("POST", "/admin/accounts/{key}/projects"): Entry(
        admin_only, form("/admin/accounts/acme/projects", key="wp{i}", name="Web project")
    ),
    ("GET", "/admin/topics"): Entry(admin_only, at("/admin/topics")),
    ("GET", "/admin/topics/new"): Entry(admin_only, at("/admin/topics/new")),
    ("POST", "/admin/topics"): Entry(
        admin_only, form("/admin/topics", key="webtopic{i}", names="en: Web topic")
    ),
    ("GET", "/admin/topics/{key}"): Entry(admin_only, at("/admin/topics/network")),
    ("POST", "/admin/topics/{key}"): Entry(
        admin_only, form("/admin/topics/network", names="en: Network", position="1")
    ),
    ("GET", "/admin/channels"): Entry(admin_only, at("/admin/channels")),
    ("GET", "/admin/channels/new"): Entry(admin_only, at("/admin/channels/new")),
    ("POST", "/admin/channels"): Entry(
        admin_only,
        form("/admin/channels", name="web", kind="webhook", url="http://127.0.0.1:9/"),
    ),
    ("GET", "/admin/channels/{channel_id}"): Entry(admin_only, at("/admin/channels/{ch}")),
    ("POST", "/admin/channels/{channel_id}"): Entry(
        admin_only, form("/admin/channels/{ch}", name="matrix-0", kind="webhook")
    ),
    ("POST", "/admin/channels/{channel_id}/rotate-secret"): Entry(
        admin_only, form("/admin/channels/{ch}/rotate-secret")
    ),
    ("POST", "/admin/channels/{channel_id}/delete"): Entry(
        admin_only, form("/admin/channels/{dch}/delete")
    ),
    ("POST", "/admin/channels/{channel_id}/test"): Entry(
        admin_only, form("/admin/channels/{ch}/test")
    ),
    ("GET", "/admin/channels/{channel_id}/deliveries"): Entry(
        admin_only, at("/admin/channels/{ch}/deliveries")
    ),
    ("GET", "/admin/deliveries/{delivery_id}"): Entry(admin_only, at("/admin/deliveries/{dl}")),
    ("POST", "/admin/deliveries/{delivery_id}/redeliver"): Entry(
        admin_only, form("/admin/deliveries/{dl}/redeliver")
    ),
    ("GET", "/static"): Entry(public, at("/static/app.css")),
}

# Which face answers each group, and how it spells each outcome.
ROUTES: dict[str, dict[tuple[str, str], Entry]] = {
    "native": NATIVE,
    "selectel": SELECTEL,
    "ucloud-cocalc": UCLOUD_COCALC,
    "f5xc": F5XC,
    "web": WEB,
}


# --- the route table -----------------------------------------------------------------------


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves; HEAD rides along with GET."""
    found: set[tuple[str, str]] = set()
    for route in _flat(app.routes):
        path = getattr(route, "path", None)
        if path is None:
            continue
        methods = getattr(route, "methods", None) or {"GET"}  # a mount serves GETs
        found |= {(method, path) for method in methods if method != "HEAD"}
    return found


def _flat(routes: list[BaseRoute]) -> Iterator[Any]:
    try:  # FastAPI 0.13x keeps included routers as branches
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI: a flat list
        yield from routes
        return
    yield from iter_route_contexts(routes)


def test_every_route_of_the_app_has_an_entry_in_the_matrix(tmp_path: Path) -> None:
    app = create_app(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db", files_dir=tmp_path)
    )
    declared = {route for group in ROUTES.values() for route in group}
    served = app_routes(app)
    missing = sorted(served - declared)
    stale = sorted(declared - served)
    assert not missing, "routes without a row in the permission matrix: " + ", ".join(
        f"{m} {p}" for m, p in missing
    )
    assert not stale, "matrix rows for routes the app no longer serves: " + ", ".join(
        f"{m} {p}" for m, p in stale
    )


# --- checking the cells --------------------------------------------------------------------


@dataclass(frozen=True)
class Spelling:
    """How one face answers each outcome: a status, and for some a word in the body."""

    scheme: str
    unauth: tuple[int, str] = (401, "")
    forbidden: tuple[int, str] = (403, "")
    hidden: tuple[int, str] = (404, "")

    def verdict(self, outcome: str, method: str, response: httpx.Response) -> str | None:
        status = response.status_code
        if outcome == "answered":
            return f"answered {status}" if status >= 500 else None
        if outcome == "ok":
            refused = status in (401, 403, 404, 429) or status >= 500
            if method == "GET" and status >= 400:
                refused = True
            if "E_NOT_NOT_FOUND" in response.text:
                refused = True
            return f"refused ({status}) where it should be let through" if refused else None
        code, word = getattr(self, outcome)
        if outcome == "hidden" and self.scheme == "apitoken" and method == "POST":
            code, word = 200, "E_NOT_NOT_FOUND"  # F5's RPCs answer "not found" in the body
        if status != code or word not in response.text:
            return f"answered {status} where {outcome} is {code} {word!r}".rstrip(" '")
        return None


SPELLINGS = {
    "native": Spelling("bearer"),
    "selectel": Spelling("xtoken"),
    "ucloud-cocalc": Spelling("bearer"),
    "f5xc": Spelling("apitoken"),
    "web": Spelling("web", unauth=(303, ""), forbidden=(403, ""), hidden=(404, "")),
}
# CoCalc answers a missing key, and every refusal but an unknown key, with 400 (docs/faces.md).
COCALC = Spelling(
    "bearer", unauth=(400, "You must provide authentication via an API key."), forbidden=(400, "")
)


def leaks(actor: str, text: str) -> list[str]:
    """The words of tickets the actor may not see, and of internal notes for non-staff,
    that appear in an answer."""
    found = []
    for key in TICKETS:
        public_words, internal_words = secrets_of(key)
        words = [] if actor in SEES[key] else list(public_words)
        if actor not in STAFF:
            words += internal_words
        found += [word for word in words if word in text]
    if actor not in LOOSE_SEEN and "loosefilezq" in text:
        found.append("loosefilezq")
    return found


# Not a timing check: a request that never answers (a deadlock, e.g. a second writing
# transaction opened inside a request's own on SQLite) fails its cell instead of hanging
# the suite. Every request here answers in milliseconds.
HANG_GUARD_S = 60.0


@dataclass
class Run:
    cells: int = 0
    failures: list[str] = field(default_factory=list)

    def report(self, what: str, engine: str) -> None:
        print(f"\npermission matrix, {what} on {engine}: {self.cells} cells checked")
        assert not self.failures, f"{len(self.failures)} failing cells:\n" + "\n".join(
            self.failures
        )


def _gist(response: httpx.Response) -> str:
    """What a failing cell's answer said: a page's title, or the start of its body."""
    text = response.text
    if "<title>" in text:
        return text.split("<title>", 1)[1].split("</title>", 1)[0]
    return repr(text[:160])


async def _send(
    m: Matrix, spelling: Spelling, actor: str, method: str, url: str, kwargs: dict[str, Any]
) -> httpx.Response:
    if spelling.scheme != "web":
        extra = dict(kwargs)
        headers = {**m.api_headers(actor, spelling.scheme), **extra.pop("headers", {})}
        return await m.world.client.request(method, url, headers=headers, **extra)
    browser = m.browsers[actor]
    if method == "GET":
        return await browser.client.get(url, **kwargs)
    return await browser.post(url, kwargs.get("data"))


async def check_group(
    m: Matrix, group: str, run: Run, actors: tuple[str, ...], *, borrowed: bool = False
) -> None:
    """Every cell of a group of routes; with `borrowed`, the actors borrow an identity they
    may not, on one target per route: whatever the route, only public ones answer them."""
    spelling = SPELLINGS[group]
    entries = sorted(ROUTES[group].items(), key=lambda item: item[0] == ("POST", "/logout"))
    for (method, path), entry in entries:
        targets = entry.targets[:1] if borrowed else entry.targets
        for target, actor in itertools.product(targets, actors):
            url, kwargs = entry.build(m, target)
            outcome = entry.rule(actor, target)
            if borrowed:
                outcome = "ok" if entry.rule("anonymous", target) == "ok" else "forbidden"
            try:
                response = await asyncio.wait_for(
                    _send(m, spelling, actor, method, url, kwargs), HANG_GUARD_S
                )
            except TimeoutError:
                run.failures.append(f"{method} {path} [{target}] as {actor}: no answer (hung)")
                continue
            run.cells += 1
            wanted = spelling
            if path.endswith("_support_ticket") or path.endswith("_support_tickets"):
                wanted = COCALC
            problem = wanted.verdict(outcome, method, response)
            if problem is None and outcome == "ok" and entry.check is not None:
                problem = entry.check(actor, target, response)
            # A word the caller sent (a search) may be echoed back: it tells them nothing.
            sent = target if target in str(kwargs) else None
            leaked = leaks(actor, response.text.replace(sent, "") if sent else response.text)
            if leaked:
                problem = (problem + "; " if problem else "") + f"leaks {leaked}"
            if response.status_code == 429:
                problem = (problem or "") + " (rate limited: see settings.rate_limit_enabled)"
            if problem:
                run.failures.append(
                    f"{method} {path} [{target}] as {actor}: {problem}: {_gist(response)}"
                )


@on_module_loop
async def test_native_api_permission_matrix(matrix: Matrix) -> None:
    run = Run()
    await check_group(matrix, "native", run, API_ACTORS)
    run.report("native API", matrix.engine)


@on_module_loop
async def test_faces_permission_matrix(matrix: Matrix) -> None:
    run = Run()
    for group in ("selectel", "ucloud-cocalc", "f5xc"):
        await check_group(matrix, group, run, API_ACTORS)
    run.report("faces", matrix.engine)


@on_module_loop
async def test_borrowed_identities_are_refused_everywhere(matrix: Matrix) -> None:
    run = Run()
    for group in ("native", "selectel", "ucloud-cocalc", "f5xc"):
        await check_group(matrix, group, run, tuple(BAD_OBO), borrowed=True)
    run.report("On-Behalf-Of refusals", matrix.engine)


@on_module_loop
async def test_nobody_attaches_a_file_that_is_not_theirs(matrix: Matrix) -> None:
    """A file id is no key: attaching another's unattached file, or a file already on an
    internal note, to a reply or a new ticket is refused, so it cannot be read that way.
    (The web matrix, after this, checks the files are still as hidden as they were.)"""
    run = Run()
    number = matrix.numbers["all"]
    for actor, target in itertools.product(API_ACTORS[1:], (LOOSE, "all:note")):
        file_id = matrix.files[target][0]
        if actor == "owner" and target == LOOSE:
            continue  # its uploader may attach it; nobody else, staff neither
        for url, body in (
            (f"/api/v1/tickets/{number}/comments", {"body": "Mine now"}),
            ("/api/v1/tickets", TICKET_JSON),
        ):
            response = await matrix.world.client.post(
                url, json={**body, "files": [file_id]}, headers=matrix.api_headers(actor)
            )
            run.cells += 1
            if response.status_code < 400 or response.status_code >= 500:
                run.failures.append(f"POST {url} with {target} file as {actor}: {_gist(response)}")
    run.report("attaching files", matrix.engine)


@on_module_loop
async def test_web_permission_matrix(matrix: Matrix) -> None:
    run = Run()
    await check_group(matrix, "web", run, WEB_ACTORS)
    run.report("web UI", matrix.engine)
