"""A corpus of realistically shaped messages (tests/mail/corpus), each with what must
become of it: the text read from it, its attachments, and its fate in the pipeline."""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi import FastAPI

from helpwire.mail.parsing import Unreadable, latest_reply, parse
from tests.conftest import World
from tests.mail.test_inbound import comments, post

CORPUS = Path(__file__).parent / "corpus"
OURS = frozenset({"support@helpwire.test"})


@dataclass(frozen=True)
class Expected:
    state: str  # what the pipeline makes of it
    reply: str | None = None  # the new words of it as a reply (None: not checked)
    subject: str | None = None
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (name, type)
    reason: str | None = None  # part of the reason it is not filed


EXPECTED: dict[str, Expected] = {
    "gmail_reply_en.eml": Expected(
        "processed",
        reply="It's off now, thank you! The smoke is gone.",
        subject="Re: [#7] Printer on fire",
    ),
    "outlook_reply_de.eml": Expected(
        "processed",
        reply=(
            "Hallo,\n\nmit dem neuen Client läuft es jetzt stabil. Vielen Dank für die "
            "schnelle Hilfe!\n\nGrüße\nJonas Brandt"
        ),
        subject="AW: [#12] VPN bricht ab",
    ),
    "apple_mail_reply_fr.eml": Expected(
        "processed",
        reply="Merci, le remboursement est bien arrivé.\n\nChloé",
        subject="Re: [#31] Facture en double",
    ),
    "html_only.eml": Expected(
        "processed",
        reply=(
            "Hello,\n\nthe portal shows a blank page since Monday.\n\nSteps:\n"
            "1. open the portal\n2. sign in\n\nThanks & regards"
        ),
    ),
    "latin1.eml": Expected(
        "processed",
        reply="Die Rechnung für März ist zu groß: 1.234,56 ¤ statt 123,45 ¤?",
        subject="Große Rechnung für März",
    ),
    "shift_jis.eml": Expected(
        "processed",
        reply="お世話になっております。\nログインできません。パスワードを再設定してください。",
        subject="ログインできません",
    ),
    "attachments.eml": Expected(
        "processed",
        reply="See the invoice and the server log attached.",
        attachments=[("invoice 2026-11.pdf", "application/pdf"), ("server.log", "text/plain")],
    ),
    "forwarded.eml": Expected(
        "processed",
        attachments=[("Your server is down.eml", "message/rfc822")],
    ),
    "dsn_bounce.eml": Expected("ignored", reason="automatic"),
    "out_of_office.eml": Expected("ignored", reason="automatic"),
    "broken_mime.eml": Expected("quarantined", reason="broken MIME"),
    "unknown_charset.eml": Expected("quarantined", reason="unknown character set"),
    "encrypted.eml": Expected("quarantined", reason="encrypted"),
}


def test_every_message_of_the_corpus_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_what_is_read_from_each_message(name: str) -> None:
    expected = EXPECTED[name]
    raw = (CORPUS / name).read_bytes()
    if expected.state == "quarantined":
        with pytest.raises(Unreadable, match=expected.reason):
            parse(raw, own_addresses=OURS)
        return
    message = parse(raw, own_addresses=OURS)
    if expected.state == "ignored":
        assert message.noise is not None and expected.reason is not None
        assert expected.reason in message.noise
        return
    assert message.noise is None
    if expected.reply is not None:
        assert latest_reply(message.text) == expected.reply
    if expected.subject is not None:
        assert message.subject == expected.subject
    assert [(a.filename, a.content_type) for a in message.attachments] == expected.attachments


def test_a_forwarded_message_keeps_what_was_forwarded_in_a_new_ticket() -> None:
    message = parse((CORPUS / "forwarded.eml").read_bytes(), own_addresses=OURS)
    # A new ticket takes the whole text; only a reply loses what it quotes.
    assert "web-1 has not answered for 5 minutes." in message.text
    assert "web-1" not in latest_reply(message.text)


@pytest.fixture
def everyone_is_a_customer(app: FastAPI) -> None:
    pipeline = app.state.mail_pipeline
    domains = {d: "acme" for d in ("gmail.test", "firma.test", "exemple.test", "acme.test")}
    pipeline.config = dataclasses.replace(pipeline.config, domain_accounts=domains)


@pytest.mark.usefixtures("everyone_is_a_customer")
async def test_the_pipeline_files_or_keeps_every_message(world: World) -> None:
    for name, expected in sorted(EXPECTED.items()):
        outcome = await post(world, (CORPUS / name).read_bytes())
        assert outcome["state"] == expected.state, (name, outcome)
        if expected.state != "processed":
            assert expected.reason is not None
            assert expected.reason in (outcome["reason"] or ""), (name, outcome)
            continue
        [first] = await comments(world, outcome["ticket"])
        names = [f["filename"] for f in first["files"]]
        assert names == [filename for filename, _type in expected.attachments], name
    # Every one of them is in the log, with its original.
    log = await world.get("admin", "/api/v1/mail/messages", params={"limit": 100})
    assert len(log.json()["items"]) == len(EXPECTED)


async def test_a_30_mb_message_is_filed_with_its_big_file_left_in_the_original(
    world: World,
) -> None:
    message = EmailMessage()
    message["From"] = "Olga Owner <owner@acme.test>"
    message["To"] = "support@helpwire.test"
    message["Subject"] = "The whole disk image"
    message["Message-ID"] = "<thirty-mb@acme.test>"
    message.set_content("The image is attached.")
    image = bytes(range(256)) * (22_000_000 // 256)  # 22 MB, 30 MB once in base64
    message.add_attachment(
        image, maintype="application", subtype="octet-stream", filename="disk.img"
    )
    raw = message.as_bytes()
    assert 29_000_000 < len(raw) < 31_000_000
    outcome = await post(world, raw)
    assert outcome["state"] == "processed", outcome
    [first] = await comments(world, outcome["ticket"])
    assert first["files"] == []  # over HELPWIRE_MAX_FILE_BYTES
    assert "disk.img" in first["body"]
    original = await world.get("agent", f"/api/v1/mail/messages/{outcome['id']}/original")
    assert original.content == raw
    assert base64.b64encode(image[:57]).decode() in original.text
