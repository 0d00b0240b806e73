"""Idempotency-Key for creating POSTs.

The first request with a key stores its answer in the same transaction as the work it
did; a retry with the same key and the same body gets that answer again (with
``Idempotent-Replayed: true``) and creates nothing. A retry with another body is a 422.
Concurrent requests with one key are serialised by the key's unique row: the second
waits for the first to commit and then replays its answer.

An answer that carries a secret (a new API token, a channel's signing secret or webhook
URL) is stored without it: a database row must never hold what authenticates. A retry of
such a request creates nothing and is a 409 ``secret-shown-once`` problem that names what
the first request created.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.api.model_json import ModelJSONResponse
from helpwire.db.base import utcnow
from helpwire.db.idempotency import IdempotencyRecord, keep_answer, record_for_key
from helpwire.problems import IdempotencyKeyReused, SecretShownOnce, ValidationProblem

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Marks a stored answer whose secrets were left out: it is not replayed.
WITHHELD = "secret_withheld"

Produce = Callable[[], Awaitable[tuple[BaseModel, dict[str, str]]]]

# Declared by every creating route, so that the OpenAPI document shows it.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="Any unique string up to 255 characters: a retry with the same key and "
        "body gets the first answer again and creates nothing.",
    ),
]


def fingerprint(request: Request, payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    raw = f"{request.method} {request.url.path}\n{canonical}".encode()
    return hashlib.sha256(raw).hexdigest()


async def claim_key(
    session: AsyncSession, *, user_id: int, key: str, fingerprint: str, ttl: timedelta
) -> int | None:
    """Claims ``key`` for this request: the id of the new record, or None when an earlier
    request holds it (on PostgreSQL the claim waits for that request to commit). A key
    older than its time to live is forgotten first, and may be used again."""
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at < utcnow() - ttl,
        )
    )
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    claimed: int | None = await session.scalar(
        insert(IdempotencyRecord)
        .values(
            user_id=user_id, key=key, fingerprint=fingerprint, status_code=0, created_at=utcnow()
        )
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(IdempotencyRecord.id)
    )
    return claimed


def _storable(body: Any, headers: dict[str, str], secret_fields: frozenset[str]) -> dict[str, Any]:
    """The answer as kept for replay: without its secrets, marked as withheld. An answer
    whose secret fields are all empty (a channel without a signing secret or a URL) has
    nothing to withhold, and is replayed like any other."""
    if not isinstance(body, dict) or not any(body.get(name) for name in secret_fields):
        return {"body": body, "headers": headers}
    kept = {name: value for name, value in body.items() if name not in secret_fields}
    return {"body": kept, "headers": headers, WITHHELD: True}


async def respond_once(
    session: AsyncSession,
    *,
    request: Request,
    actor: Actor,
    payload: Any,
    status_code: int,
    produce: Produce,
    ttl: timedelta,
    secret_fields: frozenset[str] = frozenset(),
) -> JSONResponse:
    """Answers once per key. ``secret_fields`` name the answer's fields that hold a secret:
    the stored answer leaves them out, and a retry is refused (``SecretShownOnce``)."""
    key = request.headers.get(HEADER)
    if key is None:
        model, headers = await produce()
        return ModelJSONResponse(model, status_code=status_code, headers=headers)
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationProblem.for_field(HEADER, f"must be 1..{MAX_KEY_LENGTH} characters")
    user_id = actor.user.id
    digest = fingerprint(request, payload)
    claimed = await claim_key(session, user_id=user_id, key=key, fingerprint=digest, ttl=ttl)
    if claimed is None:
        record = await record_for_key(session, user_id=user_id, key=key)
        assert record is not None  # the conflicting row is committed by now
        if record.fingerprint != digest:
            raise IdempotencyKeyReused(
                f"{HEADER} {key!r} was first used for another request; use a new key",
                errors=[
                    {
                        "field": HEADER,
                        "message": "reused with a different request",
                        "code": "reused",
                    }
                ],
            )
        stored = record.response or {}
        if stored.get(WITHHELD):
            raise SecretShownOnce(
                f"the first request with {HEADER} {key!r} created this, and its secret was "
                "in that answer only; if it was lost, revoke it and create another",
                created=stored.get("body"),
            )
        return JSONResponse(
            stored.get("body"),
            status_code=record.status_code,
            headers={**stored.get("headers", {}), REPLAYED_HEADER: "true"},
        )
    model, headers = await produce()
    body = model.model_dump(mode="json")
    await keep_answer(
        session,
        record_id=claimed,
        status_code=status_code,
        response=_storable(body, headers, secret_fields),
    )
    return JSONResponse(body, status_code=status_code, headers=headers)


async def create_once(
    session: AsyncSession,
    *,
    request: Request,
    actor: Actor,
    body: BaseModel,
    produce: Produce,
    secret_fields: frozenset[str] = frozenset(),
) -> JSONResponse:
    """:func:`respond_once` for a creating POST: answers 201, keyed on the request body."""
    ttl_hours: int = request.app.state.settings.idempotency_ttl_hours
    return await respond_once(
        session,
        request=request,
        actor=actor,
        payload=body.model_dump(mode="json"),
        status_code=201,
        produce=produce,
        ttl=timedelta(hours=ttl_hours),
        secret_fields=secret_fields,
    )


async def forget_expired(session: AsyncSession, *, ttl: timedelta) -> int:
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - ttl)
    )
    return int(getattr(result, "rowcount", 0) or 0)
