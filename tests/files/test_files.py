"""Uploading files, downloading them, and who may (DESIGN.md 3: File; 4: errors)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select

from helpwire.files.models import File
from helpwire.settings import Settings
from tests.conftest import World

FILES = "/api/v1/files"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def stored_files(root: Path) -> list[Path]:
    """Regular files under the storage root (directories do not count)."""
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_problem(response: httpx.Response, *, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == type_
    assert problem["detail"]
    return problem


async def test_an_upload_answers_with_the_files_name_type_size_and_sha256(world: World) -> None:
    response = await world.post(
        "alice", FILES, files={"file": ("screenshot.png", PNG, "image/png")}
    )

    assert response.status_code == 201, response.text
    uploaded = response.json()
    assert uploaded["filename"] == "screenshot.png"
    assert uploaded["content_type"] == "image/png"
    assert uploaded["size"] == len(PNG)
    assert uploaded["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert uploaded["id"]
    assert uploaded["created_at"]


async def test_a_download_gives_back_the_same_bytes_with_the_file_name(world: World) -> None:
    uploaded = await world.upload("alice", "report.pdf", b"%PDF-1.7 fake", "application/pdf")

    response = await world.get("alice", f"{FILES}/{uploaded['id']}")

    assert response.status_code == 200, response.text
    assert response.content == b"%PDF-1.7 fake"
    assert response.headers["content-type"].startswith("application/pdf")
    assert "report.pdf" in response.headers["content-disposition"]
    assert response.headers["content-length"] == str(len(b"%PDF-1.7 fake"))


async def test_a_file_a_browser_could_run_is_always_downloaded_never_shown(world: World) -> None:
    uploaded = await world.upload("alice", "page.html", b"<script>alert(1)</script>", "text/html")

    response = await world.get("alice", f"{FILES}/{uploaded['id']}")

    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_non_ascii_file_name_survives_the_round_trip(world: World) -> None:
    uploaded = await world.upload("alice", "счёт №5.txt", b"invoice")
    assert uploaded["filename"] == "счёт №5.txt"

    response = await world.get("alice", f"{FILES}/{uploaded['id']}")

    assert quote("счёт №5.txt") in response.headers["content-disposition"]


async def test_a_file_without_a_content_type_gets_one_guessed_from_its_name(world: World) -> None:
    uploaded = await world.upload("alice", "notes.txt", b"hello", "application/octet-stream")
    assert uploaded["content_type"] == "text/plain"


async def test_an_unattached_file_is_visible_only_to_its_uploader_and_staff(world: World) -> None:
    uploaded = await world.upload("alice", "draft.txt", b"not sent yet")
    url = f"{FILES}/{uploaded['id']}"

    allowed = {
        who
        for who in ("alice", "owner", "bob", "carol", "gus", "agent", "admin")
        if (await world.get(who, url)).status_code == 200
    }

    assert allowed == {"alice", "agent", "admin"}
    refused = await world.get("owner", url)
    assert_problem(refused, status=404, type_="/problems/not-found")


async def test_an_attached_file_is_as_visible_as_its_ticket(world: World) -> None:
    uploaded = await world.upload("alice", "error.log", b"Traceback: boom")
    await world.create_ticket(
        "alice", access_level="project_users", projects=["p1"], files=[uploaded["id"]]
    )
    url = f"{FILES}/{uploaded['id']}"

    allowed = {
        who
        for who in ("alice", "owner", "bob", "carol", "gus", "agent", "admin")
        if (await world.get(who, url)).status_code == 200
    }

    assert allowed == {"alice", "owner", "agent", "admin"}
    assert (await world.get("gus", url)).status_code == 404


async def test_an_attached_file_shows_in_the_conversation(world: World) -> None:
    uploaded = await world.upload("alice", "error.log", b"Traceback: boom")
    ticket = await world.create_ticket("alice", files=[uploaded["id"]])

    comments = await world.get("owner", f"/api/v1/tickets/{ticket['number']}/comments")

    assert comments.json()["items"][0]["files"] == [uploaded]


async def test_a_file_over_the_limit_is_a_413_and_nothing_is_kept(
    world: World, settings: Settings
) -> None:
    before = await world.row_counts()
    too_big = b"x" * (settings.max_file_bytes + 1)

    response = await world.post("alice", FILES, files={"file": ("big.bin", too_big)})

    problem = assert_problem(response, status=413, type_="/problems/payload-too-large")
    assert problem["max_bytes"] == settings.max_file_bytes
    assert await world.row_counts() == before
    assert stored_files(settings.files_dir) == []


async def test_a_file_of_exactly_the_limit_is_accepted(world: World, settings: Settings) -> None:
    content = b"y" * settings.max_file_bytes

    uploaded = await world.upload("alice", "just-fits.bin", content, "application/octet-stream")

    assert uploaded["size"] == settings.max_file_bytes
    assert uploaded["sha256"] == hashlib.sha256(content).hexdigest()
    assert len(stored_files(settings.files_dir)) == 1


async def test_an_upload_far_over_the_limit_is_refused_before_it_is_read(
    world: World, settings: Settings
) -> None:
    before = await world.row_counts()
    far_too_big = b"z" * (settings.max_file_bytes * 2)

    response = await world.post("alice", FILES, files={"file": ("huge.bin", far_too_big)})

    assert_problem(response, status=413, type_="/problems/payload-too-large")
    assert await world.row_counts() == before
    assert stored_files(settings.files_dir) == []


async def test_a_streamed_upload_far_over_the_limit_is_a_413_too(
    world: World, settings: Settings
) -> None:
    before = await world.row_counts()
    boundary = "helpwire-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    async def body() -> Any:
        yield head
        for _ in range(settings.max_file_bytes * 2 // 65536):
            yield b"z" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await world.post(
        "alice",
        FILES,
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert_problem(response, status=413, type_="/problems/payload-too-large")
    assert await world.row_counts() == before
    assert stored_files(settings.files_dir) == []


async def test_an_upload_that_is_not_multipart_is_a_415(world: World) -> None:
    before = await world.row_counts()

    response = await world.post("alice", FILES, json={"file": "aGVsbG8="})

    assert_problem(response, status=415, type_="/problems/unsupported-media-type")
    assert await world.row_counts() == before


async def test_a_multipart_upload_without_a_file_field_is_a_422(world: World) -> None:
    before = await world.row_counts()

    response = await world.post(
        "alice",
        FILES,
        data={"file": "just text"},
        files={"attachment": ("a.txt", b"wrong field name")},
    )

    problem = assert_problem(response, status=422, type_="/problems/validation-error")
    assert [e["field"] for e in problem["errors"]] == ["file"]
    assert await world.row_counts() == before


async def test_path_separators_in_a_file_name_are_cleaned_away(
    world: World, settings: Settings
) -> None:
    for sent, ends_with in [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\alice\\report.txt", "report.txt"),
        ("/abs/olute.txt", "olute.txt"),
        ("..", "file"),
    ]:
        uploaded = await world.upload("alice", sent, b"data")
        name = uploaded["filename"]
        assert "/" not in name and "\\" not in name, name
        assert not name.startswith("."), name
        assert name.endswith(ends_with), name
        download = await world.get("alice", f"{FILES}/{uploaded['id']}")
        assert "/" not in download.headers["content-disposition"]
    # Every byte stayed inside the storage directory.
    assert len(stored_files(settings.files_dir)) == 4
    assert all(settings.files_dir in p.parents for p in stored_files(settings.files_dir))


async def test_a_file_that_does_not_exist_is_a_404(world: World) -> None:
    response = await world.get("agent", f"{FILES}/00000000-0000-0000-0000-000000000000")
    assert_problem(response, status=404, type_="/problems/not-found")
    response = await world.get("agent", f"{FILES}/not-even-a-uuid")
    assert_problem(response, status=404, type_="/problems/not-found")


async def test_uploading_needs_a_token(world: World) -> None:
    response = await world.client.post(FILES, files={"file": ("a.txt", b"anonymous")})
    assert_problem(response, status=401, type_="/problems/unauthenticated")


def remove_stored_bytes(files_dir: Path, key: str) -> None:
    stored = [path for path in files_dir.rglob(key) if path.is_file()]
    assert len(stored) == 1
    stored[0].unlink()


async def test_a_file_whose_bytes_are_gone_is_a_problem_before_any_byte_is_sent(
    world: World, settings: Settings
) -> None:
    """Bytes kept on another machine's disk (local storage shared by no one) or lost: the
    answer is a problem document, not a 200 with a Content-Length cut off mid-download."""
    gone = await world.upload("alice", "gone.txt", b"was here")
    empty = await world.upload("alice", "empty.txt", b"")
    async with world.database.reader() as session:
        key = await session.scalar(select(File.storage_key).where(File.id == gone["id"]))
    assert key is not None
    remove_stored_bytes(Path(settings.files_dir), key)

    response = await world.get("alice", f"{FILES}/{gone['id']}")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/problems/file-bytes-missing")
    # An empty file is not a missing one.
    assert (await world.get("alice", f"{FILES}/{empty['id']}")).content == b""
