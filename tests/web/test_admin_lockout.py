"""The admin pages refuse what would lock every admin out, with the core's one rule."""

from __future__ import annotations

from tests.conftest import World
from tests.web.conftest import WebHarness


async def test_the_only_admin_cannot_disable_or_demote_themselves(
    web: WebHarness, world: World
) -> None:
    browser = await web.sign_in("admin")
    await browser.get("/admin/users/admin")
    before = await world.row_counts()
    disabled = await browser.post("/admin/users/admin/disable")
    assert disabled.status_code == 409
    demoted = await browser.post(
        "/admin/users/admin",
        {"real_name": "Ada Admin", "email": "admin@helpwire.test", "role": "agent"},
    )
    assert demoted.status_code == 409
    assert await world.row_counts() == before
    shown = (await world.get("admin", "/api/v1/users/admin")).json()
    assert shown["role"] == "admin" and shown["is_active"] is True


async def test_another_admin_may_be_disabled_while_one_stays(web: WebHarness, world: World) -> None:
    created = await world.post(
        "admin",
        "/api/v1/users",
        json={"username": "root2", "role": "admin", "email": "root2@helpwire.test"},
    )
    assert created.status_code == 201, created.text
    browser = await web.sign_in("admin")
    await browser.get("/admin/users/root2")
    disabled = await browser.post("/admin/users/root2/disable")
    assert disabled.status_code == 303
    assert (await world.get("admin", "/api/v1/users/root2")).json()["is_active"] is False
    # root2 is disabled: admin is the last active admin now, and stays one.
    await browser.get("/admin/users/admin")
    assert (await browser.post("/admin/users/admin/disable")).status_code == 409
