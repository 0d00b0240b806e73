"""Admin pages for notification channels: health, create and change, send a test, and the
delivery log with redelivery."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from helpwire.api.deps import Session, get_database, get_settings
from helpwire.api.routing import TransactionalRoute
from helpwire.api.types import BigRowId, RowId
from helpwire.notify import channels as service
from helpwire.notify.models import Audience, Channel, ChannelKind, DeliveryState
from helpwire.notify.routes import address_policy
from helpwire.notify.schemas import ChannelCreate, ChannelUpdate
from helpwire.problems import Forbidden, Problem
from helpwire.tickets.models import Priority
from helpwire.topics import service as topics
from helpwire.web.admin_forms import (
    PAGE_SIZE,
    FormError,
    checked,
    form_error,
    form_float,
    form_int,
    form_words,
    pydantic_error,
)
from helpwire.web.auth import (
    AdminWeb,
    CheckedForm,
    WebContext,
    checked_form_outside_transaction,
)
from helpwire.web.i18n import translate
from helpwire.web.refusable import refusable
from helpwire.web.shared import form_text
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

KINDS = [kind.value for kind in ChannelKind]
TLS_MODES = ["starttls", "tls", "none"]


def channel_url(channel_id: int) -> str:
    return f"/admin/channels/{channel_id}"


# --- the form --------------------------------------------------------------------------


def _stored_values(channel: Channel | None) -> dict[str, Any]:
    """What the form shows for a channel as stored, or the defaults of a new one."""
    email = dict(channel.email or {}) if channel else {}
    filters = (channel.filters or {}) if channel else {}
    return {
        "name": channel.name if channel else "",
        "kind": channel.kind if channel else ChannelKind.WEBHOOK.value,
        "url": (channel.url or "") if channel else "",
        "smtp_host": email.get("host") or "",
        "smtp_port": str(email.get("port") or 587),
        "smtp_tls": email.get("tls") or "starttls",
        "smtp_username": email.get("username") or "",
        "email_from": email.get("from") or "",
        "email_to": ", ".join(email.get("to") or []),
        "events": list(channel.events) if channel else list(service.EVENT_TYPES),
        "filter_topics": list(filters.get("topics", [])),
        "filter_priorities": list(filters.get("priorities", [])),
        "filter_accounts": " ".join(filters.get("accounts", [])),
        "filter_followers": " ".join(filters.get("followers", [])),
        "include_internal": channel.include_internal if channel else False,
        "audience": channel.audience if channel else Audience.STAFF.value,
        "enabled": channel.enabled if channel else True,
        "max_concurrency": str(channel.max_concurrency) if channel else "",
        "rate_per_second": f"{channel.rate_per_second:g}" if channel else "",
    }


def _posted_values(form: FormData) -> dict[str, Any]:
    return {
        "name": form_text(form, "name").strip(),
        "kind": form_text(form, "kind"),
        "url": form_text(form, "url").strip(),
        "smtp_host": form_text(form, "smtp_host").strip(),
        "smtp_port": form_text(form, "smtp_port").strip(),
        "smtp_tls": form_text(form, "smtp_tls"),
        "smtp_username": form_text(form, "smtp_username").strip(),
        "email_from": form_text(form, "email_from").strip(),
        "email_to": form_text(form, "email_to"),
        "events": [e for e in form.getlist("events") if isinstance(e, str)],
        "filter_topics": [t for t in form.getlist("filter_topics") if isinstance(t, str)],
        "filter_priorities": [p for p in form.getlist("filter_priorities") if isinstance(p, str)],
        "filter_accounts": form_text(form, "filter_accounts"),
        "filter_followers": form_text(form, "filter_followers"),
        "include_internal": checked(form, "include_internal"),
        "audience": form_text(form, "audience"),
        "enabled": checked(form, "enabled"),
        "max_concurrency": form_text(form, "max_concurrency").strip(),
        "rate_per_second": form_text(form, "rate_per_second").strip(),
    }


def _email_settings(form: FormData, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "host": values["smtp_host"],
        "port": form_int(form, "smtp_port", default=587),
        "tls": values["smtp_tls"],
        "username": values["smtp_username"] or None,
        "password": form_text(form, "smtp_password") or None,
        "from": values["email_from"],
        "to": form_words(form, "email_to"),
    }


def _common_spec(form: FormData, values: dict[str, Any], kind: str) -> dict[str, Any]:
    """The fields a new and a changed channel share, as the channel schemas take them."""
    spec: dict[str, Any] = {
        "name": values["name"],
        "events": values["events"],
        "filters": {
            "topics": values["filter_topics"],
            "priorities": values["filter_priorities"],
            "accounts": form_words(form, "filter_accounts"),
            "followers": form_words(form, "filter_followers"),
        },
        "include_internal": values["include_internal"],
        "audience": values["audience"],
        "max_concurrency": form_int(form, "max_concurrency"),
        "rate_per_second": form_float(form, "rate_per_second"),
        "enabled": values["enabled"],
    }
    if kind == ChannelKind.EMAIL:
        spec["email"] = _email_settings(form, values)
    else:
        spec["url"] = values["url"] or None
    return spec


async def _form_page(
    request: Request,
    session: AsyncSession,
    *,
    channel: Channel | None,
    values: dict[str, Any],
    error: FormError | None = None,
) -> Response:
    return render(
        request,
        "admin/channel_form.html",
        status_code=422 if error else 200,
        channel=channel,
        values=values,
        kinds=KINDS,
        tls_modes=TLS_MODES,
        audiences=[a.value for a in Audience],
        event_types=service.EVENT_TYPES,
        topic_keys=[t.key for t in await topics.list_topics(session, include_inactive=True)],
        priorities=[p.value for p in Priority],
        error=error,
    )


# --- list, create ----------------------------------------------------------------------


@router.get("/admin/channels")
async def channels_page(request: Request, session: Session, _web: AdminWeb) -> Response:
    return render(request, "admin/channels.html", channels=await service.list_channels(session))


@router.get("/admin/channels/new")
async def new_channel_form(request: Request, session: Session, _web: AdminWeb) -> Response:
    return await _form_page(request, session, channel=None, values=_stored_values(None))


@router.post("/admin/channels")
async def create_channel(
    request: Request, session: Session, _web: AdminWeb, form: CheckedForm
) -> Response:
    values = _posted_values(form)
    try:
        spec = _common_spec(form, values, values["kind"])
        spec["kind"] = values["kind"]
        if values["kind"] == ChannelKind.WEBHOOK:
            spec["secret"] = form_text(form, "secret").strip() or None
        body = ChannelCreate.model_validate(spec)
        async with refusable(request, session):
            channel, secret = await service.create_channel(
                session, spec=body, policy=address_policy(request)
            )
    except ValidationError as exc:
        error = pydantic_error(exc)
        return await _form_page(request, session, channel=None, values=values, error=error)
    except Problem as problem:
        error = form_error(problem)
        return await _form_page(request, session, channel=None, values=values, error=error)
    if secret is None:
        notice = translate(request, "Channel %(name)s created.", name=channel.name)
        return redirect(channel_url(channel.id), notice=notice)
    return _secret_page(request, channel, secret, created=True)


def _secret_page(request: Request, channel: Channel, secret: str, *, created: bool) -> Response:
    return render(
        request,
        "admin/secret_shown.html",
        heading=(
            translate(request, "Channel %(name)s created", name=channel.name)
            if created
            else translate(request, "Channel %(name)s has a new secret", name=channel.name)
        ),
        user=None,
        shown_label=translate(request, "Signing secret"),
        secret=secret,
        note=(
            translate(
                request,
                "The receiver verifies each webhook's signature with this secret (Standard "
                "Webhooks). It is shown only this once.",
            )
            + (
                ""
                if created
                else " " + translate(request, "The previous secret keeps signing for 24 hours.")
            )
        ),
        back_url=channel_url(channel.id),
        back_label=translate(request, "Open the channel"),
    )


# --- one channel -----------------------------------------------------------------------


@router.get("/admin/channels/{channel_id}")
async def channel_page(
    channel_id: RowId, request: Request, session: Session, _web: AdminWeb
) -> Response:
    channel = await service.get_channel(session, channel_id=channel_id)
    return await _form_page(request, session, channel=channel, values=_stored_values(channel))


@router.post("/admin/channels/{channel_id}")
async def update_channel(
    channel_id: RowId, request: Request, session: Session, _web: AdminWeb, form: CheckedForm
) -> Response:
    channel = await service.get_channel(session, channel_id=channel_id)
    values = _posted_values(form)
    values["kind"] = channel.kind
    try:
        body = ChannelUpdate.model_validate(_common_spec(form, values, channel.kind))
        async with refusable(request, session):
            await service.update_channel(
                session, channel=channel, changes=body, policy=address_policy(request)
            )
    except (ValidationError, Problem) as exc:
        error = pydantic_error(exc) if isinstance(exc, ValidationError) else form_error(exc)
        # The refused change left the session without the row: read it again for the page.
        channel = await service.get_channel(session, channel_id=channel_id)
        return await _form_page(request, session, channel=channel, values=values, error=error)
    notice = translate(request, "Channel %(name)s saved.", name=channel.name)
    return redirect(channel_url(channel_id), notice=notice)


@router.post("/admin/channels/{channel_id}/rotate-secret")
async def rotate_secret(
    channel_id: RowId, request: Request, session: Session, _web: AdminWeb, _form: CheckedForm
) -> Response:
    channel = await service.get_channel(session, channel_id=channel_id)
    channel, secret = await service.update_channel(
        session,
        channel=channel,
        changes=ChannelUpdate(rotate_secret=True),
        policy=address_policy(request),
    )
    assert secret is not None  # update_channel refuses to rotate a channel without one
    return _secret_page(request, channel, secret, created=False)


@router.post("/admin/channels/{channel_id}/delete")
async def delete_channel(
    channel_id: RowId, request: Request, session: Session, _web: AdminWeb, _form: CheckedForm
) -> Response:
    channel = await service.get_channel(session, channel_id=channel_id)
    name = channel.name
    await service.delete_channel(session, channel=channel)
    notice = translate(request, "Channel %(name)s and its delivery log are deleted.", name=name)
    return redirect("/admin/channels", notice=notice)


async def admin_form_without_transaction(
    checked: Annotated[tuple[WebContext, FormData], Depends(checked_form_outside_transaction)],
) -> WebContext:
    """An admin's checked form, with no writing transaction held while a slow receiver
    answers the test message."""
    web, _form = checked
    if not web.actor.is_admin:
        raise Forbidden("this page is for admins")
    return web


@router.post("/admin/channels/{channel_id}/test")
async def send_test(
    channel_id: RowId,
    request: Request,
    _web: Annotated[WebContext, Depends(admin_form_without_transaction)],
) -> Response:
    channel, result = await service.send_test_outside_transaction(
        get_database(request),
        channel_id=channel_id,
        base_url=get_settings(request).base_url,
        policy=address_policy(request),
    )
    return render(request, "admin/channel_test.html", channel=channel, result=result)


# --- the delivery log ------------------------------------------------------------------


@router.get("/admin/channels/{channel_id}/deliveries")
async def deliveries_page(
    channel_id: RowId, request: Request, session: Session, _web: AdminWeb
) -> Response:
    channel = await service.get_channel(session, channel_id=channel_id)
    state_text = request.query_params.get("state") or ""
    known = {s.value for s in DeliveryState}
    state = DeliveryState(state_text) if state_text in known else None
    before = request.query_params.get("before") or ""
    rows, more = await service.list_deliveries(
        session,
        channel=channel,
        state=state,
        before_id=int(before) if before.isdigit() and len(before) < 19 else None,
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "admin/deliveries.html",
        channel=channel,
        deliveries=rows,
        states=[s.value for s in DeliveryState],
        state=state.value if state else "",
        next_before=rows[-1].id if more and rows else None,
        paged=bool(before),
    )


@router.get("/admin/deliveries/{delivery_id}")
async def delivery_page(
    delivery_id: BigRowId, request: Request, session: Session, _web: AdminWeb
) -> Response:
    delivery, attempts = await service.get_delivery(session, delivery_id=delivery_id)
    return render(
        request,
        "admin/delivery.html",
        delivery=delivery,
        attempts=attempts,
        payload=json.dumps(delivery.payload, indent=2, ensure_ascii=False),
    )


@router.post("/admin/deliveries/{delivery_id}/redeliver")
async def redeliver(
    delivery_id: BigRowId, request: Request, session: Session, _web: AdminWeb, form: CheckedForm
) -> Response:
    delivery = await service.redeliver(session, delivery_id=delivery_id)
    back = form_text(form, "back")
    return redirect(
        back if back.startswith("/admin/") else f"/admin/deliveries/{delivery.id}",
        notice=translate(request, "Delivery %(id)s is queued to be sent again.", id=delivery.id),
    )
