"""First start: an empty database gets an admin, whose credentials are shown once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from helpwire.accounts import service as accounts
from helpwire.accounts.models import Role
from helpwire.accounts.security import generate_password
from helpwire.db.session import Database

FIRST_ADMIN = "admin"


@dataclass(frozen=True)
class FirstAdmin:
    username: str
    password: str
    token: str


async def create_first_admin(database: Database) -> FirstAdmin | None:
    """Create the first admin if there are no users at all; None if there were some."""
    password = generate_password()
    try:
        async with database.writing() as session:
            if await accounts.count_users(session) > 0:
                return None
            user = await accounts.create_user(
                session,
                new=accounts.NewUser(
                    username=FIRST_ADMIN,
                    role=Role.ADMIN,
                    real_name="Administrator",
                    password=password,
                ),
            )
            _row, token = await accounts.create_token(session, user=user, label="first start")
    except IntegrityError:  # another process won the race to create it
        return None
    return FirstAdmin(username=FIRST_ADMIN, password=password, token=token)
