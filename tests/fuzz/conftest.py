"""Fuzzing harness: helpwire in process (ASGI), on a database prepared once per engine with
the test suite's organisation (tests/conftest.py's World), fuzzed by schemathesis.

Each operation of a document is a test of its own; hypothesis draws valid and invalid
requests for it, each is sent as several people, and every answer is checked. The number of
examples per operation is small by default, so that the suite stays quick;
HELPWIRE_FUZZ_EXAMPLES raises it (``make fuzz``) and then draws new examples each run.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from helpwire.app import create_app
from helpwire.assembly import database_for
from helpwire.db.engine import create_engine
from helpwire.settings import Settings
from tests.conftest import _truncate_postgres, build_world

EXAMPLES_ENV = "HELPWIRE_FUZZ_EXAMPLES"
DEFAULT_EXAMPLES = 20
LONG_RUN = EXAMPLES_ENV in os.environ
# How many requests were sent and checked, per pytest process; written at the end of the
# session (one file per xdist worker) for the README's figures.
REPORT_DIR = Path(__file__).resolve().parents[2] / ".pytest_cache"
requests_checked = 0
# schemathesis gives an in-process request 10 s; on a busy 2-core machine a request on
# PostgreSQL can wait longer than that for the CPU. A hang still fails, later.
REQUEST_TIMEOUT_S = 60.0
# No 5xx, and every answer the document describes is as it describes it (media type,
# headers, body). Whether a status is documented at all is a check each document adds.
BASE_CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    # In a thread of its own: pytest-asyncio or schemathesis may run a loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def fuzz_settings() -> settings:
    """A bounded, repeatable run by default; a longer one, with fresh examples, when
    HELPWIRE_FUZZ_EXAMPLES is set."""
    return settings(
        max_examples=int(os.environ.get(EXAMPLES_ENV, DEFAULT_EXAMPLES)),
        deadline=None,
        derandomize=not LONG_RUN,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def fuzz_operation(
    schema: BaseSchema,
    *,
    method: str,
    path: str,
    headers: Sequence[dict[str, str]],
    checks: Sequence[Callable[..., Any]],
    complete: Callable[[Any], Any] | None = None,
) -> None:
    """Valid and invalid requests for one operation, each sent with each set of headers.

    ``complete`` fills in, on a share of the valid requests, what the service needs and
    the document does not require (so that some requests get past the first check)."""
    operation = schema[path][method]
    valid = operation.as_strategy(GenerationMode.POSITIVE)
    cases = st.one_of(
        # The document's own examples first: they reach further than random values do.
        *schema.get_strategies_from_examples(operation),
        *([valid.map(complete)] if complete is not None else []),
        valid,
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @fuzz_settings()
    def run(case: Any) -> None:
        global requests_checked
        for extra in headers:
            case.call_and_validate(headers=extra, checks=list(checks), timeout=REQUEST_TIMEOUT_S)
            requests_checked += 1

    run()


@pytest.fixture(scope="session", autouse=True)
def fuzz_report(worker_id: str) -> Iterator[None]:
    """Prints (with -s) and writes the number of fuzz requests this process checked."""
    yield
    if requests_checked:
        print(f"\nfuzz: {requests_checked} requests sent and checked ({worker_id})")
        REPORT_DIR.mkdir(parents=True, exist_ok=True)
        report = REPORT_DIR / f"helpwire-fuzz-report-{worker_id}.json"
        report.write_text(json.dumps({"requests": requests_checked}))


@dataclass
class FuzzTarget:
    app: FastAPI
    tokens: dict[str, str]


async def _tokens(settings_: Settings) -> dict[str, str]:
    engine = create_engine(settings_)
    try:
        async with httpx.AsyncClient() as unused:
            world = await build_world(unused, database_for(engine))
    finally:
        await engine.dispose()
    return world.tokens


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("fuzz") / "helpwire.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_database")
    run_async(_truncate_postgres(url))
    yield url


@pytest.fixture(scope="module")
def fuzz_target(fuzz_database: str, tmp_path_factory: pytest.TempPathFactory) -> FuzzTarget:
    """helpwire on the engine's database, and the tokens of the World's people."""
    app_settings = Settings(
        database_url=fuzz_database,
        files_dir=tmp_path_factory.mktemp("fuzz-files"),
        base_url="http://helpwire.test",
        log_json=False,
        max_file_bytes=256 * 1024,
        relay_in_process=False,
        # A fuzzer writes far faster than a person: with limits on, most answers would be
        # 429 and little else would be reached. Rate limits have tests of their own.
        rate_limit_enabled=False,
    )
    tokens = run_async(_tokens(app_settings))
    return FuzzTarget(app=create_app(app_settings), tokens=tokens)
