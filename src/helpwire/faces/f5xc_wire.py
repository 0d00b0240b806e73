"""F5 Distributed Cloud's wire vocabulary: enums, request bodies, error bodies, and how each
enum maps onto helpwire's own values.

The names and shapes are those of F5's OpenAPI documents for ``customer_support`` and for
the partner-management ``customer_supports`` of child tenants. What F5 says that helpwire
has no word for (a service, a topic helpwire does not know, the metadata of an object) is
kept in the ticket's attributes under ``"f5xc"`` and given back unchanged.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from helpwire.problems import ValidationProblem
from helpwire.tickets.models import Priority, Status, TicketType
from helpwire.tickets.schemas import MAX_BODY_CHARS

# Where a ticket's F5-only facts live: ticket.attributes["f5xc"] = {"metadata": {...},
# "spec": {...}} (what the client sent, attachment bytes and comment texts left out).
ATTRIBUTES_KEY = "f5xc"
# Support tickets are tenant-wide objects; F5 keeps them in the "system" namespace.
SYSTEM_NAMESPACE = "system"
KIND = "customer_support"


class F5Priority(enum.StrEnum):
    PRIORITY_UNKNOWN = "PRIORITY_UNKNOWN"
    PRIORITY_NORMAL = "PRIORITY_NORMAL"
    PRIORITY_HIGH = "PRIORITY_HIGH"
    PRIORITY_URGENT = "PRIORITY_URGENT"


class F5Status(enum.StrEnum):
    STATUS_UNKNOWN = "STATUS_UNKNOWN"
    STATUS_NEW = "STATUS_NEW"
    STATUS_OPEN = "STATUS_OPEN"
    STATUS_PENDING = "STATUS_PENDING"
    STATUS_ONHOLD = "STATUS_ONHOLD"
    STATUS_SOLVED = "STATUS_SOLVED"
    STATUS_CLOSED = "STATUS_CLOSED"
    STATUS_FAILED = "STATUS_FAILED"


class F5Type(enum.StrEnum):
    TYPE_UNKNOWN = "TYPE_UNKNOWN"
    TYPE_PROBLEM = "TYPE_PROBLEM"
    TYPE_TASK = "TYPE_TASK"
    TYPE_QUESTION = "TYPE_QUESTION"
    TYPE_INCIDENT = "TYPE_INCIDENT"
    TYPE_TECHNICAL_SUPPORT = "TYPE_TECHNICAL_SUPPORT"
    TYPE_ACCOUNT_SUPPORT = "TYPE_ACCOUNT_SUPPORT"
    TYPE_INCIDENT_SUPPORT = "TYPE_INCIDENT_SUPPORT"


class F5Topic(enum.StrEnum):
    TOPIC_UNKNOWN = "TOPIC_UNKNOWN"
    ACCOUNT_SUPPORT_TOPIC_ACCESS_REQUEST = "ACCOUNT_SUPPORT_TOPIC_ACCESS_REQUEST"
    ACCOUNT_SUPPORT_TOPIC_ACCOUNT = "ACCOUNT_SUPPORT_TOPIC_ACCOUNT"
    ACCOUNT_SUPPORT_TOPIC_BILLING = "ACCOUNT_SUPPORT_TOPIC_BILLING"
    ACCOUNT_SUPPORT_TOPIC_BILLING_PLAN_CHANGE = "ACCOUNT_SUPPORT_TOPIC_BILLING_PLAN_CHANGE"
    ACCOUNT_SUPPORT_TOPIC_PUBLIC_IP = "ACCOUNT_SUPPORT_TOPIC_PUBLIC_IP"
    ACCOUNT_SUPPORT_TOPIC_QUOTA_INCREASE = "ACCOUNT_SUPPORT_TOPIC_QUOTA_INCREASE"
    ACCOUNT_SUPPORT_TOPIC_RMA = "ACCOUNT_SUPPORT_TOPIC_RMA"
    ACCOUNT_SUPPORT_TOPIC_TAX_EXEMPT_VERIFICATION = "ACCOUNT_SUPPORT_TOPIC_TAX_EXEMPT_VERIFICATION"
    ACCOUNT_SUPPORT_TOPIC_OTHERS = "ACCOUNT_SUPPORT_TOPIC_OTHERS"
    TECHNICAL_SUPPORT_TOPIC_CONFIGURATION_CHANGES = "TECHNICAL_SUPPORT_TOPIC_CONFIGURATION_CHANGES"
    TECHNICAL_SUPPORT_TOPIC_ERROR_MESSAGE = "TECHNICAL_SUPPORT_TOPIC_ERROR_MESSAGE"
    TECHNICAL_SUPPORT_TOPIC_NEW_CONFIGURATION = "TECHNICAL_SUPPORT_TOPIC_NEW_CONFIGURATION"
    TECHNICAL_SUPPORT_TOPIC_PRODUCT_QUESTION = "TECHNICAL_SUPPORT_TOPIC_PRODUCT_QUESTION"
    TECHNICAL_SUPPORT_TOPIC_TROUBLESHOOTING = "TECHNICAL_SUPPORT_TOPIC_TROUBLESHOOTING"
    TECHNICAL_SUPPORT_TOPIC_OTHERS = "TECHNICAL_SUPPORT_TOPIC_OTHERS"
    INCIDENT_SUPPORT_TOPIC_LATENCY = "INCIDENT_SUPPORT_TOPIC_LATENCY"
    INCIDENT_SUPPORT_TOPIC_PERFORMANCE_DEGRADATION = (
        "INCIDENT_SUPPORT_TOPIC_PERFORMANCE_DEGRADATION"
    )
    INCIDENT_SUPPORT_TOPIC_PARTIAL_OUTAGE = "INCIDENT_SUPPORT_TOPIC_PARTIAL_OUTAGE"
    INCIDENT_SUPPORT_TOPIC_COMPLETE_OUTAGE = "INCIDENT_SUPPORT_TOPIC_COMPLETE_OUTAGE"
    INCIDENT_SUPPORT_TOPIC_OTHERS = "INCIDENT_SUPPORT_TOPIC_OTHERS"
    TASK_TOPIC_PLAN_TRANSITION = "TASK_TOPIC_PLAN_TRANSITION"
    PROBLEM_TOPIC_SUPPORT_ALERT = "PROBLEM_TOPIC_SUPPORT_ALERT"
    QUESTION_TOPIC_INFRASTRUCTURE = "QUESTION_TOPIC_INFRASTRUCTURE"
    TECHNICAL_SUPPORT_TOPIC_DELEGATED_DOMAIN_MIGRATION = (
        "TECHNICAL_SUPPORT_TOPIC_DELEGATED_DOMAIN_MIGRATION"
    )


class F5Service(enum.StrEnum):
    SS_UNKNOWN = "SS_UNKNOWN"
    SS_ACCOUNT_PROTECTION = "SS_ACCOUNT_PROTECTION"
    SS_ADMINISTRATION = "SS_ADMINISTRATION"
    SS_APPLICATION_TRAFFIC_INSIGHT = "SS_APPLICATION_TRAFFIC_INSIGHT"
    SS_AUDIT_LOGS_AND_ALERTS = "SS_AUDIT_LOGS_AND_ALERTS"
    SS_AUTHENTICATION_INTELLIGENCE = "SS_AUTHENTICATION_INTELLIGENCE"
    SS_BILLING = "SS_BILLING"
    SS_CLIENT_SIDE_DEFENSE = "SS_CLIENT_SIDE_DEFENSE"
    SS_CLOUD_AND_EDGE_SITES = "SS_CLOUD_AND_EDGE_SITES"
    SS_DDOS_AND_TRANSIT_SERVICES = "SS_DDOS_AND_TRANSIT_SERVICES"
    SS_DISTRIBUTED_APPS = "SS_DISTRIBUTED_APPS"
    SS_DNS_MANAGEMENT = "SS_DNS_MANAGEMENT"
    SS_LOAD_BALANCERS = "SS_LOAD_BALANCERS"
    SS_SHARED_CONFIGURATION = "SS_SHARED_CONFIGURATION"
    SS_WEB_APP_AND_API_PROTECTION = "SS_WEB_APP_AND_API_PROTECTION"
    SS_OTHER = "SS_OTHER"
    SS_BOT_DEFENSE = "SS_BOT_DEFENSE"
    SS_CDN = "SS_CDN"
    SS_OBSERVABILITY = "SS_OBSERVABILITY"
    SS_DELEGATED_ACCESS = "SS_DELEGATED_ACCESS"
    SS_MULTI_CLOUD_NETWORK_CONNECT = "SS_MULTI_CLOUD_NETWORK_CONNECT"
    SS_MULTI_CLOUD_APP_CONNECT = "SS_MULTI_CLOUD_APP_CONNECT"
    SS_BIG_IP_APM = "SS_BIG_IP_APM"
    SS_DATA_INTELLIGENCE = "SS_DATA_INTELLIGENCE"
    SS_NGINX_ONE = "SS_NGINX_ONE"
    SS_WEB_APP_SCANNING = "SS_WEB_APP_SCANNING"
    SS_ROUTED_DDOS = "SS_ROUTED_DDOS"
    SS_MOBILE_APP_SHIELD = "SS_MOBILE_APP_SHIELD"


class ErrorCode(enum.StrEnum):
    """The ``err`` of the custom calls (close, reopen, escalate, comment, priority)."""

    EUNKNOWN = "EUNKNOWN"
    EOK = "EOK"
    E_NOT_CLOSED = "E_NOT_CLOSED"
    E_NOT_OPEN = "E_NOT_OPEN"
    E_NOT_ELIGIBLE = "E_NOT_ELIGIBLE"
    E_NOT_NOT_FOUND = "E_NOT_NOT_FOUND"


class ListErrorCode(enum.StrEnum):
    """ves.io.schema.ErrorCode, the ``code`` of a list answer's ``errors``."""

    EPARTIAL = "EPARTIAL"


class ResponseFormat(enum.StrEnum):
    GET_RSP_FORMAT_DEFAULT = "GET_RSP_FORMAT_DEFAULT"
    GET_RSP_FORMAT_FOR_CREATE = "GET_RSP_FORMAT_FOR_CREATE"
    GET_RSP_FORMAT_STATUS = "GET_RSP_FORMAT_STATUS"
    GET_RSP_FORMAT_READ = "GET_RSP_FORMAT_READ"
    GET_RSP_FORMAT_REFERRING_OBJECTS = "GET_RSP_FORMAT_REFERRING_OBJECTS"
    GET_RSP_FORMAT_BROKEN_REFERENCES = "GET_RSP_FORMAT_BROKEN_REFERENCES"


# --- enum mappings -------------------------------------------------------------------
# *_UNKNOWN means "not given": helpwire's default applies and nothing is kept.

PRIORITY_IN: dict[F5Priority, Priority] = {
    F5Priority.PRIORITY_NORMAL: Priority.NORMAL,
    F5Priority.PRIORITY_HIGH: Priority.HIGH,
    F5Priority.PRIORITY_URGENT: Priority.URGENT,
}
# F5 has no "low": a low ticket is at most normal to an F5 client.
PRIORITY_OUT: dict[Priority, F5Priority] = {
    Priority.LOW: F5Priority.PRIORITY_NORMAL,
    Priority.NORMAL: F5Priority.PRIORITY_NORMAL,
    Priority.HIGH: F5Priority.PRIORITY_HIGH,
    Priority.URGENT: F5Priority.PRIORITY_URGENT,
}
# Which helpwire priorities a priority filter of F5 matches (the inverse of PRIORITY_OUT).
PRIORITY_FILTER: dict[F5Priority, tuple[Priority, ...]] = {
    f5: tuple(p for p, out in PRIORITY_OUT.items() if out == f5) for f5 in F5Priority
}

STATUS_OUT: dict[Status, F5Status] = {
    Status.NEW: F5Status.STATUS_NEW,
    Status.OPEN: F5Status.STATUS_OPEN,
    Status.PENDING: F5Status.STATUS_PENDING,
    Status.HOLD: F5Status.STATUS_ONHOLD,
    Status.SOLVED: F5Status.STATUS_SOLVED,
    Status.CLOSED: F5Status.STATUS_CLOSED,
}
# STATUS_FAILED (the ticket never reached the provider) cannot happen here: helpwire is
# the provider. A filter for it matches nothing.
STATUS_FILTER: dict[F5Status, tuple[Status, ...]] = {
    f5: tuple(s for s, out in STATUS_OUT.items() if out == f5) for f5 in F5Status
}

# The three "*_SUPPORT" types are F5's newer, coarser kinds; each becomes the closest
# helpwire type, and the F5 name itself is kept, so that it is answered back unchanged.
TYPE_IN: dict[F5Type, TicketType] = {
    F5Type.TYPE_PROBLEM: TicketType.PROBLEM,
    F5Type.TYPE_TASK: TicketType.TASK,
    F5Type.TYPE_QUESTION: TicketType.QUESTION,
    F5Type.TYPE_INCIDENT: TicketType.INCIDENT,
    F5Type.TYPE_TECHNICAL_SUPPORT: TicketType.PROBLEM,
    F5Type.TYPE_ACCOUNT_SUPPORT: TicketType.QUESTION,
    F5Type.TYPE_INCIDENT_SUPPORT: TicketType.INCIDENT,
}
TYPE_OUT: dict[TicketType, F5Type] = {
    TicketType.QUESTION: F5Type.TYPE_QUESTION,
    TicketType.INCIDENT: F5Type.TYPE_INCIDENT,
    TicketType.PROBLEM: F5Type.TYPE_PROBLEM,
    TicketType.TASK: F5Type.TYPE_TASK,
    TicketType.BUG: F5Type.TYPE_PROBLEM,
    TicketType.SUGGESTION: F5Type.TYPE_TASK,
}


def topic_key(topic: F5Topic) -> str | None:
    """The key of the helpwire topic an F5 topic is, when an admin has loaded F5's topics
    (docs/f5xc-topics.json): the enum name in lower case."""
    return None if topic == F5Topic.TOPIC_UNKNOWN else topic.value.lower()


def topic_for_key(key: str | None) -> F5Topic | None:
    if key is None:
        return None
    try:
        return F5Topic(key.upper())
    except ValueError:
        return None


# --- request bodies ------------------------------------------------------------------
# Unknown fields are ignored, as F5's own gateway does, so that clients of newer API
# versions (the published example sends comments[].comment_id) are understood.

Short = Annotated[str, StringConstraints(max_length=255)]
LongText = Annotated[str, StringConstraints(max_length=MAX_BODY_CHARS)]
LabelKey = Annotated[str, StringConstraints(min_length=1, max_length=253)]
LabelValue = Annotated[str, StringConstraints(max_length=1024)]
AnnotationKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MAX_COMMENTS_ON_CREATE = 50


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ObjectRefIn(Wire):
    kind: Short | None = None
    name: Short | None = None
    namespace: Short | None = None
    tenant: Short | None = None
    uid: Short | None = None


class AttachmentIn(Wire):
    attachment: str | None = Field(default=None, description="The bytes, base64-encoded.")
    content_type: Short | None = None
    filename: Short | None = None
    tp_id: Short | None = None


class CommentIn(Wire):
    attachment_ids: Annotated[list[Short], Field(max_length=10)] | None = None
    attachments_info: Annotated[list[AttachmentIn], Field(max_length=10)] | None = None
    author_email: Short | None = None
    author_name: Short | None = None
    created_at: datetime | None = None
    html: LongText | None = None
    plain_text: LongText | None = None
    comment_id: Short | None = None


class CreateMetaIn(Wire):
    annotations: dict[AnnotationKey, LabelValue] | None = None
    description: Annotated[str, StringConstraints(max_length=1200)] | None = None
    disable: bool | None = None
    labels: dict[LabelKey, LabelValue] | None = None
    name: Short | None = None
    namespace: Short | None = None


class CreateSpecIn(Wire):
    category: Short | None = None
    comments: Annotated[list[CommentIn], Field(max_length=MAX_COMMENTS_ON_CREATE)] | None = None
    description: LongText | None = None
    ongoing: bool | None = None
    priority: F5Priority | None = None
    product_data: LongText | None = None
    relates_to: Annotated[list[ObjectRefIn], Field(max_length=20)] | None = None
    service: F5Service | None = None
    status: F5Status | None = None
    subject: str | None = None  # bounds are the core's (TicketCreate.subject)
    timeline: LongText | None = None
    topic: F5Topic | None = None
    tp_id: Short | None = None
    type: F5Type | None = None


class CreateRequest(Wire):
    metadata: CreateMetaIn | None = None
    spec: CreateSpecIn | None = None


class NameRequest(Wire):
    """Close, reopen, escalate: the ticket is named by the path; these repeat it."""

    name: Short | None = None
    namespace: Short | None = None


class CommentRequest(NameRequest):
    attachments: Annotated[list[AttachmentIn], Field(max_length=10)] | None = None
    comment: LongText | None = None


class PriorityRequest(NameRequest):
    priority: F5Priority | None = None


class PartnerTicketRequest(Wire):
    """Close, reopen, escalate on the partner paths: the path's tp_id, repeated."""

    tp_id: Short | None = None


class PartnerCommentRequest(Wire):
    attachments: Annotated[list[AttachmentIn], Field(max_length=10)] | None = None
    comment: LongText | None = None
    tp_id: Short | None = None


class PartnerPriorityRequest(Wire):
    priority: F5Priority | None = None
    tp_id: Short | None = None


class ListSupportRequest(Wire):
    priority: Annotated[list[F5Priority], Field(max_length=8)] | None = None
    status: Annotated[list[F5Status], Field(max_length=16)] | None = None


class TaxExemptRequest(Wire):
    attachments: Annotated[list[AttachmentIn], Field(max_length=10)] | None = None
    request_description: LongText | None = None


def decode_base64(value: str, *, field: str) -> bytes:
    """Bytes as protobuf's JSON mapping reads them: standard or URL-safe base64, with or
    without padding."""
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationProblem.for_field(field, "is not base64-encoded data", "base64") from None


def encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- error bodies ----------------------------------------------------------------------
# F5's API gateway answers a failed call with a google.rpc.Status in JSON. The HTTP
# status is the one its gateway gives for each gRPC code.

_GRPC_CODE: dict[int, int] = {
    400: 3,  # INVALID_ARGUMENT
    401: 16,  # UNAUTHENTICATED
    403: 7,  # PERMISSION_DENIED
    404: 5,  # NOT_FOUND
    409: 10,  # ABORTED: the current state forbids it
    413: 8,  # RESOURCE_EXHAUSTED
    429: 8,  # RESOURCE_EXHAUSTED
    500: 13,  # INTERNAL
    503: 14,  # UNAVAILABLE
    504: 4,  # DEADLINE_EXCEEDED
}
_UNKNOWN_GRPC_CODE = 2


def wire_status(status: int) -> int:
    """The HTTP status F5 answers for one of helpwire's: field errors and failed
    preconditions are INVALID_ARGUMENT and FAILED_PRECONDITION there, both 400."""
    return {412: 400, 415: 400, 422: 400}.get(status, status)


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"code": _GRPC_CODE.get(status, _UNKNOWN_GRPC_CODE), "details": [], "message": message}


# --- label selectors -------------------------------------------------------------------

_KEY = r"[A-Za-z0-9][A-Za-z0-9_./-]*"
_VALUE = r"[A-Za-z0-9_./-]*"
_EQUALITY = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*({_VALUE})$")
_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(([^()]*)\)$")
_EXISTS = re.compile(rf"^(!?)\s*({_KEY})$")


@dataclass(frozen=True)
class LabelRequirement:
    key: str
    operator: str  # exists, !exists, in, notin
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!exists":
            return not present
        if self.operator == "in":
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values


def _split_requirements(selector: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts]


def parse_label_selector(selector: str) -> list[LabelRequirement]:
    """A Kubernetes-style label selector: ``a=b``, ``a!=b``, ``a in (b, c)``,
    ``a notin (b)``, ``a``, ``!a``, joined by commas (all must hold)."""
    if not selector.strip():
        return []
    requirements = []
    for part in _split_requirements(selector):
        if (match := _EQUALITY.match(part)) is not None:
            key, operator, value = match.groups()
            requirements.append(
                LabelRequirement(key, "notin" if operator == "!=" else "in", frozenset({value}))
            )
        elif (match := _SET.match(part)) is not None:
            key, operator, listed = match.groups()
            values = [v.strip() for v in listed.split(",")]
            if not all(re.fullmatch(_VALUE, v) for v in values):
                raise ValidationProblem.for_field("label_filter", f"cannot read {part!r}")
            requirements.append(LabelRequirement(key, operator, frozenset(values)))
        elif (match := _EXISTS.match(part)) is not None:
            negated, key = match.groups()
            requirements.append(LabelRequirement(key, "!exists" if negated else "exists"))
        else:
            raise ValidationProblem.for_field("label_filter", f"cannot read {part!r}")
    return requirements
