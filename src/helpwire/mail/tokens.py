"""What helpwire signs in the mail it sends: the per-ticket reply address and the rating
links. Both are HMACs with keys derived from HELPWIRE_SECRET_KEY (db.secrets), so nothing
is stored for them, a ticket number alone cannot be turned into either, and a rotation of
the key keeps earlier mail working while the old key is still listed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from helpwire.db.secrets import SecretBox

REPLY_PURPOSE = "helpwire mail reply address"
RATING_PURPOSE = "helpwire mail rating link"
# 80 bits: enough that guessing one is hopeless, short enough for an address.
_SIGNATURE_CHARS = 16


def _signature(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:_SIGNATURE_CHARS]


def _matches(box: SecretBox, purpose: str, message: str, signature: str) -> bool:
    """Whether ``signature`` was made by one of the keys. Raises SecretKeyError when this
    process has no key at all (HELPWIRE_SECRET_KEY or its file), which is a setup error to
    show, not a signature to refuse quietly."""
    return any(
        hmac.compare_digest(_signature(key, message), signature)
        for key in box.signing_keys(purpose, create=False)
    )


def reply_token(box: SecretBox, *, number: int, uid: str) -> str:
    """The part after the ``+`` of a ticket's reply address: ``42.<signature>``."""
    return f"{number}.{_signature(box.signing_keys(REPLY_PURPOSE)[0], uid)}"


def reply_token_number(token: str) -> int | None:
    """The ticket number a reply token names, before checking its signature."""
    number, dot, signature = token.partition(".")
    if not dot or not number.isdigit() or len(signature) != _SIGNATURE_CHARS:
        return None
    return int(number)


def reply_token_matches(box: SecretBox, token: str, *, uid: str) -> bool:
    signature = token.partition(".")[2].lower()
    return _matches(box, REPLY_PURPOSE, uid, signature)


def reply_address(box: SecretBox, *, local: str, domain: str, number: int, uid: str) -> str:
    return f"{local}+{reply_token(box, number=number, uid=uid)}@{domain}"


def rating_signature(box: SecretBox, *, uid: str, user_id: int) -> str:
    """Signs "this person may rate this ticket": the links in a solved ticket's mail."""
    return _signature(box.signing_keys(RATING_PURPOSE)[0], f"{uid}:{user_id}")


def rating_signature_matches(box: SecretBox, signature: str, *, uid: str, user_id: int) -> bool:
    return _matches(box, RATING_PURPOSE, f"{uid}:{user_id}", signature.lower())


def new_message_id(*, number: int, domain: str) -> str:
    """A Message-ID of ours, without angle brackets: unique, and saying which ticket."""
    return f"hw.{number}.{secrets.token_hex(10)}@{domain}"
