"""django-helpdesk as a target of the HTTP benchmark (bench/http_load.py).

django-helpdesk (from PyPI) is installed in a virtualenv of its own under the cache
directory (``$XDG_CACHE_HOME/helpwire-bench/django-helpdesk``, else ``~/.cache/...``), with
uvicorn and psycopg, the first time it is needed. A small Django project around it is
written there too: its REST API (``/api/tickets/``, Django REST framework) with token
authentication, JSON answers only, pooled database connections, and a ``/healthz/``
view as the floor. It runs on the same PostgreSQL server as helpwire's filled database,
in a database of its own (``helpwire_bench_helpdesk_<tickets>``), migrated by its own migrations and
given tickets with Django's ``bulk_create``, and it is served by uvicorn (ASGI) with the
same number of workers.

When the install is not possible (no registry, no network) or the filled database is not
PostgreSQL, the target is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

VERSION = "2.6.1"
PACKAGES = [f"django-helpdesk=={VERSION}", "uvicorn>=0.30", "psycopg[binary,pool]>=3.1"]
# Names the installed set: a change of PACKAGES installs again.
INSTALL_MARK = f"{VERSION}-pool"
# Its REST API reads every ticket the user may see on each request, list or single
# ticket (TicketViewSet.get_queryset runs set_custom_field_values on each, a query apiece):
# here 74 s for one GET at 10,000 tickets. It is measured on a small data set.
TICKETS = 200
SCENARIOS = frozenset({"healthz", "create", "get", "list"})


class HelpdeskUnavailable(Exception):
    """Why django-helpdesk cannot be measured here."""


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "helpwire-bench" / "django-helpdesk"


def ensure_installed(directory: Path) -> Path:
    """The virtualenv's python, installing django-helpdesk into it the first time."""
    python = directory / "venv" / "bin" / "python"
    marker = directory / "venv" / f".installed-{INSTALL_MARK}"
    if marker.exists():
        return python
    directory.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(directory / "venv")],
        [str(python), "-m", "pip", "install", "--quiet", *PACKAGES],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)  # noqa: S603
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise HelpdeskUnavailable(f"installing django-helpdesk failed: {' '.join(tail)}")
    marker.touch()
    return python


SETTINGS = """\
import os
SECRET_KEY = "helpwire-bench-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.sites",
    "django.contrib.humanize", "rest_framework", "rest_framework.authtoken", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "bench_helpdesk_urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": os.environ["BENCH_DB_NAME"], "USER": os.environ["BENCH_DB_USER"],
    "PASSWORD": os.environ.get("BENCH_DB_PASSWORD", ""),
    "HOST": os.environ["BENCH_DB_HOST"], "PORT": os.environ["BENCH_DB_PORT"],
    # Pooled connections (Django 5.1+ with psycopg's pool), as a tuned ASGI deployment has
    # them. Persistent connections (CONN_MAX_AGE) are kept per thread, and under ASGI each
    # request may run in a new one: they piled up until PostgreSQL refused clients
    # ("too many clients already") and every request failed.
    "CONN_MAX_AGE": 0,
    "OPTIONS": {"pool": {"min_size": 2, "max_size": 10, "timeout": 10}},
}}
SITE_ID = 1
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
HELPDESK_TEAMS_MODE_ENABLED = False
HELPDESK_API_ENABLED = True
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
# It mails the submitter of a new ticket: rendered, then dropped (helpwire's mail goes
# through its outbox, outside the request).
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
LOGGING = {
    "version": 1, "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"level": "WARNING", "handlers": ["console"]},
}
"""

URLS = """\
from django.http import JsonResponse
from django.urls import include, path


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [path("healthz", healthz), path("", include("helpdesk.urls"))]
"""

ASGI = """\
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_helpdesk_settings")
from django.core.asgi import get_asgi_application
application = get_asgi_application()
"""

SETUP = """\
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_helpdesk_settings")
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from helpdesk.models import FollowUp, Queue, Ticket

wanted = int(sys.argv[1])
call_command("migrate", verbosity=0, interactive=False)
User = get_user_model()
user, _ = User.objects.get_or_create(
    username="bench", defaults={"is_staff": True, "is_superuser": True, "email": "b@example.com"}
)
token, _ = Token.objects.get_or_create(user=user)
queue, _ = Queue.objects.get_or_create(
    slug="support", defaults={"title": "Support", "allow_public_submission": True}
)
have = Ticket.objects.count()
if have > wanted:  # tickets filed by earlier runs' create scenario
    extra = Ticket.objects.order_by("-id").values_list("id", flat=True)[: have - wanted]
    Ticket.objects.filter(id__in=list(extra)).delete()
    have = wanted
now = timezone.now()
while have < wanted:
    size = min(5000, wanted - have)
    tickets = Ticket.objects.bulk_create([
        Ticket(
            title=f"printer stopped after the update {have + i}", queue=queue,
            submitter_email=f"customer{(have + i) % 500}@example.com",
            description="the printer stopped after the update, please help " * 3,
            status=(1, 1, 2, 3, 4, 4, 4, 4)[(have + i) % 8], priority=1 + (have + i) % 5,
            created=now, modified=now,
        )
        for i in range(size)
    ])
    FollowUp.objects.bulk_create([
        FollowUp(ticket=t, title="Comment", comment="we are looking into it", date=now,
                 public=True, user=user)
        for t in tickets
    ])
    have += size
first = Ticket.objects.order_by("id").values_list("id", flat=True).first()
print(json.dumps({"token": token.key, "queue": queue.id, "tickets": have, "first": first}))
"""


def write_project(directory: Path) -> None:
    for name, body in {
        "bench_helpdesk_settings.py": SETTINGS,
        "bench_helpdesk_urls.py": URLS,
        "bench_helpdesk_asgi.py": ASGI,
        "bench_helpdesk_setup.py": SETUP,
    }.items():
        path = directory / name
        if not path.exists() or path.read_text() != body:
            path.write_text(body)


def _database_name(tickets: int) -> str:
    return f"helpwire_bench_helpdesk_{tickets}"


def _database_env(database_url: str, tickets: int) -> dict[str, str]:
    url = make_url(database_url)
    if not url.drivername.startswith("postgres"):
        raise HelpdeskUnavailable("it runs on PostgreSQL here; the filled database is not")
    return {
        "BENCH_DB_NAME": _database_name(tickets),
        "BENCH_DB_USER": url.username or "postgres",
        "BENCH_DB_PASSWORD": url.password or "",
        "BENCH_DB_HOST": url.host or "127.0.0.1",
        "BENCH_DB_PORT": str(url.port or 5432),
    }


def _create_database(database_url: str, name: str) -> None:
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from helpwire.settings import Settings

    async def create() -> None:
        url = Settings(database_url=database_url).async_database_url
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                found = await connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                )
                if not found:
                    await connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await engine.dispose()

    asyncio.run(create())


def prepare(database_url: str, tickets: int) -> tuple[Path, dict[str, str], dict[str, Any]]:
    """Install, write the project, migrate and fill; (python, environment, setup facts)."""
    env = _database_env(database_url, tickets)
    directory = cache_dir()
    python = ensure_installed(directory)
    write_project(directory)
    _create_database(database_url, _database_name(tickets))
    env = {**env, "DJANGO_SETTINGS_MODULE": "bench_helpdesk_settings", "PYTHONPATH": str(directory)}
    done = subprocess.run(  # noqa: S603
        [str(python), str(directory / "bench_helpdesk_setup.py"), str(tickets)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=directory,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise HelpdeskUnavailable(f"setting up django-helpdesk failed: {done.stderr[-500:]}")
    return python, env, json.loads(done.stdout.strip().splitlines()[-1])


def start_helpdesk(
    filled: Any,
    workers: int,
    log_dir: Path,
    start_server: Callable[..., Any],
    listening_socket: Callable[[], socket.socket],
    tickets: int = TICKETS,
) -> Any:
    """django-helpdesk served by uvicorn, with a translate() from helpwire's requests to
    its API: the same scenarios where it has them (it has no search)."""
    python, env, facts = prepare(filled.database_url, tickets)
    sock = listening_socket()
    command = [str(python), "-m", "uvicorn", "bench_helpdesk_asgi:application"]
    command += ["--fd", str(sock.fileno()), "--workers", str(workers)]
    command += ["--http", "h11", "--no-access-log", "--app-dir", str(cache_dir())]
    server = start_server("django-helpdesk", command, env, sock, log_dir, SCENARIOS, False)
    server.translate = _translator(facts)
    server.tickets = facts["tickets"]
    return server


def _translator(facts: dict[str, Any]) -> Callable[[Any], Any]:
    token, queue, count, first = facts["token"], facts["queue"], facts["tickets"], facts["first"]

    def translate(request: Any) -> Any:
        path = request.path
        if path == "/healthz":
            return request
        if request.method == "POST":
            body = request.body or {}
            payload = {
                "queue": queue,
                "title": body.get("subject", ""),
                "description": body.get("body", ""),
                "submitter_email": "customer1@example.com",
                "priority": 3,
            }
            return replace(request, path="/api/tickets/", token=token, body=payload, scheme="Token")
        if path.startswith("/api/v1/tickets/"):
            ticket = first + (int(path.rsplit("/", 1)[1]) - 1) % count
            return replace(request, path=f"/api/tickets/{ticket}/", token=token, scheme="Token")
        return replace(request, path="/api/tickets/?status=1", token=token, scheme="Token")

    return translate
