"""Who rules act as: one user of helpwire's own, so that the timeline says a rule did it.

Its name starts with an underscore, which no person's user name may (accounts.service), and
it cannot sign in (inactive, no password, no token).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import Role, User

RULES_USERNAME = "_rules"


async def rules_actor(session: AsyncSession) -> Actor:
    user = await session.scalar(select(User).where(User.username == RULES_USERNAME))
    if user is None:
        user = User(
            username=RULES_USERNAME,
            real_name="Rules",
            role=Role.AGENT.value,
            is_active=False,
            account_wide=True,
            available=False,
        )
        session.add(user)
        await session.flush()
    return Actor(user=user)
