"""web.refusable: a refused form's work leaves nothing, and the page can read afresh."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from starlette.requests import Request

from helpwire.accounts import service as accounts
from helpwire.accounts.models import Account
from helpwire.db.session import Database
from helpwire.files.storage import LocalStorage
from helpwire.problems import ValidationProblem
from helpwire.web.refusable import refusable


def _request(storage: LocalStorage) -> Request:
    """A request as the pages see it, for what refusable uses: the app's storage and the
    keys of the files stored for the form (web.shared.store_form_files)."""
    app = SimpleNamespace(state=SimpleNamespace(storage=storage))
    return Request({"type": "http", "app": app, "headers": []})


async def _stored(storage: LocalStorage, key: str) -> bool:
    try:
        return b"".join([chunk async for chunk in storage.open_chunks(key)]) == b"bytes"
    except FileNotFoundError:
        return False


async def _accounts_named(database: Database, key: str) -> int:
    async with database.reader() as session:
        count = await session.scalar(
            select(func.count()).select_from(Account).where(Account.key == key)
        )
    return int(count or 0)


async def test_a_refusal_leaves_no_rows_no_bytes_and_no_stale_objects(
    database: Database, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path)
    request = _request(storage)
    async with database.writing() as session:
        kept = await accounts.create_account(session, key="kept", name="Kept")
        await storage.save(key="abcdef", source=io.BytesIO(b"bytes"), max_bytes=100)
        request.state.stored_upload_keys = ["abcdef"]
        with pytest.raises(ValidationProblem):
            async with refusable(request, session):
                kept.name = "Changed in the refused work"
                await accounts.create_account(session, key="refused", name=None)
                raise ValidationProblem("refused")
        # Nothing of the session's objects stays: the page reads again what it shows.
        assert kept not in session
        assert list(session.identity_map.values()) == []
        again = await accounts.get_account(session, key="kept")
        assert again.name == "Kept"
    assert await _accounts_named(database, "refused") == 0
    assert await _accounts_named(database, "kept") == 1
    assert not await _stored(storage, "abcdef")
    assert request.state.stored_upload_keys == []


async def test_work_that_is_not_refused_stays(database: Database, tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    request = _request(storage)
    async with database.writing() as session:
        await storage.save(key="abcdef", source=io.BytesIO(b"bytes"), max_bytes=100)
        request.state.stored_upload_keys = ["abcdef"]
        async with refusable(request, session):
            account = await accounts.create_account(session, key="filed", name=None)
        assert account in session
    assert await _accounts_named(database, "filed") == 1
    assert await _stored(storage, "abcdef")
