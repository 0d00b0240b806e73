"""The mail settings, read and checked before anything starts."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from helpwire.mail.config import MailConfig, MailSettingError, parse_smtp_url
from helpwire.settings import Settings


def test_smtp_urls() -> None:
    server = parse_smtp_url("smtp://me%40example.org:p%3Ass@mail.example.org:587?starttls=true")
    assert (server.host, server.port, server.tls) == ("mail.example.org", 587, "starttls")
    assert (server.username, server.password) == ("me@example.org", "p:ss")
    implicit = parse_smtp_url("smtps://u:p@mail.example.org")
    assert (implicit.port, implicit.tls) == (465, "tls")
    plain = parse_smtp_url("smtp://127.0.0.1")
    assert (plain.port, plain.tls, plain.username) == (25, "none", None)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://mail.example.org", "smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://mail.example.org:port", "not a number"),
        ("smtp://mail.example.org?starttls=maybe", "true or false"),
    ],
)
def test_smtp_urls_that_cannot_work(url: str, says: str) -> None:
    with pytest.raises(MailSettingError, match=says):
        parse_smtp_url(url)


def test_settings_make_the_config_or_say_what_is_missing() -> None:
    assert MailConfig.from_settings(Settings()) is None
    url = SecretStr("smtp://127.0.0.1:2525")
    with pytest.raises(MailSettingError, match="HELPWIRE_MAIL_FROM is needed"):
        MailConfig.from_settings(Settings(mail_smtp_url=url))
    with pytest.raises(MailSettingError, match="no address"):
        MailConfig.from_settings(Settings(mail_smtp_url=url, mail_from="Support"))
    with pytest.raises(MailSettingError, match="archived is not a status"):
        MailConfig.from_settings(
            Settings(mail_smtp_url=url, mail_from="a@b.test", mail_notify_statuses="archived")
        )
    config = MailConfig.from_settings(
        Settings(
            mail_smtp_url=url,
            mail_from="Help Desk <Help@Example.ORG>",
            mail_notify_statuses="solved, pending",
            base_url="https://help.example.org/",
        )
    )
    assert config is not None
    assert config.sender.addr_spec == "Help@example.org"
    assert config.sender.display_name == "Help Desk"
    assert config.domain == "example.org"
    assert config.notify_statuses == {"solved", "pending"}
    assert config.base_url == "https://help.example.org"
