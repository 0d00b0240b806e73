"""Runtime configuration: one class, read from the environment (prefix ``HELPWIRE_``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Every knob helpwire has. Each one is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="HELPWIRE_", env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./helpwire.db",
        description="SQLAlchemy URL. postgresql:// URLs are switched to the asyncpg driver.",
    )
    database_pool_size: int = Field(default=10, ge=1)
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    database_connect_timeout_seconds: float = Field(
        default=5.0, gt=0, le=300, description="Longest wait to open a database connection."
    )
    database_pool_timeout_seconds: float = Field(
        default=5.0, gt=0, le=300, description="Longest wait for a free pooled connection."
    )
    database_command_timeout_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="Longest wait for one statement (PostgreSQL)."
    )
    auto_migrate: bool = Field(default=True, description="Apply pending migrations on start.")
    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet keys, comma-separated, that encrypt channel secrets, webhook URLs "
        "and SMTP passwords at rest: the first encrypts, all decrypt (for rotation).",
    )
    secret_key_file: Path | None = Field(
        default=None,
        description="Where the key is kept when secret_key is not set (created when first "
        "needed, mode 0600); by default helpwire-secret.key beside the SQLite database, or in "
        "the working directory.",
    )

    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of this service, used in links to tickets.",
    )
    files_storage: Literal["local", "database"] = Field(
        default="local",
        description="Where file bytes are kept: local (files_dir) or database (shared by "
        "every process of the installation); `helpwire files migrate` copies between them.",
    )
    files_dir: Path = Field(default=Path("./helpwire-files"))
    max_request_bytes: int = Field(default=1 * MIB, ge=1024, description="JSON/form body limit.")
    max_file_bytes: int = Field(default=20 * MIB, ge=1, description="One uploaded file.")
    max_files_per_comment: int = Field(default=10, ge=1)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    export_max_bytes: int = Field(
        default=1024 * MIB,
        ge=0,
        description="The most bytes of files one person's data export carries (413 beyond).",
    )
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Closed tickets older than this many days (since closing) are deleted "
        "by a daily job; unset keeps every ticket.",
    )

    channels: str | None = Field(
        default=None,
        description="Channels declared by the deployment: a JSON list of channel definitions.",
    )
    channels_file: Path | None = Field(
        default=None, description="The same, read from a JSON or YAML file."
    )
    relay_in_process: bool = Field(
        default=True, description="`helpwire serve` runs a relay beside the API."
    )
    relay_poll_seconds: float = Field(default=5.0, gt=0, le=300)
    relay_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    relay_batch_size: int = Field(default=100, ge=1, le=1000)
    delivery_retention_days: int = Field(default=30, ge=1)
    worker_in_process: bool = Field(
        default=True, description="`helpwire serve` runs a job worker beside the API."
    )
    worker_poll_seconds: float = Field(default=5.0, gt=0, le=300)
    worker_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        description="How long a job may run before another "
        "worker takes it over (its worker is presumed dead).",
    )
    worker_concurrency: int = Field(default=4, ge=1, le=100)
    job_plugins: str = Field(
        default="",
        description="More job kinds for workers: module:function entries, comma-separated; "
        "each function is given the job registry.",
    )
    channel_allowed_networks: str = Field(
        default="",
        description="Internal receivers channels may reach: CIDRs, addresses, host names or "
        ".domains, comma-separated. Empty: public addresses only.",
    )

    mail_from: str | None = Field(
        default=None,
        description="The sender of mail to customers, `Support <support@example.org>`; its "
        "domain names the Message-IDs and the per-ticket reply addresses.",
    )
    mail_smtp_url: SecretStr | None = Field(
        default=None,
        description="Where mail to customers is sent: smtp://user:pass@host:587?starttls=true, "
        "smtps://user:pass@host:465 or smtp://host:25. Unset: no mail to customers.",
    )
    mail_plus_addressing: bool = Field(
        default=True,
        description="Reply-To carries the ticket (support+<token>@domain); turn off when the "
        "mailbox does not take plus-addressed mail.",
    )
    mail_notify_statuses: str = Field(
        default="solved",
        description="Status changes the requester and CCs are e-mailed about, comma-separated "
        "(solved carries the rating links).",
    )
    mail_attachments_max_bytes: int = Field(
        default=10 * MIB,
        ge=0,
        description="A reply's files are attached to its mail up to this many bytes in all; "
        "the rest are links to the ticket.",
    )
    mail_default_language: str = Field(
        default="en", description="The language of mail to people who have not chosen one."
    )

    mail_imap_url: SecretStr | None = Field(
        default=None,
        description="A mailbox to read mail in from: imaps://user:pass@host:993/INBOX "
        "(imap:// for a plain or STARTTLS connection).",
    )
    mail_imap_oauth2_token: SecretStr | None = Field(
        default=None,
        description="An OAuth2 access token to sign in to the mailbox with (XOAUTH2: "
        "Microsoft 365, Google) instead of the URL's password.",
    )
    mail_imap_oauth2_token_file: Path | None = Field(
        default=None,
        description="A file holding the OAuth2 access token, read again at every connection: "
        "access tokens expire within hours, and a refresher can keep this file current.",
    )
    mail_imap_processed_folder: str = Field(
        default="Processed",
        description="Where read mail is moved to (made when missing).",
    )
    mail_imap_poll_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="How often the mailbox is read without IDLE."
    )
    mail_listen: str | None = Field(
        default=None,
        description="host:port of an SMTP server for mail in, which an MTA relays to "
        "(`helpwire serve` runs it; `helpwire mail listen` alone).",
    )
    mail_inbound_services: str = Field(
        default="",
        description="Service users (usernames, comma-separated) whose tokens may hand over "
        "received mail at POST /api/v1/mail/inbound; admins always may.",
    )
    mail_max_bytes: int = Field(
        default=30 * MIB,
        ge=64 * 1024,
        description="Largest message processed; larger ones are kept in the quarantine.",
    )
    mail_unknown_senders: Literal["create", "refuse"] = Field(
        default="create",
        description="Mail from an address no user has: make a customer, or refuse it with "
        "a polite answer.",
    )
    mail_domain_accounts: str = Field(
        default="",
        description="Which account a new customer from a mail domain joins: "
        "example.com=acme,example.org=globex.",
    )
    mail_default_account: str | None = Field(
        default=None,
        description="The account of new customers whose domain is not in "
        "mail_domain_accounts (none: they are refused).",
    )
    mail_cc_from_mail: bool = Field(
        default=True, description="The Cc addresses of a customer's mail join the ticket's CC."
    )
    mail_sender_limit: str = Field(
        default="30/hour",
        description="Messages one address may send in before the rest wait in the quarantine.",
    )

    web_session_days: int = Field(
        default=14,
        ge=1,
        le=365,
        description="How long a web sign-in lasts without signing in again.",
    )
    web_secure_cookies: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure. Unset: when base_url or the request is https.",
    )

    rate_limit_enabled: bool = Field(
        default=True, description="Rate limits on every route (docs/api.md, Rate limits)."
    )
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=86_400)
    rate_limit_reads: int = Field(
        default=600, ge=1, description="Reads (GET, HEAD) per window per token or session."
    )
    rate_limit_writes: int = Field(
        default=60, ge=1, description="Writes (POST, PUT, PATCH, DELETE) per window per token."
    )
    rate_limit_anonymous_reads: int = Field(
        default=1200, ge=1, description="Reads per window per client address, without a token."
    )
    rate_limit_anonymous_writes: int = Field(
        default=120, ge=1, description="Writes per window per client address, without a token."
    )
    redis_url: str | None = Field(
        default=None,
        description="redis:// URL: rate limit counts shared by every process (else in-process).",
    )

    faces: str = Field(
        default="ucloud,cocalc,selectel,f5xc",
        description="Compatible APIs to serve, comma-separated (empty: none).",
    )

    http_max_header_bytes: int = Field(
        default=64 * 1024,
        ge=4096,
        le=1 * MIB,
        description="Largest request line and header block `helpwire serve` reads (431 past it).",
    )
    http_header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Time a client has to send a request's line and headers (then 408).",
    )
    worker_healthcheck_timeout_seconds: int = Field(
        default=30,
        ge=1,
        le=600,
        description="With several workers, how long `helpwire serve` waits for a worker to "
        "answer uvicorn's health check before replacing it.",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="When set, /metrics needs `Authorization: Bearer <token>`."
    )

    log_level: str = Field(default="INFO")
    log_json: bool = Field(default=True)

    @cached_property
    def async_database_url(self) -> str:
        """The URL with an async driver, whatever the operator wrote."""
        url = self.database_url
        for plain in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
            if url.startswith(plain):
                return "postgresql+asyncpg://" + url[len(plain) :]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
        return url

    @property
    def face_names(self) -> list[str]:
        return [name.strip() for name in self.faces.split(",") if name.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.async_database_url.startswith("sqlite")
