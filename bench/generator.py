"""A realistic support history, seeded, generated in batches of tickets.

Used by bench/fill.py (fill a database for the HTTP benchmark or by hand) and by
bench/list_search.py. The same seed and size give the same rows on every engine.

Shapes (see bench/README.md): 2,000 accounts per 300,000 tickets with one account holding a
tenth of them, a customer per 15 tickets of whom a few per account file most tickets,
40 agents; status by age, priorities 20/60/15/5 %, escalations, unassigned new tickets,
project-only and all-users tickets, Zipf-distributed tags, 1..10 comments per ticket (12 %
of agents' comments internal), a few attached log files, and text drawn from a 20,000-word
Zipf vocabulary whose head is real support words.

Rows are plain tuples in the column order of each table's column list, as the application
would have written them: search documents hold the normalised text (search.service), a
comment's HTML is what rendering.render_body makes of it, each ticket has its
ticket.created event and each later comment its comment.created event, and the counts on
the ticket (comments, internal notes, version) add up.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import math
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from helpwire.search.service import normalize

SEED = 20261122

# The head of the vocabulary: words support tickets are made of, most frequent first.
SUPPORT_WORDS = (  # noqa: SIM905 (a sentence of words reads better than a list of strings)
    "the to and a i of is in it for not my on with this error we can when you have be "
    "that but are after from our since please help login server account password was "
    "update does working invoice payment access user new issue problem page again get "
    "connection network timeout email report file upload download database backup "
    "restore cluster node disk memory cpu billing charge refund plan upgrade license "
    "token api request response status failed failure crash slow latency dns domain "
    "certificate ssl vpn firewall port address instance volume snapshot image deploy "
    "build pipeline job queue worker cron schedule export import sync mobile browser "
    "chrome firefox windows linux macos app settings profile notification alert "
    "dashboard graph metrics logs console terminal ssh key permission denied forbidden "
    "invalid missing broken wrong reset change delete remove create cannot unable "
    "customer order shipping delivery tracking invoice receipt tax vat currency "
    "subscription trial cancel renew contract quota limit storage bucket object "
    "kubernetes docker container registry helm ingress loadbalancer proxy gateway"
).split()
VOCABULARY_SIZE = 20_000
WORD_POOL = 1_000_000  # words drawn at once
WORD_TABLE = 1 << 20  # entries of the table words are drawn from
WORD_EXPONENT = 1.1  # Zipf exponent of word frequencies
TAGS = 300
TOPICS = 12
BIGCORP = 1  # the largest account: 10% of all tickets


@dataclass(frozen=True)
class Weighted:
    """Values and their weights, summed once (random.choices sums them on every call)."""

    values: tuple[Any, ...]
    weights: tuple[int, ...]
    cumulative: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "cumulative", tuple(itertools.accumulate(self.weights)))


def _pick(rng: random.Random, choice: Weighted) -> Any:
    cumulative = choice.cumulative
    return choice.values[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


# Comments per ticket beyond the first: 2.5 comments per ticket on average.
EXTRA_COMMENTS = Weighted((0, 1, 2, 3, 5, 9), (35, 30, 15, 10, 7, 3))
SUBJECT_WORDS = (3, 9)
COMMENT_WORDS = (8, 40)
RATING_WORDS = (2, 12)
RATED_SHARE = 0.35
RATING_SCORES = Weighted((1, 2, 3, 4, 5), (5, 5, 10, 30, 50))
# Ways in: most tickets come through the API, the rest through the web UI.
VIA = Weighted(("api", "web"), (70, 30))
# Old tickets are mostly done; recent ones in every state.
STATUS_OLD = Weighted(("closed", "solved", "open", "pending"), (80, 15, 3, 2))
STATUS_RECENT = Weighted(
    ("new", "open", "pending", "hold", "solved", "closed"), (20, 35, 20, 5, 15, 5)
)
PRIORITIES = Weighted(("low", "normal", "high", "urgent"), (20, 60, 15, 5))
ACCESS_LEVELS = Weighted(("account_users", "project_users", "all_users"), (80, 12, 8))
TAG_COUNTS = Weighted((0, 1, 2, 3), (40, 35, 18, 7))


def _vocabulary(rng: random.Random) -> list[str]:
    """Lower-case ASCII words only: texts made of them need no normalising for the search
    index nor escaping for HTML."""
    words = list(dict.fromkeys(SUPPORT_WORDS))
    seen = set(words)
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    while len(words) < VOCABULARY_SIZE:
        word = "".join(
            rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4))
        )
        if word not in seen:
            seen.add(word)
            words.append(word)
    if not all(w.isascii() and w.isalpha() and w.islower() for w in words):
        raise ValueError("the vocabulary must be lower-case ASCII words")
    return words


def _word_table(vocabulary: Sequence[str], cumulative: Sequence[float]) -> list[str]:
    """Each word as often as its share of WORD_TABLE entries (at least once): drawing
    from it uniformly is the Zipf draw, several times faster than a weighted one."""
    table: list[str] = []
    previous = 0.0
    for word, total in zip(vocabulary, cumulative, strict=True):
        table += [word] * max(1, round((total - previous) / cumulative[-1] * WORD_TABLE))
        previous = total
    return table


def _zipf_cumulative(n: int, s: float) -> list[float]:
    total = 0.0
    out = []
    for rank in range(1, n + 1):
        total += 1 / rank**s
        out.append(total)
    return out


@dataclass(frozen=True)
class Shape:
    """How many of each thing; scaled from the number of tickets."""

    tickets: int
    accounts: int
    customers: int
    agents: int = 40
    start: datetime = datetime(2023, 11, 22, tzinfo=UTC)
    span: timedelta = timedelta(days=3 * 365)

    @classmethod
    def for_tickets(cls, tickets: int) -> Shape:
        return cls(
            tickets=tickets, accounts=max(20, tickets // 150), customers=max(60, tickets // 15)
        )


# Parents before children, as the foreign keys want them.
TABLE_ORDER = (
    "accounts", "projects", "topics", "subtopics", "users", "project_members", "tickets",
    "ticket_facts", "ticket_projects", "ticket_tags", "comments", "files", "file_blobs",
    "file_chunks", "events", "search_documents", "search_tickets",
)  # fmt: skip

COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("id", "key", "name", "created_at"),
    "projects": ("id", "account_id", "key", "name", "created_at"),
    "topics": ("id", "key", "names", "position", "is_active"),
    "subtopics": ("id", "topic_id", "key", "names", "position", "is_active"),
    "users": (
        "id", "username", "email", "real_name", "role", "account_id", "account_wide",
        "password_hash", "is_active", "created_at",
    ),
    "project_members": ("project_id", "user_id"),
    "tickets": (
        "id", "number", "uid", "subject", "type", "priority", "status", "topic_id",
        "subtopic_id", "attributes", "requester_id", "assignee_id", "account_id",
        "access_level", "context", "tp_id", "external_url", "escalated", "comment_count",
        "internal_note_count", "customer_read_at", "agent_read_at",
        "last_customer_activity_at", "last_agent_activity_at", "version", "created_at",
        "updated_at", "solved_at", "closed_at", "via", "rating_score", "rating_comment",
        "rated_at",
    ),
    # What reports read (reports/facts.py); times in wall-clock seconds, as for tickets
    # filed before SLA calendars.
    "ticket_facts": (
        "ticket_id", "created_at", "solved_at", "first_reply_at", "first_reply_seconds",
        "resolution_seconds", "assignee_id", "topic_id", "account_id", "rating_score",
        "rated_at",
    ),
    "ticket_projects": ("ticket_id", "project_id"),
    "ticket_tags": ("ticket_id", "tag", "ticket_created_at"),
    "comments": (
        "id", "ticket_id", "author_id", "body", "body_format", "body_html", "internal",
        "created_at",
    ),
    "files": (
        "id", "filename", "content_type", "size", "sha256", "storage_key", "uploader_id",
        "comment_id", "created_at",
    ),
    "file_blobs": ("key", "size", "sha256", "complete", "created_at"),
    "file_chunks": ("key", "seq", "data"),
    "events": ("id", "uid", "ticket_id", "actor_id", "type", "internal", "data", "created_at"),
    "search_documents": ("id", "ticket_id", "kind", "source_id", "internal", "body"),
    "search_tickets": ("ticket_id", "account_id", "public_text", "internal_text"),
}  # fmt: skip

# Tables written only when the schema has them: the bytes of files kept in the database,
# and the search index's row per ticket.
OPTIONAL_TABLES = frozenset({"file_blobs", "file_chunks", "search_tickets"})

# Columns of the filled tables that are left to their default (NULL) on purpose: what a
# history of plain tickets does not have. A column in the schema that is neither written
# nor listed here stops the fill (bench/fill.py checks), so that a new column is a
# decision, not a silently empty field.
_TICKETS_LEFT_EMPTY = (
    "follow_up_of_id", "split_from_id", "merged_into_id",
    # No groups and no SLA policy in a filled database (sla_breached: false by default).
    "group_id", "sla", "sla_due_at", "sla_breached",
    # A filled ticket was last changed when it was last updated: NULL means that.
    "status_changed_at",
)  # fmt: skip
LEFT_EMPTY: dict[str, frozenset[str]] = {
    "tickets": frozenset(_TICKETS_LEFT_EMPTY),
    # No comment was moved by a merge or split.
    "comments": frozenset(
        {"rating_score", "rating_comment", "rated_at", "moved_from_number", "moved_at"}
    ),
    # No groups and no SLA policies in a filled database.
    "ticket_facts": frozenset(
        {"group_id", "sla_first_reply_met", "sla_next_reply_met", "sla_resolution_met"}
    ),
    # Everyone is written to in HELPWIRE_MAIL_DEFAULT_LANGUAGE, sees times in UTC, and no
    # one was erased.
    "users": frozenset({"language", "available", "time_zone", "erased_at"}),
}

DATETIME_COLUMNS = frozenset(
    {
        "created_at", "updated_at", "solved_at", "closed_at", "customer_read_at",
        "agent_read_at", "last_customer_activity_at", "last_agent_activity_at",
        "first_reply_at", "rated_at",
    }
)  # fmt: skip


@dataclass
class Rows:
    """What is written, table by table: one batch."""

    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    tickets: int = 0  # tickets in this batch

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.tables.setdefault(table, []).append(row)

    def in_order(self) -> list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
        return [(t, COLUMNS[t], self.tables[t]) for t in TABLE_ORDER if t in self.tables]

    def count(self) -> int:
        return sum(len(values) for values in self.tables.values())


@dataclass(frozen=True)
class Words:
    """Search terms picked from the vocabulary by frequency, for the timed queries."""

    rare: str  # from the tail: a few dozen tickets at 1M
    mid: str  # about 1 % of the tickets (10,000 at 1M)
    common: str  # nearly every ticket
    two: str  # two common words
    prefix: str  # a prefix of a mid-frequency word
    broad: str  # the broadest query the limits allow: 8 three-letter prefixes

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _mid_rank(share: float) -> int:
    """The rank of the word expected in ``share`` of all tickets: a ticket holds about
    ``tokens`` words (subject and comments), each drawn from the Zipf weights."""
    weights = [1 / rank**WORD_EXPONENT for rank in range(1, VOCABULARY_SIZE + 1)]
    total = sum(weights)
    extra = EXTRA_COMMENTS
    comments = 1 + sum(n * w for n, w in zip(extra.values, extra.weights, strict=True)) / sum(
        extra.weights
    )
    tokens = sum(SUBJECT_WORDS) / 2 + comments * sum(COMMENT_WORDS) / 2
    for rank, weight in enumerate(weights):
        if 1 - math.exp(-tokens * weight / total) <= share:
            return rank
    return VOCABULARY_SIZE - 1


def search_words(vocabulary: Sequence[str]) -> Words:
    return Words(
        rare=vocabulary[VOCABULARY_SIZE - 40],
        mid=vocabulary[_mid_rank(0.01)],
        common=vocabulary[0],
        two=f"{vocabulary[40]} {vocabulary[130]}",
        prefix=vocabulary[60][:5] + "*",
        broad=" ".join(w[:3] + "*" for w in vocabulary[30:38]),
    )


class Generator:
    """The data set for ``shape``: ``people`` (accounts, projects, topics, users) at once,
    then ``tickets()`` in batches. Seeded: the same shape and seed give the same rows."""

    def __init__(
        self, shape: Shape, seed: int = SEED, optional: frozenset[str] = OPTIONAL_TABLES
    ) -> None:
        self.shape = shape
        self.seed = seed
        # Which of OPTIONAL_TABLES the schema has; the other rows are the same either way.
        self.optional = optional
        self._texts: list[tuple[bool, str]] = []  # the ticket's searchable texts so far
        self.rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
        self.vocabulary = _vocabulary(self.rng)
        self.words = search_words(self.vocabulary)
        self._word_cum = _zipf_cumulative(len(self.vocabulary), WORD_EXPONENT)
        self._word_table = _word_table(self.vocabulary, self._word_cum)
        self._tag_names = [f"tag{i}" for i in range(TAGS)]
        self._tag_cum = _zipf_cumulative(TAGS, 1.0)
        self._topic_cum = _zipf_cumulative(TOPICS, 1.0)
        self._agent_cum = _zipf_cumulative(shape.agents, 0.7)
        self._account_cum = _zipf_cumulative(shape.accounts - 1, 0.9)
        self._created = shape.start - timedelta(days=30)
        self.projects: list[list[int]] = [[] for _ in range(shape.accounts + 1)]
        self.customers: list[list[int]] = []
        self.account_of: dict[int, int] = {}
        self.people = Rows()
        self._make_people()
        self._harmonic = _zipf_cumulative(max(len(u) for u in self.customers), 1.0)
        self._ids = {"comments": 0, "events": 0, "search_documents": 0}
        self._started = False
        self._pool: list[str] = []
        self._pool_at = 0
        # About 70 words a ticket: a small data set draws no more than it needs.
        self._pool_size = min(WORD_POOL, 100 * shape.tickets + 1_000)

    # --- people ---------------------------------------------------------------------

    def _make_people(self) -> None:
        created, rows, rng = self._created, self.people, self.rng
        for account_id in range(1, self.shape.accounts + 1):
            key = "bigcorp" if account_id == BIGCORP else f"acct{account_id}"
            rows.add("accounts", (account_id, key, key.title(), created))
        project_id = 0
        for account_id in range(1, self.shape.accounts + 1):
            for number in range(1, (6 if account_id == BIGCORP else rng.randint(1, 3)) + 1):
                project_id += 1
                self.projects[account_id].append(project_id)
                rows.add("projects", (project_id, account_id, f"p{number}", "", created))
        for topic in range(1, TOPICS + 1):
            names = json.dumps({"en": f"Topic {topic}"})
            rows.add("topics", (topic, f"topic{topic}", names, topic, True))
            for sub in range(3):
                rows.add("subtopics", (topic * 3 + sub, topic, f"sub{sub}", names, sub, True))
        rows.add("users", (1, "admin", None, "Admin", "admin", None, True, None, True, created))
        for index in range(self.shape.agents):
            rows.add(
                "users",
                (2 + index, f"agent{index + 1}", None, "Agent", "agent", None, True, None, True,
                 created),
            )  # fmt: skip
        self.customers = self._account_of_customers()
        for account_id, users in enumerate(self.customers):
            for position, user_id in enumerate(users):
                self.account_of[user_id] = account_id
                # Bigcorp's first two customers: one account-wide, one in p1 only.
                wide = position != 1 and (position == 0 or rng.random() < 0.7)
                rows.add(
                    "users",
                    (user_id, f"u{user_id}", None, "", "customer", account_id, wide, None, True,
                     created),
                )  # fmt: skip
                if not wide or rng.random() < 0.3:
                    rows.add("project_members", (self.projects[account_id][0], user_id))

    def _account_of_customers(self) -> list[list[int]]:
        """Customer user ids per account (index 0 unused); bigcorp has a tenth of them."""
        shape, rng = self.shape, self.rng
        accounts: list[list[int]] = [[] for _ in range(shape.accounts + 1)]
        weights = self._account_cum
        first_customer = 2 + shape.agents  # 1 is the admin, then the agents
        for index in range(shape.customers):
            user_id = first_customer + index
            if index < shape.customers // 10:
                accounts[BIGCORP].append(user_id)
            elif index < shape.customers // 10 + shape.accounts - 1:
                accounts[index - shape.customers // 10 + 2].append(user_id)  # nobody alone
            else:
                accounts[2 + bisect.bisect(weights, rng.random() * weights[-1])].append(user_id)
        return accounts

    def username(self, user_id: int) -> str:
        if user_id == 1:
            return "admin"
        if user_id < 2 + self.shape.agents:
            return f"agent{user_id - 1}"
        return f"u{user_id}"

    # --- tickets --------------------------------------------------------------------

    def tickets(self, batch: int = 5_000) -> Iterator[Rows]:
        """All tickets with their conversations, ``batch`` tickets at a time. Once only:
        the random stream goes on from where the people left it."""
        if self._started:
            raise RuntimeError("tickets() runs once per Generator")
        self._started = True
        rows = Rows()
        for ticket_id in range(1, self.shape.tickets + 1):
            self._ticket(rows, ticket_id)
            rows.tickets += 1
            if rows.tickets == batch:
                yield rows
                rows = Rows()
        if rows.tickets:
            yield rows

    def _text(self, low: int, high: int) -> str:
        count = self.rng.randint(low, high)
        if self._pool_at + count > len(self._pool):
            # Words are drawn a million at a time: one call instead of one per text.
            self._pool = self.rng.choices(self._word_table, k=self._pool_size)
            self._pool_at = 0
        start, self._pool_at = self._pool_at, self._pool_at + count
        return " ".join(self._pool[start : self._pool_at])

    def _next_id(self, table: str) -> int:
        self._ids[table] += 1
        return self._ids[table]

    def _document(
        self, rows: Rows, ticket_id: int, kind: str, source: str, text: str, internal: bool
    ) -> None:
        """The search index row search.service.index_text writes. Generated text is
        lower-case words and spaces already, which normalize() leaves as it is."""
        doc_id = self._next_id("search_documents")
        rows.add("search_documents", (doc_id, ticket_id, kind, source, internal, text))
        self._texts.append((internal, text))

    def _search_ticket(self, rows: Rows, ticket_id: int, account_id: int) -> None:
        """The ticket's row of the search index, as search.service.refresh_ticket_document
        makes it from the ticket's documents: public texts and internal ones, each joined
        in the order they were written."""
        texts, self._texts = self._texts, []
        if "search_tickets" not in self.optional:
            return
        public = " ".join(text for internal, text in texts if not internal)
        internal_only = " ".join(text for internal, text in texts if internal)
        rows.add("search_tickets", (ticket_id, account_id, public, internal_only))

    def _event(
        self,
        rows: Rows,
        ticket_id: int,
        actor: int,
        kind: str,
        data: dict[str, Any] | str,
        internal: bool,
        at: datetime,
    ) -> None:
        uid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        text = data if isinstance(data, str) else json.dumps(data)
        rows.add(
            "events", (self._next_id("events"), uid, ticket_id, actor, kind, internal, text, at)
        )

    def _requester(self) -> int:
        rng = self.rng
        if rng.random() < 0.10:
            account_id = BIGCORP
        else:
            cum = self._account_cum
            account_id = 2 + bisect.bisect(cum, rng.random() * cum[-1])
        # One of the account's customers by 1/rank: each account has a few busy requesters.
        users = self.customers[account_id]
        pick = bisect.bisect(self._harmonic, rng.random() * self._harmonic[len(users) - 1])
        return users[min(pick, len(users) - 1)]

    def _status(self, age: float) -> str:
        rng = self.rng
        if age < 0.9:  # old tickets are mostly done
            return _pick(rng, STATUS_OLD)
        return _pick(rng, STATUS_RECENT)

    def _topic(self) -> tuple[int | None, int | None]:
        rng = self.rng
        if rng.random() >= 0.75:
            return None, None
        topic_id = 1 + bisect.bisect(self._topic_cum, rng.random() * self._topic_cum[-1])
        subtopic_id = topic_id * 3 + rng.randrange(3) if rng.random() < 0.5 else None
        return topic_id, subtopic_id

    def _ticket(self, rows: Rows, ticket_id: int) -> None:
        rng, shape = self.rng, self.shape
        requester = self._requester()
        account_id = self.account_of[requester]
        created_at = (
            shape.start
            + shape.span / shape.tickets * ticket_id
            + timedelta(seconds=rng.uniform(-600, 600))
        )
        status = self._status(ticket_id / shape.tickets)
        priority = _pick(rng, PRIORITIES)
        escalated = priority == "urgent" and rng.random() < 0.4
        assignee = (
            None
            if status == "new" or rng.random() < 0.08
            else 2 + bisect.bisect(self._agent_cum, rng.random() * self._agent_cum[-1])
        )
        access = _pick(rng, ACCESS_LEVELS)
        ticket_projects = []
        if access == "project_users" or rng.random() < 0.25:
            ticket_projects = [rng.choice(self.projects[account_id])]
        topic_id, subtopic_id = self._topic()
        via = _pick(rng, VIA)
        uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        subject = self._text(*SUBJECT_WORDS)
        self._document(rows, ticket_id, "subject", uid, subject, False)
        talk = self._conversation(rows, ticket_id, created_at, requester, assignee, via)
        done = status in ("solved", "closed")
        updated_at = talk.last
        solved_at = updated_at if done else None
        # About a third of the closed tickets are rated, most of them well.
        rated = status == "closed" and rng.random() < RATED_SHARE
        score = _pick(rng, RATING_SCORES) if rated else None
        remark = self._text(*RATING_WORDS) if rated and rng.random() < 0.3 else None
        rated_at = updated_at if rated else None
        rows.add(
            "tickets",
            (
                ticket_id, ticket_id, uid, subject, rng.choice(TICKET_TYPES), priority, status,
                topic_id, subtopic_id, "{}", requester, assignee, account_id, access,
                TICKET_CONTEXT, None, None, escalated, talk.comments,
                talk.internal_notes, updated_at, updated_at, talk.last_customer,
                talk.last_agent, talk.comments, created_at, updated_at,
                solved_at, updated_at if status == "closed" else None, via,
                score, remark, rated_at,
            ),
        )  # fmt: skip
        rows.add(
            "ticket_facts",
            (
                ticket_id, created_at, solved_at, talk.first_agent,
                _seconds(created_at, talk.first_agent), _seconds(created_at, solved_at),
                assignee, topic_id, account_id, score, rated_at,
            ),
        )  # fmt: skip
        self._search_ticket(rows, ticket_id, account_id)
        for project_id in ticket_projects:
            rows.add("ticket_projects", (ticket_id, project_id))
        count = _pick(rng, TAG_COUNTS)
        for tag in sorted(set(rng.choices(self._tag_names, cum_weights=self._tag_cum, k=count))):
            rows.add("ticket_tags", (ticket_id, tag, created_at))

    def _conversation(
        self,
        rows: Rows,
        ticket_id: int,
        created_at: datetime,
        requester: int,
        assignee: int | None,
        via: str,
    ) -> Conversation:
        """The ticket's comments (the first is its body), their events, search documents
        and, on some first comments, an attached log file."""
        rng = self.rng
        n_comments = 1 + _pick(rng, EXTRA_COMMENTS)
        talk = Conversation(comments=n_comments, last=created_at)
        moment = created_at
        for index in range(n_comments):
            comment_id = self._next_id("comments")
            by_agent = index % 2 == 1
            author = (assignee or 2) if by_agent else requester
            internal = by_agent and rng.random() < 0.12
            talk.internal_notes += internal
            body = self._text(*COMMENT_WORDS)
            # What rendering.render_body makes of one paragraph of plain words.
            html = f"<p>{body}</p>\n"
            rows.add(
                "comments",
                (comment_id, ticket_id, author, body, "text", html, internal, moment),
            )
            self._document(rows, ticket_id, "comment", str(comment_id), body, internal)
            files = self._file(rows, ticket_id, comment_id, author, moment) if index == 0 else []
            if index == 0:
                data = {
                    "comment_id": comment_id,
                    "requester": self.username(requester),
                    "via": via,
                    "files": files,
                }
                self._event(rows, ticket_id, author, "ticket.created", data, False, moment)
            else:
                # json.dumps of {"comment_id", "internal", "files": []}, spelled out: there
                # are millions of them.
                data_json = (
                    f'{{"comment_id": {comment_id}, "internal": {"true" if internal else "false"}'
                    ', "files": []}'
                )
                self._event(rows, ticket_id, author, "comment.created", data_json, internal, moment)
            if by_agent and not internal:
                talk.last_agent = moment
                talk.first_agent = talk.first_agent or moment
            elif not by_agent:
                talk.last_customer = moment
            talk.last = moment
            moment += timedelta(minutes=rng.randint(5, 60 * 48))
        return talk

    def _file(
        self, rows: Rows, ticket_id: int, comment_id: int, uploader: int, at: datetime
    ) -> list[dict[str, str]]:
        """Now and then a log file on the ticket's first comment: its row, its name in the
        search index, and its bytes as database storage keeps them (file_blobs and
        file_chunks, read with HELPWIRE_FILES_STORAGE=database)."""
        rng = self.rng
        if rng.random() >= 0.04:
            return []
        file_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        name = "-".join(rng.choices(self.vocabulary, cum_weights=self._word_cum, k=2)) + ".log"
        lines = [
            f"{at:%Y-%m-%d %H:%M:%S} ERROR {self._text(4, 12)}" for _ in range(rng.randint(5, 40))
        ]
        data = ("\n".join(lines) + "\n").encode()
        sha = hashlib.sha256(data).hexdigest()
        rows.add(
            "files",
            (file_id, name, "text/plain", len(data), sha, file_id, uploader, comment_id, at),
        )
        if "file_blobs" in self.optional:
            rows.add("file_blobs", (file_id, len(data), sha, True, at))
            rows.add("file_chunks", (file_id, 0, data))
        self._document(rows, ticket_id, "file", file_id, normalize(name), False)
        return [{"id": file_id, "filename": name}]


TICKET_TYPES = ["question", "incident", "problem", "task", "bug", "suggestion"]
# What create_ticket keeps of a request that sent no context.
TICKET_CONTEXT = json.dumps(
    {"request_id": None, "user_agent": None, "location": None, "info": {}, "service": None}
)


@dataclass
class Conversation:
    """What a ticket's comments add up to, for the ticket's own columns."""

    comments: int
    last: datetime
    internal_notes: int = 0
    last_customer: datetime | None = None
    last_agent: datetime | None = None
    first_agent: datetime | None = None  # the first public reply by staff


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()
