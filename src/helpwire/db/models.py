"""Imports every table so that the metadata (and Alembic) sees the whole schema."""

from helpwire.accounts.models import (
    Account,
    ApiToken,
    Project,
    ProjectMember,
    SignInThrottle,
    User,
    WebSession,
)
from helpwire.audit.models import AuditEntry
from helpwire.db.base import Base
from helpwire.db.counters import Counter
from helpwire.db.idempotency import IdempotencyRecord
from helpwire.fields.models import CustomField, CustomFieldTopic, TicketFieldValue
from helpwire.files.models import File, FileBlob, FileChunk
from helpwire.groups.models import Group, GroupMember
from helpwire.jobs.models import Job
from helpwire.mail.models import MailMessage, MailRaw, MailTemplate, TicketCc
from helpwire.notify.models import Channel, Delivery, DeliveryAttempt
from helpwire.presence.models import TicketPresence
from helpwire.reports.models import ReportDay, ReportDelta, ReportMonth, TicketFact
from helpwire.rules.models import Automation, Macro, RuleRun, Trigger
from helpwire.search.models import SearchDocument, SearchTicket
from helpwire.sla.models import Calendar, SlaPolicy, TicketSla
from helpwire.tickets.models import Comment, Event, Ticket, TicketProject, TicketTag
from helpwire.topics.models import Subtopic, Topic
from helpwire.views.models import SavedView

__all__ = [
    "Account",
    "ApiToken",
    "AuditEntry",
    "Automation",
    "Base",
    "Calendar",
    "Channel",
    "Comment",
    "Counter",
    "CustomField",
    "CustomFieldTopic",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "File",
    "FileBlob",
    "FileChunk",
    "Group",
    "GroupMember",
    "IdempotencyRecord",
    "Job",
    "Macro",
    "MailMessage",
    "MailRaw",
    "MailTemplate",
    "Project",
    "ProjectMember",
    "ReportDay",
    "ReportDelta",
    "ReportMonth",
    "RuleRun",
    "SavedView",
    "SearchDocument",
    "SearchTicket",
    "SignInThrottle",
    "SlaPolicy",
    "Subtopic",
    "Ticket",
    "TicketCc",
    "TicketFact",
    "TicketFieldValue",
    "TicketPresence",
    "TicketProject",
    "TicketSla",
    "TicketTag",
    "Topic",
    "Trigger",
    "User",
    "WebSession",
]
