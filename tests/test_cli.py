"""The helpwire command, run as a user runs it: in a subprocess, against a real database."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from helpwire.accounts.security import verify_password
from helpwire.app import create_app
from helpwire.settings import Settings
from tests.ports import listening_socket, serve_on, url_of

HELPWIRE = [sys.executable, "-m", "helpwire"]


def run(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        HELPWIRE + args,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPWIRE_")}
    env.update(
        HELPWIRE_DATABASE_URL=database_url,
        HELPWIRE_FILES_DIR=str(tmp_path / "files"),
        HELPWIRE_LOG_JSON="true",
    )
    return env


def test_db_upgrade_then_status_reports_the_newest_revision(cli_env: dict[str, str]) -> None:
    upgraded = run(["db", "upgrade"], cli_env)
    assert upgraded.returncode == 0, upgraded.stderr
    status = run(["db", "status"], cli_env)
    assert status.returncode == 0, status.stdout + status.stderr
    current, newest = (line.split()[-1] for line in status.stdout.splitlines())
    assert current == newest


async def api_get(settings: Settings, path: str, token: str) -> httpx.Response:
    """GET from an in-process app on the same database the command wrote to."""
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://helpwire.test") as c:
            return await c.get(path, headers={"Authorization": f"Bearer {token}"})


async def test_accounts_users_and_tokens_created_from_the_command_line_work_on_the_api(
    cli_env: dict[str, str], settings: Settings
) -> None:
    assert (
        run(["accounts", "create", "acme", "--name", "Acme", "--project", "p1"], cli_env).returncode
        == 0
    )
    created = run(
        [
            "users",
            "create",
            "olga",
            "--email",
            "olga@acme.test",
            "--role",
            "customer",
            "--account",
            "acme",
            "--real-name",
            "Olga O",
            "--project",
            "p1",
        ],
        cli_env,
    )
    assert created.returncode == 0, created.stderr
    token_run = run(["tokens", "create", "olga", "--label", "script"], cli_env)
    assert token_run.returncode == 0, token_run.stderr
    token = token_run.stdout.strip()
    # Nothing but the token on stdout, so that scripts can capture it.
    assert token.startswith("hw_") and "\n" not in token and " " not in token

    me = await api_get(settings, "/api/v1/me", token)
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "olga"
    assert me.json()["account"] == "acme"
    assert me.json()["projects"] == ["p1"]


def test_users_create_with_password_reads_it_twice(cli_env: dict[str, str]) -> None:
    created = run(
        ["users", "create", "sam", "--role", "agent", "--email", "sam@helpwire.test", "--password"],
        cli_env,
        stdin="correct horse\ncorrect horse\n",
    )
    assert created.returncode == 0, created.stderr


def test_cli_errors_are_clear_and_exit_nonzero(cli_env: dict[str, str]) -> None:
    assert run(["accounts", "create", "acme"], cli_env).returncode == 0
    again = run(["accounts", "create", "acme"], cli_env)
    assert again.returncode == 1
    assert "exists already" in again.stderr
    orphan = run(["users", "create", "nobody", "--role", "customer"], cli_env)
    assert orphan.returncode == 1
    assert "must belong to an account" in orphan.stderr
    missing = run(["tokens", "create", "ghost"], cli_env)
    assert missing.returncode == 1
    assert "no user 'ghost'" in missing.stderr
    assert missing.stdout == ""


async def test_topics_load_accepts_yaml_and_json_and_updates_in_place(
    cli_env: dict[str, str], tmp_path: Path, settings: Settings
) -> None:
    yaml_file = tmp_path / "topics.yaml"
    yaml_file.write_text(
        "- key: billing\n  names: {en: Billing, ru: Оплата}\n"
        "  subtopics:\n    - key: invoices\n      names: {en: Invoices, ru: Счета}\n"
        "- key: network\n  names: {en: Network}\n",
        encoding="utf-8",
    )
    loaded = run(["topics", "load", str(yaml_file)], cli_env)
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded 2 topics" in loaded.stderr
    json_file = tmp_path / "topics.json"
    json_file.write_text(
        json.dumps({"topics": [{"key": "billing", "names": {"en": "Payments"}, "subtopics": []}]}),
        encoding="utf-8",
    )
    assert run(["topics", "load", str(json_file)], cli_env).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: [unclosed", encoding="utf-8")
    refused = run(["topics", "load", str(bad)], cli_env)
    assert refused.returncode == 1

    assert run(["users", "create", "viewer", "--role", "agent"], cli_env).returncode == 0
    viewer_token = run(["tokens", "create", "viewer"], cli_env).stdout.strip()
    listed = await api_get(settings, "/api/v1/topics", viewer_token)
    topics = {t["key"]: t for t in listed.json()}
    assert topics["billing"]["names"] == {"en": "Payments"}
    # Subtopics left out of a reload are deactivated, not deleted: old tickets keep them.
    assert [(s["key"], s["is_active"]) for s in topics["billing"]["subtopics"]] == [
        ("invoices", False)
    ]
    assert topics["network"]["names"] == {"en": "Network"}


@pytest.fixture
def served(cli_env: dict[str, str]) -> Iterator[tuple[str, list[str], subprocess.Popen[str]]]:
    """`helpwire serve` on an empty database, on a socket of the test's own (tests/ports.py);
    yields its address and what it printed before it was ready."""
    with listening_socket() as sock:
        base = url_of(sock)
        process = subprocess.Popen(
            [*HELPWIRE, *serve_on(sock)],
            env=cli_env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            pass_fds=[sock.fileno()],
        )
    assert process.stderr is not None
    printed: list[str] = []
    try:
        # Wait for the event, not for a time: uvicorn says it is running once it serves.
        for line in process.stderr:
            printed.append(line)
            if "Uvicorn running on" in line:
                break
        else:
            pytest.fail("helpwire serve exited early:\n" + "".join(printed))
        yield base, printed, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_first_start_creates_an_admin_and_prints_its_credentials_once(
    served: tuple[str, list[str], subprocess.Popen[str]], cli_env: dict[str, str]
) -> None:
    base, printed, _process = served
    text = "".join(printed)
    assert "first start" in text
    token = next(
        line.split("API token:")[1].strip(" │|\n") for line in printed if "API token:" in line
    )
    password_line = next(line for line in printed if "password:" in line)
    assert password_line.split("password:")[1].strip(" │|\n")
    me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "admin"
    assert me.json()["has_password"] is True
    assert httpx.get(f"{base}/readyz").json()["status"] == "ok"
    # A second start on the same database creates no second admin.
    upgraded_again = run(["db", "upgrade"], cli_env)
    assert upgraded_again.returncode == 0
    assert "API token" not in upgraded_again.stderr


def test_serve_logs_json_lines_with_the_request_id(
    served: tuple[str, list[str], subprocess.Popen[str]],
) -> None:
    base, _printed, process = served
    response = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
    assert process.stderr is not None
    for line in process.stderr:
        if "trace-42" in line:
            entry = json.loads(line)
            break
    assert entry["request_id"] == "trace-42"
    assert entry["route"] == "/healthz"
    assert entry["status"] == 200


def _lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's stderr, line by line, read in the background (so a wait can time out)."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr

    def pump() -> None:
        for line in stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for_line(
    lines: queue.Queue[str], wanted: Callable[[str], bool], seen: list[str], timeout: float = 60
) -> str:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        seen.append(line)
        if wanted(line):
            return line
    pytest.fail("the line never came; the process printed:\n" + "".join(seen))


def test_serve_with_several_workers_logs_each_workers_requests(cli_env: dict[str, str]) -> None:
    with listening_socket() as sock:
        url = url_of(sock)
        process = subprocess.Popen(
            [*HELPWIRE, *serve_on(sock), "--workers", "2"],
            env=cli_env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            pass_fds=[sock.fileno()],
        )
    seen: list[str] = []
    try:
        lines = _lines_of(process)
        # Only a worker with logging set up says so: the parent never starts the app.
        _wait_for_line(lines, lambda line: "Application startup complete" in line, seen)
        response = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "worker-trace-7"})
        assert response.headers["x-request-id"] == "worker-trace-7"
        entry = json.loads(_wait_for_line(lines, lambda line: "worker-trace-7" in line, seen))
        assert entry["request_id"] == "worker-trace-7"
        assert entry["status"] == 200
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_on_port_0_listens_on_a_port_the_system_picks_and_says_which(
    cli_env: dict[str, str],
) -> None:
    process = subprocess.Popen(
        [*HELPWIRE, "serve", "--port", "0"],
        env=cli_env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    seen: list[str] = []
    try:
        # Logged once the socket listens, with the port it got.
        line = _wait_for_line(_lines_of(process), lambda line: "Uvicorn running on" in line, seen)
        address = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert address is not None, line
        assert int(address.group(1)) != 0
        assert httpx.get(address.group(0) + "/healthz").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def empty_env(empty_database_url: str, tmp_path: Path) -> dict[str, str]:
    """The command's environment, on a database that exists but holds no schema."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPWIRE_")}
    env.update(HELPWIRE_FILES_DIR=str(tmp_path / "files"), HELPWIRE_LOG_JSON="true")
    env["HELPWIRE_DATABASE_URL"] = empty_database_url
    return env


def test_commands_on_a_database_without_its_schema_say_to_upgrade_it(
    empty_env: dict[str, str],
) -> None:
    for args in (
        # Port 0: were it to get as far as listening, on a port the system picks.
        ["serve", "--no-migrate", "--port", "0"],
        ["users", "create", "sam", "--role", "agent"],
        ["tokens", "create", "sam"],
        ["accounts", "create", "acme"],
    ):
        result = run(args, empty_env)
        assert result.returncode == 1, result.stderr
        assert "the database schema is missing or old: run `helpwire db upgrade`" in result.stderr
        assert "Traceback" not in result.stderr
    assert run(["db", "upgrade"], empty_env).returncode == 0
    assert run(["accounts", "create", "acme"], empty_env).returncode == 0


def test_commands_that_cannot_reach_the_database_say_so_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPWIRE_")}
    env.update(
        HELPWIRE_DATABASE_URL=f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}",
        HELPWIRE_FILES_DIR=str(tmp_path / "files"),
    )
    result = run(["db", "status"], env)
    assert result.returncode == 1
    assert "cannot connect to the database" in result.stderr
    assert "Traceback" not in result.stderr


async def _user_row(settings: Settings, username: str) -> tuple[str, bool, str | None]:
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text("SELECT role, is_active, password_hash FROM users WHERE username = :u"),
                    {"u": username},
                )
            ).one()
            return str(row[0]), bool(row[1]), row[2]
    finally:
        await engine.dispose()


async def test_users_create_with_password_reads_one_piped_line(
    cli_env: dict[str, str], settings: Settings
) -> None:
    assert run(["db", "upgrade"], cli_env).returncode == 0
    created = run(
        ["users", "create", "sam", "--role", "agent", "--email", "sam@helpwire.test", "--password"],
        cli_env,
        stdin="correct horse\n",
    )
    assert created.returncode == 0, created.stderr
    _role, _active, password_hash = await _user_row(settings, "sam")
    assert password_hash is not None
    assert verify_password(password_hash, "correct horse")


def test_a_short_piped_password_is_refused(cli_env: dict[str, str]) -> None:
    assert run(["db", "upgrade"], cli_env).returncode == 0
    created = run(
        ["users", "create", "sam", "--role", "agent", "--email", "sam@helpwire.test", "--password"],
        cli_env,
        stdin="short\n",
    )
    assert created.returncode == 1
    assert "at least 8 characters" in created.stderr


async def test_the_last_active_admin_cannot_be_disabled_or_demoted(
    cli_env: dict[str, str], settings: Settings
) -> None:
    assert run(["db", "upgrade"], cli_env).returncode == 0
    admin = ["users", "create", "root", "--role", "admin", "--email", "root@helpwire.test"]
    assert run(admin, cli_env).returncode == 0
    disabled = run(["users", "disable", "root"], cli_env)
    assert disabled.returncode == 1
    assert "last active admin" in disabled.stderr
    demoted = run(["users", "role", "root", "agent"], cli_env)
    assert demoted.returncode == 1
    assert "last active admin" in demoted.stderr
    assert await _user_row(settings, "root") == ("admin", True, None)

    second = ["users", "create", "root2", "--role", "admin", "--email", "root2@helpwire.test"]
    assert run(second, cli_env).returncode == 0
    assert run(["users", "role", "root", "agent"], cli_env).returncode == 0
    assert run(["users", "disable", "root2"], cli_env).returncode == 1
    assert run(["users", "enable", "root"], cli_env).returncode == 0
    assert (await _user_row(settings, "root"))[:2] == ("agent", True)


def test_relay_and_worker_metrics_listen_on_this_machine_only_unless_told() -> None:
    # They are served without a token: by default nothing but this machine reaches them.
    from typer.main import get_command

    from helpwire.api.metrics import Metrics
    from helpwire.cli import app, serve_metrics

    commands = get_command(app).commands  # type: ignore[attr-defined]
    for name in ("relay", "worker"):
        options = {p.name: p for p in commands[name].params}
        assert options["metrics_host"].default == "127.0.0.1"
    server = serve_metrics(Metrics.create(), port=0, host="127.0.0.1")
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert b"helpwire_" in answer.read()
    finally:
        server.shutdown()
        server.server_close()
