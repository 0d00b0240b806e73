"""The admin pages: an overview here; users, API tokens, accounts and topics, channels and
deliveries in the modules whose routers are included below."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from helpwire.accounts import service as accounts
from helpwire.api.deps import Session
from helpwire.api.routing import TransactionalRoute
from helpwire.notify import channels
from helpwire.topics.service import capped_active_topic_count
from helpwire.web import (
    admin_accounts,
    admin_channels,
    admin_mail,
    admin_reports,
    admin_rights,
    admin_tokens,
    admin_users,
)
from helpwire.web.admin_forms import COUNT_CAP, shown_count
from helpwire.web.auth import AdminWeb
from helpwire.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


@router.get("/admin")
async def overview(request: Request, session: Session, _web: AdminWeb) -> Response:
    counts = {
        "users": await accounts.capped_user_count(session, active=True, cap=COUNT_CAP),
        "disabled": await accounts.capped_user_count(session, active=False, cap=COUNT_CAP),
        "accounts": await accounts.capped_account_count(session, cap=COUNT_CAP),
        "tokens": await accounts.capped_live_token_count(session, cap=COUNT_CAP),
        "topics": await capped_active_topic_count(session, cap=COUNT_CAP),
    }
    all_channels = await channels.list_channels(session)
    return render(
        request,
        "admin/overview.html",
        counts={name: shown_count(n) for name, n in counts.items()},
        channels=all_channels,
        troubled=[c for c in all_channels if not c.enabled or c.consecutive_failures > 0],
    )


for _module in (
    admin_users,
    admin_tokens,
    admin_accounts,
    admin_channels,
    admin_mail,
    admin_reports,
    admin_rights,
):
    router.include_router(_module.router)
