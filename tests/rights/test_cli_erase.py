"""`helpwire users erase`: the operator's way to erase a person, under the same rules."""

from __future__ import annotations

import os

from sqlalchemy import select

from helpwire.accounts.models import User
from helpwire.db.session import Database
from tests.conftest import World
from tests.test_cli import run


async def test_the_command_line_erases_a_person_and_keeps_the_last_admin(
    world: World, database: Database, database_url: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPWIRE_")}
    env["HELPWIRE_DATABASE_URL"] = database_url
    asked = run(["users", "erase", "carol"], env, stdin="n\n")
    assert asked.returncode == 1  # not confirmed: nothing done
    assert (await world.get("carol", "/api/v1/me")).status_code == 200

    erased = run(["users", "erase", "carol", "--yes"], env)
    assert erased.returncode == 0, erased.stderr
    assert "erased carol: the user is now erased-" in erased.stderr
    assert (await world.get("carol", "/api/v1/me")).status_code == 401

    refused = run(["users", "erase", "admin", "--yes"], env)
    assert refused.returncode == 1
    assert "last active admin" in refused.stderr
    async with database.reader() as session:
        admin = await session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None and admin.erased_at is None
