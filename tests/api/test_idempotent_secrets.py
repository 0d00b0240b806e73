"""An answer that carries a secret is never stored for replay: the idempotency table holds
nothing that can authenticate, and a retry is told the secret was shown once."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import World

SHOWN_ONCE = "/problems/secret-shown-once"


async def _stored_answers(world: World) -> list[str]:
    async with world.database.reader() as session:
        rows = await session.execute(
            text("SELECT key, fingerprint, response FROM idempotency_keys")
        )
        return [" ".join(str(value) for value in row) for row in rows]


async def test_a_token_created_with_a_key_is_not_kept_with_the_key(world: World) -> None:
    headers = {"Idempotency-Key": "token-for-alice-1"}
    body = {"username": "alice", "label": "ci"}
    created = await world.post("admin", "/api/v1/tokens", json=body, headers=headers)
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert token.startswith("hw_")

    stored = await _stored_answers(world)
    assert stored, "the key is claimed"
    assert not any(token in row for row in stored)
    # Nor any long part of it.
    assert not any(token[3:20] in row for row in stored)

    before = await world.row_counts()
    replay = await world.post("admin", "/api/v1/tokens", json=body, headers=headers)
    assert replay.status_code == 409, replay.text
    problem = replay.json()
    assert problem["type"] == SHOWN_ONCE
    assert token not in replay.text
    assert problem["created"]["id"] == created.json()["id"]
    assert await world.row_counts() == before


async def test_answers_without_a_secret_are_still_replayed(world: World) -> None:
    headers = {"Idempotency-Key": "acct-1"}
    body = {"key": "initech", "name": "Initech"}
    first = await world.post("admin", "/api/v1/accounts", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await world.post("admin", "/api/v1/accounts", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
