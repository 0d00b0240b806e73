"""`helpwire demo`: a living helpdesk made through the core services, dated in the past,
refusing to touch a database that is not meant for it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from helpwire.accounts import service as accounts
from helpwire.accounts.models import Role, User
from helpwire.cli import app as cli_app
from helpwire.db.session import Database
from helpwire.demo import DemoOptions, DemoRefused, fill_demo, texts
from helpwire.demo.cast import AGENTS, COMPANIES, TopicChoice
from helpwire.demo.plans import Move, Planner, slot_values
from helpwire.notify import channels
from helpwire.notify.models import ChannelKind
from helpwire.notify.outbound import AddressPolicy
from helpwire.notify.schemas import ChannelCreate
from helpwire.problems import Conflict
from helpwire.tickets.models import Comment, Event, Status, Ticket
from helpwire.topics.models import Topic
from tests.web.conftest import Browser

PASSWORD = "demo password 42"

COUNTED_TABLES = (
    "tickets",
    "comments",
    "events",
    "search_documents",
    "users",
    "accounts",
    "projects",
    "topics",
    "deliveries",
)


async def row_counts(database: Database) -> dict[str, int]:
    async with database.reader() as session:
        return {
            table: int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
            for table in COUNTED_TABLES
        }


async def agent_token(database: Database) -> str:
    async with database.writing() as session:
        user = await accounts.get_user(session, username=AGENTS[0].username)
        _row, token = await accounts.create_token(session, user=user, label="demo test")
        return token


async def test_demo_fills_a_living_helpdesk(database: Database, client: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    report = await fill_demo(database, DemoOptions(tickets=60, password=PASSWORD))

    assert report.tally.tickets == 60
    counts = await row_counts(database)
    assert counts["tickets"] == 60
    assert counts["accounts"] == len(COMPANIES) >= 4
    assert counts["users"] == sum(len(c.people) for c in COMPANIES) + len(AGENTS) + 1
    assert counts["deliveries"] == 0  # no channels: nothing was queued to send
    async with database.reader() as session:
        statuses = set((await session.scalars(select(Ticket.status).distinct())).all())
        assert statuses == {s.value for s in Status}
        comments = await session.scalar(select(func.count(Comment.id)))
        internal = await session.scalar(
            select(func.count(Comment.id)).where(Comment.internal.is_(True))
        )
        thumbs = await session.scalar(
            select(func.count(Comment.id)).where(Comment.rating_score.is_not(None))
        )
        rated = await session.scalar(
            select(func.count(Ticket.id)).where(Ticket.rating_score.is_not(None))
        )
        assert comments == report.tally.comments > 2 * 60  # conversations, not just bodies
        assert internal == report.tally.internal_notes > 0
        assert rated == report.tally.ticket_ratings > 0
        assert thumbs == report.tally.reply_ratings > 0
        # Escalations are rare (a few in a hundred tickets) and the plan's draws depend on
        # the hour it runs at, so 60 tickets may hold none; the planner test below shows
        # they occur. Here: every escalation played is on a ticket.
        escalated = await session.scalar(select(func.count(Ticket.id)).where(Ticket.escalated))
        assert escalated == report.tally.escalations
        assert await session.scalar(
            select(func.count(Ticket.id)).where(Ticket.assignee_id.is_(None))
        )
        topic = await session.scalar(select(Topic).where(Topic.key == "billing"))
        assert topic is not None and topic.names["de"] == "Abrechnung"
        assert {s.key for s in topic.subtopics} >= {"invoices", "payments"}
        project_only = await session.scalar(
            select(func.count(User.id)).where(User.role == "customer", User.account_wide.is_(False))
        )
        assert project_only
        newest = await session.scalar(select(Ticket).order_by(Ticket.number.desc()).limit(1))
        assert newest is not None
        assert newest.context["user_agent"] and newest.context["request_id"]
        assert newest.context["location"].startswith("https://")

    await assert_dated_in_the_past(database, before=before)

    # The search index was kept by the services: the newest ticket is found by its words.
    word = max(newest.subject.split(), key=len).strip("\"',.:")
    answer = await client.get(
        "/api/v1/tickets",
        params={"q": word},
        headers={"Authorization": f"Bearer {await agent_token(database)}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"][0]["number"] == newest.number


async def assert_dated_in_the_past(database: Database, *, before: datetime) -> None:
    """Spread over the past months, nothing dated after the run began, and no comment or
    event before its ticket or earlier than the one written before it."""
    async with database.reader() as session:
        first, last = (
            await session.execute(select(func.min(Ticket.created_at), func.max(Ticket.created_at)))
        ).one()
        assert last - first > timedelta(days=45)
        assert before - first < timedelta(days=91)
        for column in (Ticket.updated_at, Comment.created_at, Event.created_at):
            later = await session.scalar(select(func.count()).where(column >= before))
            assert later == 0, f"{column} dated after the run began"
        checks = {
            "comment before its ticket": "SELECT count(*) FROM comments c JOIN tickets t "
            "ON t.id = c.ticket_id WHERE c.created_at < t.created_at",
            "event before its ticket": "SELECT count(*) FROM events e JOIN tickets t "
            "ON t.id = e.ticket_id WHERE e.created_at < t.created_at",
            "event earlier than one written before it": "SELECT count(*) FROM events e "
            "JOIN events p ON p.ticket_id = e.ticket_id AND p.id < e.id "
            "WHERE e.created_at < p.created_at",
            "ticket updated before its last public event": "SELECT count(*) FROM tickets t "
            "WHERE t.updated_at < (SELECT max(e.created_at) FROM events e "
            "WHERE e.ticket_id = t.id AND NOT e.internal)",
            "closed ticket without its times": "SELECT count(*) FROM tickets "
            "WHERE status = 'closed' AND (closed_at IS NULL OR solved_at IS NULL)",
            "tag not dated as its ticket": "SELECT count(*) FROM ticket_tags g JOIN tickets t "
            "ON t.id = g.ticket_id WHERE g.ticket_created_at <> t.created_at",
        }
        assert await session.scalar(text("SELECT count(*) FROM ticket_tags")), "no tags"
        for what, query in checks.items():
            assert (await session.execute(text(query))).scalar_one() == 0, what


async def test_a_second_run_refuses_without_force_and_changes_nothing(database: Database) -> None:
    await fill_demo(database, DemoOptions(tickets=8, password=PASSWORD))
    counts = await row_counts(database)

    with pytest.raises(DemoRefused, match="--force"):
        await fill_demo(database, DemoOptions(tickets=8, password=PASSWORD))
    assert await row_counts(database) == counts

    # With --force it adds tickets and finds its own people and topics again.
    await fill_demo(database, DemoOptions(tickets=8, password=PASSWORD, force=True))
    again = await row_counts(database)
    assert again["tickets"] == 16
    assert again["users"] == counts["users"]
    assert again["topics"] == counts["topics"]


async def test_enabled_channels_make_the_demo_refuse(database: Database) -> None:
    async with database.writing() as session:
        await channels.create_channel(
            session,
            spec=ChannelCreate(name="ops", kind=ChannelKind.WEBHOOK, url="http://127.0.0.1:9/"),
            policy=AddressPolicy(["127.0.0.1"]),
        )
    counts = await row_counts(database)
    with pytest.raises(DemoRefused, match="notification channel"):
        await fill_demo(database, DemoOptions(tickets=5, password=PASSWORD, force=True))
    assert await row_counts(database) == counts


async def test_an_existing_user_with_a_demo_name_is_left_alone(database: Database) -> None:
    async with database.writing() as session:
        await accounts.create_user(
            session,
            new=accounts.NewUser(
                username=AGENTS[0].username, role=Role.AGENT, email="real@corp.test"
            ),
        )
    counts = await row_counts(database)
    with pytest.raises(Conflict, match="not one of the demo's people"):
        await fill_demo(database, DemoOptions(tickets=5, password=PASSWORD))
    assert await row_counts(database) == counts


async def test_demo_people_sign_in_through_the_web_form(
    database: Database, client: httpx.AsyncClient
) -> None:
    report = await fill_demo(database, DemoOptions(tickets=0, password=PASSWORD))
    starts = {"admin": "/agent", "agent": "/agent", "customer": "/tickets"}
    assert [who.password for who in report.sign_ins] == [PASSWORD] * 4
    for who in report.sign_ins:
        client.cookies.clear()
        browser = Browser(client=client)
        await browser.get("/login")
        answer = await browser.post("/login", {"login": who.username, "password": PASSWORD})
        assert answer.status_code == 303, (who.username, answer.text)
        assert answer.headers["location"] == starts[who.role.split()[0]]


def test_same_seed_gives_the_same_tickets() -> None:
    topics = [TopicChoice(key="billing", subtopics=("invoices",)), TopicChoice("api", ())]
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)

    def plans(seed: int) -> list[object]:
        return list(Planner(seed=seed, topics=topics, now=now).plans(40))

    assert plans(7) == plans(7)
    assert plans(7) != plans(8)


def test_the_plans_hold_escalations_and_internal_notes() -> None:
    topics = [TopicChoice(key="billing", subtopics=("invoices",)), TopicChoice("api", ())]
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    moves = [
        step.move
        for plan in Planner(seed=5, topics=topics, now=now).plans(300)
        for step in plan.steps
    ]
    assert Move.ESCALATE in moves
    assert Move.INTERNAL_NOTE in moves


def test_every_text_template_fills_its_slots() -> None:
    rng = random.Random(1)
    company = COMPANIES[0]
    slots = slot_values(
        rng, company, company.people[0], AGENTS[0], company.projects[0], datetime.now(UTC)
    )
    templates = [
        template
        for name in dir(texts)
        if name.isupper() and isinstance(getattr(texts, name), tuple)
        for template in getattr(texts, name)
        if isinstance(template, str)
    ]
    for family in texts.FAMILIES.values():
        templates += [o.subject for o in family.openings] + [o.body for o in family.openings]
        templates += [*family.questions, *family.details, *family.answers, *family.notes]
    assert len(templates) > 100
    for template in templates:
        assert "{" not in template.format_map(slots).replace("{{", ""), template


def test_the_command_migrates_fills_and_refuses_a_second_time(tmp_path: Path) -> None:
    env = {
        "HELPWIRE_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "HELPWIRE_BASE_URL": "http://demo.test:8000",
        "HELPWIRE_FILES_DIR": str(tmp_path / "files"),
    }
    runner = CliRunner()
    first = runner.invoke(cli_app, ["demo", "--tickets", "60", "--password", PASSWORD], env=env)
    assert first.exit_code == 0, first.output
    assert "60 tickets" in first.output
    assert "http://demo.test:8000/login" in first.output
    assert PASSWORD in first.output
    for who in ("alex.morgan", "maya.patel", "hanna.becker", "priya.nair"):
        assert who in first.output

    second = runner.invoke(cli_app, ["demo", "--tickets", "5", "--password", PASSWORD], env=env)
    assert second.exit_code == 1
    assert "--force" in second.output

    short = runner.invoke(cli_app, ["demo", "--password", "short", "--force"], env=env)
    assert short.exit_code == 1
    assert "at least 8 characters" in short.output
