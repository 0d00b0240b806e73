"""Mail addresses as helpwire keeps them: one bare address, lower-case, checked."""

from __future__ import annotations

import re

from helpwire.mail.models import ADDRESS_CHARS

# What mail servers accept in practice: no spaces, quotes, angle brackets or commas (which
# would smuggle a second recipient into a header), one @, a domain with a dot.
_ADDRESS = re.compile(
    r"^[^\s@<>,;:\"()\[\]\\]{1,64}@[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.[a-z]{2,63}$"
)


def normalize_address(text: str) -> str:
    """``text`` as a bare, lower-case address; ValueError when it is not one."""
    address = text.strip().lower()
    if len(address) > ADDRESS_CHARS or not _ADDRESS.match(address) or ".." in address:
        raise ValueError(f"{text!r} is not an e-mail address like someone@example.org")
    return address
