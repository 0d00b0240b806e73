"""One rule for request bodies on every face: HELPWIRE_MAX_REQUEST_BYTES, except the calls
that carry files inside their JSON (the F5 face's Create, Comment and tax exemption calls,
with base64 attachments), which may carry one file of HELPWIRE_MAX_FILE_BYTES, encoded."""

from __future__ import annotations

import base64

import pytest

from helpwire.settings import MIB, Settings
from tests.conftest import World

NS = "/api/web/namespaces/system"
PARTNER = NS + "/partner-management/customer_supports"
OVER_JSON_LIMIT = 3 * MIB // 2  # over the 1 MiB JSON limit, within one encoded file


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Files larger than the JSON limit, as with the defaults (20 MB files, 1 MiB of JSON).
    return settings.model_copy(update={"max_file_bytes": 2 * MIB})


def f5_headers(world: World, who: str = "owner") -> dict[str, str]:
    return {"Authorization": f"APIToken {world.tokens[who]}", "Content-Type": "application/json"}


async def file_f5_ticket(world: World) -> str:
    answer = await world.client.post(
        NS + "/customer_supports",
        json={"metadata": {"name": "t"}, "spec": {"subject": "Limits", "description": "Body."}},
        headers=f5_headers(world),
    )
    assert answer.status_code == 200, answer.text
    name: str = answer.json()["metadata"]["name"]
    return name


@pytest.mark.parametrize("call", ["priority", "close", "escalate"])
async def test_an_f5_call_without_attachments_keeps_the_json_limit(world: World, call: str) -> None:
    name = await file_f5_ticket(world)
    before = await world.row_counts()
    body = b'{"priority": "PRIORITY_HIGH", "x": "' + b"x" * OVER_JSON_LIMIT + b'"}'
    answer = await world.client.post(
        f"{NS}/customer_support/{name}/{call}", content=body, headers=f5_headers(world)
    )
    assert answer.status_code == 413, answer.text
    assert answer.json()["code"] == 8  # RESOURCE_EXHAUSTED, F5's own error body
    assert await world.row_counts() == before


async def test_an_f5_list_call_keeps_the_json_limit(world: World) -> None:
    body = b'{"priorities": ["PRIORITY_HIGH"], "x": "' + b"x" * OVER_JSON_LIMIT + b'"}'
    answer = await world.client.post(
        NS + "/child_tenant/support_tickets", content=body, headers=f5_headers(world)
    )
    assert answer.status_code == 413, answer.text


async def test_an_f5_comment_may_carry_a_file_larger_than_the_json_limit(world: World) -> None:
    name = await file_f5_ticket(world)
    data = b"\x01" * (OVER_JSON_LIMIT * 3 // 4)
    answer = await world.client.post(
        f"{NS}/customer_support/{name}/comment",
        json={
            "comment": "The log.",
            "attachments": [
                {
                    "filename": "lb.log",
                    "content_type": "text/plain",
                    "attachment": base64.b64encode(data).decode(),
                }
            ],
        },
        headers=f5_headers(world),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["err"] == "EOK"


async def test_other_faces_keep_the_json_limit(world: World) -> None:
    big = "x" * OVER_JSON_LIMIT
    ucloud = await world.client.post(
        "/api/support/ticket", json={"subject": "s", "message": big}, headers=world.headers("owner")
    )
    assert ucloud.status_code == 413
    native = await world.client.post(
        "/api/v1/tickets", json={"subject": "s", "body": big}, headers=world.headers("owner")
    )
    assert native.status_code == 413
