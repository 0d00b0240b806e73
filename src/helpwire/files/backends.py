"""Which storage backend keeps file bytes (HELPWIRE_FILES_STORAGE)."""

from __future__ import annotations

from enum import StrEnum

from helpwire.db.session import Database
from helpwire.files.dbstorage import DatabaseStorage
from helpwire.files.storage import FileStorage, LocalStorage
from helpwire.settings import Settings


class StorageKind(StrEnum):
    """The backends, as HELPWIRE_FILES_STORAGE and `helpwire files migrate --to` name them."""

    local = "local"
    database = "database"


def storage_for(
    settings: Settings, database: Database, kind: StorageKind | None = None
) -> FileStorage:
    """The backend named by ``kind``, by default the one the settings choose."""
    if (kind or settings.files_storage) == "database":
        return DatabaseStorage(database)
    settings.files_dir.mkdir(parents=True, exist_ok=True)
    return LocalStorage(settings.files_dir)
