"""Tables of the files domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from helpwire.db.base import Base, UUIDString, new_uuid, utcnow


class File(Base):
    """An uploaded file. Unattached files are visible to their uploader and staff only;
    once attached to a comment they are as visible as that comment."""

    __tablename__ = "files"

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_uuid)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    uploader_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FileBlob(Base):
    """The bytes of one stored file when they are kept in the database
    (HELPWIRE_FILES_STORAGE=database): written first, marked complete with the size and
    digest once the last chunk is in. An incomplete blob, or one no file row names, is an
    orphan once it is old enough (files.dbstorage.collect_orphans)."""

    __tablename__ = "file_blobs"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    complete: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FileChunk(Base):
    """One piece of a blob, in order of ``seq`` from 0."""

    __tablename__ = "file_chunks"

    key: Mapped[str] = mapped_column(
        String(255), ForeignKey("file_blobs.key", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
