"""Mail in: one pipeline behind the three doors (IMAP, the SMTP listener, the HTTP
endpoint). A message is **stored first**, whole, in a transaction of its own, and
deduplicated by its Message-ID: the same message twice is one message. Then it is
**processed** in another transaction: matched to a ticket (our Message-IDs it answers,
then the signed plus-address, then ``[#N]`` from someone who may see ticket N), its reply
cut from the quoted history, its attachments made files, and turned into a comment or a
new ticket. What cannot be processed goes to the quarantine with the reason, where an
admin sees it, downloads it and retries it; noise (auto-replies, delivery reports, our own
messages) is recorded and never answered. Nothing a mail server handed over is dropped.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import RateLimitItem
from limits import parse as parse_limit
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts import service as accounts
from helpwire.accounts.actor import Actor, load_actor
from helpwire.accounts.models import Account, Role, User
from helpwire.db.base import utcnow
from helpwire.db.secrets import box_for
from helpwire.db.session import Database
from helpwire.files.models import File
from helpwire.files.service import record_upload, save_upload
from helpwire.files.storage import FileStorage
from helpwire.mail.addresses import normalize_address
from helpwire.mail.cc import MAX_CC, cc_of, record_cc_change
from helpwire.mail.config import MailConfig, parse_sender
from helpwire.mail.models import MailMessage, MailRaw, TicketCc
from helpwire.mail.outbound import queue_refusal
from helpwire.mail.parsing import (
    Attachment,
    ParsedMail,
    Unreadable,
    addresses,
    latest_reply,
    message_id_of,
    parse,
    read_headers,
    subject_of,
)
from helpwire.mail.tokens import reply_token_matches, reply_token_number
from helpwire.problems import Conflict, Forbidden, NotFound, Problem
from helpwire.settings import Settings
from helpwire.tickets import lifecycle
from helpwire.tickets import service as tickets
from helpwire.tickets.models import BodyFormat, Comment, Status, Ticket
from helpwire.tickets.schemas import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, TicketCreate

log = logging.getLogger(__name__)

PROCESSING = "processing"
PROCESSED = "processed"
IGNORED = "ignored"
QUARANTINED = "quarantined"
REFUSED = "refused"
WAITING = (QUARANTINED, REFUSED)
# Refusals answered by mail, for all senders together, per process.
REFUSALS_ANSWERED = parse_limit("50/hour")
# A message taken for processing longer ago than this belongs to a process that died.
STALE_AFTER = timedelta(minutes=10)
_SUBJECT_NUMBER = re.compile(r"\[#(\d{1,18})\]")
_TOO_LONG = "\n\n[…] (the rest is in the original message)"
_USERNAME_UNSAFE = re.compile(r"[^A-Za-z0-9._:@-]")


@dataclass(frozen=True)
class InboundConfig:
    """What the pipeline reads of the settings."""

    own_address: str | None  # HELPWIRE_MAIL_FROM's address
    unknown_senders: str  # create | refuse
    domain_accounts: dict[str, str]
    default_account: str | None
    max_bytes: int
    max_file_bytes: int
    max_files: int
    cc_from_mail: bool
    sender_limit: RateLimitItem
    # Service users whose tokens may hand over received mail (HELPWIRE_MAIL_INBOUND_SERVICES).
    inbound_services: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> InboundConfig:
        own = parse_sender(settings.mail_from).addr_spec.lower() if settings.mail_from else None
        return cls(
            own_address=own,
            unknown_senders=settings.mail_unknown_senders,
            domain_accounts=parse_domain_accounts(settings.mail_domain_accounts),
            default_account=settings.mail_default_account or None,
            max_bytes=settings.mail_max_bytes,
            max_file_bytes=settings.max_file_bytes,
            max_files=settings.max_files_per_comment,
            cc_from_mail=settings.mail_cc_from_mail,
            sender_limit=parse_limit(settings.mail_sender_limit),
            inbound_services=frozenset(
                name.strip() for name in settings.mail_inbound_services.split(",") if name.strip()
            ),
        )

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset({self.own_address}) if self.own_address else frozenset()

    def is_own(self, address: str) -> bool:
        """Our address, or one of its plus-addresses."""
        if self.own_address is None:
            return False
        local, _, domain = self.own_address.partition("@")
        their_local, _, their_domain = address.partition("@")
        return their_domain == domain and their_local.split("+")[0] == local


def check_may_hand_over(actor: Actor, config: InboundConfig) -> None:
    """Who may hand over received mail: an admin, or a service the operator named, as
    itself. A service token acts for its own account's customers elsewhere, and mail may
    claim to be from anyone, so an unnamed service may not."""
    if actor.service is not None:
        raise Forbidden("mail is posted by a service as itself, not for someone else")
    if actor.is_admin:
        return
    if actor.user.role != Role.SERVICE or actor.user.username not in config.inbound_services:
        raise Forbidden(
            "mail is posted with the token of a service named in "
            "HELPWIRE_MAIL_INBOUND_SERVICES, or an admin's"
        )


def parse_domain_accounts(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for entry in text.split(","):
        if not entry.strip():
            continue
        domain, equals, account = entry.partition("=")
        if not equals or not domain.strip() or not account.strip():
            raise ValueError(
                f"HELPWIRE_MAIL_DOMAIN_ACCOUNTS: {entry.strip()!r} is not domain=account"
            )
        pairs[domain.strip().lower()] = account.strip()
    return pairs


@dataclass(frozen=True)
class Outcome:
    """What became of a message, as the doors answer it."""

    id: int
    message_id: str
    state: str
    reason: str | None
    ticket_number: int | None
    comment_id: int | None
    duplicate: bool = False


class Pipeline:
    """The one way in for mail. ``accept`` stores and processes; ``process`` (again)
    processes a stored message, for a retry from the quarantine."""

    def __init__(
        self,
        database: Database,
        storage: FileStorage,
        config: InboundConfig,
        *,
        mail: MailConfig | None = None,
    ) -> None:
        self.database = database
        self.storage = storage
        self.config = config
        # Mail out, when set up: refused senders get a polite answer.
        self.mail = mail
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def accept(self, raw: bytes, *, source: str, envelope_to: Sequence[str] = ()) -> Outcome:
        """Store ``raw`` (once: a message already stored is answered as it stands) and
        process it. Raises only when it could not be stored; then the sender (an MTA, a
        poller) keeps the message and tries again."""
        stored, duplicate = await self._store(raw, source=source, envelope_to=envelope_to)
        if duplicate:
            # Sent again because the first answer was lost: processed now if it never was.
            await self.process(stored.row_id)
            return await self.outcome(stored.row_id, duplicate=True)
        # Stored already taken for processing by this process: no other takes it meanwhile.
        return await self._run(stored, raw)

    async def _store(
        self, raw: bytes, *, source: str, envelope_to: Sequence[str]
    ) -> tuple[_Take, bool]:
        headers = read_headers(raw)
        message_id = message_id_of(headers, raw)
        now = utcnow()
        # A message seen before is refused by the unique Message-ID (no look first: one
        # round trip less for every message, and a duplicate is the rare case).
        row = MailMessage(
            direction="in",
            message_id=message_id,
            kind="inbound",
            sender=(addresses(headers, "from") or [""])[0][:254],
            recipients=addresses(headers, "to")[:50],
            cc=addresses(headers, "cc")[:50],
            subject=subject_of(headers)[:2000],
            details={"source": source, "envelope_to": list(envelope_to)[:50]},
            state=PROCESSING,
            processed_at=now,
            size=len(raw),
            created_at=now,
        )
        try:
            async with self.database.writing() as session:
                session.add(row)
                await session.flush()
                session.add(MailRaw(message_id=row.id, data=raw))
        except IntegrityError:
            # The same message came in at the same moment through another door.
            existing = await self._existing(message_id)
            if existing is None:
                raise
            return _Take(existing, now, message_id), True
        return _Take(row.id, now, message_id), False

    async def _existing(self, message_id: str) -> int | None:
        async with self.database.reader() as session:
            found: int | None = await session.scalar(
                select(MailMessage.id).where(
                    MailMessage.direction == "in", MailMessage.message_id == message_id
                )
            )
            return found

    async def outcome(self, row_id: int, *, duplicate: bool = False) -> Outcome:
        """What became of a stored message, as it stands."""
        async with self.database.reader() as session:
            row, number = (
                await session.execute(
                    select(MailMessage, Ticket.number)
                    .outerjoin(Ticket, Ticket.id == MailMessage.ticket_id)
                    .where(MailMessage.id == row_id)
                )
            ).one()
            return Outcome(
                id=row.id,
                message_id=row.message_id,
                state=row.state or PROCESSING,
                reason=row.reason,
                ticket_number=number,
                comment_id=row.comment_id,
                duplicate=duplicate,
            )

    async def process(self, row_id: int, *, again: bool = False) -> Outcome:
        """Make the stored message a comment or a ticket, or say why not. Never raises
        for the message's sake: whatever goes wrong ends in the quarantine. Only a message
        not yet processed is (``again``: one waiting in the quarantine too), and only by
        one process at a time: it is taken first."""
        taken_at = await self._take(row_id, again=again)
        if taken_at is None:
            return await self.outcome(row_id)
        async with self.database.reader() as session:
            raw, message_id = (
                await session.execute(
                    select(MailRaw.data, MailMessage.message_id)
                    .join(MailMessage, MailMessage.id == MailRaw.message_id)
                    .where(MailRaw.message_id == row_id)
                )
            ).one()
        return await self._run(_Take(row_id, taken_at, message_id), raw)

    async def _run(self, take: _Take, raw: bytes) -> Outcome:
        """Process a message this process has taken."""
        try:
            done = await self._process(take, raw)
        except TakenOver:
            log.warning("a message was taken over while processing", extra={"id": take.row_id})
            return await self.outcome(take.row_id)
        except Exception as exc:  # the poller and the listener must never die of one message
            reason = exc.detail if isinstance(exc, Problem) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, Problem | Unreadable):
                log.exception("mail processing failed", extra={"mail_message": take.row_id})
            done = _Done(QUARANTINED, str(reason)[:2000])
            try:
                await self._finish(take, done)
            except TakenOver:
                return await self.outcome(take.row_id)
        return Outcome(
            id=take.row_id,
            message_id=take.message_id,
            state=done.state,
            reason=done.reason,
            ticket_number=done.ticket_number,
            comment_id=done.comment_id,
        )

    async def _take(self, row_id: int, *, again: bool) -> datetime | None:
        """When this process took the message, or None when it is not one to take (taken
        by another, or done)."""
        states = WAITING if again else ()
        now = utcnow()
        taking = (
            update(MailMessage)
            .where(
                MailMessage.id == row_id,
                or_(
                    MailMessage.state.in_(states),
                    and_(
                        MailMessage.state == PROCESSING,
                        MailMessage.processed_at < now - STALE_AFTER,
                    ),
                ),
            )
            .values(state=PROCESSING, processed_at=now)
        )
        async with self.database.writing() as session:
            result = await session.execute(taking)
            return now if getattr(result, "rowcount", 0) else None

    async def process_waiting(self) -> int:
        """Process what a process took and never finished (it stopped in between); how
        many."""
        stale = utcnow() - STALE_AFTER
        async with self.database.reader() as session:
            ids = (
                await session.scalars(
                    select(MailMessage.id)
                    .where(
                        MailMessage.direction == "in",
                        MailMessage.state == PROCESSING,
                        MailMessage.processed_at < stale,
                    )
                    .order_by(MailMessage.id)
                    .limit(1000)
                )
            ).all()
        for row_id in ids:
            await self.process(row_id)
        return len(ids)

    async def _process(self, take: _Take, raw: bytes) -> _Done:
        if len(raw) > self.config.max_bytes:
            raise Unreadable(
                f"{len(raw)} bytes, more than HELPWIRE_MAIL_MAX_BYTES ({self.config.max_bytes})"
            )
        mail = parse(raw, own_addresses=self.config.own_addresses)
        if mail.noise is not None:
            done = _Done(IGNORED, mail.noise)
            async with self.database.writing() as session:
                # Recorded with the ticket it answers, if any; never filed.
                answered = await _thread_match(session, mail.answers)
                if answered is not None:
                    done = _Done(IGNORED, mail.noise, answered.ticket_id, answered.number)
                await _finish_row(session, take, done)
            return done
        if not mail.sender:
            raise Unreadable("the message has no From address")
        if mail.forged is not None:
            raise Unreadable(f"the receiving mail server found the sender forged: {mail.forged}")
        if not await self._limiter.hit(self.config.sender_limit, "mail", mail.sender):
            raise Unreadable(
                f"{mail.sender} sent more than {self.config.sender_limit} "
                "(HELPWIRE_MAIL_SENDER_LIMIT); retry it from the quarantine"
            )
        stored, left_out = await self._store_files(mail.attachments)
        filed = False
        try:
            done = await self._file_mail(take, mail, stored, left_out)
            filed = done.state == PROCESSED
            return done
        finally:
            if not filed:  # refused, or failed: the bytes stored for it go too
                await self._forget(stored)

    async def _forget(self, stored: list[File]) -> None:
        for row in stored:
            with contextlib.suppress(OSError):
                await self.storage.delete(row.storage_key)

    async def _store_files(self, attachments: list[Attachment]) -> tuple[list[File], list[str]]:
        """The attachments' bytes, stored before the transaction (as uploads are), and the
        names of those over the limits, which stay in the original message and are named
        in the comment."""
        rows: list[File] = []
        left_out: list[str] = []
        try:
            for position, attachment in enumerate(attachments):
                too_many = position >= self.config.max_files
                if too_many or len(attachment.data) > self.config.max_file_bytes:
                    left_out.append(attachment.filename)
                    continue
                rows.append(await self._store_file(attachment))
        except BaseException:
            await self._forget(rows)
            raise
        return rows, left_out

    async def _store_file(self, attachment: Attachment) -> File:
        return await save_upload(
            storage=self.storage,
            uploader_id=0,  # set to the sender once known, before the row is added
            filename=attachment.filename,
            content_type=attachment.content_type,
            source=io.BytesIO(attachment.data),
            max_bytes=self.config.max_file_bytes,
        )

    async def _file_mail(
        self, take: _Take, mail: ParsedMail, files: list[File], left_out: list[str]
    ) -> _Done:
        async with self.database.writing() as session:
            sender = await _user_by_address(session, mail.sender)
            if sender is None:
                sender = await self._new_customer(session, mail)
                if sender is None:
                    done = _Done(REFUSED, await self._refuse(session, mail))
                    await _finish_row(session, take, done)
                    return done
            if not sender.is_active:
                raise Unreadable(f"{mail.sender} belongs to a disabled user")
            actor = await load_actor(session, user=sender)
            match = await self._match(session, mail, actor)
            if actor.is_staff and not self._staff_proven(mail, match):
                raise Unreadable(
                    f"{mail.sender} is staff, but the message does not answer one that was "
                    "sent to that address (or its Reply-To differs): it never acts as staff"
                )
            for file in files:
                file.uploader_id = sender.id
                await record_upload(session, row=file)
            filed, comment_id = await self._file_into(session, actor, match, mail, files, left_out)
            # Only from mail that proved it belongs to the ticket (or filed it): with a
            # ticket's number in the subject alone, anyone could copy themselves in.
            proven = filed is not match.ticket or match.signed
            if self.config.cc_from_mail and not actor.is_staff and mail.cc and proven:
                await self._copy_cc(session, filed, mail, actor)
            done = _Done(PROCESSED, None, filed.id, filed.number, comment_id)
            await _finish_row(session, take, done)
            return done

    async def _file_into(
        self,
        session: AsyncSession,
        actor: Actor,
        match: _Match,
        mail: ParsedMail,
        files: list[File],
        left_out: list[str],
    ) -> tuple[Ticket, int]:
        """The comment on the ticket answered, or a new ticket (a closed one's follow-up
        when it answers that); the ticket and the comment's id."""
        answered = match.ticket
        if answered is None or Status(answered.status) == Status.CLOSED:
            return await self._new_ticket(session, actor, mail, files, answered, left_out)
        return answered, await self._comment(session, actor, answered, mail, files, left_out)

    async def _match(self, session: AsyncSession, mail: ParsedMail, actor: Actor) -> _Match:
        """The ticket the message answers, and how it was recognised."""
        answered = await _thread_match(session, mail.answers)
        if answered is not None:
            threaded = await session.get_one(Ticket, answered.ticket_id)
            to_sender = mail.sender in answered.recipients
            return _Match(threaded, signed=answered.ours, to_sender=answered.ours and to_sender)
        addressed = await self._by_reply_address(session, mail)
        if addressed is not None:
            return _Match(addressed, signed=True)
        match = _SUBJECT_NUMBER.search(mail.subject)
        if match is not None:
            try:
                found = await tickets.get_ticket(session, actor=actor, number=int(match[1]))
            except NotFound:
                return _Match(None)  # not theirs to answer: a new ticket
            return _Match(found)
        return _Match(None)

    async def _by_reply_address(self, session: AsyncSession, mail: ParsedMail) -> Ticket | None:
        box = box_for(session.get_bind().dialect)
        for address in mail.recipients:
            if not self.config.is_own(address):
                continue
            token = address.partition("@")[0].partition("+")[2]
            number = reply_token_number(token)
            if number is None:
                continue
            ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
            if ticket is not None and reply_token_matches(box, token, uid=ticket.uid):
                return ticket
        return None

    @staticmethod
    def _staff_proven(mail: ParsedMail, match: _Match) -> bool:
        """A From line is easy to forge, and every requester and CC holds the Message-IDs
        of the mail they were sent: mail acts as staff only when it answers a message
        helpwire sent to that very staff address, with no Reply-To elsewhere."""
        mismatched = any(address != mail.sender for address in mail.reply_to)
        return match.to_sender and not mismatched

    async def _new_customer(self, session: AsyncSession, mail: ParsedMail) -> User | None:
        """A customer for an unknown sender, in the account their domain names (or the
        default one); None when the settings refuse them."""
        if self.config.unknown_senders != "create":
            return None
        domain = mail.sender.partition("@")[2]
        key = self.config.domain_accounts.get(domain) or self.config.default_account
        if key is None:
            return None
        account = await session.scalar(select(Account).where(Account.key == key))
        if account is None:
            raise Unreadable(f"the account {key!r} named in the mail settings does not exist")
        address = normalize_address(mail.sender)
        return await accounts.create_user(
            session,
            new=accounts.NewUser(
                username=await _free_username(session, address),
                role=Role.CUSTOMER,
                email=address,
                real_name=mail.sender_name[:255],
                account_key=account.key,
                # Someone the mail made a customer sees their own tickets, not the whole
                # account's: an admin widens that once they know who it is.
                account_wide=False,
            ),
        )

    async def _refuse(self, session: AsyncSession, mail: ParsedMail) -> str:
        """Why the sender is refused; told so, where mail goes out, within a limit for
        all senders together: From lines are forged, and the answers must not become a
        way to have mail sent to many addresses (backscatter)."""
        reason = self._refusal(mail)
        if self.mail is None or self.config.is_own(mail.sender):
            return reason
        if not await self._limiter.hit(REFUSALS_ANSWERED, "mail-refusals"):
            return reason + f"; not told (more than {REFUSALS_ANSWERED} refusals answered)"
        await queue_refusal(
            session, self.mail, to=mail.sender, subject=mail.subject, answers=mail.message_id
        )
        return reason + "; the sender was told"

    def _refusal(self, mail: ParsedMail) -> str:
        if self.config.unknown_senders != "create":
            return f"{mail.sender} is not a user, and HELPWIRE_MAIL_UNKNOWN_SENDERS=refuse"
        return (
            f"{mail.sender} is not a user, and no account takes its domain "
            "(HELPWIRE_MAIL_DOMAIN_ACCOUNTS, HELPWIRE_MAIL_DEFAULT_ACCOUNT)"
        )

    async def _new_ticket(
        self,
        session: AsyncSession,
        actor: Actor,
        mail: ParsedMail,
        files: list[File],
        closed: Ticket | None,
        left_out: list[str],
    ) -> tuple[Ticket, int]:
        """A new ticket; the follow-up of ``closed`` when the mail answers a closed one."""
        text = mail.text if closed is None else latest_reply(mail.text)
        subject = _SUBJECT_NUMBER.sub("", mail.subject).strip() or "(no subject)"
        new = TicketCreate(
            subject=subject[:MAX_SUBJECT_CHARS],
            body=_body(text, left_out),
            files=[f.id for f in files],
            follow_up_of=closed.number if closed is not None else None,
        )
        ticket = await tickets.create_ticket(
            session, actor=actor, new=new, via="email", max_files=self.config.max_files
        )
        comment_id = await _first_comment_id(session, ticket)
        return ticket, comment_id

    async def _comment(
        self,
        session: AsyncSession,
        actor: Actor,
        ticket: Ticket,
        mail: ParsedMail,
        files: list[File],
        left_out: list[str],
    ) -> int:
        try:
            lifecycle.check_can_comment(Status(ticket.status))
        except Conflict as exc:
            raise Unreadable(f"ticket {ticket.number}: {exc.detail}") from None
        # The sender must be someone who may see the ticket.
        ticket = await tickets.get_ticket(
            session, actor=actor, number=ticket.number, for_update=True
        )
        comment = await tickets.add_comment_to(
            session,
            actor=actor,
            ticket=ticket,
            body=_body(latest_reply(mail.text), left_out),
            body_format=BodyFormat.TEXT,
            internal=False,
            file_ids=[f.id for f in files],
            max_files=self.config.max_files,
        )
        return comment.id

    async def _copy_cc(
        self, session: AsyncSession, ticket: Ticket, mail: ParsedMail, actor: Actor
    ) -> None:
        """The mail's Cc addresses join the ticket's, recorded like a change by hand."""
        current = await cc_of(session, ticket=ticket)
        left_out = set(current) | {(ticket.requester.email or "").lower(), mail.sender}
        added: list[str] = []
        for address in mail.cc:
            if len(current) + len(added) >= MAX_CC:
                break
            if address in left_out or self.config.is_own(address):
                continue
            try:
                normalized = normalize_address(address)
            except ValueError:
                continue
            session.add(
                TicketCc(
                    ticket_id=ticket.id,
                    address=normalized,
                    added_by_id=actor.user.id,
                    created_at=utcnow(),
                )
            )
            left_out.add(normalized)
            added.append(normalized)
        if added:
            await record_cc_change(session, actor, ticket, current, [*current, *added])

    async def _finish(self, take: _Take, done: _Done) -> None:
        async with self.database.writing() as session:
            await _finish_row(session, take, done)


@dataclass(frozen=True)
class _Take:
    """A message this process took for processing, and when (the row's processed_at)."""

    row_id: int
    at: datetime
    message_id: str


@dataclass(frozen=True)
class _Done:
    """What processing came to."""

    state: str
    reason: str | None
    ticket_id: int | None = None
    ticket_number: int | None = None
    comment_id: int | None = None


async def _finish_row(session: AsyncSession, take: _Take, done: _Done) -> None:
    """The outcome, written only while the row is still this process's take: one that
    took longer than STALE_AFTER may have been taken over, and then its work is rolled
    back rather than filed twice."""
    query = update(MailMessage).where(
        MailMessage.id == take.row_id,
        MailMessage.state == PROCESSING,
        MailMessage.processed_at == take.at,
    )
    result = await session.execute(
        query.values(
            state=done.state,
            reason=done.reason[:2000] if done.reason else None,
            ticket_id=done.ticket_id,
            comment_id=done.comment_id,
            processed_at=utcnow(),
        )
    )
    if not getattr(result, "rowcount", 1):
        raise TakenOver(f"message {take.row_id} was taken over by another process")


class TakenOver(RuntimeError):
    """This process's take of a message ran out and another process has it now."""


@dataclass(frozen=True)
class _Answered:
    ticket_id: int
    number: int
    ours: bool  # one of the messages helpwire sent
    recipients: frozenset[str]  # whom that message went to (To and Cc)


@dataclass(frozen=True)
class _Match:
    """The ticket a message answers, and how it was recognised: ``signed``, by a message
    helpwire sent or the signed reply address (not by a number anyone can write);
    ``to_sender``, by a message helpwire sent to the sender's own address."""

    ticket: Ticket | None
    signed: bool = False
    to_sender: bool = False


async def _thread_match(session: AsyncSession, message_ids: Sequence[str]) -> _Answered | None:
    """The ticket the message answers: the first of ``message_ids`` that helpwire sent,
    else the first it received and filed."""
    if not message_ids:
        return None
    query = (
        select(MailMessage, Ticket.number)
        .join(Ticket, Ticket.id == MailMessage.ticket_id)
        .where(MailMessage.message_id.in_(list(message_ids)[:50]))
    )
    found = {
        (row.message_id, row.direction): (row, number)
        for row, number in (await session.execute(query)).tuples()
    }
    for direction in ("out", "in"):
        for message_id in message_ids:
            hit = found.get((message_id, direction))
            if hit is not None:
                row, number = hit
                return _Answered(
                    ticket_id=hit[0].ticket_id or 0,
                    number=number,
                    ours=direction == "out",
                    recipients=frozenset(a.lower() for a in [*row.recipients, *row.cc]),
                )
    return None


async def _user_by_address(session: AsyncSession, address: str) -> User | None:
    user: User | None = await session.scalar(select(User).where(User.email == address))
    return user


async def _free_username(session: AsyncSession, address: str) -> str:
    base = _USERNAME_UNSAFE.sub("-", address)[:140].strip(".-_:@") or "customer"
    candidate, number = base, 1
    while await session.scalar(select(User.id).where(User.username == candidate)) is not None:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


async def _first_comment_id(session: AsyncSession, ticket: Ticket) -> int:
    found = await session.scalar(
        select(Comment.id).where(Comment.ticket_id == ticket.id).order_by(Comment.id).limit(1)
    )
    assert found is not None
    return int(found)


def _body(text: str, left_out: list[str]) -> str:
    body = text.strip() or "(no text)"
    if left_out:
        body += "\n\n(Attachments over the limits, in the original message: "
        body += ", ".join(left_out) + ")"
    if len(body) > MAX_BODY_CHARS:
        body = body[: MAX_BODY_CHARS - len(_TOO_LONG)] + _TOO_LONG
    return body
