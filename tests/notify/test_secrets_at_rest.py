"""Channel signing secrets and webhook URLs (a chat webhook's URL is its credential) are
kept encrypted in the database, with HELPWIRE_SECRET_KEY or a key file made on first use."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select, text
from standardwebhooks.webhooks import Webhook

from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.db.migrate import downgrade, upgrade
from helpwire.db.models import Base
from helpwire.db.secrets import (
    KEY_FILE_NAME,
    SecretBox,
    SecretKeyError,
    create_key_file,
    default_key_file,
    reencrypt_all,
)
from helpwire.db.session import Database
from helpwire.notify.channels import create_channel
from helpwire.notify.models import Channel, Delivery
from helpwire.notify.outbound import AddressPolicy
from helpwire.notify.relay import Relay
from helpwire.notify.schemas import ChannelCreate
from helpwire.settings import Settings
from tests.conftest import World
from tests.notify.conftest import Receiver

SLACK_PATH = "/services/T0001/B0002/sEcReTsLaCkToKeN"
LOOPBACK = AddressPolicy(["127.0.0.0/8", "::1", "localhost"])
SMTP_PASSWORD = "smtp-pAsSwOrD-42"
EMAIL = {
    "host": "localhost",
    "port": 2525,
    "username": "hw",
    "password": SMTP_PASSWORD,
    "from": "hw@x.test",
    "to": ["a@x.test"],
}


async def make_channel(world: World, **spec: Any) -> dict[str, Any]:
    response = await world.post("admin", "/api/v1/channels", json=spec)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def stored(database: Database, channel_id: int) -> dict[str, Any]:
    """The channel's columns as the database holds them, read with plain SQL."""
    async with database.reader() as session:
        row = await session.execute(
            text("SELECT url, secret, previous_secret FROM channels WHERE id = :id"),
            {"id": channel_id},
        )
        return dict(row.mappings().one())


@asynccontextmanager
async def database_with(settings: Settings, *, secret_key: str) -> AsyncIterator[Database]:
    """The test's database, opened by a process with HELPWIRE_SECRET_KEY=secret_key."""
    engine = create_engine(settings.model_copy(update={"secret_key": SecretStr(secret_key)}))
    try:
        yield database_for(engine)
    finally:
        await engine.dispose()


def key_of(settings: Settings) -> str:
    assert settings.secret_key_file is not None
    return settings.secret_key_file.read_text().strip()


async def test_secrets_and_urls_are_not_in_plain_text_and_webhooks_still_verify(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay]
) -> None:
    hook = await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    rotated = await world.patch(
        "admin", f"/api/v1/channels/{hook['id']}", json={"rotate_secret": True}
    )
    assert rotated.status_code == 200, rotated.text
    slack_url = receiver.url.removesuffix("/hook") + SLACK_PATH
    chat = await make_channel(world, name="chat", kind="slack", url=slack_url)

    raw_hook = await stored(world.database, hook["id"])
    raw_chat = await stored(world.database, chat["id"])
    for value in [*raw_hook.values(), raw_chat["url"]]:
        assert value.startswith("fernet:")
    dump = repr([raw_hook, raw_chat])
    for plain in (hook["secret"], rotated.json()["secret"], receiver.url, "sEcReTsLaCkToKeN"):
        assert plain not in dump
    # What admins see is the plain URL, as before.
    shown = (await world.get("admin", f"/api/v1/channels/{chat['id']}")).json()
    assert shown["url"] == slack_url

    await world.create_ticket("alice", subject="Signed")
    await make_relay().run_once()
    requests = await receiver.wait_for(2)
    [signed] = [r for r in requests if r.path == "/hook"]
    Webhook(rotated.json()["secret"]).verify(signed.body, signed.headers)
    Webhook(hook["secret"]).verify(signed.body, signed.headers)
    assert [r.path for r in requests if r.path != "/hook"] == [SLACK_PATH]


async def test_a_new_key_first_and_the_old_one_second_still_decrypts(
    world: World, settings: Settings, receiver: Receiver
) -> None:
    hook = await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    mail = await make_channel(world, name="mail", kind="email", email=EMAIL, enabled=False)
    old, new = key_of(settings), Fernet.generate_key().decode()
    await world.create_ticket("alice")
    async with database_with(settings, secret_key=f"{new},{old}") as database:
        relay = Relay(database, base_url="http://helpwire.test", policy=LOOPBACK)
        try:
            await relay.run_once()
        finally:
            await relay.aclose()
        [request] = await receiver.wait_for(1)
        Webhook(hook["secret"]).verify(request.body, request.headers)

        before = await stored(database, hook["id"])
        assert await reencrypt_all(database.engine, metadata=Base.metadata) == 2
        assert (await stored(database, hook["id"]))["secret"] != before["secret"]

    # Rotated: the old key is no longer needed.
    async with database_with(settings, secret_key=new) as database, database.reader() as session:
        channel = await session.get_one(Channel, hook["id"])
        assert (channel.secret, channel.url) == (hook["secret"], receiver.url)
        mailer = await session.get_one(Channel, mail["id"])
        assert mailer.email is not None and mailer.email["password"] == SMTP_PASSWORD


async def test_a_wrong_key_fails_that_channels_deliveries_clearly_and_others_go_on(
    world: World, settings: Settings, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    hook = await make_channel(world, name="under-the-old-key", kind="webhook", url=receiver.url)
    async with database_with(settings, secret_key=Fernet.generate_key().decode()) as database:
        async with database.writing() as session:
            spec = ChannelCreate(name="under-the-new-key", kind="webhook", url=receiver.url)
            _channel, secret = await create_channel(session, spec=spec, policy=LOOPBACK)
        await world.create_ticket("alice")
        relay = Relay(database, base_url="http://helpwire.test", policy=LOOPBACK)
        try:
            assert await relay.run_once() == 2
        finally:
            await relay.aclose()
        [request] = await receiver.wait_for(1)
        assert secret is not None
        Webhook(secret).verify(request.body, request.headers)
        async with database.reader() as session:
            deliveries = (await session.scalars(select(Delivery))).unique().all()
        errors = {d.channel.name: (d.state, d.last_error) for d in deliveries}
        # Written back by a process without the key, a value stays as it was encrypted.
        async with database.writing() as session:
            channel = await session.get_one(Channel, hook["id"])
            channel.previous_secret = channel.secret
    assert errors["under-the-new-key"] == ("delivered", None)
    state, error = errors["under-the-old-key"]
    assert state == "failed"
    assert error is not None and "cannot be decrypted with HELPWIRE_SECRET_KEY" in error
    assert not any(record.exc_info for record in caplog.records)
    async with (
        database_with(settings, secret_key=key_of(settings)) as database,
        database.reader() as session,
    ):
        channel = await session.get_one(Channel, hook["id"])
        assert channel.previous_secret == channel.secret == hook["secret"]


async def stored_email(database: Database, channel_id: int) -> str:
    async with database.reader() as session:
        row = await session.execute(
            text("SELECT email FROM channels WHERE id = :id"), {"id": channel_id}
        )
        return str(row.scalar_one())


async def test_the_migration_encrypts_channels_stored_in_plain_text(
    world: World, settings: Settings, receiver: Receiver
) -> None:
    hook = await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    mail = await make_channel(world, name="mail", kind="email", email=EMAIL)
    engine = create_engine(settings, bounded=False)
    try:
        await downgrade(engine, "0003")
        plain = await stored(database_for(engine), hook["id"])
        assert plain == {"url": receiver.url, "secret": hook["secret"], "previous_secret": None}
        assert SMTP_PASSWORD in await stored_email(database_for(engine), mail["id"])

        await upgrade(engine)
        raw = await stored(database_for(engine), hook["id"])
        assert raw["url"].startswith("fernet:") and raw["secret"].startswith("fernet:")
        raw_email = await stored_email(database_for(engine), mail["id"])
        assert SMTP_PASSWORD not in raw_email and "fernet:" in raw_email
        async with database_for(engine).reader() as session:
            channel = await session.get_one(Channel, mail["id"])
            assert channel.email is not None and channel.email["password"] == SMTP_PASSWORD
    finally:
        await engine.dispose()
    shown = (await world.get("admin", f"/api/v1/channels/{hook['id']}")).json()
    assert shown["url"] == receiver.url


async def test_a_retried_channel_creation_keeps_no_secret_in_the_idempotency_row(
    world: World, receiver: Receiver
) -> None:
    headers = {"Idempotency-Key": "hook-1"}
    body = {"name": "hook", "kind": "webhook", "url": receiver.url}
    created = await world.post("admin", "/api/v1/channels", json=body, headers=headers)
    assert created.status_code == 201, created.text
    async with world.database.reader() as session:
        rows = (await session.execute(text("SELECT response FROM idempotency_keys"))).all()
    assert rows
    assert created.json()["secret"] not in repr(rows) and receiver.url not in repr(rows)

    replay = await world.post("admin", "/api/v1/channels", json=body, headers=headers)
    assert replay.status_code == 409, replay.text
    assert replay.json()["type"] == "/problems/secret-shown-once"
    assert replay.json()["created"]["id"] == created.json()["id"]
    assert created.json()["secret"] not in replay.text


async def test_an_email_channel_keeps_its_password_encrypted_and_is_still_replayed(
    world: World,
) -> None:
    headers = {"Idempotency-Key": "mail-1"}
    body = {"name": "mail", "kind": "email", "email": EMAIL}
    created = await world.post("admin", "/api/v1/channels", json=body, headers=headers)
    assert created.status_code == 201, created.text
    raw_email = await stored_email(world.database, created.json()["id"])
    assert SMTP_PASSWORD not in raw_email and "fernet:" in raw_email
    # The answer holds no secret (the password is never shown), so a retry replays it.
    again = await world.post("admin", "/api/v1/channels", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_key_file_sits_beside_the_sqlite_database_private_and_made_once(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.db", secret_key_file=None)
    path = default_key_file(settings)
    assert path == tmp_path / KEY_FILE_NAME
    with pytest.raises(SecretKeyError, match="does not exist"):
        SecretBox.from_settings(settings).decrypt("fernet:gAAAA")
    sealed = SecretBox.from_settings(settings).encrypt("whsec_abc")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text()
    # A second process starting at the same time keeps the first key.
    create_key_file(path)
    assert path.read_text() == first
    assert SecretBox.from_settings(settings).decrypt(sealed) == "whsec_abc"
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]


def test_a_malformed_key_is_one_clear_line_from_the_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPWIRE_")}
    env.update(
        HELPWIRE_DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
        HELPWIRE_SECRET_KEY="not-a-key",
        HELPWIRE_LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "-m", "helpwire"]
    finished = subprocess.run(
        [*command, "db", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 1
    assert "Traceback" not in finished.stderr
    assert "HELPWIRE_SECRET_KEY: key 1 is not a Fernet key" in finished.stderr

    made = subprocess.run(
        [*command, "secrets", "new-key"], env=env, capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    Fernet(made.stdout.strip())
