"""The ``helpwire`` command."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import yaml
from rich.console import Console
from rich.panel import Panel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts import service as accounts
from helpwire.accounts.models import Role, User
from helpwire.assembly import database_for
from helpwire.bootstrap import create_first_admin
from helpwire.db.engine import create_engine
from helpwire.db.migrate import revision_status, upgrade
from helpwire.db.models import Base
from helpwire.db.secrets import SecretKeyError, new_key, reencrypt_all
from helpwire.db.session import Database
from helpwire.demo import DEFAULT_SEED, DEFAULT_TICKETS, DemoOptions, DemoReport, fill_demo
from helpwire.files.backends import StorageKind, storage_for
from helpwire.files.transfer import Tally, copy_all
from helpwire.mail.channel import prepare_mail_channel
from helpwire.mail.config import MailConfig
from helpwire.mail.doors import Doors, run_doors
from helpwire.mail.inbound import InboundConfig, Pipeline
from helpwire.notify.channels import apply_declared_channels
from helpwire.notify.outbound import AddressPolicy
from helpwire.problems import Problem
from helpwire.rights.erasure import erase_user
from helpwire.settings import Settings
from helpwire.topics import service as topics

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from helpwire.api.metrics import Metrics

METRICS_HOST_HELP = (
    "The address the metrics port listens on. They are served without a token, so the "
    "default is this machine only; give the monitoring network's address (or 0.0.0.0) "
    "to be scraped from elsewhere."
)

app = typer.Typer(help="helpwire: a self-hosted support-ticket service.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
accounts_app = typer.Typer(help="Customer accounts.", no_args_is_help=True)
topics_app = typer.Typer(help="Ticket topics.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(accounts_app, name="accounts")
app.add_typer(topics_app, name="topics")
secrets_app = typer.Typer(help="Keys that encrypt channel secrets at rest.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")
files_app = typer.Typer(help="Stored files.", no_args_is_help=True)
app.add_typer(files_app, name="files")
mail_app = typer.Typer(help="Conversations by e-mail.", no_args_is_help=True)
app.add_typer(mail_app, name="mail")

# Messages go to stderr so that stdout carries only what scripts capture (a token).
err = Console(stderr=True)
T = TypeVar("T")


# SQLSTATEs of PostgreSQL for a table or column that is not there.
_MISSING_SCHEMA_STATES = frozenset({"42P01", "42703"})


class _Unreachable(Exception):
    """The database cannot be connected to at all."""


def _first_line(exc: BaseException) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _database_error(exc: DBAPIError) -> str:
    reason = _first_line(exc)
    if getattr(exc.orig, "sqlstate", None) in _MISSING_SCHEMA_STATES or reason.startswith(
        ("no such table", "no such column")
    ):
        return "the database schema is missing or old: run `helpwire db upgrade`"
    return f"the database refused the work: {reason}"


def _run(work: Callable[[Database], Awaitable[T]], *, mail: bool = False) -> T:
    """Run ``work`` against the configured database, turning problems and database errors
    into one clear line on stderr and exit code 1. With ``mail``, the events ``work``
    records are mailed to tickets' people as the HELPWIRE_MAIL_ settings say (a worker's
    jobs); operators' commands (the demo, imports) mail no one."""
    settings = Settings()
    mail_config = _mail_config(settings) if mail else None

    async def main() -> T:
        # No statement timeout for an operator's commands: a migration may take long.
        engine = create_engine(settings, bounded=False)
        try:
            try:
                async with engine.connect():
                    pass
            except Exception as exc:  # drivers raise their own types (and OSError) here
                # aiosqlite stops its thread after a failed connect without waiting for it;
                # a moment lets it finish before the loop closes (else it prints a traceback).
                await asyncio.sleep(0.1)
                raise _Unreachable(_first_line(exc)) from exc
            return await work(database_for(engine, mail=mail_config))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except Problem as problem:
        err.print(f"[red]error:[/red] {problem.detail}")
        raise typer.Exit(1) from None
    except SecretKeyError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    except _Unreachable as exc:
        err.print(f"[red]error:[/red] cannot connect to the database: {exc}")
        raise typer.Exit(1) from None
    except DBAPIError as exc:
        err.print(f"[red]error:[/red] {_database_error(exc)}")
        raise typer.Exit(1) from None


def _show_first_admin(database: Database) -> Any:
    async def work() -> None:
        first = await create_first_admin(database)
        if first is None:
            return
        err.print(
            Panel.fit(
                f"user:      [bold]{first.username}[/bold]\n"
                f"password:  [bold]{first.password}[/bold]\n"
                f"API token: [bold]{first.token}[/bold]\n\n"
                "They are shown this once and not stored in the clear: keep them now.",
                title="helpwire first start: the admin account",
            )
        )

    return work()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: one the system picks).")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    worker_healthcheck_timeout: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Seconds a worker has to answer uvicorn's health check before it is "
            "replaced (default: HELPWIRE_WORKER_HEALTHCHECK_TIMEOUT_SECONDS, 30).",
        ),
    ] = None,
    migrate: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Apply pending migrations first.")
    ] = True,
    fd: Annotated[
        int | None,
        typer.Option(
            help="Serve on the socket at this inherited file descriptor, already bound and "
            "listening (socket activation, a supervisor, a test), instead of --host and --port."
        ),
    ] = None,
) -> None:
    """Serve the API, the compatible faces and the web UI with uvicorn."""
    import uvicorn

    from helpwire.logs import configure_logging
    from helpwire.serving import PROTOCOL, prepare_inherited_socket

    settings = Settings()
    configure_logging(level=settings.log_level, as_json=settings.log_json)
    if fd is not None:
        try:
            prepare_inherited_socket(fd)
        except OSError as exc:
            err.print(f"[red]error:[/red] --fd {fd} is not a socket: {exc}")
            raise typer.Exit(1) from None

    async def prepare(database: Database) -> None:
        if migrate and settings.auto_migrate:
            await upgrade(database.engine)
        else:
            current, head = await revision_status(database.engine)
            if current != head:
                err.print(
                    f"[yellow]warning:[/yellow] the database is at {current}, this code expects "
                    f"{head}; run `helpwire db upgrade`"
                )
        await _show_first_admin(database)
        await _apply_declared_channels(database, settings)
        await _apply_mail_settings(database, settings)

    _run(prepare)
    uvicorn.run(
        "helpwire.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        fd=fd,
        workers=workers,
        # uvicorn's 5 s default killed workers that were still starting on a busy machine.
        timeout_worker_healthcheck=(
            worker_healthcheck_timeout or settings.worker_healthcheck_timeout_seconds
        ),
        log_config=None,
        proxy_headers=True,
        # h11 with a header timeout (helpwire.serving): bounded header size and read time.
        http=PROTOCOL,
        h11_max_incomplete_event_size=settings.http_max_header_bytes,
    )


def _mail_config(settings: Settings) -> MailConfig | None:
    """Mail out as the settings say; every mail setting checked, in and out."""
    try:
        InboundConfig.from_settings(settings)
        Doors.from_settings(settings)
        return MailConfig.from_settings(settings)
    except ValueError as exc:  # MailSettingError, and a wrong limit or domain list
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


async def _apply_mail_settings(database: Database, settings: Settings) -> None:
    """The mail channel as HELPWIRE_MAIL_SMTP_URL says (made, changed, or disabled)."""
    await prepare_mail_channel(database, _mail_config(settings))


async def _apply_declared_channels(database: Database, settings: Settings) -> None:
    if not settings.channels and settings.channels_file is None:
        return
    try:
        async with database.writing() as session:
            count = await apply_declared_channels(
                session,
                inline=settings.channels,
                path=settings.channels_file,
                policy=AddressPolicy.from_setting(settings.channel_allowed_networks),
            )
    except (ValueError, OSError, Problem) as exc:  # Problem: a refused URL, a name in use
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    err.print(f"{count} channel(s) declared in the settings")


@app.command()
def relay(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port.")
    ] = None,
    metrics_host: Annotated[str, typer.Option(help=METRICS_HOST_HELP)] = "127.0.0.1",
) -> None:
    """Send notifications, alone (run any number of these beside `serve`)."""

    from helpwire.app import relay_for
    from helpwire.logs import configure_logging

    settings = Settings()
    configure_logging(level=settings.log_level, as_json=settings.log_json)

    async def work(database: Database) -> None:
        await _apply_declared_channels(database, settings)
        await _apply_mail_settings(database, settings)
        metrics, stop = _metrics_and_stop(metrics_port, metrics_host)
        relay = relay_for(database, settings, metrics=metrics)
        try:
            await relay.run_forever(stop)
        finally:
            await relay.aclose()

    _run(work)


def serve_metrics(metrics: Metrics, *, port: int, host: str) -> WSGIServer:
    """Serve ``metrics`` on ``host``:``port`` in a thread of its own (the server, which
    knows its address). Without a token: the address is what keeps it private."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=metrics.registry)
    return server


def _metrics_and_stop(metrics_port: int | None, metrics_host: str) -> tuple[Metrics, asyncio.Event]:
    """For a process of its own (relay, worker): its metrics, served on ``metrics_port``
    if given, and an event that SIGTERM or SIGINT sets, so that work in hand finishes."""
    from helpwire.api.metrics import Metrics

    metrics = Metrics.create()
    if metrics_port is not None:
        serve_metrics(metrics, port=metrics_port, host=metrics_host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return metrics, stop


@app.command()
def worker(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port.")
    ] = None,
    metrics_host: Annotated[str, typer.Option(help=METRICS_HOST_HELP)] = "127.0.0.1",
) -> None:
    """Run jobs (timers, the hourly housekeeping), alone: any number of these beside
    `serve`, on any number of machines sharing one PostgreSQL database."""

    from helpwire.app import worker_for
    from helpwire.logs import configure_logging

    settings = Settings()
    configure_logging(level=settings.log_level, as_json=settings.log_json)

    async def work(database: Database) -> None:
        metrics, stop = _metrics_and_stop(metrics_port, metrics_host)
        await worker_for(database, settings, metrics=metrics).run_forever(stop)

    _run(work, mail=True)


@mail_app.command("listen")
def mail_listen(
    fd: Annotated[
        int | None,
        typer.Option(
            help="Serve SMTP on the socket at this inherited file descriptor, already bound "
            "and listening (socket activation, a supervisor, a test), instead of "
            "HELPWIRE_MAIL_LISTEN."
        ),
    ] = None,
) -> None:
    """Take mail in, alone: the SMTP server of HELPWIRE_MAIL_LISTEN and the mailbox of
    HELPWIRE_MAIL_IMAP_URL, as `helpwire serve` does when they are set (run this instead
    with `serve` on several machines, or to keep mail apart from the API)."""
    import socket

    from helpwire.logs import configure_logging

    settings = Settings()
    configure_logging(level=settings.log_level, as_json=settings.log_json)
    try:
        doors = Doors.from_settings(settings)
        inbound = InboundConfig.from_settings(settings)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if not doors.any_open and fd is None:
        err.print(
            "[red]error:[/red] set HELPWIRE_MAIL_LISTEN (host:port) or HELPWIRE_MAIL_IMAP_URL"
        )
        raise typer.Exit(1)
    try:
        sock = socket.socket(fileno=fd) if fd is not None else None
    except OSError as exc:
        err.print(f"[red]error:[/red] --fd {fd} is not a socket: {exc}")
        raise typer.Exit(1) from None

    async def work(database: Database) -> None:
        _metrics, stop = _metrics_and_stop(None, "127.0.0.1")
        storage = storage_for(settings, database)
        pipeline = Pipeline(database, storage, inbound, mail=_mail_config(settings))
        await run_doors(pipeline, doors, stop, sock=sock)

    _run(work, mail=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""

    async def work(database: Database) -> None:
        await upgrade(database.engine, revision)
        current, _head = await revision_status(database.engine)
        err.print(f"database at revision {current}")

    _run(work)


@db_app.command("status")
def db_status() -> None:
    """Show the database's revision and the newest one this code knows."""

    async def work(database: Database) -> tuple[str | None, str | None]:
        return await revision_status(database.engine)

    current, head = _run(work)
    typer.echo(f"current: {current}\nnewest:  {head}")
    if current != head:
        raise typer.Exit(1)


@secrets_app.command("new-key")
def secrets_new_key() -> None:
    """Print a new key for HELPWIRE_SECRET_KEY."""
    typer.echo(new_key())


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Encrypt every stored secret again with the first key of HELPWIRE_SECRET_KEY; the
    keys after it may be dropped afterwards."""

    async def work(database: Database) -> int:
        return await reencrypt_all(database.engine, metadata=Base.metadata)

    changed = _run(work)
    err.print(f"{changed} row(s) encrypted with the first key")


_FILES_MIGRATE_HELP = """Copy every stored file into the other backend: --to database copies
from HELPWIRE_FILES_DIR into the database, --to local from the database into
HELPWIRE_FILES_DIR.

Each copy is checked against the size and SHA-256 recorded at upload; files already in the
target are skipped, so the command can be stopped and run again. Nothing is deleted from
the source. It may run while helpwire serves.

Then set HELPWIRE_FILES_STORAGE to the target for every `helpwire serve` process, restart
them, and run this command once more to copy the files uploaded while they were switching.
Exits 1 if any file could not be copied."""


def _paragraphs(text: str) -> str:
    """Help text whose paragraphs the terminal wraps (typer keeps the source's line breaks
    after the first paragraph)."""
    return "\n\n".join(" ".join(part.split()) for part in text.split("\n\n"))


@files_app.command("migrate", help=_paragraphs(_FILES_MIGRATE_HELP))
def files_migrate(
    to: Annotated[
        StorageKind, typer.Option("--to", help="The backend to copy into.", show_default=False)
    ],
) -> None:
    settings = Settings()
    source_kind = StorageKind.local if to is StorageKind.database else StorageKind.database

    async def work(database: Database) -> Tally:
        err.print(f"copying stored files from {source_kind.value} to {to.value} storage")
        return await copy_all(
            database,
            source=storage_for(settings, database, source_kind),
            target=storage_for(settings, database, to),
            progress=_files_progress(),
        )

    tally = _run(work)
    typer.echo(
        f"{tally.total} files: {tally.copied} copied, {tally.present} already there, "
        f"{len(tally.failed)} failed"
    )
    for file_id, why in tally.failed.items():
        err.print(f"[red]not copied:[/red] file {file_id}: {why}")
    if tally.failed:
        raise typer.Exit(1)


def _files_progress() -> Callable[[Tally], None]:
    """A line every tenth of the way and at the end."""
    shown = [0]
    started = time.monotonic()

    def report(tally: Tally) -> None:
        tenth = tally.done * 10 // max(tally.total, 1)
        if tenth > shown[0] or tally.done == tally.total:
            shown[0] = tenth
            err.print(
                f"{tally.done}/{tally.total} files ({tally.copied} copied, {tally.present} "
                f"already there, {len(tally.failed)} failed; "
                f"{time.monotonic() - started:.0f} s)"
            )

    return report


def _read_password() -> str:
    """Hidden and asked twice at a terminal; from a pipe, its first line, read once (a
    script has nothing to confirm, and a second prompt would find the input at its end)."""
    if sys.stdin.isatty():
        answer: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        return answer
    line = sys.stdin.readline()
    if not line:
        err.print("[red]error:[/red] --password found no line to read on stdin")
        raise typer.Exit(1)
    return line.rstrip("\r\n")


@users_app.command("create")
def users_create(
    username: str,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    role: Annotated[Role, typer.Option(help="Security role.")] = Role.CUSTOMER,
    account: Annotated[str | None, typer.Option(help="Account key (customers, services).")] = None,
    real_name: Annotated[str, typer.Option(help="Full name.")] = "",
    password: Annotated[
        bool, typer.Option("--password", help="Ask for a password (for the web UI).")
    ] = False,
    project: Annotated[
        list[str] | None, typer.Option(help="Project membership (repeatable).")
    ] = None,
    account_wide: Annotated[
        bool, typer.Option("--account-wide/--projects-only", help="Sees all account tickets.")
    ] = True,
) -> None:
    """Create a user."""
    secret = _read_password() if password else None
    if secret is not None and len(secret) < 8:
        err.print("[red]error:[/red] the password needs at least 8 characters")
        raise typer.Exit(1)

    async def work(database: Database) -> None:
        async with database.writing() as session:
            await accounts.create_user(
                session,
                new=accounts.NewUser(
                    username=username,
                    role=role,
                    email=email,
                    real_name=real_name,
                    account_key=account,
                    password=secret,
                    account_wide=account_wide,
                    projects=project or [],
                ),
            )

    _run(work)
    err.print(f"created {role} {username}")


def _change_user(username: str, change: Callable[[AsyncSession, User], Awaitable[User]]) -> None:
    async def work(database: Database) -> None:
        async with database.writing() as session:
            await change(session, await accounts.get_user(session, username=username))

    _run(work)


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user: their tokens stop working and their browsers are signed out.
    The last active admin cannot be disabled."""

    async def change(session: AsyncSession, user: User) -> User:
        return await accounts.set_user_active(session, user=user, active=False, by=None)

    _change_user(username, change)
    err.print(f"disabled {username}")


@users_app.command("enable")
def users_enable(username: str) -> None:
    """Enable a disabled user again."""

    async def change(session: AsyncSession, user: User) -> User:
        return await accounts.set_user_active(session, user=user, active=True, by=None)

    _change_user(username, change)
    err.print(f"enabled {username}")


@users_app.command("role")
def users_role(
    username: str,
    role: Annotated[Role, typer.Argument(help="The new security role.")],
    account: Annotated[str | None, typer.Option(help="Account key (customers, services).")] = None,
) -> None:
    """Give a user another role (and account). The last active admin keeps theirs."""

    async def change(session: AsyncSession, user: User) -> User:
        return await accounts.change_role(
            session, user=user, role=role, account_key=account, by=None
        )

    _change_user(username, change)
    err.print(f"{username} is now {role}")


@users_app.command("erase")
def users_erase(
    username: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase USERNAME's personal data for good: anonymised, files deleted (by the worker),
    tokens revoked; their tickets stay. The last active admin cannot be erased."""
    if not yes:
        typer.confirm(f"Erase the personal data of {username} for good?", abort=True)

    async def work(database: Database) -> str:
        async with database.writing() as session:
            user = await accounts.get_user(session, username=username)
            return (await erase_user(session, user=user, by=None)).username

    err.print(f"erased {username}: the user is now {_run(work)}")


@tokens_app.command("create")
def tokens_create(
    username: str,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
) -> None:
    """Create an API token for USERNAME and print it (only it, on stdout) once."""

    async def work(database: Database) -> str:
        async with database.writing() as session:
            user = await accounts.get_user(session, username=username)
            _row, token = await accounts.create_token(session, user=user, label=label)
            return token

    typer.echo(_run(work))


@accounts_app.command("create")
def accounts_create(
    key: str,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    project: Annotated[list[str] | None, typer.Option(help="A project key (repeatable).")] = None,
) -> None:
    """Create a customer account, with projects."""

    async def work(database: Database) -> None:
        async with database.writing() as session:
            await accounts.create_account(session, key=key, name=name, projects=project or [])

    _run(work)
    err.print(f"created account {key}")


@topics_app.command("load")
def topics_load(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Create or update topics from a JSON or YAML file (a list of topics)."""
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        err.print(f"[red]error:[/red] {path} cannot be read: {exc}")
        raise typer.Exit(1) from None
    items = document.get("topics") if isinstance(document, dict) else document
    if not isinstance(items, list):
        err.print("[red]error:[/red] expected a list of topics (or {topics: [...]})")
        raise typer.Exit(1)

    async def work(database: Database) -> int:
        async with database.writing() as session:
            return len(await topics.load_topics(session, items=items))

    err.print(f"loaded {_run(work)} topics")


@app.command()
def demo(
    tickets: Annotated[
        int, typer.Option(min=0, help="How many tickets to make.")
    ] = DEFAULT_TICKETS,
    seed: Annotated[
        int, typer.Option(help="Seed of the made-up data: same seed, same demo.")
    ] = DEFAULT_SEED,
    password: Annotated[
        str | None,
        typer.Option(help="Password of every demo person (default: a new random one)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Add the demo to a database that has tickets.")
    ] = False,
) -> None:
    """Fill the database with a demo helpdesk: customers, agents, tickets and conversations."""
    settings = Settings()
    options = DemoOptions(tickets=tickets, seed=seed, password=password, force=force)

    async def work(database: Database) -> DemoReport:
        if settings.auto_migrate:
            await upgrade(database.engine)
        else:
            current, head = await revision_status(database.engine)
            if current != head:
                err.print(
                    f"[red]error:[/red] the database is at {current}, not {head}: run "
                    "`helpwire db upgrade` first"
                )
                raise typer.Exit(1)
        return await fill_demo(database, options, progress=_demo_progress(tickets))

    _print_demo_report(_run(work), base_url=settings.base_url)


def _demo_progress(total: int) -> Callable[[int, int], None]:
    """Report every tenth of the way (a line per batch would be dozens)."""
    shown = [0]
    started = time.monotonic()

    def report(done: int, _total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth > shown[0] or done == total:
            shown[0] = tenth
            err.print(f"{done}/{total} tickets ({time.monotonic() - started:.0f} s)")

    return report


def _print_demo_report(report: DemoReport, *, base_url: str) -> None:
    tally = report.tally
    typer.echo(
        f"Demo ready in {report.seconds:.1f} s: {tally.tickets:,} tickets with "
        f"{tally.comments:,} messages ({tally.internal_notes:,} internal notes), "
        f"{tally.ticket_ratings:,} ticket ratings, {tally.reply_ratings:,} rated replies, "
        f"{tally.escalations:,} escalated."
    )
    topics_line = "demo topics created" if report.topics_created else "the existing topics used"
    typer.echo(
        f"{report.accounts} customer accounts with {report.customers} people, "
        f"{report.agents} agents; {topics_line}."
    )
    typer.echo(f"\nSign in at {base_url.rstrip('/')}/login as:")
    for who in report.sign_ins:
        note = who.real_name if who.password is not None else "(its own password, unchanged)"
        typer.echo(f"  {who.role:<26} {who.username:<14} {note}")
    typer.echo(f"\nPassword of every demo person: {report.password}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
