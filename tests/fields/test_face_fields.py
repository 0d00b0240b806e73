"""A face's attributes feed the custom field named by their path (docs/faces.md): CoCalc
keeps its options under ``attributes["cocalc"]``, so a field keyed ``cocalc.account_id``
takes the account id a CoCalc client sends, checked like any other value, and refused in
the face's own error body when the field cannot take it."""

from __future__ import annotations

from tests.conftest import World
from tests.faces.test_cocalc import MINIMAL, assert_cocalc_error, create, created_ticket
from tests.fields.test_fields import define

ACCOUNT_ID = "291f43c1-deae-431c-b763-712307fa6859"


async def test_a_face_s_attribute_is_the_value_of_the_field_of_its_path(world: World) -> None:
    await define(world, "cocalc.account_id", "text")
    answer = await create(world, "alice", **MINIMAL, account_id=ACCOUNT_ID)
    ticket = await created_ticket(world, answer)
    assert ticket["fields"] == {"cocalc.account_id": ACCOUNT_ID}
    listed = await world.get(
        "agent", "/api/v1/tickets", params={"field.cocalc.account_id": ACCOUNT_ID}
    )
    assert [t["number"] for t in listed.json()["items"]] == [ticket["number"]]


async def test_a_value_the_field_refuses_is_the_face_s_own_error(world: World) -> None:
    await define(world, "cocalc.username", "select", options=["alice", "bob"])
    before = await world.row_counts()
    refused = await create(world, "alice", **MINIMAL, username="mallory")
    message = assert_cocalc_error(refused, 400)
    assert "cocalc.username" in message and "mallory" in message
    assert await world.row_counts() == before
    accepted = await create(world, "alice", **MINIMAL, username="alice")
    assert (await created_ticket(world, accepted))["fields"] == {"cocalc.username": "alice"}
