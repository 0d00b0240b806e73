"""Erasing a person: their personal data removed or anonymised, in one transaction.

What stays is what the organisation needs to keep its records whole: the user row (so the
tickets and comments that point at it stay valid) with an anonymous username, "erased user"
as its name and no e-mail, password, language or memberships; their tickets; the comments
they wrote, bodies included (the conversation is the organisation's record), but for their
e-mail address, which is replaced wherever it appears in those bodies (faces such as
UCloud's write it into the first message). Their name is not searched for in free text:
a name is too often an ordinary word to be replaced safely. What goes: their uploaded files (rows
now, bytes once the transaction commits, through a job), their API tokens (revoked) and
web sessions, their e-mail address wherever the mail tables keep it (CC lists, the
addresses of stored messages, the raw copies of messages they sent), and their name in
the audit log. Each ticket they requested or wrote on says so in its timeline, and the
audit log records the erasure itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import ApiToken, ProjectMember, Role, User, WebSession
from helpwire.accounts.service import check_admin_kept, check_not_built_in, user_snapshot
from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.audit.service import forget_person, replaced_values
from helpwire.db.base import utcnow
from helpwire.db.idempotency import IdempotencyRecord
from helpwire.files.models import File
from helpwire.groups.models import GroupMember
from helpwire.mail.models import MailMessage, MailRaw, TicketCc
from helpwire.notify.models import Delivery
from helpwire.problems import Conflict
from helpwire.rights.files import delete_bytes_later
from helpwire.search.models import SearchDocument
from helpwire.search.service import refresh_ticket_document, reindex_text
from helpwire.tickets.comments import searchable_text
from helpwire.tickets.events import EventType, record
from helpwire.tickets.models import BodyFormat, Comment, Event, Ticket
from helpwire.tickets.rendering import render_body

ERASED_NAME = "erased user"
ERASED_ADDRESS = "erased@invalid"
# Tickets loaded per query when their timelines are told.
TICKETS_PER_QUERY = 500


@dataclass(frozen=True)
class Erasure:
    username: str  # the anonymous one it has now
    erased_at: datetime
    tickets: int  # tickets whose timeline records it
    files: int  # files deleted
    tokens: int  # tokens revoked


async def erase_user(session: AsyncSession, *, user: User, by: User | None) -> Erasure:
    """Erase ``user``'s personal data (see the module). Refused (409) for a user erased
    already, for helpwire's own users, and when it would leave no active admin or is an
    admin erasing themselves; ``by`` is the admin asking (None: the command line)."""
    # Locked and read afresh: of two admins erasing the same person at once, the second
    # waits for the first and is then told it is done (PostgreSQL; SQLite has one writer).
    erased_at = await session.scalar(
        select(User.erased_at).where(User.id == user.id).with_for_update()
    )
    if erased_at is not None:
        raise Conflict(
            f"{user.username} was erased already, at {erased_at.isoformat()}; "
            "nothing personal is left to erase"
        )
    check_not_built_in(user)
    await check_admin_kept(session, user=user, by=by, role=Role(user.role), active=False)
    before = user_snapshot(user)
    old_email = user.email
    replacements = {user.username: await _anonymous_name(session, user)}
    if user.real_name:
        replacements[user.real_name] = ERASED_NAME
    if old_email:
        replacements[old_email] = ERASED_ADDRESS

    ticket_ids = await _tickets_of(session, user=user)
    await _devices_out_of_tickets(session, user=user)
    files = await _delete_files(session, user=user)
    tokens = await _revoke_access(session, user=user)
    if old_email:
        ticket_ids |= await _forget_address(session, address=old_email, ticket_ids=ticket_ids)
        await _address_out_of_bodies(session, user=user, address=old_email)

    user.username = replacements[user.username]
    user.email = None
    user.real_name = ERASED_NAME
    user.password_hash = None
    user.language = None
    user.is_active = False
    user.available = False
    user.erased_at = erased_at = utcnow()
    await session.flush()

    await forget_person(session, user_id=user.id, replacements=replacements)
    await _names_out_of_records(session, old_username=before["username"], replacements=replacements)
    await audit(
        session,
        action="user.erased",
        target_type=TargetType.USER,
        target_key=user.username,
        before=replaced_values(before, replacements),
        after=user_snapshot(user, files_deleted=files, tokens_revoked=tokens),
        subject_user_id=user.id,
    )
    await _tell_timelines(session, ticket_ids=ticket_ids, user=user, by=by)
    return Erasure(
        username=user.username,
        erased_at=erased_at,
        tickets=len(ticket_ids),
        files=files,
        tokens=tokens,
    )


async def _anonymous_name(session: AsyncSession, user: User) -> str:
    """``erased-<id>``: stable, unique, and saying nothing of the person."""
    name = f"erased-{user.id}"
    taken = await session.scalar(select(User.id).where(User.username == name, User.id != user.id))
    return name if taken is None else f"erased-{user.id}-{user.created_at:%Y%m%d%H%M%S}"


async def _tickets_of(session: AsyncSession, *, user: User) -> set[int]:
    requested = select(Ticket.id).where(Ticket.requester_id == user.id)
    wrote = select(Comment.ticket_id).where(Comment.author_id == user.id)
    return set(await session.scalars(requested.union(wrote)))


async def _devices_out_of_tickets(session: AsyncSession, *, user: User) -> None:
    """The browser a ticket was filed from describes the person's device, not the matter:
    it leaves the tickets they requested. The page and the application's info stay, as
    part of what was asked."""
    requested = await session.scalars(select(Ticket).where(Ticket.requester_id == user.id))
    for ticket in requested:
        if (ticket.context or {}).get("user_agent") is not None:
            ticket.context = {**ticket.context, "user_agent": None}


async def _delete_files(session: AsyncSession, *, user: User) -> int:
    """Their uploads: the rows and search entries now, the bytes after COMMIT."""
    rows = (
        await session.execute(
            select(File.id, File.storage_key, Comment.ticket_id)
            .outerjoin(Comment, Comment.id == File.comment_id)
            .where(File.uploader_id == user.id)
        )
    ).all()
    if not rows:
        return 0
    file_ids = [row.id for row in rows]
    await session.execute(
        delete(SearchDocument).where(
            SearchDocument.kind == "file", SearchDocument.source_id.in_(file_ids)
        )
    )
    await session.execute(delete(File).where(File.id.in_(file_ids)))
    await session.flush()
    for ticket_id in sorted({row.ticket_id for row in rows if row.ticket_id is not None}):
        await refresh_ticket_document(session, ticket_id)
    await delete_bytes_later(session, keys=[row.storage_key for row in rows])
    return len(rows)


async def _revoke_access(session: AsyncSession, *, user: User) -> int:
    """Tokens revoked (kept, as every revoked token is), browsers signed out, remembered
    answers forgotten, memberships of projects and groups ended. How many tokens were
    live."""
    revoked = await session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), label="")
    )
    await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    # The answers remembered for their Idempotency-Keys hold what they sent.
    await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user.id))
    await session.execute(delete(ProjectMember).where(ProjectMember.user_id == user.id))
    await session.execute(delete(GroupMember).where(GroupMember.user_id == user.id))
    return int(getattr(revoked, "rowcount", 0) or 0)


async def _forget_address(session: AsyncSession, *, address: str, ticket_ids: set[int]) -> set[int]:
    """The address out of CC lists and stored messages; the raw copies of the messages
    it sent deleted. The tickets it was a CC of (their timelines say so too)."""
    cc_rows = (
        await session.execute(
            select(TicketCc.id, TicketCc.ticket_id).where(TicketCc.address == address)
        )
    ).all()
    if cc_rows:
        await session.execute(delete(TicketCc).where(TicketCc.id.in_([r.id for r in cc_rows])))
    cc_tickets = {row.ticket_id for row in cc_rows}
    messages = list(
        await session.scalars(
            select(MailMessage).where(
                or_(
                    MailMessage.sender == address,
                    MailMessage.ticket_id.in_(sorted(ticket_ids | cc_tickets)),
                )
            )
        )
    )
    sent_by_them = [m.id for m in messages if m.sender == address]
    for message in messages:
        if message.sender == address:
            message.sender = ERASED_ADDRESS
        if address in message.recipients:
            message.recipients = [a if a != address else ERASED_ADDRESS for a in message.recipients]
        if address in message.cc:
            message.cc = [a for a in message.cc if a != address]
    if sent_by_them:
        await session.execute(delete(MailRaw).where(MailRaw.message_id.in_(sent_by_them)))
    await session.flush()
    return cc_tickets


async def _address_out_of_bodies(session: AsyncSession, *, user: User, address: str) -> None:
    """Their address replaced in the comments they wrote, and those comments reindexed."""
    written = await session.scalars(
        select(Comment).where(
            Comment.author_id == user.id, Comment.body.contains(address, autoescape=True)
        )
    )
    for comment in written:
        body = comment.body.replace(address, ERASED_ADDRESS)
        comment.body, comment.body_html = render_body(body, BodyFormat(comment.body_format))
        await reindex_text(
            session,
            ticket_id=comment.ticket_id,
            kind="comment",
            source_id=str(comment.id),
            text_value=searchable_text(comment),
        )
    await session.flush()


async def _names_out_of_records(
    session: AsyncSession, *, old_username: str, replacements: dict[str, str]
) -> None:
    """Their name and address where records hold them as values rather than by id: the
    timeline (an assignment names its assignee), the notifications kept in the outbox
    (a payload names the requester) and the details of stored mail. Found by the quoted
    username in the JSON's text: one scan of each table, for an act as rare as this."""
    quoted = f'"{old_username}"'
    for event in await session.scalars(
        select(Event).where(cast(Event.data, Text).contains(quoted, autoescape=True))
    ):
        event.data = replaced_values(event.data, replacements)
    for delivery in await session.scalars(
        select(Delivery).where(cast(Delivery.payload, Text).contains(quoted, autoescape=True))
    ):
        delivery.payload = replaced_values(delivery.payload, replacements)
    for message in await session.scalars(
        select(MailMessage).where(cast(MailMessage.details, Text).contains(quoted, autoescape=True))
    ):
        message.details = replaced_values(message.details, replacements)
    await session.flush()


async def _tell_timelines(
    session: AsyncSession, *, ticket_ids: set[int], user: User, by: User | None
) -> None:
    """An internal event on each ticket: staff see why a name became "erased user"."""
    ordered = sorted(ticket_ids)
    for start in range(0, len(ordered), TICKETS_PER_QUERY):
        chunk = ordered[start : start + TICKETS_PER_QUERY]
        tickets = await session.scalars(
            select(Ticket).where(Ticket.id.in_(chunk)).order_by(Ticket.id)
        )
        for ticket in tickets.unique():
            await _tell_timeline(session, ticket=ticket, user=user, by=by)


async def _tell_timeline(
    session: AsyncSession, *, ticket: Ticket, user: User, by: User | None
) -> None:
    role = "requester" if ticket.requester_id == user.id else "participant"
    await record(
        session,
        ticket=ticket,
        actor=by,
        type=EventType.PERSON_ERASED,
        data={"person": user.username, "role": role},
        internal=True,
    )
