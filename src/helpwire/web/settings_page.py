"""Everyone's own settings: the language and time zone of their pages (and mail)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel import Locale
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from helpwire.accounts.preferences import (
    SHIPPED_LANGUAGES,
    check_language,
    check_time_zone,
    primary_language,
    time_zone_names,
)
from helpwire.accounts.service import set_preferences
from helpwire.api.deps import Now, Session
from helpwire.api.routing import TransactionalRoute
from helpwire.web.auth import CheckedForm, Web
from helpwire.web.i18n import N_, locale_of, page_locale
from helpwire.web.shared import form_text
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


@dataclass(frozen=True)
class LanguageOption:
    value: str
    label: str


@dataclass(frozen=True)
class PreferenceChoices:
    languages: list[LanguageOption]
    time_zones: list[str]


def preference_choices(current_language: str | None = None) -> PreferenceChoices:
    """The choices of the language and time zone fields. Each language is named in itself
    ("Deutsch"), as people look for their own; a regional tag someone has already
    ("de-at") stays a choice, so that saving other fields does not change it."""
    languages = [
        LanguageOption(tag, Locale.parse(tag).get_display_name(tag) or tag)
        for tag in SHIPPED_LANGUAGES
    ]
    if (
        current_language
        and current_language not in SHIPPED_LANGUAGES
        and primary_language(current_language) in SHIPPED_LANGUAGES
    ):
        name = Locale.parse(primary_language(current_language)).get_display_name() or ""
        languages.append(LanguageOption(current_language, f"{name} ({current_language})"))
    return PreferenceChoices(languages=languages, time_zones=time_zone_names())


def read_preferences(form: FormData) -> tuple[dict[str, str], list[str]]:
    """The posted language and time zone, and what is wrong with them (in English: the
    caller translates)."""
    values = {
        "language": form_text(form, "language").strip()[:16],
        "time_zone": form_text(form, "time_zone").strip()[:64],
    }
    errors = []
    for field, check, message in (
        ("language", check_language, N_("Choose one of the languages offered.")),
        ("time_zone", check_time_zone, N_("Choose one of the time zones offered.")),
    ):
        try:
            check(values[field])
        except ValueError:
            errors.append(message)
    return values, errors


def _page(
    request: Request,
    *,
    values: dict[str, str],
    now: datetime,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "settings/settings.html",
        status_code=status_code,
        values=values,
        errors=errors or [],
        preference_choices=preference_choices(values["language"]),
        now=now,
    )


@router.get("/settings")
async def settings_page(request: Request, web: Web, now: Now) -> HTMLResponse:
    values = {"language": web.viewer.language or "", "time_zone": web.viewer.time_zone or ""}
    return _page(request, values=values, now=now)


@router.post("/settings")
async def save_settings(
    request: Request, session: Session, web: Web, form: CheckedForm, now: Now
) -> Response:
    values, errors = read_preferences(form)
    if errors:
        locale = locale_of(request)
        shown = [locale.gettext(error) for error in errors]
        return _page(request, values=values, now=now, errors=shown, status_code=422)
    await set_preferences(
        session, user=web.actor.user, language=values["language"], time_zone=values["time_zone"]
    )
    # Said in the language just chosen, which the next page is written in.
    chosen = values["language"] or locale_of(request).language
    notice = page_locale(primary_language(chosen)).gettext("Settings saved.")
    return redirect("/settings", notice=notice)
