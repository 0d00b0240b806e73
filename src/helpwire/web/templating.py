"""Rendering pages: one Jinja2 environment, autoescaping everything, and the context every
page has (who is signed in, the CSRF token, a one-time notice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import jinja2
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from helpwire import __version__
from helpwire.tickets.queues import QUEUES
from helpwire.web.i18n import N_, current_locale, gettext, locale_of, ngettext, rendering_for
from helpwire.web.languages import topic_name_filter

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
NOTICE_COOKIE = "helpwire_notice"

# Pages hold personal data: no caching, no framing, no scripts or styles but our own.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _when(value: datetime | None) -> str:
    """A timestamp as its reader reads it, in their time zone with its abbreviation:
    ``2026-11-22 15:05 CET`` (``... UTC`` for whoever chose no zone). The page's
    ``<time datetime>`` keeps the UTC instant."""
    if value is None:
        return ""
    local = value.astimezone(current_locale().zone)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "UTC")


def _ago(value: datetime | None) -> str:
    """How long ago, roughly: ``5 min ago``, ``3 h ago``, ``12 d ago``."""
    if value is None:
        return ""
    seconds = int((datetime.now(UTC) - value).total_seconds())
    locale = current_locale()
    if seconds < 60:
        return locale.gettext("just now")
    if seconds < 3600:
        return locale.gettext("%(n)s min ago", n=seconds // 60)
    if seconds < 86400:
        return locale.gettext("%(n)s h ago", n=seconds // 3600)
    return locale.gettext("%(n)s d ago", n=seconds // 86400)


def _decimal(value: float) -> str:
    """One decimal, written the reader's way: ``3.2`` in English, ``3,2`` in German."""
    return format_decimal(value, format="0.0", locale=current_locale().language)


def _size(value: int | None) -> str:
    """A file size as people read it: ``512 bytes``, ``14 KiB``, ``3.2 MiB``."""
    size = int(value or 0)
    if size < 1024:
        return current_locale().gettext("%(n)s bytes", n=size)
    if size < 1024 * 1024:
        return f"{-(-size // 1024)} KiB"
    return f"{_decimal(size / (1024 * 1024))} MiB"


def _when_text(value: str | None) -> str:
    """:func:`_when` of a time kept as ISO 8601 text (a ticket's SLA due times)."""
    return _when(datetime.fromisoformat(value)) if value else ""


@dataclass(frozen=True)
class SlaBadge:
    state: str  # "breached", "soon", "ok" or "paused": the badge's colour
    label: str
    title: str


SLA_SOON = timedelta(hours=1)
SLA_TARGETS = ("first_reply", "next_reply", "resolution")


def _sla_state(sla: dict[str, Any]) -> SlaBadge:
    """A ticket's SLA as its badge: red once a target was missed or is overdue, amber when
    the next due time is within the hour, grey while paused, green otherwise."""
    dues = [
        datetime.fromisoformat(sla[f"{t}_due_at"]) for t in SLA_TARGETS if sla.get(f"{t}_due_at")
    ]
    soonest = min(dues, default=None)
    now = datetime.now(UTC)
    locale = current_locale()
    if sla.get("breaches") or (soonest is not None and soonest <= now):
        return SlaBadge(
            "breached",
            locale.gettext("SLA breached"),
            locale.gettext("A service-level target was missed"),
        )
    if soonest is None:
        label = locale.gettext("SLA paused") if sla.get("paused") else locale.gettext("SLA met")
        return SlaBadge("paused", label, str(sla.get("policy", "")))
    left = int((soonest - now).total_seconds() // 60)
    text = (
        locale.gettext("%(n)s min", n=left)
        if left < 120
        else locale.gettext("%(n)s h", n=left // 60)
    )
    state = "soon" if soonest - now <= SLA_SOON else "ok"
    return SlaBadge(
        state,
        locale.gettext("SLA due in %(time)s", time=text),
        locale.gettext("Due %(when)s", when=_when(soonest)),
    )


def _duration(seconds: float | None) -> str:
    """Seconds as people read them: ``45 min``, ``3.5 h``, ``2.1 d``; a dash for none."""
    if seconds is None:
        return "—"
    locale = current_locale()
    if seconds < 3600:
        return locale.gettext("%(n)s min", n=round(seconds / 60))
    if seconds < 86400 * 2:
        return locale.gettext("%(n)s h", n=_decimal(seconds / 3600))
    return locale.gettext("%(n)s d", n=_decimal(seconds / 86400))


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


# Labels that capitalising the value would get wrong.
_LABELS = {
    "sla_due_at": N_("SLA due time"),
    "sla_breached": N_("SLA breached"),
    "sla_policy": N_("SLA policy"),
}


def _label(value: Any) -> str:
    """An enum value as a label in the reader's language: ``account_users`` ->
    ``Account users`` (the English labels are marked for the catalogue in
    web/labels.py)."""
    text = str(getattr(value, "value", value) or "")
    return gettext(_LABELS.get(text) or text.replace("_", " ").capitalize())


def _safe_html(value: str | None) -> Markup:
    """HTML that the core already sanitized with nh3 when the comment was stored
    (tickets/rendering.py); never apply this to anything else."""
    return Markup(value or "")  # noqa: S704 (sanitized on the way in)


def _with_query(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters changed (None removes one). Repeated
    parameters (``status=new&status=open``) are kept as they are."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    added = [(k, str(v)) for k, v in changes.items() if v is not None and v != ""]
    query = urlencode(kept + added)
    return request.url.path + ("?" + query if query else "")


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # Page text is written in English inside {{ _("...") }} and {% trans %}, so that it can
    # be translated; without a catalogue it reads as written.
    extensions=["jinja2.ext.i18n"],
)
# {% trans %} blocks are looked up with their whitespace folded, as babel.cfg extracts them.
environment.policies["ext.i18n.trimmed"] = True
# The translations are the page's reader's, looked up per render (web/i18n.py), never
# installed for everyone.
environment.install_gettext_callables(  # type: ignore[attr-defined]
    gettext, ngettext, newstyle=True
)
environment.filters.update(
    when=_when,
    when_text=_when_text,
    duration=_duration,
    sla_state=_sla_state,
    ago=_ago,
    iso=_iso,
    label=_label,
    size=_size,
    sanitized_html=_safe_html,
)
environment.globals.update(
    version=__version__,
    with_query=_with_query,
    # The layout's shortcut help (for staff, on every page) lists the queues that have a
    # "g <key>" shortcut as links the keys follow: keys and queues are said once, in
    # tickets/queues.QUEUES.
    shortcut_queues=tuple(queue for queue in QUEUES if queue.goto),
)
# A topic or subtopic in the reader's language: {{ ticket.topic|topic_name }}.
environment.filters["topic_name"] = topic_name_filter


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page: the template with ``context`` plus what every page knows."""
    web = getattr(request.state, "web", None)
    notice = unquote(request.cookies.get(NOTICE_COOKIE, "")) or None
    with rendering_for(locale_of(request)) as locale:
        page = environment.get_template(template).render(
            request=request,
            me=web.viewer if web else None,
            csrf_token=web.csrf_token if web else getattr(request.state, "csrf_token", ""),
            notice=notice[:300] if notice else None,
            page_language=locale.language,
            **context,
        )
    response = HTMLResponse(
        page, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})}
    )
    if notice:
        response.delete_cookie(NOTICE_COOKIE, path="/")
    return response


def redirect(url: str, *, notice: str | None = None) -> RedirectResponse:
    """See-other to ``url`` (after a form post), with an optional one-time notice that the
    next page shows. Only paths of this site: never follow a full URL from a form."""
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        url = "/"
    response = RedirectResponse(url, status_code=303)
    if notice:
        response.set_cookie(
            NOTICE_COOKIE, quote(notice[:300]), path="/", httponly=True, samesite="lax", max_age=60
        )
    return response
