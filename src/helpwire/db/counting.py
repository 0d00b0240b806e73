"""Counts that cost no more on a big table than on a small one."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession


async def capped_count(session: AsyncSession, query: Select[tuple[int]], *, cap: int) -> int:
    """How many rows ``query`` (selecting one id column) yields, counting no further than
    ``cap + 1``: a result above ``cap`` means "more than ``cap``"."""
    limited = query.limit(cap + 1).subquery()
    return int(await session.scalar(select(func.count()).select_from(limited)) or 0)
