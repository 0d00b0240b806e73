"""The bounded types, re-exported for the HTTP layer; they live in helpwire.types so that
services can use them without importing the API package."""

from __future__ import annotations

from helpwire.types import (
    MAX_INT32,
    MAX_INT64,
    MAX_JSON_DEPTH,
    MIN_INT32,
    BigRowId,
    Int32,
    JsonObject,
    RowId,
    TicketNumber,
    json_shape_error,
)

__all__ = [
    "MAX_INT32",
    "MAX_INT64",
    "MAX_JSON_DEPTH",
    "MIN_INT32",
    "BigRowId",
    "Int32",
    "JsonObject",
    "RowId",
    "TicketNumber",
    "json_shape_error",
]
