"""A JSON body that cannot be read is a 400 malformed-request problem on the native API,
and a 400 in its own error format on every face: invalid UTF-8, nesting far too deep, an
integer too long to parse."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import World

MALFORMED = "/problems/malformed-request"
UNREADABLE = {
    "invalid-utf8": b'{"subject": "\xff\xfe", "body": "x"}',
    "deep-nesting": b'{"subject": "s", "body": "b", "attributes": '
    + b'{"a": ' * 100_000
    + b"1"
    + b"}" * 100_000
    + b"}",
    "deep-arrays": b"[" * 100_000 + b"]" * 100_000,
    "long-integer": b'{"subject": "s", "body": "b", "requester": ' + b"9" * 5000 + b"}",
}


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=list(UNREADABLE))
async def test_native_api_answers_malformed_request(world: World, body: bytes) -> None:
    before = await world.row_counts()
    response = await world.post(
        "alice", "/api/v1/tickets", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == MALFORMED
    assert await world.row_counts() == before


def _faces(world: World) -> list[tuple[str, dict[str, str], str]]:
    """(path, headers, the key of the face's error body)."""
    return [
        ("/api/support/ticket", world.headers("alice"), "why"),
        ("/api/v1/create_support_ticket", world.headers("alice"), "error"),
        ("/selectel/tickets/v1/tickets", {"X-Token": world.tokens["alice"]}, "error"),
        (
            "/api/web/namespaces/system/customer_supports",
            {"Authorization": f"APIToken {world.tokens['alice']}"},
            "message",
        ),
    ]


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=list(UNREADABLE))
async def test_faces_answer_a_400_in_their_own_format(world: World, body: bytes) -> None:
    before = await world.row_counts()
    for path, headers, key in _faces(world):
        response: httpx.Response = await world.client.post(
            path, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 400, (path, response.text)
        answer: Any = response.json()
        assert key in answer or key in answer.get("error", {}), (path, answer)
    assert await world.row_counts() == before
