"""The admin pages: an overview here; users, API tokens, accounts and topics, channels and
deliveries in the modules whose routers are included below."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from helpwire.accounts.models import Account, ApiToken, User
from helpwire.api.deps import Session
from helpwire.api.routing import TransactionalRoute
from helpwire.notify import channels
from helpwire.topics.models import Topic
from helpwire.web import admin_accounts, admin_channels, admin_tokens, admin_users
from helpwire.web.admin_forms import capped_count, shown_count
from helpwire.web.auth import AdminWeb
from helpwire.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


@router.get("/admin")
async def overview(request: Request, session: Session, _web: AdminWeb) -> Response:
    counts = {
        "users": await capped_count(session, select(User.id).where(User.is_active.is_(True))),
        "disabled": await capped_count(session, select(User.id).where(User.is_active.is_(False))),
        "accounts": await capped_count(session, select(Account.id)),
        "tokens": await capped_count(
            session, select(ApiToken.id).where(ApiToken.revoked_at.is_(None))
        ),
        "topics": await capped_count(session, select(Topic.id).where(Topic.is_active.is_(True))),
    }
    all_channels = await channels.list_channels(session)
    return render(
        request,
        "admin/overview.html",
        counts={name: shown_count(n) for name, n in counts.items()},
        channels=all_channels,
        troubled=[c for c in all_channels if not c.enabled or c.consecutive_failures > 0],
    )


for _module in (admin_users, admin_tokens, admin_accounts, admin_channels):
    router.include_router(_module.router)
