"""Planning the demo's tickets: who files what when, and how each conversation goes.

Pure: everything is drawn from one ``random.Random(seed)``, so a seed gives the same tickets,
texts and stories on every run and every engine. Times are relative to the moment of the
run (tickets of the last ``days`` days), so a demo always looks current.

A ticket's final status follows its age, as in a real helpdesk: yesterday's tickets are
mostly new or open, last month's mostly solved or closed. Its story (the steps that lead
there) is then played through the core services by :mod:`helpwire.demo.player`.
"""

from __future__ import annotations

import enum
import math
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from helpwire.demo import texts
from helpwire.demo.cast import AGENTS, COMPANIES, Company, Person, TopicChoice
from helpwire.tickets.models import AccessLevel, Priority, Status, TicketType

# Nothing is dated later than this before the run, so that every demo time is in the past.
SAFETY_MARGIN = timedelta(minutes=1)


class Move(enum.StrEnum):
    AGENT_REPLY = "agent_reply"
    INTERNAL_NOTE = "internal_note"
    CUSTOMER_REPLY = "customer_reply"
    # A change of fields, as one submit of the agent's form: status, assignee, priority, tags.
    UPDATE = "update"
    ESCALATE = "escalate"
    THUMB = "thumb"
    RATE = "rate"
    CLOSE_RATED = "close_rated"
    CLOSE = "close"
    # Reading moves only a timestamp (see player.py).
    CUSTOMER_READS = "customer_reads"
    AGENT_READS = "agent_reads"


@dataclass(frozen=True)
class Step:
    move: Move
    at: datetime
    text: str = ""
    status: Status | None = None
    score: int | None = None
    assign: bool = False  # to the ticket's agent
    priority: Priority | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TicketPlan:
    created_at: datetime
    requester: str
    agent: str  # who works on it
    subject: str
    body: str
    type: TicketType
    priority: Priority
    topic: str | None
    subtopic: str | None
    tags: tuple[str, ...]
    access_level: AccessLevel
    projects: tuple[str, ...]
    via: str
    request_id: str
    user_agent: str
    location: str
    info: dict[str, str]
    status: Status  # where its story ends
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class _Beat:
    """A step before it has a time: how long after the previous one it happens."""

    move: Move
    minutes: float
    text: str = ""
    status: Status | None = None
    score: int | None = None
    assign: bool = False
    priority: Priority | None = None
    tags: tuple[str, ...] = ()


# Final status by age: (at most this many days old, weights in Status order).
_STATUS_BY_AGE: tuple[tuple[float, tuple[int, ...]], ...] = (
    (1, (40, 30, 15, 5, 10, 0)),
    (7, (8, 25, 17, 10, 20, 20)),
    (30, (1, 7, 6, 6, 20, 60)),
    (math.inf, (0, 2, 2, 3, 5, 88)),
)
_PRIORITY_WEIGHTS = (20, 58, 16, 6)  # low, normal, high, urgent
_SCORE_WEIGHTS = (6, 7, 12, 25, 50)  # 1..5
_REGIONS = ("eu-west-1", "eu-central-1", "us-east-2", "ap-south-1")
_ENDPOINTS = ("/v2/orders", "/v2/shipments", "/v1/events", "/v2/reports/usage", "/v1/users/bulk")
_SDKS = ("Python", "Go", "JavaScript", "Java")
_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
)
_API_USER_AGENTS = ("orbit-cli/2.3.1", "python-httpx/0.27.0", "helpwire-widget/1.4")


def creation_times(rng: random.Random, *, count: int, now: datetime, days: int) -> list[datetime]:
    """``count`` moments of the last ``days`` days, oldest first, shaped like real demand:
    busy on weekday working hours (UTC), quiet at night and at weekends, and growing a
    little over the period."""
    end = now - SAFETY_MARGIN
    start = now - timedelta(days=days)
    span = (end - start).total_seconds()
    times: list[datetime] = []
    while len(times) < count:
        moment = start + timedelta(seconds=rng.random() * span)
        if rng.random() < _demand(moment, fraction=(moment - start).total_seconds() / span):
            times.append(moment)
    times.sort()
    return times


def _demand(moment: datetime, *, fraction: float) -> float:
    """Relative demand at a moment, at most 1."""
    weekday = 1.0 if moment.weekday() < 5 else 0.3
    hour = moment.hour
    daytime = 1.0 if 7 <= hour < 18 else 0.45 if 18 <= hour < 22 else 0.15
    return weekday * daytime * (0.7 + 0.3 * fraction)


def final_statuses(
    rng: random.Random, *, created: Sequence[datetime], now: datetime
) -> list[Status]:
    """Each ticket's final status by its age; with at least six tickets, every status
    occurs at least once (a small demo still shows every queue)."""
    statuses = [_status_for_age(rng, (now - moment) / timedelta(days=1)) for moment in created]
    if len(statuses) >= len(Status):
        for missing in [s for s in Status if s not in statuses]:
            # The newest ticket of the most common status gives it up: young tickets are
            # the likeliest to be in any state.
            common = Counter(statuses).most_common(1)[0][0]
            index = max(i for i, s in enumerate(statuses) if s == common)
            statuses[index] = missing
    return statuses


def _status_for_age(rng: random.Random, age_days: float) -> Status:
    for limit, weights in _STATUS_BY_AGE:
        if age_days <= limit:
            return rng.choices(list(Status), weights=weights)[0]
    raise AssertionError("the last age limit is infinite")


def slot_values(
    rng: random.Random,
    company: Company,
    person: Person,
    agent: Person,
    project: str,
    when: datetime,
) -> dict[str, object]:
    """What one ticket's texts talk about: every slot any template (texts.py) names."""
    colleagues = [p for p in company.people if p != person]
    ms = rng.randint(40, 180)
    return {
        "company": company.name,
        "domain": company.domain,
        "plan": company.plan,
        "region": company.region if rng.random() < 0.7 else rng.choice(_REGIONS),
        "project": project,
        "customer_first": person.first_name,
        "customer_email": company.email_of(person),
        "colleague": rng.choice(colleagues).real_name if colleagues else "Sam Taylor",
        "agent_first": agent.first_name,
        "invoice": f"INV-{when.year}-{rng.randint(1000, 9999)}",
        "amount": f"{rng.randint(19, 2400)}.{rng.randint(0, 99):02d}",
        "vat": f"DE{rng.randint(100_000_000, 999_999_999)}",
        "day": (when - timedelta(days=rng.randint(0, 6))).strftime("%d %B"),
        "hour": rng.randint(0, 23),
        "minute": rng.randint(0, 59),
        "count": rng.choice((5, 10, 25, 40, 120, 500)),
        "percent": rng.randint(2, 40),
        "digits": rng.randint(1000, 9999),
        "ip": f"203.0.113.{rng.randint(2, 254)}",
        "endpoint": rng.choice(_ENDPOINTS),
        "sdk": rng.choice(_SDKS),
        "version": f"{rng.randint(3, 5)}.{rng.randint(0, 12)}",
        "ms": ms,
        "ms2": ms * rng.randint(2, 4),
        "request_ref": f"req_{rng.getrandbits(64):016x}",
        "build": f"{when.year}.{rng.randint(1, 40)}.{rng.randint(0, 9)}",
    }


@dataclass
class Planner:
    seed: int
    topics: Sequence[TopicChoice]
    now: datetime
    days: int = 90
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 (made-up data, reproducible by seed)

    def plans(self, count: int) -> Iterator[TicketPlan]:
        """The tickets oldest first (so numbers grow with time), made one at a time."""
        created = creation_times(self.rng, count=count, now=self.now, days=self.days)
        statuses = final_statuses(self.rng, created=created, now=self.now)
        for moment, status in zip(created, statuses, strict=True):
            yield self._ticket(moment, status)

    # --- one ticket ----------------------------------------------------------------------

    def _ticket(self, created_at: datetime, status: Status) -> TicketPlan:
        rng = self.rng
        company = rng.choices(COMPANIES, weights=[c.weight for c in COMPANIES])[0]
        # The first people of a company file most of its tickets.
        person = rng.choices(company.people, weights=range(len(company.people) + 3, 3, -1))[0]
        agent = rng.choice(AGENTS)
        topic = rng.choice(self.topics) if self.topics else None
        subtopic = (
            rng.choice(topic.subtopics)
            if topic and topic.subtopics and rng.random() < 0.8
            else None
        )
        family = texts.family_for(topic.key if topic else None)
        opening = rng.choice(family.openings)
        access_level, projects = self._audience(company, person)
        project = projects[0] if projects else rng.choice(company.projects)
        slots = slot_values(rng, company, person, agent, project, created_at)
        via = "api" if rng.random() < 0.3 else "web"
        priority = self._priority(opening.type)
        beats = self._story(status, family, slots, priority)
        return TicketPlan(
            created_at=created_at,
            requester=person.username,
            agent=agent.username,
            subject=opening.subject.format_map(slots),
            body=opening.body.format_map(slots),
            type=opening.type,
            priority=priority,
            topic=topic.key if topic else None,
            subtopic=subtopic,
            tags=tuple(sorted(set(rng.sample(family.tags, k=rng.choice((0, 1, 1, 2)))))),
            access_level=access_level,
            projects=projects,
            via=via,
            request_id=str(slots["request_ref"]),
            user_agent=rng.choice(_API_USER_AGENTS if via == "api" else _USER_AGENTS),
            location=f"https://console.cloud.example/{company.key}/{project}{family.location_path}",
            info={
                "plan": company.plan,
                "region": str(slots["region"]),
                "app_version": str(slots["build"]),
            },
            status=status,
            steps=self._timed(beats, created_at),
        )

    def _audience(self, company: Company, person: Person) -> tuple[AccessLevel, tuple[str, ...]]:
        """Project-only people file for their projects; others mostly for the account."""
        rng = self.rng
        if not person.account_wide:
            return AccessLevel.PROJECT_USERS, (rng.choice(person.projects),)
        roll = rng.random()
        if roll < 0.2:
            return AccessLevel.PROJECT_USERS, (rng.choice(company.projects),)
        if roll < 0.3:
            return AccessLevel.ALL_USERS, ()
        return AccessLevel.ACCOUNT_USERS, ()

    def _priority(self, kind: TicketType) -> Priority:
        weights = list(_PRIORITY_WEIGHTS)
        if kind == TicketType.INCIDENT:  # something is down: more of them are pressing
            weights = [5, 35, 40, 20]
        elif kind == TicketType.SUGGESTION:
            weights = [60, 40, 0, 0]
        return self.rng.choices(list(Priority), weights=weights)[0]

    # --- the story -----------------------------------------------------------------------

    def _story(
        self, status: Status, family: texts.Family, slots: dict[str, object], priority: Priority
    ) -> list[_Beat]:
        say = _Writer(self.rng, slots)
        rng = self.rng
        if status == Status.NEW:
            return self._untouched(say, family, priority)
        if status == Status.CLOSED and rng.random() < 0.05:
            return self._duplicate()
        beats = self._note(say, family, chance=0.25)
        if status in (Status.SOLVED, Status.CLOSED) and rng.random() < 0.4:
            # Answered at once: support knew the answer.
            beats += self._solution(say, family, first=self._pick_up(family, priority))
            return beats + self._feedback(say, closing=status == Status.CLOSED)
        if status == Status.HOLD:
            return beats + self._on_hold(say, family, priority)
        beats.append(_Beat(Move.AGENT_REPLY, self._gap(10, 600), text=say.reply(family.questions)))
        if status == Status.OPEN:
            # Answered without waiting on the customer: the ticket stays open.
            pick_up = self._pick_up(family, priority)
            if pick_up.assign or pick_up.tags:
                beats.append(pick_up)
            return beats + self._escalation(say, priority) + self._still_open(say, family)
        # Support waits for the customer's answer; it reopens the ticket when it comes.
        waiting = replace(self._pick_up(family, priority), status=Status.PENDING)
        beats += [waiting, *self._escalation(say, priority)]
        if status == Status.PENDING:
            return beats + self._read(chance=0.6)
        beats += self._customer_answers(say, family)
        beats += self._solution(say, family, first=None)
        return beats + self._feedback(say, closing=status == Status.CLOSED)

    def _pick_up(self, family: texts.Family, priority: Priority) -> _Beat:
        """Support takes the ticket: mostly assigns it, sometimes re-tags or raises it."""
        rng = self.rng
        triaged = rng.random() < 0.2
        raised = triaged and priority in (Priority.LOW, Priority.NORMAL)
        return _Beat(
            Move.UPDATE,
            self._gap(0.2, 3),
            assign=rng.random() < 0.9,
            priority=Priority.HIGH if raised else None,
            tags=tuple(sorted(set(rng.sample(family.tags, k=2)))) if triaged else (),
        )

    def _untouched(self, say: _Writer, family: texts.Family, priority: Priority) -> list[_Beat]:
        """Nobody has answered yet, but something may have happened."""
        rng, beats = self.rng, []
        if rng.random() < 0.3:
            text = say.pick(family.details + texts.NUDGES)
            beats.append(_Beat(Move.CUSTOMER_REPLY, self._gap(20, 600), text=text))
        if rng.random() < 0.25:
            beats.append(_Beat(Move.AGENT_READS, self._gap(5, 240)))
        beats += self._note(say, family, chance=0.15)
        if rng.random() < 0.2:
            beats.append(_Beat(Move.UPDATE, self._gap(5, 120), assign=True))
        if priority != Priority.URGENT and rng.random() < 0.04:
            beats.append(_Beat(Move.ESCALATE, self._gap(10, 240)))
        return beats

    def _duplicate(self) -> list[_Beat]:
        return [
            _Beat(Move.INTERNAL_NOTE, self._gap(5, 240), text=texts.DUPLICATE_NOTE),
            _Beat(Move.CLOSE, self._gap(1, 10), text=texts.DUPLICATE_CLOSE),
        ]

    def _note(self, say: _Writer, family: texts.Family, *, chance: float) -> list[_Beat]:
        if self.rng.random() >= chance:
            return []
        return [_Beat(Move.INTERNAL_NOTE, self._gap(2, 90), text=say.pick(family.notes))]

    def _read(self, *, chance: float) -> list[_Beat]:
        if self.rng.random() >= chance:
            return []
        return [_Beat(Move.CUSTOMER_READS, self._gap(5, 600))]

    def _escalation(self, say: _Writer, priority: Priority) -> list[_Beat]:
        if priority == Priority.URGENT or self.rng.random() >= 0.07:
            return []
        note = say.pick(texts.ESCALATION_NOTES)
        return [
            _Beat(Move.INTERNAL_NOTE, self._gap(30, 900), text=note),
            _Beat(Move.ESCALATE, self._gap(1, 10)),
        ]

    def _customer_answers(self, say: _Writer, family: texts.Family) -> list[_Beat]:
        text = say.pick(family.details)
        return [*self._read(chance=0.8), _Beat(Move.CUSTOMER_REPLY, self._gap(15, 1440), text=text)]

    def _still_open(self, say: _Writer, family: texts.Family) -> list[_Beat]:
        """Back and forth, not settled yet; it may end on either side's turn."""
        rng, beats = self.rng, []
        if rng.random() < 0.7:
            beats += self._customer_answers(say, family)
            if rng.random() < 0.5:
                text = say.reply(texts.PROGRESS)
                beats.append(_Beat(Move.AGENT_REPLY, self._gap(10, 600), text=text))
                if rng.random() < 0.4:
                    text = say.pick(texts.NUDGES)
                    beats.append(_Beat(Move.CUSTOMER_REPLY, self._gap(60, 2880), text=text))
        return beats

    def _on_hold(self, say: _Writer, family: texts.Family, priority: Priority) -> list[_Beat]:
        return [
            _Beat(Move.INTERNAL_NOTE, self._gap(30, 1440), text=say.pick(texts.HOLD_NOTES)),
            _Beat(Move.AGENT_REPLY, self._gap(1, 20), text=say.reply(texts.HOLD_REPLIES)),
            replace(self._pick_up(family, priority), status=Status.HOLD),
            *self._read(chance=0.6),
        ]

    def _solution(self, say: _Writer, family: texts.Family, *, first: _Beat | None) -> list[_Beat]:
        """The answer and the solve (with ``first``'s changes, if support only now picks the
        ticket up), and now and then a relapse: the customer's reply reopens the solved
        ticket, and support solves it again."""
        solve = first or _Beat(Move.UPDATE, 0)
        beats = [
            _Beat(Move.AGENT_REPLY, self._gap(30, 2880), text=say.reply(family.answers)),
            replace(solve, minutes=self._gap(0.2, 5), status=Status.SOLVED),
        ]
        if self.rng.random() < 0.12:
            text = say.pick(texts.STILL_BROKEN)
            beats += [
                _Beat(Move.CUSTOMER_REPLY, self._gap(60, 2880), text=text),
                _Beat(Move.AGENT_REPLY, self._gap(30, 1440), text=say.reply(family.answers)),
                _Beat(Move.UPDATE, self._gap(0.2, 5), status=Status.SOLVED),
            ]
        return beats

    def _feedback(self, say: _Writer, *, closing: bool) -> list[_Beat]:
        """What the customer thinks of it, and for closed tickets, the close."""
        rng = self.rng
        beats = self._read(chance=0.8)
        if rng.random() < 0.35:
            up = rng.random() < 0.8
            text = "" if up or rng.random() < 0.5 else say.pick(texts.THUMBS_DOWN)
            beats.append(_Beat(Move.THUMB, self._gap(1, 120), score=1 if up else -1, text=text))
        if not closing:
            if rng.random() < 0.15:
                score = self._score()
                beats.append(
                    _Beat(Move.RATE, self._gap(30, 2880), score=score, text=say.rating(score))
                )
            return beats
        if rng.random() < 0.6:
            score = self._score()
            beats.append(
                _Beat(Move.CLOSE_RATED, self._gap(30, 4320), score=score, text=say.rating(score))
            )
        else:  # nobody objected for a few days: support closes it
            beats.append(_Beat(Move.CLOSE, self._gap(2880, 7200)))
        return beats

    def _score(self) -> int:
        return self.rng.choices(range(1, 6), weights=_SCORE_WEIGHTS)[0]

    def _gap(self, shortest: float, longest: float) -> float:
        """Minutes until the next step, log-uniform: most gaps are short, a few long."""
        return math.exp(self.rng.uniform(math.log(shortest), math.log(longest)))

    def _timed(self, beats: Sequence[_Beat], created_at: datetime) -> tuple[Step, ...]:
        """Steps at their times. A story that would run past the present is squeezed, in
        proportion, into part of the time the ticket has had (not all of it, or every such
        story would end at the same moment)."""
        total = sum(beat.minutes for beat in beats)
        room = (self.now - SAFETY_MARGIN - created_at) / timedelta(minutes=1)
        scale = 1.0
        if total > room:
            scale = room * self.rng.uniform(0.5, 0.95) / total
        steps, offset = [], 0.0
        for beat in beats:
            offset += beat.minutes * scale
            steps.append(
                Step(
                    move=beat.move,
                    at=created_at + timedelta(minutes=offset),
                    text=beat.text,
                    status=beat.status,
                    score=beat.score,
                    assign=beat.assign,
                    priority=beat.priority,
                    tags=beat.tags,
                )
            )
        return tuple(steps)


@dataclass
class _Writer:
    """Texts for one ticket, with its slots filled in."""

    rng: random.Random
    slots: dict[str, object]

    def pick(self, choices: Sequence[str]) -> str:
        return self.rng.choice(choices).format_map(self.slots)

    def reply(self, choices: Sequence[str]) -> str:
        """A reply from support: greeting, the message, signature."""
        parts = (
            self.rng.choice(texts.ACKNOWLEDGEMENTS),
            self.rng.choice(choices),
            self.rng.choice(texts.SIGNATURES),
        )
        return "".join(parts).format_map(self.slots)

    def rating(self, score: int) -> str:
        if score >= 4:
            return self.pick(texts.GOOD_RATINGS) if self.rng.random() < 0.5 else ""
        return self.pick(texts.BAD_RATINGS) if self.rng.random() < 0.8 else ""
