"""Request and response bodies of the bulk API."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from helpwire.tickets.filter_spec import TicketFilter
from helpwire.tickets.models import Priority, Status
from helpwire.tickets.schemas import MAX_TAGS, Tag
from helpwire.types import RowId, TicketNumber

# The most tickets one request changes: each is a savepoint and several statements, and
# the request holds its transaction (SQLite's one writer) until the last is done.
MAX_BULK_TICKETS = 100


class BulkChange(BaseModel):
    """What to do to every ticket. Members left out are not changed; ``assignee`` and
    ``group`` may be null (unassign, no group). A macro runs after the other changes."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    priority: Priority | None = None
    assignee: str | None = Field(default=None, description="A staff username; null unassigns.")
    group: str | None = Field(default=None, description="A group's key; null: no group.")
    add_tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = []
    remove_tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = []
    macro: RowId | None = Field(default=None, description="A macro's id, applied to each.")


class BulkRequest(BaseModel):
    """Either ``tickets`` (numbers) or ``filter`` (the ticket list's parameters), and the
    change. A filter that matches more than the maximum is refused, not cut short."""

    model_config = ConfigDict(extra="forbid")

    tickets: (
        Annotated[list[TicketNumber], Field(min_length=1, max_length=MAX_BULK_TICKETS)] | None
    ) = Field(default=None, description=f"Ticket numbers, at most {MAX_BULK_TICKETS}.")
    filter: TicketFilter | None = Field(
        default=None,
        description=f"The tickets the list shows with these parameters; at most "
        f"{MAX_BULK_TICKETS} may match.",
    )
    change: BulkChange


class BulkProblem(BaseModel):
    """Why one ticket was not changed: an RFC 9457 problem, as a single change would have
    answered."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


class BulkResult(BaseModel):
    number: int
    ok: bool
    problem: BulkProblem | None = Field(description="Null when the ticket was changed.")


class BulkOutcome(BaseModel):
    results: list[BulkResult] = Field(description="One per ticket, in the order worked on.")
    changed: int = Field(description="How many tickets were changed.")
    failed: int = Field(description="How many were refused (each left as it was).")
