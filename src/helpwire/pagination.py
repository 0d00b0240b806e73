"""Opaque cursors for keyset pagination, shared by the services and the HTTP layer."""

from __future__ import annotations

import base64
import json
from typing import Any

from helpwire.problems import ValidationProblem


def encode_cursor(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, field: str = "cursor") -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationProblem.for_field(field, "is not a cursor this API gave out") from None
    if not isinstance(payload, dict):
        raise ValidationProblem.for_field(field, "is not a cursor this API gave out")
    return payload


def cursor_id(cursor: str, *, key: str, maximum: int, field: str = "cursor") -> int:
    """The row id a keyset cursor of ours holds under ``key``. It must fit the id column
    (0..``maximum``): a forged cursor is a 422, not a database error."""
    value = decode_cursor(cursor, field=field).get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValidationProblem.for_field(field, "is not a cursor this API gave out")
    return value
