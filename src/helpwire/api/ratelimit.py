"""Rate limits on every route: per credential (API token or web session), and per client
address for callers without one, with a stricter pool for writes than for reads.

Each answer says where its caller stands, in the fields of the IETF draft "RateLimit header
fields for HTTP" (draft-ietf-httpapi-ratelimit-headers, structured-field form)::

    RateLimit-Policy: "read";q=600;w=60
    RateLimit: "read";r=598;t=40

A refused request is answered 429 with ``Retry-After``: a problem on the native API, the
face's own error body on a face's paths, the error page on the web UI.

Counts live in Redis when ``HELPWIRE_REDIS_URL`` is set, so that every process shares them;
in the process otherwise. When Redis cannot be reached, requests are served unlimited (fail
open) and a warning is logged: an outage of the counter store must not become an outage of
the service.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpwire.api.deps import bearer_or_basic_token
from helpwire.api.middleware import send_problem
from helpwire.problems import RateLimited
from helpwire.settings import Settings

log = logging.getLogger("helpwire.ratelimit")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Probes of load balancers and Prometheus are not clients; limiting them would take a
# healthy process out of service.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Headers besides Authorization that carry a token (Selectel's face).
TOKEN_HEADERS = ("x-token", "x-auth-token")
ON_BEHALF_OF = "on-behalf-of"
SESSION_COOKIE = "helpwire_session"
# Credentials seen to work recently, per process; see RateLimiter.admit.
KNOWN_CREDENTIALS = 10_000
WARN_EVERY_S = 60.0
REDIS_TIMEOUT_S = 1.0

_WHAT = {
    "read": "a token or session may read",
    "write": "a token or session may write",
    "address-read": "an address may read without a token",
    "address-write": "an address may write without a token",
    "failed-auth": "an address may send a credential that is refused",
}
_LIMIT_HEADERS = (b"ratelimit", b"ratelimit-policy")
_REFUSAL_HEADERS = (*_LIMIT_HEADERS, b"retry-after")


@dataclass(frozen=True)
class Policy:
    """One quota: ``quota`` requests per ``window`` seconds, named in the headers."""

    name: str
    quota: int
    window: int

    @property
    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.quota, self.window, namespace="helpwire-" + self.name)

    def header(self) -> str:
        return f'"{self.name}";q={self.quota};w={self.window}'


@dataclass(frozen=True)
class Verdict:
    policy: Policy
    allowed: bool
    remaining: int
    reset_in: int  # whole seconds until a request is available again

    def headers(self, *, refused: bool = False) -> list[tuple[bytes, bytes]]:
        state = f'"{self.policy.name}";r={self.remaining};t={self.reset_in}'
        headers = [
            (b"ratelimit-policy", self.policy.header().encode()),
            (b"ratelimit", state.encode()),
        ]
        if refused:
            headers.append((b"retry-after", str(max(1, self.reset_in)).encode()))
        return headers

    def problem(self) -> RateLimited:
        return RateLimited(
            f"too many requests: {_WHAT[self.policy.name]} {self.policy.quota} times every "
            f"{self.policy.window} seconds; try again in {max(1, self.reset_in)} seconds",
            policy=self.policy.name,
            retry_after=max(1, self.reset_in),
        )


class RateLimiter:
    """Counts requests per key in a sliding window (the ``limits`` library's sliding
    window counter: two counters a key, so Redis holds little whatever the quota)."""

    def __init__(
        self,
        storage: Storage,
        *,
        reads: int,
        writes: int,
        anonymous_reads: int,
        anonymous_writes: int,
        window: int,
    ) -> None:
        self.storage = storage
        self.strategy = SlidingWindowCounterRateLimiter(storage)
        self.principal = {
            False: Policy("read", reads, window),
            True: Policy("write", writes, window),
        }
        self.address = {
            False: Policy("address-read", anonymous_reads, window),
            True: Policy("address-write", anonymous_writes, window),
        }
        # Requests refused as unauthenticated, per address: as many as anonymous writes.
        self.failures = Policy("failed-auth", anonymous_writes, window)
        self._known: OrderedDict[str, None] = OrderedDict()
        self._warned_at = -math.inf

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter | None:
        if not settings.rate_limit_enabled:
            return None
        return cls(
            storage_for(settings.redis_url),
            reads=settings.rate_limit_reads,
            writes=settings.rate_limit_writes,
            anonymous_reads=settings.rate_limit_anonymous_reads,
            anonymous_writes=settings.rate_limit_anonymous_writes,
            window=settings.rate_limit_window_seconds,
        )

    async def admit(self, *, credential: str | None, address: str, write: bool) -> Verdict | None:
        """Counts one request; None when the counts cannot be read (served unlimited).

        A request with a credential counts against that credential. So that a stream of
        made-up tokens is not a way around the limits, answers 401 count per address (see
        :meth:`rejected`), and a credential not yet seen to work (in this process) is
        refused while its address has used up that pool; credentials that work are served
        whatever else comes from their address."""
        try:
            if credential is None:
                return await self._hit(self.address[write], address)
            if credential not in self._known and not await self.strategy.test(
                self.failures.item, address
            ):
                return await self._verdict(self.failures, address, allowed=False)
            return await self._hit(self.principal[write], credential)
        except StorageError as exc:
            self._warn(exc)
            return None

    async def rejected(self, *, credential: str, address: str) -> None:
        """A credential was refused (401): the attempt counts against its address."""
        self._known.pop(credential, None)
        await self.failed(address=address)

    async def failed(self, *, address: str) -> None:
        """An attempt from ``address`` that showed no working credential."""
        try:
            await self.strategy.hit(self.failures.item, address)
        except StorageError as exc:
            self._warn(exc)

    def is_known(self, credential: str) -> bool:
        return credential in self._known

    def accepted(self, credential: str) -> None:
        self._known[credential] = None
        self._known.move_to_end(credential)
        while len(self._known) > KNOWN_CREDENTIALS:
            self._known.popitem(last=False)

    async def aclose(self) -> None:
        """Stops the in-process store's expiry task with the app (it would outlive the
        event loop)."""
        if isinstance(self.storage, MemoryStorage) and self.storage.timer is not None:
            self.storage.timer.cancel()

    async def _hit(self, policy: Policy, key: str) -> Verdict:
        allowed = await self.strategy.hit(policy.item, key)
        return await self._verdict(policy, key, allowed=allowed)

    async def _verdict(self, policy: Policy, key: str, *, allowed: bool) -> Verdict:
        stats = await self.strategy.get_window_stats(policy.item, key)
        reset_in = max(0, math.ceil(stats.reset_time - time.time()))
        return Verdict(policy, allowed, max(0, stats.remaining), reset_in)

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning(
                "rate limit counts are unavailable; serving requests without limits",
                extra={"error": f"{exc.__class__.__name__}: {exc}"},
            )


def storage_for(redis_url: str | None) -> Storage:
    if not redis_url:
        return MemoryStorage()
    try:
        storage = storage_from_string(
            "async+" + redis_url,
            wrap_exceptions=True,
            key_prefix="helpwire-ratelimit",
            connect_timeout=REDIS_TIMEOUT_S,
            stream_timeout=REDIS_TIMEOUT_S,
        )
    except ConfigurationError as exc:
        raise ValueError(f"HELPWIRE_REDIS_URL is not a redis:// or rediss:// URL: {exc}") from None
    assert isinstance(storage, Storage)
    return storage


def credential_of(request: Request) -> str | None:
    """A digest of the token the caller sends (in whichever header the native API or a face
    reads it from) or of its web session, or None for an anonymous request. One token is
    one pool on every face. A service token acting for a customer (On-Behalf-Of) counts per
    customer: each is a principal of its own."""
    headers = request.headers
    token = _token_in(headers.get("authorization")) or next(
        (headers[name] for name in TOKEN_HEADERS if headers.get(name)), None
    )
    if token is not None:
        identity = "token=" + token
    elif session := request.cookies.get(SESSION_COOKIE):
        identity = "session=" + session
    else:
        return None
    if on_behalf_of := headers.get(ON_BEHALF_OF):
        identity += "\non-behalf-of=" + on_behalf_of.strip()
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def _token_in(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "apitoken" and value.strip():
        return value.strip()
    # Bearer, or Basic with the token as user name; any other value is a credential too
    # (refused by the app, and counted).
    return bearer_or_basic_token(authorization) or authorization.strip()


def client_address(scope: Scope) -> str:
    """The peer's address. Behind a reverse proxy, ``helpwire serve`` has uvicorn take it
    from X-Forwarded-For when the proxy is trusted (uvicorn's FORWARDED_ALLOW_IPS)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _with_headers(
    send: Send, headers: Iterable[tuple[bytes, bytes]], replace: Iterable[bytes]
) -> Send:
    extra = list(headers)
    names = set(replace)

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
            message["headers"] = kept + extra
        await send(message)

    return sending


class RateLimitMiddleware:
    """Counts every request before the app sees it, refuses it over the limit, and tells
    the caller where it stands in the headers of every answer."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing_on_shutdown(send))
            return
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        credential = credential_of(Request(scope))
        address = client_address(scope)
        write = scope["method"] in WRITE_METHODS
        verdict = await self.limiter.admit(credential=credential, address=address, write=write)
        if verdict is None:
            await self.app(scope, receive, send)
            return
        if not verdict.allowed:
            refusal = _with_headers(send, verdict.headers(refused=True), _REFUSAL_HEADERS)
            await send_problem(scope, refusal, verdict.problem())
            return
        status = 0

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        answer = _with_headers(noting_status, verdict.headers(), _LIMIT_HEADERS)
        await self.app(scope, receive, answer)
        if credential is None:
            return
        if status == 401:
            await self.limiter.rejected(credential=credential, address=address)
        elif status == 403 and not self.limiter.is_known(credential):
            # A working token with a made-up On-Behalf-Of is refused with 403, and each
            # such name is a pool of its own: counted as a failure of the address, a
            # stream of them is stopped as a stream of made-up tokens is.
            await self.limiter.failed(address=address)
        elif 200 <= status < 300:
            # Only a success shows the credential works (a made-up session cookie is
            # answered with a redirect to the sign-in page).
            self.limiter.accepted(credential)

    def _closing_on_shutdown(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.limiter.aclose()
            await send(message)

        return sending
