"""Request and response bodies of the views API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from helpwire.tickets.filter_spec import TicketFilter
from helpwire.tickets.listing import SortField, SortOrder
from helpwire.tickets.schemas import ListCount
from helpwire.types import Int32

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class ViewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    filter: TicketFilter = Field(
        default_factory=TicketFilter,
        description="The ticket list's query parameters, as a JSON object.",
    )
    sort: SortField = SortField.CREATED_AT
    order: SortOrder = SortOrder.DESC
    position: Int32 = Field(default=0, description="Lower first in the sidebar.")
    shared: bool = Field(default=False, description="Every agent sees it; admins only.")


class ViewUpdate(BaseModel):
    """Members left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    filter: TicketFilter | None = None
    sort: SortField | None = None
    order: SortOrder | None = None
    position: Int32 | None = None


class ViewOut(BaseModel):
    id: int
    name: str
    shared: bool
    owner: str | None = Field(description="The owner's username; null for a shared view.")
    filter: dict[str, str | int | bool | dict[str, list[str]]]
    sort: SortField
    order: SortOrder
    position: int
    count: ListCount | None = Field(
        description="How many tickets the view lists for the caller (exact up to a cap); "
        "null where it was not counted (past the first 20 views of a list)."
    )
