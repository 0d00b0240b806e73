"""Chat and e-mail renderings of the event document: shapes, the UCloud layout of a new
ticket, escaping of hostile text, platform limits, and every event type on every platform."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from helpwire.notify.formats import chat_message, email_message, headline
from helpwire.notify.models import ChannelKind

BASE = "https://support.example.com"
TS = "2024-05-06T07:08:09.123456+00:00"
CHAT = [ChannelKind.SLACK, ChannelKind.MATTERMOST, ChannelKind.DISCORD, ChannelKind.TEAMS]
ZWSP = "\u200b"

OLGA = {
    "username": "olga",
    "real_name": "Olga Olsen",
    "role": "customer",
    "email": "olga@acme.example",
}
IVAN = {"username": "ivan", "real_name": "Ivan Agent", "role": "agent"}

MESSAGE = "The printer in room 4 is on fire.\nSmoke everywhere.\n\nPlease advise."
FILES = [
    {
        "id": "f_1",
        "filename": "smoke.jpg",
        "content_type": "image/jpeg",
        "size": 1234,
        "url": f"{BASE}/api/v1/files/f_1",
    },
    {
        "id": "f_2",
        "filename": "printer-log.txt",
        "content_type": "text/plain",
        "size": 99,
        "url": f"{BASE}/api/v1/files/f_2",
    },
]


# --------------------------------------------------------------------------------------
# Payloads, in the shape payloads.event_payload() produces
# --------------------------------------------------------------------------------------


def ticket_doc(*, staff: bool = True, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "number": 42,
        "uid": "7f1c0a4e-0000-4000-8000-000000000042",
        "url": f"{BASE}/tickets/42",
        "subject": "Printer on fire",
        "status": "new",
        "priority": "high",
        "type": "bug",
        "topic": {"key": "hardware", "names": {"en": "Hardware", "ru": "Оборудование"}},
        "subtopic": {"key": "printers", "names": {"en": "Printers"}},
        "tags": ["fire"],
        "account": {"key": "acme", "name": "Acme Corp"},
        "projects": ["web", "print-farm"],
        "requester": dict(OLGA),
        "assignee": None,
        "access_level": "account_users",
        "escalated": False,
        "rating": None,
        "comment_count": 1,
        "created_at": TS,
        "updated_at": TS,
    }
    if staff:
        doc["context"] = {
            "request_id": "req-8c2d",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0",
            "location": "https://app.acme.example/print/queue",
            "info": {"screen": "1920x1080"},
            "via": "web",
            "service": None,
        }
        doc["attributes"] = {"plan": "pro"}
    doc.update(changes)
    return doc


def comment_doc(
    body: str = MESSAGE,
    *,
    internal: bool = False,
    files: list[dict[str, Any]] | None = None,
    author: dict[str, Any] | None = None,
    body_format: str = "text",
) -> dict[str, Any]:
    return {
        "id": 7,
        "author": {k: v for k, v in (author or OLGA).items() if k != "email"},
        "body": body,
        "body_format": body_format,
        "internal": internal,
        "files": files or [],
        "rating": None,
        "created_at": TS,
    }


def event_payload(
    type_: str,
    *,
    details: dict[str, Any] | None = None,
    ticket: dict[str, Any] | None = None,
    comment: dict[str, Any] | None = None,
    actor: dict[str, Any] | None = OLGA,
    internal: bool = False,
) -> dict[str, Any]:
    return {
        "type": type_,
        "timestamp": TS,
        "data": {
            "version": 1,
            "event": {
                "id": "evt_0001",
                "type": type_,
                "internal": internal,
                "actor": {k: v for k, v in actor.items() if k != "email"} if actor else None,
                "details": details or {},
                "created_at": TS,
            },
            "ticket": ticket if ticket is not None else ticket_doc(),
            "comment": comment,
        },
    }


def created(
    *, ticket: dict[str, Any] | None = None, comment: dict[str, Any] | None = None
) -> dict[str, Any]:
    comment = comment or comment_doc(files=FILES)
    return event_payload(
        "ticket.created",
        ticket=ticket,
        comment=comment,
        details={
            "comment_id": 7,
            "requester": "olga",
            "via": "web",
            "files": [{"id": f["id"], "filename": f["filename"]} for f in comment["files"]],
        },
    )


def channel_test_payload() -> dict[str, Any]:
    return {
        "type": "channel.test",
        "timestamp": TS,
        "data": {
            "version": 1,
            "message": "helpwire test message for channel 'ops'",
            "url": BASE,
        },
    }


def all_events() -> dict[str, dict[str, Any]]:
    return {
        "ticket.created": created(),
        "ticket.created (customer audience)": created(ticket=ticket_doc(staff=False)),
        "ticket.updated": event_payload(
            "ticket.updated",
            actor=IVAN,
            details={
                "changes": {
                    "priority": {"before": "normal", "after": "high"},
                    "tags": {"before": [], "after": ["fire", "hardware"]},
                    "attributes": {"before": {}, "after": {"plan": "pro"}},
                    "subject": {"before": "Printer", "after": "Printer on fire"},
                }
            },
        ),
        "ticket.status_changed": event_payload(
            "ticket.status_changed",
            actor=IVAN,
            details={"before": "new", "after": "open", "reason": "agent_reply"},
        ),
        "ticket.assigned": event_payload(
            "ticket.assigned", actor=IVAN, details={"before": None, "after": "ivan"}
        ),
        "ticket.unassigned": event_payload(
            "ticket.assigned", actor=IVAN, details={"before": "ivan", "after": None}
        ),
        "ticket.escalated": event_payload(
            "ticket.escalated", details={"priority": {"before": "normal", "after": "urgent"}}
        ),
        "ticket.rated": event_payload(
            "ticket.rated", details={"score": 4, "comment": "Quick fix, thanks", "before": None}
        ),
        "comment.created (reply)": event_payload(
            "comment.created",
            actor=IVAN,
            comment=comment_doc("Please unplug it.", author=IVAN, files=FILES[:1]),
            details={"comment_id": 7, "internal": False, "files": [{"id": "f_1"}]},
        ),
        "comment.created (internal note)": event_payload(
            "comment.created",
            actor=IVAN,
            internal=True,
            comment=comment_doc(
                "Customer seems to be on a legacy plan.", internal=True, author=IVAN
            ),
            details={"comment_id": 8, "internal": True, "files": []},
        ),
        "comment.rated": event_payload(
            "comment.rated",
            comment=comment_doc("Please unplug it.", author=IVAN),
            details={"comment_id": 7, "score": -1, "comment": "Did not help"},
        ),
        "channel.test": channel_test_payload(),
        "ticket.read (no special rendering)": event_payload("ticket.read"),
        "ticket.merged (away)": event_payload(
            "ticket.merged", details={"into": 43, "subject": "Printers", "comments": 2}
        ),
        "ticket.merged (in)": event_payload(
            "ticket.merged", details={"from": 41, "subject": "Smoke", "comments": 1}
        ),
        "ticket.split": event_payload(
            "ticket.split", details={"into": 44, "subject": "Toner", "comments": 1}
        ),
        "unknown type": event_payload("ticket.archived", details={"into": 43, "extra": [1, 2]}),
        "no ticket, no event": {"type": "system.thing", "timestamp": "not a time", "data": None},
        "empty": {},
    }


# --------------------------------------------------------------------------------------
# Reading renderings back
# --------------------------------------------------------------------------------------


def slack_texts(body: dict[str, Any]) -> list[str]:
    texts = []
    for block in body["blocks"]:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts += [e["text"] for e in block["elements"]]
    return texts


def teams_card(body: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = body["attachments"][0]["content"]
    return content


def teams_texts(element: Any) -> list[str]:
    """Every TextBlock text and fact of a card, depth first."""
    if isinstance(element, list):
        return [text for item in element for text in teams_texts(item)]
    if not isinstance(element, dict):
        return []
    texts = []
    if element.get("type") == "TextBlock":
        texts.append(element["text"])
    for fact in element.get("facts", []):
        texts += [fact["title"], fact["value"]]
    for key in ("body", "items"):
        texts += teams_texts(element.get(key, []))
    return texts


def discord_texts(body: dict[str, Any]) -> list[str]:
    embed = body["embeds"][0]
    texts = [body["content"], embed["title"], embed.get("description", "")]
    for field in embed["fields"]:
        texts += [field["name"], field["value"]]
    return texts


def rendered_text(kind: ChannelKind, body: dict[str, Any]) -> str:
    """All the text a reader sees (before Markdown), as one string."""
    if kind == ChannelKind.SLACK:
        return "\n".join(slack_texts(body))
    if kind == ChannelKind.MATTERMOST:
        return str(body["text"])
    if kind == ChannelKind.DISCORD:
        return "\n".join(discord_texts(body))
    return "\n".join(teams_texts(teams_card(body)))


def readable(kind: ChannelKind, text: str) -> str:
    """Undo the escaping a platform's renderer would undo, to look for raw values."""
    text = text.replace(ZWSP, "")
    if kind == ChannelKind.SLACK:
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"\\(.)", r"\1", text)


def seen(kind: ChannelKind, payload: dict[str, Any]) -> str:
    return readable(kind, rendered_text(kind, chat_message(kind, payload)))


def email_parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert isinstance(plain, EmailMessage) and isinstance(rich, EmailMessage)
    return str(plain.get_content()), str(rich.get_content())


def mail(payload: dict[str, Any]) -> EmailMessage:
    return email_message(
        payload, sender="helpwire <helpwire@support.example.com>", recipients=["ops@acme.example"]
    )


# --------------------------------------------------------------------------------------
# Headlines
# --------------------------------------------------------------------------------------


def test_headline_names_the_ticket_and_its_subject() -> None:
    assert headline(created()) == "New ticket #42: Printer on fire"
    events = all_events()
    assert headline(events["ticket.assigned"]) == "Ticket #42 assigned to ivan: Printer on fire"
    assert headline(events["ticket.unassigned"]) == "Ticket #42 unassigned: Printer on fire"
    assert headline(events["comment.created (reply)"]) == "New reply on ticket #42: Printer on fire"
    assert headline(events["comment.created (internal note)"]).startswith(
        "INTERNAL NOTE on ticket #42"
    )
    assert headline(events["ticket.rated"]) == "Ticket #42 rated 4/5: Printer on fire"
    assert headline(events["channel.test"]) == "helpwire test message for channel 'ops'"
    assert headline(events["ticket.merged (away)"]) == "Ticket #42 merged into #43: Printer on fire"
    assert (
        headline(events["ticket.merged (in)"])
        == "Ticket #41 merged into ticket #42: Printer on fire"
    )
    assert headline(events["ticket.split"]) == "Ticket #44 split off ticket #42: Printer on fire"
    assert "ticket.archived" in headline(events["unknown type"])


def test_headline_is_one_bounded_line_whatever_the_subject() -> None:
    payload = created(ticket=ticket_doc(subject="evil\r\nBcc: all@example.com\u202e" + "x" * 900))
    line = headline(payload)
    assert "\n" not in line and "\r" not in line and "\u202e" not in line
    assert len(line) <= 250
    assert line.endswith("…")


# --------------------------------------------------------------------------------------
# The UCloud layout of a new ticket
# --------------------------------------------------------------------------------------

UCLOUD_VALUES = [
    "#42",
    "Bug",  # type
    "high",  # priority
    "User information",
    "olga",  # username
    "customer",  # security role
    "Olga Olsen",  # real name
    "olga@acme.example",
    "Acme Corp",  # account
    "web, print-farm",  # projects
    "Technical info",
    "req-8c2d",  # request id
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0",  # user agent
    "https://app.acme.example/print/queue",  # location
    "web",  # via
    "Hardware / Printers",  # topic / subtopic
    "Printer on fire",  # subject
    "smoke.jpg",
    "printer-log.txt",
    f"{BASE}/tickets/42",  # the ticket link
]


@pytest.mark.parametrize("kind", CHAT)
def test_new_ticket_carries_every_ucloud_field(kind: ChannelKind) -> None:
    text = seen(kind, created())
    for value in UCLOUD_VALUES:
        assert value in text or value in json.dumps(chat_message(kind, created())), value
    for label in ("Username", "Security role", "Real name", "Email", "Account", "Projects"):
        assert label in text
    for label in ("Request ID", "User agent", "Location", "Via", "Topic"):
        assert label in text


@pytest.mark.parametrize("kind", [ChannelKind.SLACK, ChannelKind.MATTERMOST, ChannelKind.DISCORD])
def test_new_ticket_quotes_the_message_line_by_line(kind: ChannelKind) -> None:
    text = seen(kind, created())
    assert "> The printer in room 4 is on fire.\n> Smoke everywhere.\n>\n> Please advise." in text


def test_teams_shows_the_message_in_an_emphasised_container() -> None:
    card = teams_card(chat_message(ChannelKind.TEAMS, created()))
    containers = [e for e in card["body"] if e["type"] == "Container"]
    assert len(containers) == 1 and containers[0]["style"] == "emphasis"
    text = readable(ChannelKind.TEAMS, containers[0]["items"][0]["text"])
    assert text == "The printer in room 4 is on fire.\n\nSmoke everywhere.\n\n\n\nPlease advise."


def test_new_ticket_links_each_file_and_the_ticket() -> None:
    url1, url2 = FILES[0]["url"], FILES[1]["url"]
    slack = chat_message(ChannelKind.SLACK, created())
    slack_text = "\n".join(slack_texts(slack))
    assert f"<{url1}|smoke.jpg>" in slack_text
    assert f"<{url2}|printer-log.txt>" in slack_text
    assert f"<{BASE}/tickets/42|Open ticket #42>" in slack_text
    for kind in (ChannelKind.MATTERMOST, ChannelKind.DISCORD, ChannelKind.TEAMS):
        text = rendered_text(kind, chat_message(kind, created()))
        assert f"[smoke.jpg]({url1})" in text
        assert f"[printer-log.txt]({url2})" in text
    plain, rich = email_parts(mail(created()))
    assert f"smoke.jpg <{url1}>" in plain
    assert f'<a href="{url1}">smoke.jpg</a>' in rich
    assert f"{BASE}/tickets/42" in plain
    assert f'<a href="{BASE}/tickets/42">Open ticket #42</a>' in rich


def test_missing_user_agent_is_called_out() -> None:
    ticket = ticket_doc()
    ticket["context"]["user_agent"] = None
    for kind in (ChannelKind.SLACK, ChannelKind.MATTERMOST, ChannelKind.DISCORD):
        assert "User agent: Missing UA" in seen(kind, created(ticket=ticket)).replace("*", "")
    card = teams_card(chat_message(ChannelKind.TEAMS, created(ticket=ticket)))
    facts = {
        f["title"]: f["value"] for e in card["body"] if e["type"] == "FactSet" for f in e["facts"]
    }
    assert facts["User agent"] == "Missing UA"
    plain, _ = email_parts(mail(created(ticket=ticket)))
    assert "User agent: Missing UA" in plain


@pytest.mark.parametrize("kind", CHAT)
def test_customer_audience_ticket_renders_without_context(kind: ChannelKind) -> None:
    payload = created(ticket=ticket_doc(staff=False))
    text = seen(kind, payload)
    assert "olga@acme.example" in text and "Hardware / Printers" in text
    assert "Request ID" not in text and "req-8c2d" not in text
    assert "User agent" not in text and "Missing UA" not in text
    assert "plan" not in text  # attributes are staff-only too


def test_email_of_a_new_ticket() -> None:
    message = mail(created())
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "[helpwire #42] New ticket: Printer on fire"
    assert message["From"] == "helpwire <helpwire@support.example.com>"
    assert message["To"] == "ops@acme.example"
    assert parsedate_to_datetime(message["Date"]).isoformat() == "2024-05-06T07:08:09+00:00"
    assert re.fullmatch(r"<[^<>@\s]+@support\.example\.com>", message["Message-ID"])
    # The same delivery retried is the same message.
    assert mail(created())["Message-ID"] == message["Message-ID"]
    plain, rich = email_parts(message)
    for value in UCLOUD_VALUES:
        assert value in plain, value
    assert "> The printer in room 4 is on fire.\n> Smoke everywhere." in plain
    assert "<blockquote" in rich and "Smoke everywhere." in rich
    assert '<th align="left" style="padding-right:12px">Security role</th>' in rich


# --------------------------------------------------------------------------------------
# Per-platform shapes
# --------------------------------------------------------------------------------------


def test_slack_shape() -> None:
    body = chat_message(ChannelKind.SLACK, created())
    assert body["text"] == "New ticket #42: Printer on fire"
    types = [b["type"] for b in body["blocks"]]
    assert types[0] == "section" and "actions" in types and types[-1] == "context"
    for block in body["blocks"]:
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn"
    (actions,) = [b for b in body["blocks"] if b["type"] == "actions"]
    button = actions["elements"][0]
    assert button["type"] == "button" and button["url"] == f"{BASE}/tickets/42"
    assert button["text"] == {"type": "plain_text", "text": "Open ticket #42"}
    assert "*User information*\n• *Username:* olga" in "\n".join(slack_texts(body))


def test_mattermost_shape() -> None:
    body = chat_message(ChannelKind.MATTERMOST, created())
    assert set(body) == {"text"}
    text = body["text"]
    assert text.startswith("#### New ticket #42")
    assert f"[Open ticket #42]({BASE}/tickets/42)" in text
    assert "**User information**\n- **Username:** olga" in text
    assert "**Subject:** Printer on fire" in text


def test_discord_shape() -> None:
    body = chat_message(ChannelKind.DISCORD, created())
    assert body["content"] == "New ticket #42: Printer on fire"
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["url"] == f"{BASE}/tickets/42"
    assert embed["timestamp"] == TS
    assert isinstance(embed["color"], int)
    assert [f["name"] for f in embed["fields"]] == ["User information", "Technical info", "Files"]
    for field in embed["fields"]:
        assert set(field) == {"name", "value", "inline"} and field["value"]
    assert "**Subject:** Printer on fire" in embed["description"]


def test_teams_shape() -> None:
    body = chat_message(ChannelKind.TEAMS, created())
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    fact_sets = [e for e in card["body"] if e["type"] == "FactSet"]
    assert len(fact_sets) == 2
    titles = [f["title"] for f in fact_sets[0]["facts"]]
    assert titles == ["Username", "Security role", "Real name", "Email", "Account", "Projects"]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open ticket #42", "url": f"{BASE}/tickets/42"}
    ]


def test_webhook_and_email_kinds_are_not_chat() -> None:
    with pytest.raises(ValueError):
        chat_message(ChannelKind.WEBHOOK, created())
    with pytest.raises(ValueError):
        chat_message(ChannelKind.EMAIL, created())


# --------------------------------------------------------------------------------------
# Other events
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CHAT)
def test_other_events_say_who_did_what(kind: ChannelKind) -> None:
    events = all_events()
    updated = seen(kind, events["ticket.updated"])
    assert "Ivan Agent (ivan) updated ticket #42" in updated
    assert "normal → high" in updated and "— → fire, hardware" in updated
    status = seen(kind, events["ticket.status_changed"])
    assert (
        "changed the status of ticket #42 from new to open (after a reply from support)" in status
    )
    assert "assigned ticket #42 to ivan" in seen(kind, events["ticket.assigned"])
    assert "unassigned ticket #42 (was ivan)" in seen(kind, events["ticket.unassigned"])
    assert "priority normal → urgent" in seen(kind, events["ticket.escalated"])
    rated = seen(kind, events["ticket.rated"])
    assert "rated ticket #42 4/5" in rated and "Quick fix, thanks" in rated
    reply = seen(kind, events["comment.created (reply)"])
    assert "Ivan Agent (ivan) replied on ticket #42" in reply and "Please unplug it." in reply
    assert "smoke.jpg" in reply
    assert "thumbs down (-1)" in seen(kind, events["comment.rated"])
    assert "Did not help" in seen(kind, events["comment.rated"])
    for name in ("ticket.updated", "ticket.assigned", "comment.created (reply)"):
        assert f"{BASE}/tickets/42" in json.dumps(chat_message(kind, events[name]))


@pytest.mark.parametrize("kind", [ChannelKind.SLACK, ChannelKind.MATTERMOST, ChannelKind.DISCORD])
def test_a_reply_is_quoted(kind: ChannelKind) -> None:
    assert "> Please unplug it." in seen(kind, all_events()["comment.created (reply)"])


@pytest.mark.parametrize("kind", CHAT)
def test_an_internal_note_is_marked(kind: ChannelKind) -> None:
    events = all_events()
    note = seen(kind, events["comment.created (internal note)"])
    assert "INTERNAL NOTE" in note
    assert "Customer seems to be on a legacy plan." in note
    assert "INTERNAL NOTE" not in seen(kind, events["comment.created (reply)"])


def test_an_internal_note_is_marked_in_email() -> None:
    message = mail(all_events()["comment.created (internal note)"])
    assert message["Subject"] == "[helpwire #42] INTERNAL NOTE on ticket: Printer on fire"
    plain, rich = email_parts(message)
    assert "INTERNAL NOTE" in plain and "<strong>INTERNAL NOTE</strong>" in rich


def test_an_html_comment_is_shown_as_text() -> None:
    payload = all_events()["comment.created (reply)"]
    payload["data"]["comment"] = comment_doc(
        "<p>First &amp; <strong>second</strong></p><ul><li>one</li><li>two</li></ul>",
        body_format="html",
        author=IVAN,
    )
    text = seen(ChannelKind.MATTERMOST, payload)
    assert "> First & second\n>\n> - one\n>\n> - two" in text
    assert "<strong>" not in text


def test_channel_test_message() -> None:
    payload = channel_test_payload()
    for kind in CHAT:
        text = seen(kind, payload)
        assert "helpwire test message for channel 'ops'" in text
    discord = chat_message(ChannelKind.DISCORD, payload)
    assert discord["embeds"][0]["url"] == BASE
    assert mail(payload)["Subject"] == "[helpwire] helpwire test message for channel 'ops'"


EVENTS = all_events()


@pytest.mark.parametrize("name", list(EVENTS))
@pytest.mark.parametrize("kind", CHAT)
def test_every_event_renders_on_every_platform(kind: ChannelKind, name: str) -> None:
    body = chat_message(kind, EVENTS[name])
    json.dumps(body)  # a JSON body
    assert_within_limits(kind, body)
    assert rendered_text(kind, body).strip()


@pytest.mark.parametrize("name", list(EVENTS))
def test_every_event_renders_as_email(name: str) -> None:
    message = mail(EVENTS[name])
    assert message["Subject"].startswith("[helpwire")
    for header in ("From", "To", "Date", "Message-ID"):
        assert message[header]
    plain, rich = email_parts(message)
    assert plain.strip() and "<html>" in rich
    assert isinstance(headline(EVENTS[name]), str)


# --------------------------------------------------------------------------------------
# Hostile text and limits
# --------------------------------------------------------------------------------------

HOSTILE = (
    "<!channel> <!here> <@U123> @here @channel @all @everyone hi\n"
    "[click](javascript:alert(1)) <script>alert(1)</script> **bold** `code` ||spoiler||\n"
    "# heading\n> fake quote\n<http://evil.example|trust me>"
)
HOSTILE_SUBJECT = "<!channel> @here [click](javascript:alert(1)) <script>x</script>"
LONG = "\n".join(f"line {i} @here <!channel> & more" for i in range(10_000))


def hostile_events() -> list[dict[str, Any]]:
    ticket = ticket_doc(subject=HOSTILE_SUBJECT)
    ticket["context"]["user_agent"] = "<script>alert('ua')</script> @everyone " + "A" * 5000
    ticket["requester"]["real_name"] = "[Mallory](javascript:alert(1)) @channel"
    return [
        created(ticket=ticket, comment=comment_doc(HOSTILE, files=FILES)),
        created(ticket=ticket, comment=comment_doc(LONG, files=FILES)),
        event_payload(
            "comment.created",
            ticket=ticket,
            comment=comment_doc(LONG, internal=True, author=IVAN),
            internal=True,
        ),
        event_payload(
            "ticket.updated",
            ticket=ticket,
            details={"changes": {"subject": {"before": HOSTILE, "after": LONG}}},
        ),
        event_payload("ticket.rated", ticket=ticket, details={"score": 1, "comment": LONG}),
    ]


MENTION = re.compile(r"@(here|channel|all|everyone)\b")


def assert_within_limits(kind: ChannelKind, body: dict[str, Any]) -> None:
    if kind == ChannelKind.SLACK:
        assert len(body["blocks"]) <= 50
        for text in slack_texts(body):
            assert len(text) <= 3000
        assert len(body["text"]) <= 3000
    elif kind == ChannelKind.MATTERMOST:
        assert len(body["text"]) <= 16383
    elif kind == ChannelKind.DISCORD:
        assert len(body["content"]) <= 2000
        (embed,) = body["embeds"]
        assert len(embed["title"]) <= 256
        assert len(embed.get("description", "")) <= 4096
        assert len(embed["fields"]) <= 25
        for field in embed["fields"]:
            assert 0 < len(field["value"]) <= 1024 and len(field["name"]) <= 256
        total = len(embed["title"]) + len(embed.get("description", ""))
        total += len(embed.get("footer", {}).get("text", ""))
        total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
        assert total <= 6000
    else:
        assert len(json.dumps(body, ensure_ascii=False).encode()) <= 28_000


def assert_no_live_markup(kind: ChannelKind, text: str) -> None:
    assert not MENTION.search(text), "a live mention"
    if kind == ChannelKind.SLACK:
        # Only our own links: <https://...|...>; nothing like <!channel>, <@U123>, <http://evil>.
        for match in re.finditer(r"<([^>]*)>", text):
            assert match.group(1).startswith(f"{BASE}/"), match.group(0)
        assert "<script" not in text
    else:
        # Every Markdown link that survives is one of ours.
        for match in re.finditer(r"(?<!\\)\]\(", text):
            assert text[match.end() :].startswith(f"{BASE}/"), text[match.start() - 20 :][:80]
        assert "[click](javascript" not in text
        # No autolink, HTML tag or <@id> mention: every < is escaped.
        assert not re.search(r"(?<!\\)<", text)


@pytest.mark.parametrize("index", range(len(hostile_events())))
@pytest.mark.parametrize("kind", CHAT)
def test_hostile_text_is_escaped_and_limits_hold(kind: ChannelKind, index: int) -> None:
    body = chat_message(kind, hostile_events()[index])
    assert_within_limits(kind, body)
    assert_no_live_markup(kind, rendered_text(kind, body))
    if kind == ChannelKind.DISCORD:
        assert body["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize("kind", CHAT)
def test_hostile_text_stays_readable(kind: ChannelKind) -> None:
    text = seen(kind, hostile_events()[0])
    assert "[click](javascript:alert(1))" in text  # shown as text, not as a link
    assert "@here" in text and "<script>alert(1)</script>" in text


@pytest.mark.parametrize("kind", CHAT)
def test_a_ten_thousand_line_message_is_cut_with_an_ellipsis(kind: ChannelKind) -> None:
    body = chat_message(kind, hostile_events()[1])
    text = rendered_text(kind, body)
    assert "line 0 @" in readable(kind, text) and "line 9999" not in text
    assert "…" in text
    # The parts after the message survive the cut.
    assert "smoke.jpg" in text and f"{BASE}/tickets/42" in json.dumps(body)


def test_slack_escapes_entities_in_user_text() -> None:
    text = "\n".join(slack_texts(chat_message(ChannelKind.SLACK, hostile_events()[0])))
    assert "&lt;!channel&gt;" in text and "&lt;script&gt;" in text
    assert "@\u200bhere" in text
    assert "& more" not in "\n".join(
        slack_texts(chat_message(ChannelKind.SLACK, hostile_events()[1]))
    )  # & is &amp;


def test_markdown_platforms_escape_link_syntax() -> None:
    for kind in (ChannelKind.MATTERMOST, ChannelKind.DISCORD, ChannelKind.TEAMS):
        text = rendered_text(kind, chat_message(kind, hostile_events()[0]))
        assert "\\[click\\](javascript:alert(1))" in text


def test_email_escapes_user_text_in_html() -> None:
    for payload in hostile_events():
        message = mail(payload)
        plain, rich = email_parts(message)
        assert "<script" not in rich
        assert 'href="javascript' not in rich
        assert "\n" not in message["Subject"]
    plain, rich = email_parts(mail(hostile_events()[0]))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rich
    assert "[click](javascript:alert(1))" in plain  # plain text is plain


def test_unsafe_urls_are_never_linked() -> None:
    ticket = ticket_doc(url="javascript:alert(1)")
    files = [dict(FILES[0], url="javascript:alert(2)")]
    payload = created(ticket=ticket, comment=comment_doc(files=files))
    for kind in CHAT:
        body = chat_message(kind, payload)
        assert "javascript:alert" not in json.dumps(body)
        assert "smoke.jpg" in readable(kind, rendered_text(kind, body))
    _, rich = email_parts(mail(payload))
    assert "javascript" not in rich
