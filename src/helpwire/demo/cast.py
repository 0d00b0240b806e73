"""The demo's people and places: customer companies with projects and users, the support
team, an admin, and topics. Made through the accounts and topics services.

Run twice (``--force``), the demo finds its own accounts and people again and reuses them.
A demo person is recognised by username *and* e-mail address (all under ``.example``
domains, which never belong to anyone); a user with a demo username but another address
is somebody real, and the demo refuses rather than touch them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts import service as accounts
from helpwire.accounts.models import Account, Project, Role, User
from helpwire.problems import Conflict
from helpwire.topics import service as topics
from helpwire.topics.models import Topic

STAFF_DOMAIN = "helpdesk.example"


@dataclass(frozen=True)
class Person:
    username: str
    real_name: str
    role: Role
    # Projects of a customer who sees only their projects' tickets (not account-wide).
    projects: tuple[str, ...] = ()

    @property
    def account_wide(self) -> bool:
        return not self.projects

    @property
    def first_name(self) -> str:
        return self.real_name.split()[0]


@dataclass(frozen=True)
class Company:
    key: str
    name: str
    domain: str
    plan: str
    region: str
    projects: tuple[str, ...]
    people: tuple[Person, ...]
    # Share of all tickets: a few customers file most of them.
    weight: float

    def email_of(self, person: Person) -> str:
        return f"{person.username}@{self.domain}"


def _customer(username: str, real_name: str, *projects: str) -> Person:
    return Person(username=username, real_name=real_name, role=Role.CUSTOMER, projects=projects)


COMPANIES: tuple[Company, ...] = (
    Company(
        key="northwind",
        name="Northwind Traders",
        domain="northwind.example",
        plan="Business",
        region="eu-west-1",
        projects=("shop", "warehouse", "analytics"),
        people=(
            _customer("hanna.becker", "Hanna Becker"),
            _customer("liam.oconnor", "Liam O'Connor"),
            _customer("priya.nair", "Priya Nair", "shop"),
            _customer("tomas.novak", "Tomáš Novák", "warehouse", "analytics"),
        ),
        weight=0.32,
    ),
    Company(
        key="orbit-labs",
        name="Orbit Labs",
        domain="orbitlabs.example",
        plan="Enterprise",
        region="us-east-2",
        projects=("api-gateway", "ml-platform", "staging"),
        people=(
            _customer("olga.ivanova", "Olga Ivanova"),
            _customer("noah.williams", "Noah Williams"),
            _customer("david.kim", "David Kim", "api-gateway"),
            _customer("fatima.zahra", "Fatima Zahra", "ml-platform", "staging"),
        ),
        weight=0.26,
    ),
    Company(
        key="blue-harbor",
        name="Blue Harbor Logistics",
        domain="blueharbor.example",
        plan="Business",
        region="eu-central-1",
        projects=("tracking", "fleet"),
        people=(
            _customer("sofia.rossi", "Sofia Rossi"),
            _customer("kenji.tanaka", "Kenji Tanaka", "tracking"),
            _customer("amara.okafor", "Amara Okafor", "fleet"),
        ),
        weight=0.2,
    ),
    Company(
        key="cedar-health",
        name="Cedar Health",
        domain="cedarhealth.example",
        plan="Enterprise",
        region="eu-north-1",
        projects=("patient-portal", "records"),
        people=(
            _customer("emily.chen", "Emily Chen"),
            _customer("lea.dubois", "Léa Dubois"),
            _customer("marcus.johnson", "Marcus Johnson", "patient-portal"),
        ),
        weight=0.14,
    ),
    Company(
        key="lumen-studio",
        name="Lumen Studio",
        domain="lumenstudio.example",
        plan="Starter",
        region="eu-west-1",
        projects=("website",),
        people=(
            _customer("jonas.schmidt", "Jonas Schmidt"),
            _customer("ana.silva", "Ana Silva", "website"),
        ),
        weight=0.08,
    ),
)

AGENTS: tuple[Person, ...] = (
    Person("maya.patel", "Maya Patel", Role.AGENT),
    Person("leo.martins", "Leo Martins", Role.AGENT),
    Person("ines.costa", "Inês Costa", Role.AGENT),
    Person("raj.sharma", "Raj Sharma", Role.AGENT),
)

ADMIN = Person("alex.morgan", "Alex Morgan", Role.ADMIN)


@dataclass(frozen=True)
class TopicSpec:
    """A topic with English and German names, and its subtopics as (key, en, de)."""

    key: str
    en: str
    de: str
    subtopics: tuple[tuple[str, str, str], ...]

    def create_arguments(self) -> tuple[dict[str, str], list[dict[str, Any]]]:
        names = {"en": self.en, "de": self.de}
        subtopics = [{"key": key, "names": {"en": en, "de": de}} for key, en, de in self.subtopics]
        return names, subtopics


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "billing",
        "Billing",
        "Abrechnung",
        (
            ("invoices", "Invoices", "Rechnungen"),
            ("payments", "Payments", "Zahlungen"),
            ("plans", "Plans and pricing", "Tarife und Preise"),
        ),
    ),
    TopicSpec(
        "network",
        "Network",
        "Netzwerk",
        (
            ("dns", "DNS", "DNS"),
            ("load-balancers", "Load balancers", "Lastverteiler"),
            ("vpn", "VPN", "VPN"),
        ),
    ),
    TopicSpec(
        "accounts",
        "Accounts and sign-in",
        "Konten und Anmeldung",
        (
            ("sign-in", "Sign-in", "Anmeldung"),
            ("sso", "Single sign-on", "Single Sign-on"),
            ("permissions", "Permissions", "Berechtigungen"),
        ),
    ),
    TopicSpec(
        "api",
        "API and integrations",
        "API und Integrationen",
        (
            ("rate-limits", "Rate limits", "Ratenbegrenzung"),
            ("webhooks", "Webhooks", "Webhooks"),
            ("sdks", "SDKs", "SDKs"),
        ),
    ),
    TopicSpec(
        "performance",
        "Performance",
        "Leistung",
        (("latency", "Latency", "Latenz"), ("outages", "Outages", "Ausfälle")),
    ),
)


@dataclass(frozen=True)
class TopicChoice:
    key: str
    subtopics: tuple[str, ...]


@dataclass
class Roster:
    """Who and what the tickets can use, as they are in the database."""

    user_ids: dict[str, int] = field(default_factory=dict)
    # The admin to sign in as: the demo's own, or one that was there before (whose
    # password the demo does not know).
    admin: str | None = None
    admin_is_demo: bool = False
    topics: tuple[TopicChoice, ...] = ()
    topics_created: bool = False


async def build_cast(session: AsyncSession, *, password_hash: str, founded_at: datetime) -> Roster:
    """Make (or find again) every account, person and topic the demo needs. Things the
    demo makes are dated ``founded_at``: nobody filed a ticket before their account existed."""
    roster = Roster()
    for company in COMPANIES:
        account = await _ensure_account(session, company=company, founded_at=founded_at)
        for person in company.people:
            await _ensure_person(
                session,
                roster=roster,
                person=person,
                email=company.email_of(person),
                account=account,
                password_hash=password_hash,
                founded_at=founded_at,
            )
    for agent in AGENTS:
        await _ensure_person(
            session,
            roster=roster,
            person=agent,
            email=f"{agent.username}@{STAFF_DOMAIN}",
            account=None,
            password_hash=password_hash,
            founded_at=founded_at,
        )
    await _ensure_admin(session, roster=roster, password_hash=password_hash, founded_at=founded_at)
    roster.topics, roster.topics_created = await _ensure_topics(session)
    return roster


async def _ensure_account(
    session: AsyncSession, *, company: Company, founded_at: datetime
) -> Account:
    account = await session.scalar(select(Account).where(Account.key == company.key))
    if account is None:
        account = await accounts.create_account(
            session, key=company.key, name=company.name, projects=company.projects
        )
        account.created_at = founded_at
        for project in account.projects:
            project.created_at = founded_at
        return account
    existing = set(
        (await session.scalars(select(Project.key).where(Project.account_id == account.id))).all()
    )
    for key in company.projects:
        if key not in existing:
            project = await accounts.create_project(session, account=account, key=key)
            project.created_at = founded_at
    return account


async def _ensure_person(
    session: AsyncSession,
    *,
    roster: Roster,
    person: Person,
    email: str,
    account: Account | None,
    password_hash: str,
    founded_at: datetime,
) -> User:
    user = await session.scalar(select(User).where(User.username == person.username))
    if user is None:
        user = await accounts.create_user(
            session,
            new=accounts.NewUser(
                username=person.username,
                role=person.role,
                email=email,
                real_name=person.real_name,
                account_key=account.key if account else None,
                account_wide=person.account_wide,
                projects=person.projects,
            ),
        )
        user.created_at = founded_at
    elif user.email != email or user.role != person.role:
        raise Conflict(
            f"a user {person.username!r} exists already and is not one of the demo's people "
            f"(its e-mail address is not {email}); the demo leaves it alone and stops"
        )
    # One argon2 hash for everyone: the password is shared anyway, and hashing it once per
    # person would cost a tenth of a second each for nothing.
    user.password_hash = password_hash
    user.is_active = True
    roster.user_ids[person.username] = user.id
    return user


async def _ensure_admin(
    session: AsyncSession, *, roster: Roster, password_hash: str, founded_at: datetime
) -> None:
    """The demo's admin if it is there already or no admin is; otherwise the existing one."""
    own = await session.scalar(select(User.id).where(User.username == ADMIN.username))
    other = await session.scalar(
        select(User.username)
        .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
        .order_by(User.id)
        .limit(1)
    )
    if own is None and other is not None:
        roster.admin = other
        return
    await _ensure_person(
        session,
        roster=roster,
        person=ADMIN,
        email=f"{ADMIN.username}@{STAFF_DOMAIN}",
        account=None,
        password_hash=password_hash,
        founded_at=founded_at,
    )
    roster.admin, roster.admin_is_demo = ADMIN.username, True


async def _ensure_topics(session: AsyncSession) -> tuple[tuple[TopicChoice, ...], bool]:
    """The topics tickets are filed under: those already set up, or else the demo's own."""
    existing = await topics.list_topics(session)
    created = not existing
    if created:
        for position, spec in enumerate(TOPICS):
            names, subtopics = spec.create_arguments()
            await topics.create_topic(
                session, key=spec.key, names=names, position=position, subtopics=subtopics
            )
        existing = await topics.list_topics(session)
    return tuple(_choice(topic) for topic in existing), created


def _choice(topic: Topic) -> TopicChoice:
    return TopicChoice(
        key=topic.key, subtopics=tuple(s.key for s in topic.subtopics if s.is_active)
    )
