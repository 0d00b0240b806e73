"""Request and response bodies of the custom fields API, and the values a ticket carries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
)

from helpwire.fields.models import FieldKind
from helpwire.types import Int32

MAX_OPTIONS = 200
MAX_TEXT_CHARS = 255
MAX_CHOSEN = 50
# How many fields one request may set: more than any form has, few enough to check fast.
MAX_VALUES_PER_REQUEST = 100

Option = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS)
]
FieldKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# A field's value as the API takes it: a string (text, date, select), a number, a yes/no,
# a list of options (multi-select), or null to clear it. Which one a field takes is its
# kind's; the service checks it against the field.
FieldValueIn = (
    StrictBool
    | StrictInt
    | StrictFloat
    | Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]
    | Annotated[
        list[Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]],
        Field(max_length=MAX_CHOSEN),
    ]
    | None
)
FieldValuesIn = Annotated[
    dict[FieldKey, FieldValueIn],
    Field(
        max_length=MAX_VALUES_PER_REQUEST,
        description="Custom field values by the field's key (GET /api/v1/fields): a string "
        "for text, date (YYYY-MM-DD) and select, a number, true/false for a checkbox, a list "
        "of options for a multi-select; null clears a value.",
    ),
]
# A value as answers give it.
FieldValueOut = bool | int | float | str | list[str]


class FieldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(
        description="1..64 lower-case letters, digits, _ . or -; a dot nests "
        "into a face's attributes (`selectel.notice_id`)."
    )
    name: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=10_000)
    kind: FieldKind
    options: list[Option] = Field(
        default=[], max_length=MAX_OPTIONS, description="The choices of a select or multi-select."
    )
    visible_to_customers: bool = Field(
        default=True, description="False: staff only (customers neither see nor set it)."
    )
    required: bool = Field(default=False, description="Required on every ticket.")
    required_topics: list[str] = Field(
        default=[], max_length=1000, description="Topic keys for whose tickets it is required."
    )
    position: Int32 = 0


class FieldUpdate(BaseModel):
    """Fields left out stay as they are. A field's key and kind never change."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    options: list[Option] | None = Field(
        default=None,
        max_length=MAX_OPTIONS,
        description="The full list; an option tickets still have cannot be removed.",
    )
    visible_to_customers: bool | None = None
    required: bool | None = None
    required_topics: list[str] | None = Field(default=None, max_length=1000)
    position: Int32 | None = None
    is_active: bool | None = None


class FieldOut(BaseModel):
    key: str
    name: str
    description: str
    kind: FieldKind
    options: list[str]
    visible_to_customers: bool
    required: bool
    required_topics: list[str]
    position: int
    is_active: bool
    created_at: datetime
    updated_at: datetime
