"""The faces that put projects on a ticket follow the core's rule (tests/tickets/
test_project_rule.py): a customer without account-wide access names only projects they are
a member of.

- Selectel names them in ``keystone_projects``, on create and on update: a project the
  caller may not name is refused like an unknown one, a 400 naming ``keystone_projects``
  (the update is in tests/faces/test_selectel.py, test_refused_updates_change_nothing).
- UCloud sends the caller's current project in the ``Project`` header, a hint rather than a
  demand: a project the caller may not name is kept in ``context.info.project`` only, as an
  unknown one is, and the ticket is filed without it.
- CoCalc and F5 XC have no way to name a project: their tickets are filed without any, so
  there is nothing of this rule to test through them.

The world: acme has p1 and p2; owner is account-wide, alice a member of p1, bob of p2.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import World
from tests.faces.test_selectel import TICKETS as SELECTEL_TICKETS
from tests.faces.test_selectel import assert_error, call, native
from tests.faces.test_ucloud import PATH as UCLOUD_PATH
from tests.faces.test_ucloud import newest_ticket, ucloud_headers


async def test_selectel_refuses_a_project_the_caller_is_no_member_of(world: World) -> None:
    before = await world.row_counts()
    refused = await call(
        world,
        "alice",
        "POST",
        SELECTEL_TICKETS,
        json={
            "summary": "VM down",
            "comment_body": "Since noon.",
            "access_level": "project_users",
            "keystone_projects": ["p2"],
        },
    )
    error = assert_error(refused, 400, "keystone_projects")
    assert "you may name only projects you are a member of: not p2" in error["message"]
    assert await world.row_counts() == before


async def test_selectel_files_for_a_project_the_caller_may_name(world: World) -> None:
    for who, project in (("alice", "p1"), ("owner", "p2")):
        response = await call(
            world,
            who,
            "POST",
            SELECTEL_TICKETS,
            json={
                "summary": "VM down",
                "comment_body": "Since noon.",
                "keystone_projects": [project],
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["keystone_projects"] == [project]
        assert (await native(world, response.json()["number"]))["projects"] == [project]


async def ucloud_ticket(world: World, who: str, project: str) -> dict[str, Any]:
    response = await world.client.post(
        UCLOUD_PATH,
        content=json.dumps({"subject": "Quota", "message": "Need more."}),
        headers=ucloud_headers(world, who, Project=project),
    )
    assert response.status_code == 200, response.text
    return await newest_ticket(world, who)


async def test_ucloud_keeps_a_current_project_the_caller_may_not_name_as_context_only(
    world: World,
) -> None:
    ticket = await ucloud_ticket(world, "alice", "p2")
    assert ticket["projects"] == []
    assert ticket["context"]["info"] == {"project": "p2", "user_projects": ["p1"]}


async def test_ucloud_names_a_current_project_the_caller_may_name(world: World) -> None:
    assert (await ucloud_ticket(world, "bob", "p2"))["projects"] == ["p2"]
    owner = await ucloud_ticket(world, "owner", "p1")  # account-wide: any project of acme
    assert owner["projects"] == ["p1"]
    assert owner["context"]["info"] == {"project": "p1"}
