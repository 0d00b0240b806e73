"""Bounded types for path parameters, query parameters and body fields.

An integer the database cannot hold is a 422 naming the field, never a database error.
The bounds are those of the columns: ``Integer`` (32-bit on PostgreSQL) for most ids,
``BigInteger`` (64-bit) for ticket numbers, deliveries and events. Free-form JSON objects
are bounded in depth and hold only finite numbers.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import AfterValidator

MAX_INT32 = 2**31 - 1
MIN_INT32 = -(2**31)
MAX_INT64 = 2**63 - 1

# The id of a row in a table with a 32-bit key: comments, API tokens, channels.
RowId = Annotated[int, Interval(ge=1, le=MAX_INT32)]
# The id of a row in a table with a 64-bit key: deliveries, events.
BigRowId = Annotated[int, Interval(ge=1, le=MAX_INT64)]
# A ticket's public number.
TicketNumber = Annotated[int, Interval(ge=1, le=MAX_INT64)]
# Any other integer stored in an Integer column, e.g. a topic's position.
Int32 = Annotated[int, Interval(ge=MIN_INT32, le=MAX_INT32)]

MAX_JSON_DEPTH = 32


def json_shape_error(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why ``value`` cannot be stored and answered as JSON, or None: it nests deeper than
    ``max_depth`` levels, or it holds NaN or Infinity (Python's parser accepts them, JSON
    has no such numbers)."""
    level = [value]
    for _depth in range(max_depth):
        deeper: list[Any] = []
        for item in level:
            for child in item.values() if isinstance(item, dict) else item:
                if isinstance(child, float) and not math.isfinite(child):
                    return "must not hold NaN or Infinity"
                if isinstance(child, dict | list):
                    deeper.append(child)
        level = deeper
    return f"must not nest deeper than {max_depth} levels" if level else None


def _json_shape(value: dict[str, Any]) -> dict[str, Any]:
    error = json_shape_error(value)
    if error is not None:
        raise ValueError(error)
    return value


# A free-form JSON object (ticket attributes, context.info): at most 32 levels deep, finite
# numbers only. Checked here, before anything serializes it; sizes are checked by the service.
JsonObject = Annotated[dict[str, Any], AfterValidator(_json_shape)]
