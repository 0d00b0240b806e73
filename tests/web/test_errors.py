"""What the UI answers when something goes wrong that no one foresaw."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from helpwire.tickets import service
from tests.web.conftest import WebHarness


def _stored_files(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


async def test_an_unexpected_error_is_a_page_and_leaves_no_stored_files(
    web: WebHarness, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "create_ticket", broken)
    alice = await web.sign_in("alice")
    page = await alice.get("/tickets/new")
    submission = re.search(r'name="submission_id" value="([^"]+)"', page.text)
    assert submission
    before = await web.world.row_counts()
    answer = await alice.client.post(
        "/tickets/new",
        data={
            "subject": "Hello",
            "body": "text",
            "csrf_token": alice.csrf,
            "submission_id": submission.group(1),
        },
        files={"files": ("notes.txt", b"some notes", "text/plain")},
        headers={"Origin": "http://helpwire.test"},
    )
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("text/html")
    assert "unexpected error" in answer.text
    assert answer.headers["x-request-id"]
    assert await web.world.row_counts() == before
    assert _stored_files(Path(app.state.settings.files_dir)) == []


async def test_an_unknown_page_is_a_page(web: WebHarness) -> None:
    alice = await web.sign_in("alice")
    answer = await alice.get("/tickets/not-a-number")
    assert answer.status_code in (404, 422)
    assert answer.headers["content-type"].startswith("text/html")


async def test_a_slow_upload_holds_no_transaction_while_it_arrives(web: WebHarness) -> None:
    """While a form with a file trickles in, other requests write as usual: the form is
    read before the request's transaction (on SQLite: the write lock) is taken."""
    alice = await web.sign_in("alice")
    page = await alice.get("/tickets/new")
    submission = re.search(r'name="submission_id" value="([^"]+)"', page.text)
    assert submission
    boundary = "helpwire-test-boundary"

    def part(name: str, value: str) -> bytes:
        return (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()

    head = (
        part("csrf_token", alice.csrf)
        + part("submission_id", submission.group(1))
        + part("subject", "Slow upload")
        + part("body", "The file follows, slowly.")
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            'filename="big.log"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
    )
    tail = f"the rest of the file\r\n--{boundary}--\r\n".encode()
    halfway = asyncio.Event()
    release = asyncio.Event()

    async def trickle() -> AsyncIterator[bytes]:
        yield head
        halfway.set()
        await release.wait()
        yield tail

    upload = asyncio.create_task(
        alice.client.post(
            "/tickets/new",
            content=trickle(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Origin": "http://helpwire.test",
            },
        )
    )
    await halfway.wait()
    # Another customer files a ticket meanwhile, without waiting for the upload.
    other = await asyncio.wait_for(web.world.create_ticket("owner"), timeout=10)
    assert other["number"]
    release.set()
    answer = await upload
    assert answer.status_code == 303, answer.text
