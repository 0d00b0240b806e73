"""Structured logs: one JSON object a line, with the request id where there is one."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's terminal copy of the message
}

# The database drivers log every statement with its parameters: aiosqlite at DEBUG,
# SQLAlchemy's engine at INFO (and rows at DEBUG). Parameters carry channel URLs (the
# URLs of Slack, Discord and Teams webhooks are their credentials), signing secrets and
# SMTP passwords, so HELPWIRE_LOG_LEVEL=DEBUG must not turn these loggers on.
QUIET_LOGGERS = ("aiosqlite", "sqlalchemy.engine")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(*, level: str, as_json: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log repeats ours, without the request id.
    logging.getLogger("uvicorn.access").disabled = True
    quiet = max(root.level, logging.WARNING)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
