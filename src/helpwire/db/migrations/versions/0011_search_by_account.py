"""PostgreSQL finds a customer's search matches inside one index (btree_gin)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:10:00

A customer searches the tickets of their own account: the words and the account. With an
index for each, PostgreSQL read the account's whole entry list from the b-tree (100,000
entries for a large account, 17 ms) to intersect it with the word's, and then joined the
account's tickets by hash. A GIN index over the account and the public words together
(``btree_gin`` lets GIN index an integer) answers both at once: a word in 1 % of a
million tickets, searched in a 100,000-ticket account, is found in under 2 ms.

``btree_gin`` ships with PostgreSQL (contrib) and is a trusted extension: the owner of the
database may create it without being a superuser. Where it cannot be created (a server
without contrib, or a role that may not), the upgrade goes on without the index, says so
in the log, and searches use the two indexes they had before: slower for customers of
large accounts, the same answers. The revision counts as applied all the same, so
installing contrib later does not bring the index by itself: the log gives the two
statements to run by hand. SQLite: nothing (FTS5 holds the account as a column of its
own index already).
"""

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_search_tickets_account_public_tsv"
CREATE_INDEX = f"CREATE INDEX {INDEX} ON search_tickets USING gin (account_id, public_tsv)"

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gin"))
    except DBAPIError as exc:
        log.warning(
            "btree_gin is not available (%s): customers' searches use the separate indexes "
            "of words and accounts. Install PostgreSQL's contrib package and run: "
            "CREATE EXTENSION btree_gin; %s",
            str(exc.orig).strip(),
            CREATE_INDEX,
        )
        return
    op.execute(CREATE_INDEX)
    op.execute("ANALYZE search_tickets")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The extension stays: other objects may have come to depend on it.
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
