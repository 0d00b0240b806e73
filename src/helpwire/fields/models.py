"""Tables of the custom fields domain."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpwire.db.base import Base, JSONType, UTCDateTime, utcnow
from helpwire.topics.models import Topic


class FieldKind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    SELECT = "select"
    MULTI_SELECT = "multi_select"
    CHECKBOX = "checkbox"


class ValueColumn(enum.StrEnum):
    """Which typed column of ``ticket_field_values`` holds a kind's values."""

    TEXT = "text_value"
    NUMBER = "number_value"
    DATE = "date_value"


COLUMN_OF_KIND = {
    FieldKind.TEXT: ValueColumn.TEXT,
    FieldKind.SELECT: ValueColumn.TEXT,
    FieldKind.MULTI_SELECT: ValueColumn.TEXT,
    FieldKind.NUMBER: ValueColumn.NUMBER,
    FieldKind.CHECKBOX: ValueColumn.NUMBER,
    FieldKind.DATE: ValueColumn.DATE,
}


class CustomField(Base):
    """A field admins defined. Its key names it everywhere (the API's ``fields`` object,
    list filters, a face's attributes); a field is retired by deactivating it, which keeps
    the values tickets have."""

    __tablename__ = "custom_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))
    # The choices of a select or multi-select, in the order forms offer them.
    options: Mapped[list[str]] = mapped_column(JSONType, default=list)
    visible_to_customers: Mapped[bool] = mapped_column(Boolean, default=True)
    # Required on every ticket; ``required_topics`` makes it required for those only.
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    required_topics: Mapped[list[Topic]] = relationship(
        secondary="custom_field_topics", order_by="Topic.key", lazy="selectin"
    )

    @property
    def value_column(self) -> ValueColumn:
        return COLUMN_OF_KIND[FieldKind(self.kind)]

    def required_for(self, topic_id: int | None) -> bool:
        return self.required or any(t.id == topic_id for t in self.required_topics)


class CustomFieldTopic(Base):
    """A topic for which a field is required."""

    __tablename__ = "custom_field_topics"

    field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_fields.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class TicketFieldValue(Base):
    """One value of one field on one ticket, in the column of its type (a multi-select has
    a row per option chosen). The indexes lead by the field, then the value, then the
    ticket: a filter reads one field's matching range, a sort one field's rows in order
    (tickets.field_filters); partial, so that each holds only the rows of its type."""

    __tablename__ = "ticket_field_values"
    __table_args__ = (
        Index("ix_ticket_field_values_ticket_field", "ticket_id", "field_id"),
        *(
            Index(
                f"ix_ticket_field_values_{column.value}",
                "field_id",
                column.value,
                "ticket_id",
                postgresql_where=text(f"{column.value} IS NOT NULL"),
                sqlite_where=text(f"{column.value} IS NOT NULL"),
            )
            for column in ValueColumn
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"))
    text_value: Mapped[str | None] = mapped_column(String(255))
    number_value: Mapped[float | None] = mapped_column(Float)
    date_value: Mapped[date | None] = mapped_column(Date)
