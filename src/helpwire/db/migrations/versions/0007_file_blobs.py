"""file bytes in the database: file_blobs and file_chunks

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 12:00:00

With HELPWIRE_FILES_STORAGE=database a file's bytes are kept in the database, so that every
process on every machine reads the same files. `file_blobs` has a row per stored file (its
size and digest once complete); `file_chunks` holds the bytes in pieces of at most half a
MiB, read and written one piece per statement. Both stay empty with local storage.

On PostgreSQL the chunks are stored out of line without compression (STORAGE EXTERNAL):
uploads are mostly images, PDFs and archives, which do not compress, and trying costs CPU
on every write.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_blobs",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_file_blobs")),
    )
    op.create_table(
        "file_chunks",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key"],
            ["file_blobs.key"],
            name=op.f("fk_file_chunks_key_file_blobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", "seq", name=op.f("pk_file_chunks")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("file_chunks")
    op.drop_table("file_blobs")
