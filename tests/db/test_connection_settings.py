"""What every PostgreSQL connection of helpwire asks for as it starts (db/engine.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from helpwire.db.engine import RANDOM_PAGE_COST
from helpwire.db.session import Database


async def test_a_connection_plans_for_its_values_without_workers_and_at_memorys_cost(
    database: Database, engine_name: str
) -> None:
    if engine_name != "postgres":
        pytest.skip("PostgreSQL's planner settings")
    names = ("plan_cache_mode", "max_parallel_workers_per_gather", "random_page_cost")
    async with database.reader() as session:
        values = [
            await session.scalar(text("SELECT current_setting(:name)"), {"name": name})
            for name in names
        ]
    assert values == ["force_custom_plan", "0", RANDOM_PAGE_COST]
