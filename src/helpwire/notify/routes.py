"""The channels and deliveries API (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse, Response

from helpwire.api.deps import AdminOutsideTransaction, AdminPrincipal, Session, get_database
from helpwire.api.idempotency import IdempotencyKey, create_once
from helpwire.api.pagination import cursor_id, encode_cursor
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.api.types import MAX_INT64, BigRowId, RowId
from helpwire.db.base import utcnow
from helpwire.notify import channels as service
from helpwire.notify.models import Channel, Delivery, DeliveryAttempt, DeliveryState
from helpwire.notify.outbound import AddressPolicy
from helpwire.notify.schemas import (
    AttemptOut,
    ChannelCreate,
    ChannelFilters,
    ChannelHealth,
    ChannelOut,
    ChannelUpdate,
    ChannelWithSecret,
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    TestResult,
)

router = APIRouter(prefix="/api/v1", tags=["notifications"], responses=PROBLEM_RESPONSES)


def address_policy(request: Request) -> AddressPolicy:
    """The receivers this installation allows (HELPWIRE_CHANNEL_ALLOWED_NETWORKS)."""
    return AddressPolicy.from_setting(request.app.state.settings.channel_allowed_networks)


def channel_out(channel: Channel) -> ChannelOut:
    email = dict(channel.email) if channel.email else None
    if email is not None:
        email.pop("password", None)
    return ChannelOut(
        id=channel.id,
        name=channel.name,
        kind=channel.kind,
        url=channel.url,
        email=email,
        events=channel.events,
        filters=ChannelFilters(**(channel.filters or {})),
        include_internal=channel.include_internal,
        audience=channel.audience,
        max_concurrency=channel.max_concurrency,
        rate_per_second=channel.rate_per_second,
        managed_by=channel.managed_by,
        has_secret=channel.secret is not None,
        secret_rotating_until=(
            channel.previous_secret_expires_at
            if channel.previous_secret_expires_at and channel.previous_secret_expires_at > utcnow()
            else None
        ),
        health=ChannelHealth(
            enabled=channel.enabled,
            disabled_reason=channel.disabled_reason,
            last_success_at=channel.last_success_at,
            last_failure_at=channel.last_failure_at,
            last_failure_reason=channel.last_failure_reason,
            consecutive_failures=channel.consecutive_failures,
        ),
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


def _with_secret(channel: Channel, secret: str | None) -> ChannelWithSecret:
    return ChannelWithSecret(**channel_out(channel).model_dump(), secret=secret)


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        message_id=delivery.message_id,
        channel_id=delivery.channel_id,
        event_type=delivery.event_type,
        ticket_number=delivery.ticket_number,
        state=delivery.state,
        attempt_count=delivery.attempt_count,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        dead_at=delivery.dead_at,
    )


def attempt_out(attempt: DeliveryAttempt) -> AttemptOut:
    return AttemptOut(
        attempted_at=attempt.attempted_at,
        duration_ms=attempt.duration_ms,
        status_code=attempt.status_code,
        response=attempt.response_snippet,
        error=attempt.error,
        outcome=attempt.outcome,
        relay=attempt.relay,
    )


@router.post(
    "/channels",
    status_code=status.HTTP_201_CREATED,
    response_model=ChannelWithSecret,
    summary="Create a channel (admin); a webhook's secret is in this answer only",
)
async def create_channel(
    request: Request,
    body: ChannelCreate,
    session: Session,
    admin: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[ChannelWithSecret, dict[str, str]]:
        channel, secret = await service.create_channel(
            session, spec=body, policy=address_policy(request)
        )
        return _with_secret(channel, secret), {}

    # The signing secret is shown once; a chat webhook's URL is its credential.
    return await create_once(
        session,
        request=request,
        actor=admin,
        body=body,
        produce=produce,
        secret_fields=frozenset({"secret", "url"}),
    )


@router.get("/channels", response_model=list[ChannelOut], summary="Channels and their health")
async def list_channels(session: Session, _admin: AdminPrincipal) -> list[ChannelOut]:
    return [channel_out(c) for c in await service.list_channels(session)]


@router.get("/channels/{channel_id}", response_model=ChannelOut, summary="A channel")
async def get_channel(channel_id: RowId, session: Session, _admin: AdminPrincipal) -> ChannelOut:
    return channel_out(await service.get_channel(session, channel_id=channel_id))


@router.patch(
    "/channels/{channel_id}",
    response_model=ChannelWithSecret,
    summary="Change a channel; a rotated secret is in this answer only",
)
async def update_channel(
    channel_id: RowId,
    body: ChannelUpdate,
    request: Request,
    session: Session,
    _admin: AdminPrincipal,
) -> ChannelWithSecret:
    channel = await service.get_channel(session, channel_id=channel_id)
    channel, secret = await service.update_channel(
        session, channel=channel, changes=body, policy=address_policy(request)
    )
    return _with_secret(channel, secret)


@router.delete(
    "/channels/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a channel and its delivery log",
)
async def delete_channel(channel_id: RowId, session: Session, _admin: AdminPrincipal) -> Response:
    channel = await service.get_channel(session, channel_id=channel_id)
    await service.delete_channel(session, channel=channel)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/channels/{channel_id}/test",
    response_model=TestResult,
    summary="Send a test message now and show the receiver's answer",
)
async def test_channel(
    channel_id: RowId, request: Request, _admin: AdminOutsideTransaction
) -> TestResult:
    # No request transaction (no Session): the receiver may take up to the send timeout,
    # and a writing transaction held meanwhile would stop every other writer on SQLite.
    _channel, result = await service.send_test_outside_transaction(
        get_database(request),
        channel_id=channel_id,
        base_url=request.app.state.settings.base_url,
        policy=address_policy(request),
    )
    return TestResult(
        ok=result.ok,
        status_code=result.status_code,
        response=result.response,
        error=result.error,
        duration_ms=round(result.duration_ms, 3),
    )


@router.get(
    "/channels/{channel_id}/deliveries",
    response_model=DeliveryPage,
    summary="A channel's delivery log, newest first",
)
async def list_deliveries(
    channel_id: RowId,
    session: Session,
    _admin: AdminPrincipal,
    state: DeliveryState | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> DeliveryPage:
    channel = await service.get_channel(session, channel_id=channel_id)
    before_id = None if cursor is None else cursor_id(cursor, key="before", maximum=MAX_INT64)
    rows, more = await service.list_deliveries(
        session, channel=channel, state=state, before_id=before_id, limit=limit
    )
    return DeliveryPage(
        items=[delivery_out(d) for d in rows],
        next_cursor=encode_cursor({"before": rows[-1].id}) if more and rows else None,
    )


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="A delivery and its attempts",
)
async def get_delivery(
    delivery_id: BigRowId, session: Session, _admin: AdminPrincipal
) -> DeliveryDetail:
    delivery, attempts = await service.get_delivery(session, delivery_id=delivery_id)
    return DeliveryDetail(
        **delivery_out(delivery).model_dump(),
        payload=delivery.payload,
        attempts=[attempt_out(a) for a in attempts],
    )


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    summary="Send a delivery again (same webhook-id), from the start of the retry schedule",
)
async def redeliver(delivery_id: BigRowId, session: Session, _admin: AdminPrincipal) -> DeliveryOut:
    return delivery_out(await service.redeliver(session, delivery_id=delivery_id))
