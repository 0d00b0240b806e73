"""The log, as `helpwire serve` and `helpwire relay` configure it, keeps credentials out even
at HELPWIRE_LOG_LEVEL=DEBUG: the database drivers' loggers would print every statement's
parameters, channel URLs and signing secrets among them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from helpwire.logs import QUIET_LOGGERS, configure_logging
from tests.conftest import World

SIGNING_SECRET = "whsec_" + "U0VDUkVUU0lHTklOR0tFWTEyMzQ1Njc4OTBhYmNkZWY="
URL_TOKEN = "URLTOKENSECRET"


@pytest.fixture
def captured_log(world: World, capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """The logging of `helpwire serve` at DEBUG, its handler writing to the captured stderr;
    put back (before the app and the capture end) for the other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    configure_logging(level="DEBUG", as_json=True)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


@pytest.mark.usefixtures("captured_log")
async def test_at_debug_a_channels_secret_and_url_stay_out_of_the_log(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    created = await world.post(
        "admin",
        "/api/v1/channels",
        json={
            "name": "hook",
            "kind": "webhook",
            "url": f"https://hooks.example.test/in?token={URL_TOKEN}",
            "secret": SIGNING_SECRET,
        },
    )
    assert created.status_code == 201, created.text
    logging.getLogger("helpwire.test").debug("debug lines do reach the captured log")
    log = capsys.readouterr().err
    assert "debug lines do reach the captured log" in log
    assert SIGNING_SECRET not in log
    assert SIGNING_SECRET.removeprefix("whsec_") not in log
    assert URL_TOKEN not in log
