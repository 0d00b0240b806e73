"""Credentials kept in the database (channel signing secrets, webhook URLs whose path is
their credential, SMTP passwords) are stored encrypted, with Fernet keys from the settings.

The keys travel with the engine: :func:`helpwire.db.engine.create_engine` attaches a
:class:`SecretBox` built from the settings to the engine's dialect, and the
:class:`EncryptedText` column type finds it there when a value is written or read. Two
engines in one process (tests run SQLite and PostgreSQL side by side) may have different
keys, and nothing is set at import time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import JSON, MetaData, Text, TypeDecorator, column, select, table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeEngine

from helpwire.db.base import JSONType
from helpwire.settings import Settings

# Stored values start with this, so that a read (and the migration that encrypts older
# rows) can tell an encrypted value from one written before encryption existed.
PREFIX = "fernet:"
KEY_FILE_NAME = "helpwire-secret.key"
_DIALECT_ATTRIBUTE = "helpwire_secret_box"
log = logging.getLogger(__name__)
NEW_KEY_HINT = "make one with `helpwire secrets new-key`"


class SecretKeyError(RuntimeError):
    """The keys are missing, malformed, or not the ones a value was encrypted with."""


class Undecryptable(str):
    """What a read gives for a value the keys cannot decrypt, instead of raising: one
    channel encrypted under another key must not stop the relay from sending to the
    others. Senders refuse it with ``reason``. Written back (an admin renames the channel,
    or rotates its secret, which moves it to previous_secret), it is stored as it was read,
    still readable once the right key is set."""

    reason: str
    stored: str

    def __new__(cls, reason: str, *, stored: str) -> Undecryptable:
        value = super().__new__(cls, "(encrypted with another key)")
        value.reason = reason
        value.stored = stored
        return value


def new_key() -> str:
    return Fernet.generate_key().decode()


def split_keys(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def parse_keys(text: str, *, source: str) -> MultiFernet:
    keys = split_keys(text)
    if not keys:
        raise SecretKeyError(f"{source} holds no key; {NEW_KEY_HINT}")
    fernets = []
    for number, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except ValueError:
            raise SecretKeyError(
                f"{source}: key {number} is not a Fernet key (32 url-safe base64-encoded "
                f"bytes); {NEW_KEY_HINT}"
            ) from None
    return MultiFernet(fernets)


def default_key_file(settings: Settings) -> Path:
    """Beside the SQLite database file; in the working directory otherwise."""
    if settings.secret_key_file is not None:
        return settings.secret_key_file
    url = make_url(settings.async_database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).parent / KEY_FILE_NAME
    return Path(KEY_FILE_NAME)


def create_key_file(path: Path) -> None:
    """Writes a new key to ``path`` unless one is there. The key is written to a private
    temporary file first and then linked into place, which fails if ``path`` exists: of
    two processes starting at once, exactly one key wins and both read it, complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".helpwire-key-", dir=path.parent)
    try:
        # mkstemp creates the file with mode 0600.
        with os.fdopen(descriptor, "w") as file:
            file.write(new_key() + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return
        log.warning(
            "made a new key for channel secrets in %s: back it up apart from the database; "
            "several machines need one key (HELPWIRE_SECRET_KEY)",
            path.resolve(),
        )
    finally:
        os.unlink(temporary)


class SecretBox:
    """Encrypts and decrypts with the configured keys: HELPWIRE_SECRET_KEY when set,
    otherwise the key file, which is created the first time something is encrypted."""

    def __init__(self, *, keys: str | None, key_file: Path) -> None:
        self.key_file = key_file
        self._from_setting = keys is not None
        self._fernet = parse_keys(keys, source="HELPWIRE_SECRET_KEY") if keys else None
        self._raw_keys = split_keys(keys) if keys else []
        if keys is not None and self._fernet is None:
            raise SecretKeyError(f"HELPWIRE_SECRET_KEY is empty; {NEW_KEY_HINT}")

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        keys = settings.secret_key.get_secret_value() if settings.secret_key else None
        return cls(keys=keys, key_file=default_key_file(settings))

    @property
    def source(self) -> str:
        return "HELPWIRE_SECRET_KEY" if self._from_setting else f"the key file {self.key_file}"

    def _keys(self, *, create: bool) -> MultiFernet:
        if self._fernet is not None:
            return self._fernet
        if create:
            create_key_file(self.key_file)
        try:
            text = self.key_file.read_text()
        except FileNotFoundError:
            raise SecretKeyError(
                f"no key to decrypt channel secrets with: HELPWIRE_SECRET_KEY is not set and "
                f"{self.key_file} does not exist (set the key the data was encrypted with)"
            ) from None
        except OSError as exc:
            raise SecretKeyError(f"cannot read {self.source}: {exc.strerror}") from None
        self._fernet = parse_keys(text, source=self.source)
        self._raw_keys = split_keys(text)
        return self._fernet

    def signing_keys(self, purpose: str, *, create: bool = True) -> list[bytes]:
        """HMAC keys for ``purpose`` (links and addresses helpwire signs), derived from the
        configured keys, the current one first: a signature made before a key rotation
        still checks while the old key is listed after the new one. Each purpose has keys
        of its own, so that no signature made for one can pass for another. Checking a
        signature passes ``create=False``: a process with no key must not make one of its
        own, against which nothing made elsewhere would ever check (SecretKeyError)."""
        self._keys(create=create)
        return [
            hmac.new(base64.urlsafe_b64decode(key), purpose.encode(), hashlib.sha256).digest()
            for key in self._raw_keys
        ]

    def encrypt(self, plain: str) -> str:
        return PREFIX + self._keys(create=True).encrypt(plain.encode()).decode()

    def decrypt(self, stored: str) -> str:
        """The plain value; a value stored before encryption existed is given back as is."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._keys(create=False).decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                f"a stored channel secret cannot be decrypted with {self.source}: it was "
                "encrypted with another key (list the old key after the new one in "
                "HELPWIRE_SECRET_KEY while rotating)"
            ) from None

    def reencrypt(self, stored: str) -> str:
        """The value encrypted with the first key (plain values are encrypted)."""
        if not stored.startswith(PREFIX):
            return self.encrypt(stored)
        keys = self._keys(create=False)
        try:
            return PREFIX + keys.rotate(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            self.decrypt(stored)  # raises the explanatory error
            raise


def attach(engine: AsyncEngine, box: SecretBox) -> None:
    setattr(engine.dialect, _DIALECT_ATTRIBUTE, box)


def box_for(dialect: Dialect) -> SecretBox:
    box = getattr(dialect, _DIALECT_ATTRIBUTE, None)
    if not isinstance(box, SecretBox):
        raise SecretKeyError(
            "this engine has no secret keys: engines are made by helpwire.db.engine.create_engine"
        )
    return box


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted (``fernet:<token>``), with the engine's keys."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, Undecryptable):
            return value.stored
        return box_for(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        try:
            return box_for(dialect).decrypt(value)
        except SecretKeyError as exc:
            return Undecryptable(str(exc), stored=value)


class EncryptedFieldsJSON(TypeDecorator[dict[str, Any]]):
    """A JSON object whose named fields are stored encrypted (the SMTP password of a
    channel's e-mail settings); the rest stays JSON, JSONB on PostgreSQL."""

    impl = JSON
    cache_ok = True

    def __init__(self, *fields: str) -> None:
        super().__init__()
        self.fields = fields

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else JSON())

    def process_bind_param(
        self, value: dict[str, Any] | None, dialect: Dialect
    ) -> dict[str, Any] | None:
        if value is None:
            return None
        sealed = dict(value)
        for name in self.fields:
            field = sealed.get(name)
            if isinstance(field, Undecryptable):
                sealed[name] = field.stored
            elif isinstance(field, str):
                sealed[name] = box_for(dialect).encrypt(field)
        return sealed

    def process_result_value(
        self, value: dict[str, Any] | None, dialect: Dialect
    ) -> dict[str, Any] | None:
        if value is None:
            return None
        opened = dict(value)
        for name in self.fields:
            field = opened.get(name)
            if isinstance(field, str):
                try:
                    opened[name] = box_for(dialect).decrypt(field)
                except SecretKeyError as exc:
                    opened[name] = Undecryptable(str(exc), stored=field)
        return opened


def encrypted_columns(metadata: MetaData) -> dict[str, list[str]]:
    """Table name -> its encrypted columns."""
    found: dict[str, list[str]] = {}
    for each in metadata.sorted_tables:
        names = [
            c.name for c in each.columns if isinstance(c.type, EncryptedText | EncryptedFieldsJSON)
        ]
        if names:
            found[each.name] = names
    return found


def _reencrypt_value(box: SecretBox, value: Any, kind: TypeEngine[Any]) -> Any:
    if isinstance(kind, EncryptedFieldsJSON):
        fields = {n: box.reencrypt(value[n]) for n in kind.fields if isinstance(value.get(n), str)}
        return {**value, **fields}
    return box.reencrypt(value)


def _reencrypt(connection: Connection, metadata: MetaData) -> int:
    box = box_for(connection.dialect)
    changed = 0
    for name, columns in encrypted_columns(metadata).items():
        mapped = metadata.tables[name]
        (key,) = mapped.primary_key.columns
        # Text columns untyped (the stored text, not decrypted on the way); JSON as JSON.
        kinds = {c: mapped.c[c].type for c in columns}
        raw = table(
            name,
            column(key.name),
            *(
                column(c, JSONType if isinstance(k, EncryptedFieldsJSON) else None)
                for c, k in kinds.items()
            ),
        )
        for row in connection.execute(select(raw)).mappings().all():
            values = {
                c: _reencrypt_value(box, row[c], kinds[c]) for c in columns if row[c] is not None
            }
            if values:
                connection.execute(raw.update().where(raw.c[key.name] == row[key.name]), values)
                changed += 1
    return changed


async def reencrypt_all(engine: AsyncEngine, *, metadata: MetaData) -> int:
    """Encrypts every encrypted column's value again with the first key (plain values
    left from before encryption are encrypted): after it, older keys may be dropped. How
    many rows changed."""
    async with engine.begin() as connection:
        return await connection.run_sync(_reencrypt, metadata)
