"""The SMTP door as operators run it: inside `helpwire serve` (the app's lifespan, when
HELPWIRE_MAIL_LISTEN is set) and alone, as `helpwire mail listen`, a process of its own."""

from __future__ import annotations

import asyncio
import os
import smtplib
import subprocess
from email.policy import SMTP
from pathlib import Path

import pytest
from fastapi import FastAPI

from helpwire.settings import Settings
from tests.conftest import World
from tests.mail.test_inbound import mail
from tests.ports import HELPWIRE, listening_socket, log_tail, port_of

STOP_TIMEOUT_S = 20


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The app's lifespan opens the door on a port the system picks.
    return settings.model_copy(update={"mail_listen": "127.0.0.1:0"})


def _send(port: int, subject: str) -> None:
    message = mail(subject=subject, body="By SMTP.")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail("owner@acme.test", ["support@helpwire.test"], message.as_bytes(policy=SMTP))


async def _listening_port(app: FastAPI) -> int:
    # The doors start in a task of the lifespan: a few turns of the loop, no waiting.
    for _ in range(10_000):
        server = getattr(app.state, "mail_listener", None)
        if server is not None:
            return int(server.sockets[0].getsockname()[1])
        await asyncio.sleep(0)
    raise AssertionError("the app's SMTP listener did not start")


async def _subjects(world: World) -> list[str]:
    found = await world.get("agent", "/api/v1/tickets", params={"limit": 100})
    return sorted(t["subject"] for t in found.json()["items"])


async def test_serve_listens_for_mail_when_told_to(world: World, app: FastAPI) -> None:
    port = await _listening_port(app)
    await asyncio.to_thread(_send, port, "Through serve")
    assert await _subjects(world) == ["Through serve"]


async def test_mail_listen_runs_the_door_alone(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    sock = listening_socket()
    env = {
        **os.environ,
        "HELPWIRE_DATABASE_URL": settings.database_url,
        "HELPWIRE_SECRET_KEY_FILE": str(settings.secret_key_file),
        "HELPWIRE_FILES_DIR": str(settings.files_dir),
        "HELPWIRE_MAIL_FROM": settings.mail_from or "",
        "HELPWIRE_LOG_JSON": "false",
    }
    log_path = tmp_path / "mail-listen.log"
    with sock, log_path.open("wb") as log:
        process = await asyncio.to_thread(
            subprocess.Popen,
            [str(HELPWIRE), "mail", "listen", "--fd", str(sock.fileno())],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=[sock.fileno()],
        )
        port = port_of(sock)
    try:
        # The socket listens already: the client waits for the greeting, not for a port.
        await asyncio.to_thread(_send, port, "Through mail listen")
        assert await _subjects(world) == ["Through mail listen"], log_tail(log_path)
    finally:
        process.terminate()
        code = await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
        assert code == 0, log_tail(log_path)
