"""What the mail API reads and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from helpwire.mail.models import ADDRESS_CHARS

# A template is a page of text; this bounds what an admin can make every message carry.
MAX_TEMPLATE_CHARS = 100_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CcCreate(Strict):
    address: str = Field(min_length=3, max_length=ADDRESS_CHARS, examples=["cfo@example.org"])


class CcOut(BaseModel):
    address: str
    added_by: str | None = Field(description="The username of who added it.")
    created_at: datetime


class TemplateIn(Strict):
    subject: str = Field(min_length=1, max_length=2_000)
    text: str = Field(min_length=1, max_length=MAX_TEMPLATE_CHARS)
    html: str = Field(min_length=1, max_length=MAX_TEMPLATE_CHARS)


class TemplateOut(BaseModel):
    kind: str
    language: str
    subject: str
    text: str
    html: str
    customized: bool = Field(
        description="Whether this is an admin's version; false: the one shipped with helpwire."
    )


class MessageOut(BaseModel):
    id: int
    direction: Literal["out", "in"]
    message_id: str = Field(description="The Message-ID, without angle brackets.")
    ticket_number: int | None
    kind: str
    sender: str
    recipients: list[str]
    cc: list[str]
    subject: str
    language: str | None
    delivery_id: int | None = Field(
        description="The delivery that sends an outbound message: its state and attempts are "
        "at /api/v1/deliveries/{id}."
    )
    delivery_state: str | None
    state: str | None = Field(
        description="Received messages: processing, processed, ignored, quarantined or refused."
    )
    reason: str | None = Field(description="Why it was ignored, quarantined or refused.")
    size: int | None = Field(description="Received messages: bytes as they came.")
    created_at: datetime


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class InboundOut(BaseModel):
    """What became of a received message."""

    id: int = Field(description="The message in the log (/api/v1/mail/messages).")
    message_id: str
    state: Literal["processing", "processed", "ignored", "quarantined", "refused"]
    reason: str | None
    ticket: int | None = Field(description="The ticket it became or joined.")
    comment_id: int | None
    duplicate: bool = Field(
        description="The message had come before: this is what became of it then."
    )
