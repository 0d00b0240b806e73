"""`helpwire serve` passes the worker health-check timeout to uvicorn: from the setting,
or from the option, which wins."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from helpwire import cli, logs


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **kwargs: calls.append(kwargs))
    # No database work and no logging set-up: only what reaches uvicorn is looked at.
    monkeypatch.setattr(cli, "_run", lambda _work: None)
    monkeypatch.setattr(logs, "configure_logging", lambda **_kwargs: None)
    return calls


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({}, [], 30),
        ({"HELPWIRE_WORKER_HEALTHCHECK_TIMEOUT_SECONDS": "45"}, [], 45),
        (
            {"HELPWIRE_WORKER_HEALTHCHECK_TIMEOUT_SECONDS": "45"},
            ["--worker-healthcheck-timeout", "90"],
            90,
        ),
    ],
)
def test_the_worker_healthcheck_timeout_reaches_uvicorn(
    uvicorn_calls: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    args: list[str],
    expected: int,
) -> None:
    monkeypatch.delenv("HELPWIRE_WORKER_HEALTHCHECK_TIMEOUT_SECONDS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli.app, ["serve", "--workers", "2", *args])
    assert result.exit_code == 0, result.output
    assert [call["timeout_worker_healthcheck"] for call in uvicorn_calls] == [expected]


def test_a_timeout_below_one_second_is_refused(uvicorn_calls: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(cli.app, ["serve", "--worker-healthcheck-timeout", "0"])
    assert result.exit_code != 0
    assert uvicorn_calls == []
