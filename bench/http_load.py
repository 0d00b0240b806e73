"""HTTP benchmark: helpwire against a bare baseline (and django-helpdesk), open loop.

    .venv/bin/python bench/http_load.py --filled creds.json [--filled more.json ...]
        [--workers 2] [--rates 10,50,100] [--duration 10] [--repeat 2]
        [--targets helpwire,baseline,framework,django-helpdesk] [--out bench/results]

``--filled`` names the JSON that bench/fill.py wrote for a filled database (its URL, API
tokens and search words). The first one is measured at every rate; when several are given,
the search scenarios also run on each at ``--scale-rate``, for latency against size.

Every target is a real server started here as a subprocess with ``--workers`` worker
processes on the same database: ``helpwire serve``, bench/baseline_app.py (the same SQL for
"file a ticket" and "get a ticket" in a bare Starlette app, on the same uvicorn), the same
app on FastAPI, pydantic and SQLAlchemy Core (``framework``: the floor of helpwire's stack)
and django-helpdesk's REST API (bench/helpdesk.py; skipped with the reason when it cannot be
installed or the database is not PostgreSQL). The load is open loop: request i is sent at
start + i / rate whatever the earlier ones are doing, and its latency counts from that
moment, so a server that falls behind shows its queue in the numbers. Cells (target, scenario,
rate) are interleaved and repeated; the load average and this generator's own
CPU are recorded with each, since a generator that runs out of CPU measures itself.

Writes into ``--out``: http.json (every cell), http.md (medians, latency ratios, each
target's CPU per request and helpwire's throughput for the same CPU) and PNG charts.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH / "results"
REQUEST_TIMEOUT = 10.0  # seconds; a request still open then counts as an error
STARTUP_TIMEOUT = 120.0
DRAIN_STEP, DRAIN_IDLE, DRAIN_LIMIT = 0.3, 0.05, 60.0  # seconds, share of a core, seconds

# --- scenarios ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str | None = None
    body: dict[str, Any] | None = None
    scheme: str = "Bearer"  # of the Authorization header

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"{self.scheme} {self.token}"} if self.token else {}


@dataclass
class Context:
    """What requests are made of: the filled database's tokens, words and size."""

    tokens: dict[str, str]  # role -> token
    words: dict[str, str]
    tickets: int
    usernames: dict[str, str] = field(default_factory=dict)  # role -> username
    rng: random.Random = field(default_factory=lambda: random.Random(7))  # noqa: S311
    counter: int = 0


# The agent's list scenarios: every filter and sort of a queue, each a scenario of its own
# (the targets are per filter). Values are the filled data set's (bench/generator.py):
# the largest account and its busiest customer, a common tag, topic and project.
LIST_QUERIES = {
    "list_newest": "",
    "list_status": "?status=open",
    "list_assignee": "?assignee=agent1",
    "list_unassigned": "?assignee=none",
    "list_requester": "?requester={customer}",
    "list_tag": "?tag=tag40",
    "list_topic": "?topic=topic3",
    "list_project": "?project=p1",
    "list_account": "?account=bigcorp",
    "list_priority": "?sort=priority",
    "list_updated": "?sort=updated_at&status=open",
}
LIST_FILTERS = tuple(LIST_QUERIES.values())
SEARCH_KINDS = ("rare", "mid", "common", "two", "prefix")
TARGETS = ("helpwire", "baseline", "framework", "django-helpdesk")
RELEVANCE_KINDS = ("rare", "mid", "common", "two")


def _create(ctx: Context) -> Request:
    ctx.counter += 1
    words = ctx.words
    return Request(
        "POST",
        "/api/v1/tickets",
        ctx.tokens["customer"],
        {
            "subject": f"{words['two']} {ctx.counter}",
            "body": f"{words['common']} {words['mid']} printer stopped after the update "
            f"({ctx.counter})",
        },
    )


def _get(ctx: Context) -> Request:
    return Request("GET", f"/api/v1/tickets/{ctx.rng.randint(1, ctx.tickets)}", ctx.tokens["agent"])


def _list_path(ctx: Context, query: str) -> str:
    return "/api/v1/tickets" + query.format(customer=ctx.usernames.get("customer", "me"))


def _list(ctx: Context) -> Request:
    ctx.counter += 1
    query = LIST_FILTERS[ctx.counter % len(LIST_FILTERS)]
    return Request("GET", _list_path(ctx, query), ctx.tokens["agent"])


def _list_of(query: str) -> Callable[[Context], Request]:
    def make(ctx: Context) -> Request:
        return Request("GET", _list_path(ctx, query), ctx.tokens["agent"])

    return make


def _search(
    kind: str, role: str = "agent", sort: str | None = None
) -> Callable[[Context], Request]:
    def make(ctx: Context) -> Request:
        params = {"q": ctx.words[kind], **({"sort": sort} if sort else {})}
        return Request("GET", f"/api/v1/tickets?{httpx.QueryParams(params)}", ctx.tokens[role])

    return make


SCENARIOS: dict[str, Callable[[Context], Request]] = {
    "healthz": lambda _ctx: Request("GET", "/healthz"),
    "create": _create,
    "get": _get,
    "list": _list,
    **{name: _list_of(query) for name, query in LIST_QUERIES.items()},
    **{f"search_{kind}": _search(kind) for kind in SEARCH_KINDS},
    **{f"search_{kind}_customer": _search(kind, "customer") for kind in SEARCH_KINDS},
    **{f"relevance_{kind}": _search(kind, sort="relevance") for kind in RELEVANCE_KINDS},
}
DESCRIPTIONS = {
    "healthz": "GET /healthz (the floor)",
    "create": "POST /api/v1/tickets (customer)",
    "get": "GET /api/v1/tickets/{random number} (agent)",
    "list": f"GET /api/v1/tickets, one of {len(LIST_FILTERS)} filters in turn (agent)",
    **{
        name: f"GET /api/v1/tickets{query or ' (newest first)'} (agent)"
        for name, query in LIST_QUERIES.items()
    },
    "search_rare": "q = a rare word",
    "search_mid": "q = a word in ~1 % of tickets",
    "search_common": "q = a word in nearly every ticket",
    "search_two": "q = two common words",
    "search_prefix": "q = a 5-letter prefix*",
    **{
        f"search_{kind}_customer": f"q = the {kind} search, as the largest account's customer"
        for kind in SEARCH_KINDS
    },
    **{
        f"relevance_{kind}": f"q = the {kind} search, sort=relevance (agent)"
        for kind in RELEVANCE_KINDS
    },
}
SCALE_SCENARIOS = (
    "get",
    "list_newest",
    *(f"search_{kind}" for kind in SEARCH_KINDS),
    *(f"search_{kind}_customer" for kind in SEARCH_KINDS),
    *(f"relevance_{kind}" for kind in RELEVANCE_KINDS),
)


# --- servers -----------------------------------------------------------------------------


def listening_socket() -> socket.socket:
    """A socket listening on a port the system picked, for a server to inherit (uvicorn's
    --fd): no port is probed free and closed again, which another process (a parallel
    test) could be handed in between. uvicorn opens an inherited socket as AF_UNIX, so
    asyncio leaves Nagle's algorithm on for its connections (some 40 ms a response);
    connections inherit TCP_NODELAY from the listening socket, so it is set here."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


@dataclass
class Server:
    """A server process started here, and what the load generator needs to talk to it."""

    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    scenarios: frozenset[str]
    # Rewrites a helpwire request into this server's own API (django-helpdesk's).
    translate: Callable[[Request], Request] = lambda request: request
    tickets: int | None = None  # when it has a data set of its own (django-helpdesk)

    def cpu_seconds(self) -> float:
        return process_tree_cpu(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def process_tree_cpu(pid: int) -> float:
    """User and system CPU seconds of ``pid`` and its descendants (uvicorn's workers),
    from /proc; 0 where there is no /proc."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    children: dict[int, list[int]] = {}
    times: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        times[int(entry.name)] = int(fields[11]) + int(fields[12])
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0)
        todo += children.get(current, [])
    return total / ticks


def start_server(
    name: str,
    command: list[str],
    env: dict[str, str],
    sock: socket.socket,
    log_dir: Path,
    scenarios: frozenset[str],
    wait: bool = True,
) -> Server:
    """Start the server on ``sock``, which ``command`` names as its --fd (the server holds
    it from then on); unless ``wait`` is false (the caller waits, so that several servers
    start at once), wait until it answers."""
    log = log_dir / f"{name}.log"
    with sock, log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (our own commands)
            command,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=BENCH.parent,
            start_new_session=True,
            pass_fds=[sock.fileno()],
        )
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = Server(name, base_url, process, log, scenarios)
    if wait:
        try:
            wait_ready(server)
        except BaseException:
            server.stop()
            raise
    return server


def wait_ready(server: Server) -> None:
    started = time.monotonic()
    _wait_ready(server)
    took = time.monotonic() - started
    print(f"{server.name} ready in {took:.1f} s", file=sys.stderr, flush=True)


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{server.name} exited while starting:\n{tail}")
        try:
            if httpx.get(server.base_url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer /healthz in {STARTUP_TIMEOUT:.0f} s")


def server_env(database_url: str) -> dict[str, str]:
    """The same settings for every target: no rate limit (the load would be refused),
    warnings only in the log (a line per request is a cost of the logging setup, not of
    the request path), no background loops in the web processes."""
    return {
        "HELPWIRE_DATABASE_URL": database_url,
        "HELPWIRE_RATE_LIMIT_ENABLED": "false",
        "HELPWIRE_LOG_LEVEL": "WARNING",
        "HELPWIRE_RELAY_IN_PROCESS": "false",
        "HELPWIRE_WORKER_IN_PROCESS": "false",
        "HELPWIRE_AUTO_MIGRATE": "false",
    }


def start_helpwire(database_url: str, workers: int, log_dir: Path, wait: bool = True) -> Server:
    sock = listening_socket()
    command = [sys.executable, "-m", "helpwire", "serve", "--fd", str(sock.fileno())]
    command += ["--workers", str(workers), "--no-migrate"]
    env = server_env(database_url)
    return start_server("helpwire", command, env, sock, log_dir, frozenset(SCENARIOS), wait)


def start_baseline(
    database_url: str, workers: int, log_dir: Path, wait: bool = True, *, stack: str = "bare"
) -> Server:
    """bench/baseline_app.py: the bare app (target ``baseline``) or the same work on
    FastAPI, pydantic and SQLAlchemy Core (target ``framework``, ``stack="framework"``)."""
    sock = listening_socket()
    command = [sys.executable, str(BENCH / "baseline_app.py"), "--fd", str(sock.fileno())]
    command += ["--workers", str(workers), "--stack", stack]
    env = server_env(database_url)
    scenarios = frozenset({"healthz", "create", "get"})
    name = "baseline" if stack == "bare" else "framework"
    return start_server(name, command, env, sock, log_dir, scenarios, wait)


# --- the open-loop generator -------------------------------------------------------------


@dataclass
class Cell:
    """One round of one scenario at one rate against one target."""

    target: str
    scenario: str
    rate: float
    round: int
    tickets: int
    sent: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    send_lag_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    generator_cpu: float = 0.0  # share of one core this process used
    server_cpu_ms: float = 0.0  # server CPU per request
    load_average: float = 0.0
    drain_s: float = 0.0  # how long the server stayed busy after the cell

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        latencies = data.pop("latencies_ms")
        lags = data.pop("send_lag_ms")
        data.update(percentiles(latencies, "latency"))
        data["send_lag_p99_ms"] = percentiles(lags, "lag")["lag_p99_ms"]
        data["achieved_rate"] = round(self.ok / self.elapsed_s, 1) if self.elapsed_s else 0.0
        return data


def percentiles(values: Sequence[float], prefix: str) -> dict[str, float | None]:
    if not values:
        return {f"{prefix}_{p}_ms": None for p in ("p50", "p90", "p95", "p99", "max")}
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)

    return {
        f"{prefix}_p50_ms": round(statistics.median(ordered), 2),
        f"{prefix}_p90_ms": at(0.90),
        f"{prefix}_p95_ms": at(0.95),
        f"{prefix}_p99_ms": at(0.99),
        f"{prefix}_max_ms": round(ordered[-1], 2),
    }


async def send(client: httpx.AsyncClient, server: Server, request: Request) -> httpx.Response:
    """``request``, already in ``server``'s own API (Server.translate), sent to it."""
    return await client.request(
        request.method, server.base_url + request.path, headers=request.headers(), json=request.body
    )


async def _one(
    client: httpx.AsyncClient, server: Server, request: Request, at: float, cell: Cell
) -> None:
    loop = asyncio.get_running_loop()
    request = server.translate(request)
    try:
        status = (await send(client, server, request)).status_code
    except httpx.HTTPError as exc:
        cell.errors[type(exc).__name__] = cell.errors.get(type(exc).__name__, 0) + 1
        return
    if 200 <= status < 300:
        cell.ok += 1
        cell.latencies_ms.append((loop.time() - at) * 1000)
    else:
        cell.errors[str(status)] = cell.errors.get(str(status), 0) + 1


async def open_loop(
    client: httpx.AsyncClient, server: Server, make: Callable[[], Request], cell: Cell, d: float
) -> None:
    """Send ``cell.rate`` requests a second for ``d`` seconds, each at its own moment."""
    loop = asyncio.get_running_loop()
    count = max(1, round(cell.rate * d))
    cpu_before, server_before = _own_cpu(), server.cpu_seconds()
    start = loop.time() + 0.01
    tasks = []
    for index in range(count):
        at = start + index / cell.rate
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        cell.send_lag_ms.append(max(0.0, loop.time() - at) * 1000)
        tasks.append(asyncio.create_task(_one(client, server, make(), at, cell)))
    await asyncio.gather(*tasks)
    cell.elapsed_s = loop.time() - start
    cell.sent = count
    cell.generator_cpu = round((_own_cpu() - cpu_before) / cell.elapsed_s, 3)
    cell.server_cpu_ms = round((server.cpu_seconds() - server_before) * 1000 / count, 2)
    cell.load_average = round(os.getloadavg()[0], 2)
    cell.drain_s = await drain(server)


async def drain(server: Server) -> float:
    """Wait until the server has worked off what it still holds: an overloaded server
    goes on with requests whose clients gave up, and would take its CPU from the next
    cell's target. Idle means under DRAIN_IDLE of a core over DRAIN_STEP seconds."""
    started = time.monotonic()
    before = server.cpu_seconds()
    while time.monotonic() - started < DRAIN_LIMIT:
        await asyncio.sleep(DRAIN_STEP)
        now = server.cpu_seconds()
        if now - before < DRAIN_IDLE * DRAIN_STEP:
            break
        before = now
    return round(time.monotonic() - started, 1)


WARM_UP_TRIES = 3


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def warm_up(client: httpx.AsyncClient, server: Server, ctx: Context) -> str | None:
    """A few requests of each scenario, one at a time, not counted: connections, caches,
    and code paths imported on first use. What went wrong, if anything: a scenario fails
    when its last try does (a first search on a database whose pages are not in memory
    yet may run out of its time limit, and bring them in for the next)."""
    for name in sorted(server.scenarios):
        problem = None
        for _ in range(WARM_UP_TRIES):
            request = server.translate(SCENARIOS[name](ctx))
            problem = await _warm_once(client, server, name, request)
        if problem is not None:
            return problem
    return None


async def _warm_once(
    client: httpx.AsyncClient, server: Server, name: str, request: Request
) -> str | None:
    try:
        response = await send(client, server, request)
    except httpx.HTTPError as exc:
        return f"{name}: {request.method} {request.path}: {type(exc).__name__}"
    if response.status_code >= 300:
        return (
            f"{name}: {request.method} {request.path} answered "
            f"{response.status_code}: {response.text[:300]}"
        )
    return None


async def _warm_all(
    client: httpx.AsyncClient, servers: list[Server], ctx: Context, skipped: dict[str, str]
) -> list[Server]:
    """The servers that answered their warm-up. helpwire and the baseline must; another
    target that cannot is reported as skipped, with what it answered."""
    ready = []
    for server in servers:
        problem = await warm_up(client, server, ctx)
        if problem is None:
            ready.append(server)
        elif server.name in ("helpwire", "baseline", "framework"):
            raise RuntimeError(f"{server.name} failed its warm-up: {problem}")
        else:
            skipped[server.name] = f"failed its warm-up: {problem}"
            print(f"{server.name} skipped: {skipped[server.name]}", file=sys.stderr)
    return ready


# --- the run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filled:
    """A database filled by bench/fill.py, as its credentials file describes it."""

    path: Path
    database_url: str
    tickets: int
    tokens: dict[str, str]
    words: dict[str, str]
    usernames: dict[str, str]

    @classmethod
    def read(cls, path: Path) -> Filled:
        data = json.loads(path.read_text())
        return cls(
            path,
            data["database_url"],
            int(data["tickets"]),
            {role: entry["token"] for role, entry in data["tokens"].items()},
            data["words"],
            {role: entry["username"] for role, entry in data["tokens"].items()},
        )

    def context(self) -> Context:
        return Context(
            tokens=self.tokens, words=self.words, tickets=self.tickets, usernames=self.usernames
        )


async def sweep(
    servers: list[Server],
    filled: Filled,
    scenarios: Sequence[str],
    rates: Sequence[float],
    duration: float,
    repeat: int,
    skipped: dict[str, str] | None = None,
) -> list[Cell]:
    """Every cell ``repeat`` times, interleaved: round by round, rate by rate, scenario by
    scenario, with the targets' order rotating, so that a change of the machine's load
    spreads over all of them rather than landing on one."""
    ctx = filled.context()
    cells = []
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    timeout = httpx.Timeout(REQUEST_TIMEOUT)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        servers = await _warm_all(client, servers, ctx, {} if skipped is None else skipped)
        for round_ in range(repeat):
            for rate in rates:
                for name in scenarios:
                    order = servers[round_ % len(servers) :] + servers[: round_ % len(servers)]
                    for server in order:
                        if name not in server.scenarios:
                            continue
                        cell = Cell(server.name, name, rate, round_, filled.tickets)
                        make = functools.partial(SCENARIOS[name], ctx)
                        await open_loop(client, server, make, cell, duration)
                        _report(cell)
                        cells.append(cell)
    return cells


def _report(cell: Cell) -> None:
    summary = cell.summary()
    print(
        f"  {cell.target:>15} {cell.scenario:<24} {cell.rate:>6g}/s  round {cell.round}: "
        f"p50 {summary['latency_p50_ms']} ms, p95 {summary['latency_p95_ms']} ms, "
        f"p99 {summary['latency_p99_ms']} ms, "
        f"{cell.ok}/{cell.sent} ok, generator CPU {cell.generator_cpu:.0%}, "
        f"load {cell.load_average}",
        file=sys.stderr,
        flush=True,
    )


# --- the report --------------------------------------------------------------------------


def medians(cells: Sequence[dict[str, Any]]) -> dict[tuple[str, str, float, int], dict[str, Any]]:
    """Per (target, scenario, rate, tickets): the median over rounds of each figure."""
    groups: dict[tuple[str, str, float, int], list[dict[str, Any]]] = {}
    for cell in cells:
        key = (cell["target"], cell["scenario"], cell["rate"], cell["tickets"])
        groups.setdefault(key, []).append(cell)
    out = {}
    for key, group in groups.items():
        row: dict[str, Any] = {}
        figures = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "achieved_rate")
        for figure in (*figures, "server_cpu_ms"):
            values = [c[figure] for c in group if c[figure] is not None]
            row[figure] = round(statistics.median(values), 2) if values else None
        row["errors"] = sum(sum(c["errors"].values()) for c in group)
        row["sent"] = sum(c["sent"] for c in group)
        out[key] = row
    return out


def _figure(entry: dict[str, Any] | None, name: str) -> float | None:
    return None if entry is None else entry[name]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or not b else f"{a / b:.2f}x"


def markdown(result: dict[str, Any]) -> str:
    cells = result["cells"]
    table = medians(cells)
    targets = [t for t in TARGETS if t in result["targets"]]
    tickets = result["tickets"]
    lines = [
        f"HTTP, open loop, {result['machine']['summary']}; {tickets:,} tickets on "
        f"{result['engine']}, {result['workers']} worker(s) per server, "
        f"{result['duration_s']:g} s per cell, median of {result['repeat']} round(s). "
        "Latency in ms from each request's scheduled moment; ratio = helpwire / other "
        "(p50).",
        "",
    ]
    header = ["scenario", "rate/s"]
    for target in targets:
        header += [f"{target} p50", *(["helpwire p95"] if target == "helpwire" else [])]
        header.append(f"{target} p99")
        if target != "helpwire":
            header.append(f"ratio vs {target}")
    header.append("CPU ms/req (" + " / ".join(targets) + ")")
    header += [f"throughput vs {target}" for target in targets if target != "helpwire"]
    header.append("errors (" + " / ".join(targets) + ")")
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for scenario in SCENARIOS:
        for rate in result["rates"]:
            own = table.get(("helpwire", scenario, rate, tickets))
            if own is None:
                continue
            row = [scenario, f"{rate:g}"]
            errors = []
            for target in targets:
                other = table.get((target, scenario, rate, tickets))
                row.append(_ms(_figure(other, "latency_p50_ms")))
                if target == "helpwire":
                    row.append(_ms(_figure(other, "latency_p95_ms")))
                row.append(_ms(_figure(other, "latency_p99_ms")))
                if target != "helpwire":
                    row.append(_ratio(own["latency_p50_ms"], _figure(other, "latency_p50_ms")))
                errors.append(str(other["errors"]) if other else "-")
            row += _cpu_columns(table, targets, scenario, rate, tickets)
            row.append(" / ".join(errors))
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", *_notes(result)]
    return "\n".join(lines) + "\n"


def _cpu_columns(
    table: dict[tuple[str, str, float, int], dict[str, Any]],
    targets: list[str],
    scenario: str,
    rate: float,
    tickets: int,
) -> list[str]:
    """Each target's server CPU per request, then the share of each other target's
    requests a second that helpwire serves with the same CPU (its CPU / helpwire's)."""
    cpu = {t: _figure(table.get((t, scenario, rate, tickets)), "server_cpu_ms") for t in targets}
    own = cpu["helpwire"]
    shares = [_ratio(cpu[t], own) for t in targets if t != "helpwire"]
    return [" / ".join(_cpu_ms(cpu[t]) for t in targets), *shares]


def _cpu_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _notes(result: dict[str, Any]) -> list[str]:
    cells = result["cells"]
    lines = []
    if cells:
        cpu = max(c["generator_cpu"] for c in cells)
        load = max(c["load_average"] for c in cells)
        sent = max(c["sent"] for c in cells)
        lines.append(
            f"Load generator: Python (httpx, asyncio), its CPU at most {cpu:.0%} of a core; "
            f"load average at most {load}. Errors: requests of all rounds (up to {sent} a "
            "cell) answered with a non-2xx status or not within 10 s."
        )
    for name, count in result.get("own_tickets", {}).items():
        lines.append(f"{name} answers from a database of its own with {count:,} tickets.")
    for name, reason in result.get("skipped", {}).items():
        lines.append(f"{name}: skipped ({reason}).")
    scale = result.get("scale")
    if scale:
        lines += [
            "",
            f"Latency against size (helpwire, {result['scale_rate']:g}/s, p50 / p95 ms):",
            "",
        ]
        sizes = sorted({c["tickets"] for c in scale})
        table = medians(scale)
        lines += ["| scenario | " + " | ".join(f"{n:,}" for n in sizes) + " |"]
        lines += ["|" + "---|" * (len(sizes) + 1)]
        for scenario in SCALE_SCENARIOS:
            row = [scenario]
            for size in sizes:
                entry = table.get(("helpwire", scenario, result["scale_rate"], size))
                row.append(
                    f"{_ms(_figure(entry, 'latency_p50_ms'))} / "
                    f"{_ms(_figure(entry, 'latency_p95_ms'))}"
                )
            lines.append("| " + " | ".join(row) + " |")
    return lines


def charts(result: dict[str, Any], out: Path) -> list[Path]:
    """latency against rate per scenario (one line per target), and, when several sizes
    were measured, search latency against the number of tickets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    table = medians(result["cells"])
    scenarios = [s for s in SCENARIOS if any(k[1] == s for k in table)]
    columns = min(3, len(scenarios)) or 1
    rows = (len(scenarios) + columns - 1) // columns or 1
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    colors = {
        "helpwire": "tab:blue",
        "baseline": "tab:green",
        "framework": "tab:olive",
        "django-helpdesk": "tab:red",
    }
    for axis, scenario in zip(axes.flat, scenarios, strict=False):
        for target in result["targets"]:
            points = sorted(
                (k[2], v) for k, v in table.items() if k[0] == target and k[1] == scenario
            )
            if not points:
                continue
            rates = [p[0] for p in points]
            color = colors.get(target)
            axis.plot(
                rates, [p[1]["latency_p50_ms"] for p in points], marker="o", color=color,
                label=f"{target} p50",
            )  # fmt: skip
            axis.plot(
                rates, [p[1]["latency_p99_ms"] for p in points], linestyle="--", marker=".",
                color=color, label=f"{target} p99",
            )  # fmt: skip
        axis.set_title(DESCRIPTIONS[scenario], fontsize=9)
        axis.set_xlabel("requests per second (open loop)")
        axis.set_ylabel("latency, ms")
        axis.set_yscale("log")
        axis.legend(fontsize=7)
    for axis in list(axes.flat)[len(scenarios) :]:
        axis.set_visible(False)
    figure.suptitle(
        f"{result['tickets']:,} tickets, {result['engine']}, {result['machine']['summary']}",
        fontsize=9,
    )
    figure.tight_layout()
    path = out / "http-latency.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    written.append(path)
    if result.get("scale"):
        written.append(_scale_chart(result, out, plt))
    return written


def _scale_chart(result: dict[str, Any], out: Path, plt: Any) -> Path:
    table = medians(result["scale"])
    figure, axis = plt.subplots(figsize=(8, 5.5))
    colors = plt.get_cmap("tab20").colors
    for index, scenario in enumerate(SCALE_SCENARIOS):
        points = sorted((k[3], v["latency_p95_ms"]) for k, v in table.items() if k[1] == scenario)
        # The agent's searches solid, the customer's dashed, relevance dotted.
        style = ":" if "relevance" in scenario else "--" if "customer" in scenario else "-"
        if points:
            axis.plot(
                [p[0] for p in points], [p[1] for p in points], marker="o", label=scenario,
                linestyle=style, color=colors[index % len(colors)],
            )  # fmt: skip
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("tickets in the database")
    axis.set_ylabel(f"p95 latency, ms (at {result['scale_rate']:g} requests/s)")
    axis.set_title(f"helpwire on {result['engine']}: latency against size", fontsize=10)
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    path = out / "http-scale.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cores = os.cpu_count() or 0
    return {
        "cpus": cores,
        "cpu_model": model,
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "summary": f"{cores} CPUs ({model}), {memory:.0f} GiB",
    }


# --- the command -------------------------------------------------------------------------


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--filled", type=Path, action="append", required=True,
        help="credentials JSON written by bench/fill.py (repeat for several sizes)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="worker processes per server")
    parser.add_argument("--rates", default="10,50,100", help="requests per second, comma-separated")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per cell")
    parser.add_argument("--repeat", type=int, default=2, help="rounds (medians are reported)")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated: " + ", ".join(SCENARIOS)
    )
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated")
    parser.add_argument(
        "--helpdesk-tickets",
        type=int,
        default=200,
        help="django-helpdesk's own data set (its API reads every ticket on each request)",
    )
    parser.add_argument("--scale-rate", type=float, default=10.0, help="rate of the size runs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where results go")
    parser.add_argument("--no-charts", action="store_true", help="JSON and Markdown only")
    args = parser.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    return args


def _start_targets(
    args: argparse.Namespace, filled: Filled, log_dir: Path, stack: ExitStack
) -> tuple[list[Server], dict[str, str]]:
    servers, skipped = [], {}
    for name in args.targets:
        if name == "helpwire":
            server = start_helpwire(filled.database_url, args.workers, log_dir, wait=False)
        elif name == "baseline":
            server = start_baseline(filled.database_url, args.workers, log_dir, wait=False)
        elif name == "framework":
            server = start_baseline(
                filled.database_url, args.workers, log_dir, wait=False, stack="framework"
            )
        elif name == "django-helpdesk":
            from helpdesk import HelpdeskUnavailable, start_helpdesk

            try:
                server = start_helpdesk(
                    filled,
                    args.workers,
                    log_dir,
                    start_server,
                    listening_socket,
                    args.helpdesk_tickets,
                )
            except HelpdeskUnavailable as exc:
                skipped[name] = str(exc)
                print(f"django-helpdesk skipped: {exc}", file=sys.stderr)
                continue
        else:
            raise SystemExit(f"unknown target {name!r}")
        stack.callback(server.stop)
        servers.append(server)
    for server in servers:  # started at once, waited for in turn
        wait_ready(server)
    return servers, skipped


async def _scale(args: argparse.Namespace, log_dir: Path) -> list[Cell]:
    cells = []
    for path in args.filled:
        filled = Filled.read(path)
        server = start_helpwire(filled.database_url, args.workers, log_dir)
        try:
            print(f"size run: {filled.tickets:,} tickets", file=sys.stderr)
            cells += await sweep(
                [server], filled, SCALE_SCENARIOS, [args.scale_rate], args.duration, args.repeat
            )
        finally:
            server.stop()
    return cells


def _stop_on_sigterm() -> None:
    # Stopped with SIGTERM as with Ctrl-C: the servers are stopped on the way out.
    def stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    _stop_on_sigterm()
    filled = Filled.read(args.filled[0])
    args.out.mkdir(parents=True, exist_ok=True)
    log_dir = Path(tempfile.mkdtemp(prefix="helpwire-http-"))
    result: dict[str, Any] = {
        "machine": machine(),
        "engine": "sqlite" if filled.database_url.startswith("sqlite") else "postgresql",
        "tickets": filled.tickets,
        "workers": args.workers,
        "rates": args.rates,
        "duration_s": args.duration,
        "repeat": args.repeat,
        "scale_rate": args.scale_rate,
        "generator": "python httpx/asyncio open loop",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    with ExitStack() as stack:
        servers, result["skipped"] = _start_targets(args, filled, log_dir, stack)
        result["targets"] = [s.name for s in servers]
        result["own_tickets"] = {s.name: s.tickets for s in servers if s.tickets is not None}
        cells = asyncio.run(
            sweep(
                servers,
                filled,
                args.scenarios,
                args.rates,
                args.duration,
                args.repeat,
                result["skipped"],
            )
        )
        result["targets"] = [s for s in result["targets"] if s not in result["skipped"]]
    result["cells"] = [c.summary() for c in cells]
    if len(args.filled) > 1:
        result["scale"] = [c.summary() for c in asyncio.run(_scale(args, log_dir))]
    (args.out / "http.json").write_text(json.dumps(result, indent=2) + "\n")
    report = markdown(result)
    (args.out / "http.md").write_text(report)
    print(report)
    if not args.no_charts:
        for path in charts(result, args.out):
            print(f"chart: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
