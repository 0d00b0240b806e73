"""The pages' languages and time zones: the German catalogue covers every text the pages
mark for translation, each reader gets their own language and zone (never a neighbour's),
and times keep their UTC instant in ``<time datetime>``."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from helpwire.accounts.models import Role
from helpwire.accounts.preferences import SHIPPED_LANGUAGES
from helpwire.reports.service import Dimension
from helpwire.rules.macros import MACRO_ACTIONS
from helpwire.tickets.models import AccessLevel, Priority, Status, TicketType
from helpwire.tickets.queues import QUEUES
from helpwire.web.console_list import SORTS
from helpwire.web.i18n import catalogue_path, page_locale, rendering_for
from helpwire.web.labels import LABELS
from helpwire.web.templating import environment
from tests.conftest import World
from tests.web.conftest import WebHarness

ROOT = Path(__file__).parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "translate": (2,)}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def extracted_messages() -> set[str]:
    """Every text marked for translation, read the way ``pybabel extract`` reads it
    (babel.cfg, and the ``translate(request, ...)`` keyword of the commands in
    docs/i18n.md)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def german() -> dict[str, list[str]]:
    """Each translated text (a plural's by its singular) and its translations: one, or
    every plural form, all filled."""
    with catalogue_path("de").open("rb") as source:
        catalogue = read_po(source, locale="de")
    translated = {}
    for m in catalogue:
        if not m.id or "fuzzy" in m.flags:
            continue
        forms = [m.string] if isinstance(m.string, str) else list(m.string or ())
        if forms and all(forms):
            translated[str(m.id if isinstance(m.id, str) else m.id[0])] = [str(f) for f in forms]
    return translated


def test_the_german_catalogue_translates_every_marked_text() -> None:
    messages = extracted_messages()
    assert len(messages) > 50  # the extraction found the pages' text at all
    translated = german()
    untranslated = sorted(messages - translated.keys())
    assert not untranslated, "untranslated in de/messages.po:\n" + "\n".join(untranslated)


def test_translations_keep_the_placeholders() -> None:
    for message, translations in german().items():
        for translation in translations:
            assert sorted(_PLACEHOLDER.findall(message)) == sorted(
                _PLACEHOLDER.findall(translation)
            ), message


def test_every_shipped_language_but_english_has_a_catalogue() -> None:
    for language in SHIPPED_LANGUAGES:
        assert catalogue_path(language).exists() == (language != "en"), language


@pytest.mark.parametrize(
    "values",
    [Status, Priority, TicketType, AccessLevel, Role, Dimension, MACRO_ACTIONS],
    ids=lambda values: getattr(values, "__name__", "macro actions"),
)
def test_every_label_the_pages_make_is_in_the_catalogue(values: object) -> None:
    label = environment.filters["label"]
    with rendering_for(page_locale("en")):
        made = {label(value) for value in values}  # type: ignore[attr-defined]
    assert made <= set(LABELS)


def test_every_sort_order_is_in_the_catalogue() -> None:
    label = environment.filters["label"]
    with rendering_for(page_locale("en")):
        assert {label(sort) for sort in SORTS} <= set(LABELS)


def test_every_queue_name_is_in_the_catalogue() -> None:
    label = environment.filters["label"]
    with rendering_for(page_locale("en")):
        assert {label(queue.name) for queue in QUEUES} <= set(LABELS)
        assert {queue.label for queue in QUEUES} <= set(LABELS)


def test_times_are_shown_in_the_readers_zone_with_its_abbreviation() -> None:
    when = environment.filters["when"]
    winter = datetime(2026, 1, 15, 12, 30, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, 30, tzinfo=UTC)
    with rendering_for(page_locale("de", ZoneInfo("Europe/Berlin"))):
        assert when(winter) == "2026-01-15 13:30 CET"
        assert when(summer) == "2026-07-15 14:30 CEST"
    with rendering_for(page_locale("en")):
        assert when(winter) == "2026-01-15 12:30 UTC"
    # Outside a render: English and UTC.
    assert when(summer) == "2026-07-15 12:30 UTC"


async def test_a_user_in_berlin_reads_german_pages_in_local_time(
    web: WebHarness, world: World
) -> None:
    ticket = await world.create_ticket("alice", subject="Drucker streikt")
    changed = await world.patch(
        "admin", "/api/v1/users/agent", json={"language": "de", "time_zone": "Europe/Berlin"}
    )
    assert changed.status_code == 200
    agent = await web.sign_in("agent")
    page = (await agent.get(f"/agent/tickets/{ticket['number']}")).text
    assert '<html lang="de">' in page
    assert ">Einstellungen</a>" in page
    created = datetime.fromisoformat(ticket["created_at"])
    local = created.astimezone(ZoneInfo("Europe/Berlin"))
    shown = local.strftime("%Y-%m-%d %H:%M ") + str(local.tzname())
    assert local.tzname() in ("CET", "CEST")
    # The text shows local time; the machine-readable instant stays UTC.
    assert f'<time datetime="{created.astimezone(UTC).isoformat()}">{shown}</time>' in page
    # The API still answers in UTC.
    assert ticket["created_at"].endswith("Z")


async def test_the_browser_language_counts_until_the_user_chooses(
    web: WebHarness, world: World
) -> None:
    alice = await web.sign_in("alice")
    english = (await alice.get("/settings")).text
    assert '<html lang="en">' in english and ">Settings</h1>" in english
    german_page = (await alice.get("/settings", headers={"Accept-Language": "de-DE,en;q=0.5"})).text
    assert '<html lang="de">' in german_page and ">Einstellungen</h1>" in german_page
    french_first = await alice.get("/settings", headers={"Accept-Language": "fr, de;q=0.8"})
    assert '<html lang="de">' in french_first.text
    # A choice of their own wins over the browser's.
    await world.patch("alice", "/api/v1/me", json={"language": "en"})
    chosen = await alice.get("/settings", headers={"Accept-Language": "de"})
    assert '<html lang="en">' in chosen.text
    # Before signing in: the browser's language.
    sign_in = await web.anonymous().get("/login", headers={"Accept-Language": "de"})
    assert '<html lang="de">' in sign_in.text


async def test_concurrent_readers_each_get_their_own_language(
    web: WebHarness, world: World
) -> None:
    await world.patch("agent", "/api/v1/me", json={"language": "de", "time_zone": "Asia/Tokyo"})
    await world.patch("agent2", "/api/v1/me", json={"language": "en"})
    german_reader = await web.sign_in("agent")
    english_reader = await web.sign_in("agent2")
    pages = await asyncio.gather(
        *(reader.get("/settings") for _ in range(10) for reader in (german_reader, english_reader))
    )
    for index, page in enumerate(pages):
        expected = ">Einstellungen</h1>" if index % 2 == 0 else ">Settings</h1>"
        assert expected in page.text


async def test_the_settings_page_saves_language_and_time_zone(
    web: WebHarness, world: World
) -> None:
    alice = await web.sign_in("alice")
    page = await alice.get("/settings")
    assert 'value="Europe/Berlin"' in page.text and 'lang="de">Deutsch</option>' in page.text
    saved = await alice.post("/settings", {"language": "de", "time_zone": "Europe/Berlin"})
    assert saved.status_code == 303
    after = await alice.get(saved.headers["location"])
    assert "Einstellungen gespeichert." in after.text
    assert '<option value="Europe/Berlin" selected>' in after.text
    me = (await world.get("alice", "/api/v1/me")).json()
    assert (me["language"], me["time_zone"]) == ("de", "Europe/Berlin")

    refused = await alice.post("/settings", {"language": "xx", "time_zone": "Nowhere/Land"})
    assert refused.status_code == 422
    assert "Wählen Sie eine der angebotenen Sprachen." in refused.text
    assert "Wählen Sie eine der angebotenen Zeitzonen." in refused.text
    me = (await world.get("alice", "/api/v1/me")).json()
    assert (me["language"], me["time_zone"]) == ("de", "Europe/Berlin")
    # A form without its token is refused with a page, like every form of the UI.
    stale = await alice.post("/settings", {"language": "en", "csrf_token": "stale"})
    assert stale.status_code == 403 and "text/html" in stale.headers["content-type"]


async def test_admins_set_both_on_the_users_page(web: WebHarness, world: World) -> None:
    admin = await web.sign_in("admin")
    page = await admin.get("/admin/users/alice")
    assert 'name="time_zone"' in page.text and 'name="language"' in page.text
    form = {"real_name": "Alice", "role": "customer", "account": "acme", "projects": "p1"}
    saved = await admin.post(
        "/admin/users/alice", {**form, "language": "de", "time_zone": "America/Chicago"}
    )
    assert saved.status_code == 303, saved.text
    user = (await world.get("admin", "/api/v1/users/alice")).json()
    assert (user["language"], user["time_zone"]) == ("de", "America/Chicago")
    refused = await admin.post("/admin/users/alice", {**form, "time_zone": "Atlantis"})
    assert refused.status_code == 422
    # A form without the fields (an older page) leaves them as they are.
    kept = await admin.post("/admin/users/alice", form)
    assert kept.status_code == 303
    user = (await world.get("admin", "/api/v1/users/alice")).json()
    assert user["time_zone"] == "America/Chicago"


async def test_the_timeline_is_told_in_the_readers_language(web: WebHarness, world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    replied = await world.post(
        "agent2", f"/api/v1/tickets/{number}/comments", json={"body": "On it."}
    )
    assert replied.status_code == 201
    await world.patch("agent", "/api/v1/me", json={"language": "de"})
    german_page = (await (await web.sign_in("agent")).get(f"/agent/tickets/{number}")).text
    assert "reichte das Ticket ein (über api)" in german_page
    assert "änderte den Status von Neu auf Offen durch eine Antwort" in german_page
    english_page = (await (await web.sign_in("admin")).get(f"/agent/tickets/{number}")).text
    assert "changed status from new to open by replying" in english_page


async def test_the_reports_charts_and_errors_follow_the_reader(
    web: WebHarness, world: World
) -> None:
    await world.create_ticket("alice")
    await world.patch("admin", "/api/v1/me", json={"language": "de"})
    admin = await web.sign_in("admin")
    page = await admin.get("/admin/reports", params={"report": "tickets"})
    assert page.status_code == 200
    assert "Tickets pro Tag" in page.text and "erstellt" in page.text
    wrong = await admin.get("/admin/reports", params={"start": "gestern"})
    assert wrong.status_code == 422
    assert "start: ein Datum (JJJJ-MM-TT)" in wrong.text
