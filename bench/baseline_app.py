"""The baseline of the HTTP benchmark: a bare Starlette app running the SQL statements
helpwire runs for "file a ticket" and "get one ticket", with no ORM, no validation layer
and no middleware, served by the same uvicorn (bench/http_load.py starts it).

What helpwire adds on top of these statements (FastAPI, pydantic, SQLAlchemy, its
middleware, permission checks) is the difference between the two in the benchmark's
table. The statements are those helpwire sent for these requests when this was written,
in the same order and transactions (compare with SQLAlchemy's echo when the services
change):

- every request: the API token's row with its user and account;
- file a ticket (one transaction): on SQLite take the next ticket number from the counter,
  insert the ticket (its comment count already 1; on PostgreSQL the INSERT takes the number
  from the sequence and returns it), insert the body as its first comment, index the
  subject and the body (two search documents, in one INSERT on PostgreSQL), insert the
  ticket's row of search_tickets with both texts (where the schema has the table), read the
  enabled notification channels (the event's subscribers do) and record the ticket.created
  event;
- get a ticket: one statement, the ticket with its requester, assignee, account, topic and
  subtopic joined, the numbers of related tickets and its tags and projects' keys by
  subqueries (tickets.listed).

    HELPWIRE_DATABASE_URL=... python bench/baseline_app.py --port 8100 --workers 2

``--stack framework`` serves the same handlers on the stack helpwire is built on, with
nothing of helpwire's own: FastAPI routes (a pydantic model for the new ticket's body and
for each answer, the database connection as a dependency) over SQLAlchemy's asyncio
engine (Core: the same statements as ``text()``, no ORM) with asyncpg or aiosqlite. Its
cost over the bare app is what the chosen framework and database layer cost before any of
helpwire's rules, checks or middleware run: the floor under helpwire's numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import html
import json
import os
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel, ConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PRINCIPAL_SQL = (
    "SELECT api_tokens.id, api_tokens.user_id, users.username, users.role, users.account_id, "
    "users.account_wide, users.is_active, accounts.key AS account_key FROM api_tokens "
    "LEFT OUTER JOIN users ON users.id = api_tokens.user_id "
    "LEFT OUTER JOIN accounts ON accounts.id = users.account_id "
    "WHERE api_tokens.token_hash = $1 AND api_tokens.revoked_at IS NULL"
)
# SQLite takes the number from the counter; PostgreSQL's INSERT takes it from the column's
# default, helpwire's sequence (db/counters.py), and returns it.
NEXT_NUMBER_SQL = (
    "UPDATE counters SET value = counters.value + 1 WHERE counters.name = $1 "
    "RETURNING counters.value"
)
TICKET_COLUMNS = (
    "number", "uid", "subject", "type", "priority", "status", "topic_id", "subtopic_id",
    "attributes", "requester_id", "assignee_id", "account_id", "access_level", "context", "via",
    "follow_up_of_id", "split_from_id", "merged_into_id", "tp_id", "external_url", "escalated",
    "rating_score", "rating_comment", "rated_at", "comment_count", "internal_note_count",
    "customer_read_at", "agent_read_at", "last_customer_activity_at", "last_agent_activity_at",
    "version", "created_at", "updated_at", "solved_at", "closed_at",
)  # fmt: skip
INSERTED_COLUMNS = {"sqlite": TICKET_COLUMNS, "postgresql": TICKET_COLUMNS[1:]}


def _insert_ticket_sql(columns: Sequence[str]) -> str:
    return (
        f"INSERT INTO tickets ({', '.join(columns)}) VALUES "  # noqa: S608
        f"({', '.join(f'${i}' for i in range(1, len(columns) + 1))}) "
        "RETURNING tickets.id, tickets.number, tickets.priority_rank, tickets.status_rank"
    )


INSERT_TICKET_SQL = {dialect: _insert_ticket_sql(c) for dialect, c in INSERTED_COLUMNS.items()}
INSERT_DOCUMENT_SQL = (
    "INSERT INTO search_documents (ticket_id, kind, source_id, internal, body) "
    "VALUES ($1, $2, $3, $4, $5) RETURNING search_documents.id"
)
# On PostgreSQL a new ticket's subject and body are indexed by one INSERT of two rows.
INSERT_TWO_DOCUMENTS_SQL = (
    "INSERT INTO search_documents (ticket_id, kind, source_id, internal, body) "
    "VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10) RETURNING search_documents.id"
)
INSERT_COMMENT_SQL = (
    "INSERT INTO comments (ticket_id, author_id, body, body_format, body_html, internal, "
    "rating_score, rating_comment, rated_at, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING comments.id"
)
INSERT_EVENT_SQL = (
    "INSERT INTO events (uid, ticket_id, actor_id, type, internal, data, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING events.id"
)
CHANNELS_SQL = (
    "SELECT channels.id, channels.audience, channels.events, channels.filters, "
    "channels.include_internal FROM channels WHERE channels.enabled IS true"
)
INSERT_SEARCH_TICKET_SQL = (
    "INSERT INTO search_tickets (ticket_id, account_id, public_text, internal_text) "
    "VALUES ($1, $2, $3, $4)"
)
HAS_TABLE_SQL = {
    "postgresql": "SELECT to_regclass('search_tickets') IS NOT NULL AS found",
    "sqlite": "SELECT count(*) > 0 AS found FROM sqlite_master WHERE name = 'search_tickets'",
}
CONTEXT: dict[str, Any] = {"request_id": None, "user_agent": None, "location": None, "info": {}}
_GET_TICKET_SQL = (
    "SELECT tickets.*, requester.username AS requester_username, "
    "requester.real_name AS requester_name, requester.email AS requester_email, "
    "requester.role AS requester_role, assignee.username AS assignee_username, "
    "assignee.real_name AS assignee_name, assignee.email AS assignee_email, "
    "assignee.role AS assignee_role, accounts.key AS account_key, topics.key AS topic_key, "
    "subtopics.key AS subtopic_key, "
    "(SELECT f.number FROM tickets AS f WHERE f.id = tickets.follow_up_of_id) AS follow_up_of, "
    "(SELECT f.number FROM tickets AS f WHERE f.id = tickets.split_from_id) AS split_from, "
    "(SELECT f.number FROM tickets AS f WHERE f.id = tickets.merged_into_id) AS merged_into, "
    "(SELECT {gather}(ticket_tags.tag) FROM ticket_tags "
    "WHERE ticket_tags.ticket_id = tickets.id) AS tags, "
    "(SELECT {gather}((SELECT projects.key FROM projects "
    "WHERE projects.id = ticket_projects.project_id)) FROM ticket_projects "
    "WHERE ticket_projects.ticket_id = tickets.id) AS projects "
    "FROM tickets JOIN users AS requester ON requester.id = tickets.requester_id "
    "LEFT OUTER JOIN users AS assignee ON assignee.id = tickets.assignee_id "
    "LEFT OUTER JOIN accounts ON accounts.id = tickets.account_id "
    "LEFT OUTER JOIN topics ON topics.id = tickets.topic_id "
    "LEFT OUTER JOIN subtopics ON subtopics.id = tickets.subtopic_id "
    "WHERE tickets.number = $1"
)
GET_TICKET_SQL = {
    "postgresql": _GET_TICKET_SQL.format(gather="json_agg"),
    "sqlite": _GET_TICKET_SQL.format(gather="json_group_array"),
}
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
SQLITE_PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL", "busy_timeout=30000")


class Connection(Protocol):
    """What the handlers need of a database connection, on either engine."""

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]: ...

    async def execute(self, sql: str, *args: Any) -> None: ...


class Db(Protocol):
    dialect: str

    def reading(self) -> Any: ...  # an async context manager giving a Connection

    def writing(self) -> Any: ...

    async def close(self) -> None: ...

    def now(self) -> Any: ...  # a timestamp as the driver takes it


# --- PostgreSQL: asyncpg ----------------------------------------------------------------


class PgConnection:
    def __init__(self, raw: Any) -> None:
        self.raw = raw

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(row) for row in await self.raw.fetch(sql, *args)]

    async def execute(self, sql: str, *args: Any) -> None:
        await self.raw.execute(sql, *args)


class PgDb:
    dialect = "postgresql"

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, size: int) -> PgDb:
        import asyncpg

        return cls(await asyncpg.create_pool(url, min_size=1, max_size=size))

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Connection]:
        async with self.pool.acquire() as raw:
            yield PgConnection(raw)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[Connection]:
        async with self.pool.acquire() as raw, raw.transaction():
            yield PgConnection(raw)

    async def close(self) -> None:
        await self.pool.close()

    def now(self) -> Any:
        return datetime.now(UTC)


# --- SQLite: aiosqlite, set up as helpwire sets it up -------------------------------------


class SqliteConnection:
    def __init__(self, raw: Any) -> None:
        self.raw = raw

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        cursor = await self.raw.execute(_qmarks(sql), args)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]

    async def execute(self, sql: str, *args: Any) -> None:
        await self.raw.execute(_qmarks(sql), args)


def _qmarks(sql: str) -> str:
    # Every $n appears once and in order, so positional ? marks take the same arguments.
    return re.sub(r"\$\d+", "?", sql)


class SqliteDb:
    dialect = "sqlite"

    def __init__(self, connections: list[Any]) -> None:
        self.free: asyncio.Queue[Any] = asyncio.Queue()
        for connection in connections:
            self.free.put_nowait(connection)
        self.all = connections

    @classmethod
    async def open(cls, path: str, size: int) -> SqliteDb:
        import aiosqlite

        connections = []
        for _ in range(size):
            connection = await aiosqlite.connect(path, isolation_level=None)
            for pragma in SQLITE_PRAGMAS:
                await connection.execute(f"PRAGMA {pragma}")
            connections.append(connection)
        return cls(connections)

    @asynccontextmanager
    async def _connection(self, begin: str) -> AsyncIterator[Connection]:
        raw = await self.free.get()
        try:
            await raw.execute(begin)
            try:
                yield SqliteConnection(raw)
            except BaseException:
                await raw.execute("ROLLBACK")
                raise
            await raw.execute("COMMIT")
        finally:
            self.free.put_nowait(raw)

    def reading(self) -> Any:
        return self._connection("BEGIN")

    def writing(self) -> Any:
        # As helpwire's engine: the write lock up front.
        return self._connection("BEGIN IMMEDIATE")

    async def close(self) -> None:
        for connection in self.all:
            await connection.close()

    def now(self) -> Any:
        return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# --- SQLAlchemy's asyncio engine, for --stack framework ----------------------------------


class SaConnection:
    """A connection of SQLAlchemy's asyncio engine, running the statements as ``text()``
    (each built once) with named parameters, as an application on SQLAlchemy Core would."""

    statements: dict[str, Any] = {}

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    @classmethod
    def _statement(cls, sql: str) -> tuple[Any, list[str]]:
        from sqlalchemy import text

        cached = cls.statements.get(sql)
        if cached is None:
            names = [f"p{n}" for n in re.findall(r"\$(\d+)", sql)]
            cached = cls.statements[sql] = (text(re.sub(r"\$(\d+)", r":p\1", sql)), names)
        return cached

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        statement, names = self._statement(sql)
        result = await self.raw.execute(statement, dict(zip(names, args, strict=True)))
        return [dict(row) for row in result.mappings()]

    async def execute(self, sql: str, *args: Any) -> None:
        statement, names = self._statement(sql)
        await self.raw.execute(statement, dict(zip(names, args, strict=True)))


class SaDb:
    def __init__(self, engine: Any, dialect: str) -> None:
        self.engine = engine
        self.dialect = dialect

    @classmethod
    async def open(cls, url: str, size: int) -> SaDb:
        from sqlalchemy import event
        from sqlalchemy.ext.asyncio import create_async_engine

        if url.startswith("sqlite"):
            engine = create_async_engine(
                url.replace("sqlite://", "sqlite+aiosqlite://", 1), pool_size=size
            )

            @event.listens_for(engine.sync_engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.isolation_level = None
                cursor = dbapi_connection.cursor()
                for pragma in SQLITE_PRAGMAS:
                    cursor.execute(f"PRAGMA {pragma}")
                cursor.close()

            @event.listens_for(engine.sync_engine, "begin")
            def _on_begin(conn: Any) -> None:
                immediate = conn.get_execution_options().get("baseline_writing", False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

            return cls(engine, "sqlite")
        plain = _plain_postgres(url)
        engine = create_async_engine(
            "postgresql+asyncpg://" + plain.split("://", 1)[1], pool_size=size
        )
        return cls(engine, "postgresql")

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Connection]:
        async with self.engine.begin() as raw:
            yield SaConnection(raw)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[Connection]:
        async with self.engine.connect() as raw:
            raw = await raw.execution_options(baseline_writing=True)
            async with raw.begin():
                yield SaConnection(raw)

    async def close(self) -> None:
        await self.engine.dispose()

    def now(self) -> Any:
        if self.dialect == "sqlite":
            return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return datetime.now(UTC)


# --- the work, on either stack -----------------------------------------------------------


class Unauthorized(Exception):
    """No valid API token."""


class Missing(Exception):
    """No such ticket."""


async def _principal(connection: Connection, authorization: str | None) -> dict[str, Any]:
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized
    digest = hashlib.sha256(authorization[len("Bearer ") :].encode()).hexdigest()
    rows = await connection.fetch(PRINCIPAL_SQL, digest)
    if not rows or not rows[0]["is_active"]:
        raise Unauthorized
    return rows[0]


def _ticket_values(
    user: dict[str, Any], subject: str, number: int | None, now: Any
) -> dict[str, Any]:
    customer = user["role"] not in ("agent", "admin")
    return {
        "number": number, "uid": str(uuid.uuid4()), "subject": subject, "type": "question",
        "priority": "normal", "status": "new", "topic_id": None, "subtopic_id": None,
        "attributes": "{}", "requester_id": user["user_id"], "assignee_id": None,
        "account_id": user["account_id"], "access_level": "account_users",
        "context": json.dumps({**CONTEXT, "service": None}), "via": "api",
        "follow_up_of_id": None, "split_from_id": None, "merged_into_id": None,
        "tp_id": None, "external_url": None, "escalated": False, "rating_score": None,
        "rating_comment": None, "rated_at": None, "comment_count": 1,
        "internal_note_count": 0, "customer_read_at": now if customer else None,
        "agent_read_at": None, "last_customer_activity_at": now if customer else None,
        "last_agent_activity_at": None if customer else now, "version": 1,
        "created_at": now, "updated_at": now, "solved_at": None, "closed_at": None,
    }  # fmt: skip


def _words(text: str) -> str:
    return _NON_WORD.sub(" ", text).strip().lower()


async def file_ticket(
    db: Db, connection: Connection, authorization: str | None, subject: str, body: str, *,
    search_tickets: bool,
) -> dict[str, Any]:  # fmt: skip
    """The new ticket's answer, written in ``connection``'s transaction."""
    user = await _principal(connection, authorization)
    now = db.now()
    number = None
    if db.dialect == "sqlite":
        number = (await connection.fetch(NEXT_NUMBER_SQL, "ticket_number"))[0]["value"]
    values = _ticket_values(user, subject, number, now)
    columns = INSERTED_COLUMNS[db.dialect]
    rows = await connection.fetch(INSERT_TICKET_SQL[db.dialect], *(values[c] for c in columns))
    ticket_id = rows[0]["id"]
    values["number"] = rows[0]["number"]
    body_html = "<p>" + html.escape(body) + "</p>\n"
    comment = await connection.fetch(
        INSERT_COMMENT_SQL, ticket_id, user["user_id"], body, "text", body_html, False,
        None, None, None, now,
    )  # fmt: skip
    comment_id = comment[0]["id"]
    subject_doc = (ticket_id, "subject", values["uid"], False, _words(subject))
    body_doc = (ticket_id, "comment", str(comment_id), False, _words(body))
    if db.dialect == "postgresql":
        await connection.fetch(INSERT_TWO_DOCUMENTS_SQL, *subject_doc, *body_doc)
    else:
        await connection.fetch(INSERT_DOCUMENT_SQL, *subject_doc)
        await connection.fetch(INSERT_DOCUMENT_SQL, *body_doc)
    if search_tickets:
        public = f"{_words(subject)} {_words(body)}"
        await connection.execute(
            INSERT_SEARCH_TICKET_SQL, ticket_id, user["account_id"], public, ""
        )
    await connection.fetch(CHANNELS_SQL)
    data = {"comment_id": comment_id, "requester": user["username"], "via": "api"}
    await connection.fetch(
        INSERT_EVENT_SQL, str(uuid.uuid4()), ticket_id, user["user_id"], "ticket.created",
        False, json.dumps({**data, "files": []}), now,
    )  # fmt: skip
    return _jsonable({**values, "id": ticket_id, "comment_count": 1, "context": CONTEXT})


async def read_ticket(
    db: Db, connection: Connection, authorization: str | None, number: int
) -> dict[str, Any]:
    await _principal(connection, authorization)
    rows = await connection.fetch(GET_TICKET_SQL[db.dialect], number)
    if not rows:
        raise Missing
    ticket = rows[0]
    answer = {
        **ticket,
        "tags": sorted(_json_list(ticket["tags"])),
        "projects": sorted(_json_list(ticket["projects"])),
    }
    return _jsonable(answer)


def _json_list(value: Any) -> list[Any]:
    """A gathered JSON array (text from either driver; NULL for none on PostgreSQL)."""
    return [] if value is None else list(json.loads(value) if isinstance(value, str) else value)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in values.items()
    }


async def _open_db(url: str, size: int, stack: str) -> Db:
    if stack == "framework":
        return await SaDb.open(url, size)
    if url.startswith("sqlite"):
        return await SqliteDb.open(url.split(":///", 1)[1], size)
    return await PgDb.open(_plain_postgres(url), size)


def _lifespan(stack: str) -> Any:
    url = os.environ["HELPWIRE_DATABASE_URL"]
    size = int(os.environ.get("HELPWIRE_DATABASE_POOL_SIZE", "10"))

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        db = await _open_db(url, size, stack)
        app.state.db = db
        async with db.reading() as connection:
            found = await connection.fetch(HAS_TABLE_SQL[db.dialect])
        app.state.search_tickets = bool(found[0]["found"])
        yield
        await db.close()

    return lifespan


# --- the bare app: Starlette -------------------------------------------------------------


def _db(request: Request) -> Db:
    db: Db = request.app.state.db
    return db


def _unauthorized() -> Response:
    return JSONResponse({"detail": "send an API token"}, status_code=401)


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def create_ticket(request: Request) -> Response:
    payload = await request.json()
    subject, body = str(payload["subject"]), str(payload["body"])
    db = _db(request)
    try:
        async with db.writing() as connection:
            answer = await file_ticket(
                db, connection, request.headers.get("authorization"), subject, body,
                search_tickets=request.app.state.search_tickets,
            )  # fmt: skip
    except Unauthorized:
        return _unauthorized()
    location = f"/api/v1/tickets/{answer['number']}"
    return JSONResponse(answer, status_code=201, headers={"Location": location})


async def get_ticket(request: Request) -> Response:
    number = int(request.path_params["number"])
    db = _db(request)
    try:
        async with db.reading() as connection:
            answer = await read_ticket(db, connection, request.headers.get("authorization"), number)
    except Unauthorized:
        return _unauthorized()
    except Missing:
        return JSONResponse({"detail": f"no ticket {number}"}, status_code=404)
    return JSONResponse(answer)


def create_app() -> Starlette:
    """The app, on HELPWIRE_DATABASE_URL (the same variable helpwire reads)."""
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/api/v1/tickets", create_ticket, methods=["POST"]),
            Route("/api/v1/tickets/{number:int}", get_ticket),
        ],
        lifespan=_lifespan("bare"),
    )


# --- the framework's floor: FastAPI, pydantic, SQLAlchemy Core ----------------------------


class NewTicket(BaseModel):
    subject: str
    body: str


class TicketAnswer(BaseModel):
    # The columns the answer names are checked; the rest pass as they are.
    model_config = ConfigDict(extra="allow")
    number: int
    uid: str
    subject: str
    status: str
    priority: str
    created_at: str
    updated_at: str


class Health(BaseModel):
    status: str


async def _writing(request: Request) -> AsyncIterator[Connection]:
    async with _db(request).writing() as connection:
        yield connection


async def _reading(request: Request) -> AsyncIterator[Connection]:
    async with _db(request).reading() as connection:
        yield connection


def create_framework_app() -> FastAPI:
    """The same work as FastAPI routes over SQLAlchemy's asyncio engine (--stack framework)."""
    app = FastAPI(lifespan=_lifespan("framework"))

    @app.get("/healthz")
    async def framework_healthz() -> Health:
        return Health(status="ok")

    @app.post("/api/v1/tickets", status_code=201)
    async def framework_create(
        new: NewTicket,
        request: Request,
        response: Response,
        connection: Annotated[Connection, Depends(_writing)],
        authorization: Annotated[str | None, Header()] = None,
    ) -> TicketAnswer:
        try:
            answer = await file_ticket(
                _db(request), connection, authorization, new.subject, new.body,
                search_tickets=request.app.state.search_tickets,
            )  # fmt: skip
        except Unauthorized:
            raise HTTPException(401, "send an API token") from None
        response.headers["Location"] = f"/api/v1/tickets/{answer['number']}"
        return TicketAnswer(**answer)

    @app.get("/api/v1/tickets/{number}")
    async def framework_get(
        number: int,
        request: Request,
        connection: Annotated[Connection, Depends(_reading)],
        authorization: Annotated[str | None, Header()] = None,
    ) -> TicketAnswer:
        try:
            answer = await read_ticket(_db(request), connection, authorization, number)
        except Unauthorized:
            raise HTTPException(401, "send an API token") from None
        except Missing:
            raise HTTPException(404, f"no ticket {number}") from None
        return TicketAnswer(**answer)

    return app


def _plain_postgres(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    from helpwire.serving import prepare_inherited_socket

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--fd", type=int, help="serve on this inherited listening socket")
    parser.add_argument(
        "--stack",
        choices=("bare", "framework"),
        default="bare",
        help="bare: Starlette and the driver; framework: FastAPI, pydantic, SQLAlchemy Core",
    )
    args = parser.parse_args(argv)
    if args.fd is not None:
        prepare_inherited_socket(args.fd)
    # The same server settings as `helpwire serve`: uvicorn, h11 with helpwire's guard.
    uvicorn.run(
        "baseline_app:create_framework_app"
        if args.stack == "framework"
        else "baseline_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        fd=args.fd,
        workers=args.workers,
        log_config=None,
        access_log=False,
        http="helpwire.serving:GuardedH11Protocol",
    )


if __name__ == "__main__":
    main()
