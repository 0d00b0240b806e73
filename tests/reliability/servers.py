"""Real processes for the reliability tests: a private PostgreSQL cluster that a test may
stop and start at will, and `helpwire serve` subprocesses.

The cluster is this test's own (initdb in a temporary directory, a port of its own):
stopping it disturbs no other test. PostgreSQL refuses to run as root, so as root the
cluster runs as the ``postgres`` OS user (runuser)."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpwire.accounts import service as accounts
from helpwire.accounts.models import Role
from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.db.migrate import upgrade
from helpwire.settings import Settings
from tests.ports import helpwire_serve, listening_socket, log_tail, url_of, wait_until_ready

REQUIRE_POSTGRES = os.environ.get("HELPWIRE_REQUIRE_POSTGRES") == "1"

# The cluster listens on TCP, not on a Unix socket alone: the outage tests are about a
# database reached over the network, which refuses connections while it is down. (On a
# Unix socket a stopped server is a socket file that is gone, another failure.) PostgreSQL
# cannot be given port 0, so a cluster takes a port at random below the system's ephemeral
# range, where neither outgoing connections nor servers bound to port 0 are put, so the
# port is still free when the test starts the cluster again; another cluster or a service
# holding the port is met by trying another.
CLUSTER_PORTS = range(20000, 32768)
CLUSTER_PORT_TRIES = 10
# Not the `random` module's generator: tests may seed it alike in every parallel worker.
_port_choice = random.SystemRandom()


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_cluster_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@dataclass
class PrivateCluster:
    bin_dir: Path
    data_dir: Path
    port: int  # chosen by start_on_a_free_port
    log_path: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args]
        subprocess.run(_as_cluster_owner(command), check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir}"
        # -w: returns once the server accepts connections.
        self._pg_ctl("start", "-w", "-t", "30", "-l", str(self.log_path), "-o", options)

    def start_on_a_free_port(self) -> None:
        """Starts the cluster on a port from CLUSTER_PORTS that no one else holds."""
        for _ in range(CLUSTER_PORT_TRIES):
            self.port = _port_choice.choice(CLUSTER_PORTS)
            try:
                self.start()
                return
            except subprocess.CalledProcessError:
                log = self.log_path.read_text(errors="replace")
                if "Address already in use" not in log:
                    raise RuntimeError("PostgreSQL did not start:\n" + log[-4000:]) from None
                self.log_path.unlink()
        raise RuntimeError(f"no free port for PostgreSQL in {CLUSTER_PORT_TRIES} tries")

    def stop(self) -> None:
        """As a crash or a pulled plug: no goodbye to the connected clients."""
        self._pg_ctl("stop", "-w", "-m", "immediate")

    def stop_quietly(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self._pg_ctl("stop", "-w", "-m", "fast")


def private_cluster() -> Iterator[PrivateCluster]:
    bin_dir = _postgres_bin()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        reason = "PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " and HELPWIRE_REQUIRE_POSTGRES=1")
        pytest.skip(reason)
    # Not under pytest's tmp_path: the cluster's owner must be able to reach the directory.
    root = Path(tempfile.mkdtemp(prefix="helpwire-pg-"))
    data_dir = root / "data"
    data_dir.mkdir()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (root, data_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    initdb = [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust"]
    subprocess.run(
        _as_cluster_owner([*initdb, "--no-sync"]), check=True, capture_output=True, timeout=120
    )
    cluster = PrivateCluster(bin_dir, data_dir, 0, root / "postgres.log")
    try:
        cluster.start_on_a_free_port()
        yield cluster
    finally:
        cluster.stop_quietly()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    token: str

    def log(self) -> str:
        return log_tail(self.log_path)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def _prepare(database_url: str) -> str:
    """Migrates the database and makes an agent; answers the agent's API token."""
    engine = create_engine(Settings(database_url=database_url))
    try:
        await upgrade(engine)
        async with database_for(engine).writing() as session:
            agent = await accounts.create_user(
                session, new=accounts.NewUser(username="agent", role=Role.AGENT)
            )
            _row, token = await accounts.create_token(session, user=agent)
        return token
    finally:
        await engine.dispose()


def _wait_until_ready(served: Served, timeout_s: float = 60.0) -> None:
    """Until the server answers /readyz, as after the database came back."""
    wait_until_ready(served.process, served.url, served.log_path, timeout_s)


def serve(directory: Path, *, database_url: str, env: dict[str, str]) -> Iterator[Served]:
    """A `helpwire serve` subprocess on ``database_url``, with ``env`` added."""
    directory.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        token = pool.submit(asyncio.run, _prepare(database_url)).result()
    log_path = directory / "serve.log"
    sock = listening_socket()  # the server's (tests/ports.py)
    url = url_of(sock)
    full_env = {
        **os.environ,
        "HELPWIRE_DATABASE_URL": database_url,
        "HELPWIRE_FILES_DIR": str(directory / "files"),
        "HELPWIRE_BASE_URL": url,
        "HELPWIRE_LOG_JSON": "false",
        "HELPWIRE_LOG_LEVEL": "WARNING",
        "HELPWIRE_RATE_LIMIT_ENABLED": "false",
        **env,
    }
    with helpwire_serve(
        sock, env=full_env, log_path=log_path, ready_timeout_s=60.0, stop_timeout_s=15.0
    ) as process:
        yield Served(url=url, process=process, log_path=log_path, token=token)
