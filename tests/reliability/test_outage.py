"""The database goes away under load and comes back: helpwire answers 503 with Retry-After
in every format while it is away, never hangs, and serves again by itself once it is back.

A real `helpwire serve` process runs on a private PostgreSQL cluster of the test's own,
which the test stops as a crash would (``pg_ctl stop -m immediate``) and starts again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from helpwire.app import create_app
from helpwire.settings import Settings
from tests.reliability.servers import PrivateCluster, Served, private_cluster, serve

# Longer than any answer may take: a request that is not answered by then hangs. (The
# server is set to give up on the database after 2 s.)
ANSWER_BOUND_S = 15.0
MAX_LOAD_REQUESTS = 3000
UNAVAILABLE = "/problems/service-unavailable"
NS = "/api/web/namespaces/system"


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    yield from private_cluster()


@pytest.fixture
def served(cluster: PrivateCluster, tmp_path: Path) -> Iterator[Served]:
    yield from serve(
        tmp_path,
        database_url=cluster.url,
        env={
            "HELPWIRE_DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
            "HELPWIRE_DATABASE_POOL_TIMEOUT_SECONDS": "2",
            "HELPWIRE_DATABASE_POOL_SIZE": "4",
        },
    )


class SteadyLoad:
    """Lists tickets over and over from a thread of its own, paced, for at most
    MAX_LOAD_REQUESTS requests or until stopped."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.statuses: list[int] = []
        self.failures: list[str] = []
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(
            base_url=self.served.url, headers=self.served.auth, timeout=ANSWER_BOUND_S
        ) as client:
            for _ in range(MAX_LOAD_REQUESTS):
                if self.halt.is_set():
                    return
                try:
                    answer = client.get("/api/v1/tickets", params={"limit": 5})
                    self.statuses.append(answer.status_code)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                self.halt.wait(0.02)  # pacing: steady, not flat out

    def __enter__(self) -> SteadyLoad:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.halt.set()
        self.thread.join(timeout=ANSWER_BOUND_S * 2)


def _file_by_ucloud(client: httpx.Client, served: Served) -> httpx.Response:
    return client.post(
        "/api/support/ticket",
        json={"subject": "Outage test", "message": "Filed through the UCloud face."},
        headers=served.auth,
    )


def _assert_retry_after(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) > 0


def _assert_unavailable_everywhere(client: httpx.Client, served: Served) -> None:
    listed = client.get("/api/v1/tickets", headers=served.auth)
    _assert_retry_after(listed)
    assert listed.headers["content-type"] == "application/problem+json"
    problem = listed.json()
    assert problem["type"] == UNAVAILABLE
    assert problem["status"] == 503

    filed = client.post(
        "/api/v1/tickets", json={"subject": "Lost?", "body": "No."}, headers=served.auth
    )
    _assert_retry_after(filed)
    assert filed.json()["type"] == UNAVAILABLE

    ucloud = _file_by_ucloud(client, served)
    _assert_retry_after(ucloud)
    assert set(ucloud.json()) == {"why", "errorCode"}

    f5 = client.get(
        f"{NS}/customer_supports", headers={"Authorization": f"APIToken {served.token}"}
    )
    _assert_retry_after(f5)
    assert f5.json()["code"] == 14  # google.rpc UNAVAILABLE

    selectel = client.get("/selectel/tickets/v1/tickets", headers={"X-Token": served.token})
    _assert_retry_after(selectel)
    assert selectel.json()["error"]["code"] == 503

    cocalc = client.post(
        "/api/v1/create_support_ticket",
        json={"email_address": "a@example.test", "subject": "s", "body": "b"},
        headers=served.auth,
    )
    _assert_retry_after(cocalc)
    assert set(cocalc.json()) == {"error"}

    page = client.get("/agent", headers={"Cookie": "helpwire_session=a-session-cookie"})
    _assert_retry_after(page)
    assert page.headers["content-type"].startswith("text/html")

    ready = client.get("/readyz")
    _assert_retry_after(ready)
    assert ready.json()["database"] == "unreachable"


def _until_served_again(client: httpx.Client, served: Served, timeout_s: float = 60) -> None:
    """Polls until a request succeeds; meanwhile each answer is 503, never anything else."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = client.get("/api/v1/tickets", headers=served.auth)
        if answer.status_code == 200:
            return
        _assert_retry_after(answer)
        time.sleep(0.1)
    pytest.fail("helpwire did not serve again after the database came back:\n" + served.log())


def test_a_database_outage_is_answered_503_and_service_resumes_by_itself(
    cluster: PrivateCluster, served: Served
) -> None:
    with (
        httpx.Client(base_url=served.url, timeout=ANSWER_BOUND_S) as client,
        SteadyLoad(served) as load,
    ):
        assert client.get("/api/v1/tickets", headers=served.auth).status_code == 200
        assert _file_by_ucloud(client, served).status_code == 200

        cluster.stop()
        # Several rounds: the pool's broken connections must not turn into 500s or waits.
        for _ in range(3):
            _assert_unavailable_everywhere(client, served)

        cluster.start()
        _until_served_again(client, served)
        assert _file_by_ucloud(client, served).status_code == 200
        assert client.get("/readyz").status_code == 200
        listed = client.get("/api/v1/tickets", headers=served.auth).json()
        # The ticket filed before the outage is there, and the one after; none in between.
        assert [t["subject"] for t in listed["items"]] == ["Outage test", "Outage test"]

    assert served.process.poll() is None, "helpwire serve was restarted or died"
    assert not load.failures, load.failures[:5]
    assert set(load.statuses) <= {200, 503}, sorted(set(load.statuses))
    assert 503 in load.statuses and 200 in load.statuses


async def test_a_sqlite_file_that_cannot_be_opened_is_answered_503(tmp_path: Path) -> None:
    """The same answer on SQLite: the database file's directory is gone."""
    missing = tmp_path / "gone" / "helpwire.db"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{missing}",
        files_dir=tmp_path / "files",
        relay_in_process=False,
        log_json=False,
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://helpwire.test") as c:
            listed = await c.get("/api/v1/tickets", headers={"Authorization": "Bearer x"})
            _assert_retry_after(listed)
            assert listed.json()["type"] == UNAVAILABLE
            cocalc = await c.post(
                "/api/v1/create_support_ticket",
                json={"email_address": "a@example.test", "subject": "s", "body": "b"},
                headers={"Authorization": "Bearer x"},
            )
            _assert_retry_after(cocalc)
            assert set(cocalc.json()) == {"error"}
            _assert_retry_after(await c.get("/readyz"))
