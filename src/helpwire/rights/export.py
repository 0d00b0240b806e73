"""Everything helpwire keeps about one person, as a zip: ``person.json`` and the bytes of
the files they uploaded under ``files/``.

The document holds their profile, project and group memberships, the tickets they
requested (as their requester sees them: no internal notes), every comment they wrote, the
ratings they gave, their API tokens' and web sessions' metadata (never a token, hash or
cookie), the timeline events they made, and what the audit log says of them. The export
is bounded: more than HELPWIRE_EXPORT_MAX_BYTES of files, or more than EXPORT_MAX_ROWS
rows of one kind, is refused (413) rather than cut short, so an export is always whole."""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import ApiToken, Project, ProjectMember, User, WebSession
from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.audit.models import AuditEntry
from helpwire.audit.service import entries_about
from helpwire.files.models import File
from helpwire.files.storage import FileStorage
from helpwire.groups.models import Group, GroupMember
from helpwire.problems import FileBytesMissing, PayloadTooLarge
from helpwire.tickets.models import Comment, Event, Ticket

EXPORT_MAX_ROWS = 50_000
FORMAT_VERSION = 1
# Zips smaller than this stay in memory while they are built; larger ones spill to disk.
IN_MEMORY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ExportFile:
    id: str
    filename: str
    storage_key: str
    size: int

    @property
    def path(self) -> str:
        """Its name in the zip: unique by id, readable by the file's own name."""
        return f"files/{self.id}/{self.filename.replace('/', '_') or 'file'}"


@dataclass(frozen=True)
class ExportPlan:
    document: dict[str, Any]
    files: list[ExportFile]


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _rows(session: AsyncSession, query: Select[Any], what: str) -> list[Any]:
    rows = list((await session.scalars(query.limit(EXPORT_MAX_ROWS + 1))).unique())
    if len(rows) > EXPORT_MAX_ROWS:
        raise PayloadTooLarge(
            f"more than {EXPORT_MAX_ROWS} {what}: too many for one export; "
            "ask the operator for a database extract"
        )
    return rows


async def plan_export(session: AsyncSession, *, user: User, max_bytes: int) -> ExportPlan:
    """What the export of ``user`` holds; PayloadTooLarge (413) past the limits."""
    files = [
        ExportFile(id=f.id, filename=f.filename, storage_key=f.storage_key, size=f.size)
        for f in await _rows(
            session, select(File).where(File.uploader_id == user.id).order_by(File.id), "files"
        )
    ]
    total = sum(f.size for f in files)
    if total > max_bytes:
        raise PayloadTooLarge(
            f"their files hold {total} bytes, more than the {max_bytes} one export may "
            "carry (HELPWIRE_EXPORT_MAX_BYTES)"
        )
    document = {
        "format": "helpwire.person-export",
        "version": FORMAT_VERSION,
        "profile": _profile(user),
        "memberships": await _memberships(session, user=user),
        "tickets_requested": await _tickets(session, user=user),
        "comments_written": await _comments(session, user=user),
        "ratings": await _ratings(session, user=user),
        "api_tokens": await _tokens(session, user=user),
        "web_sessions": await _sessions(session, user=user),
        "events_made": await _events(session, user=user),
        "audit_log": [
            _audit_entry(e, about_them=e.subject_user_id == user.id)
            for e in await entries_about(session, user_id=user.id)
        ],
        "files": [
            {"id": f.id, "filename": f.filename, "size": f.size, "path": f.path} for f in files
        ],
    }
    return ExportPlan(document=document, files=files)


def _audit_entry(entry: AuditEntry, *, about_them: bool) -> dict[str, Any]:
    """An entry about them in full; one they made about something else without its
    before and after, which may hold other people's data (an admin's edits of users)."""
    shown: dict[str, Any] = {
        "at": _time(entry.at),
        "actor": entry.actor_name,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_key": entry.target_key,
    }
    if about_them:
        shown |= {"before": entry.before, "after": entry.after}
    return shown


def _profile(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "real_name": user.real_name,
        "role": user.role,
        "account": user.account.key if user.account else None,
        "language": user.language,
        "is_active": user.is_active,
        "has_password": user.password_hash is not None,
        "created_at": _time(user.created_at),
        "erased_at": _time(user.erased_at),
    }


async def _memberships(session: AsyncSession, *, user: User) -> dict[str, list[str]]:
    projects = await session.scalars(
        select(Project.key)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(ProjectMember.user_id == user.id)
        .order_by(Project.key)
    )
    groups = await session.scalars(
        select(Group.key)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user.id)
        .order_by(Group.key)
    )
    return {"projects": list(projects), "groups": list(groups)}


async def _tickets(session: AsyncSession, *, user: User) -> list[dict[str, Any]]:
    query = select(Ticket).where(Ticket.requester_id == user.id).order_by(Ticket.id)
    tickets = await _rows(session, query, "tickets")
    public = await _public_comments(session, ticket_ids=[t.id for t in tickets])
    return [
        {
            "number": t.number,
            "uid": t.uid,
            "subject": t.subject,
            "type": t.type,
            "priority": t.priority,
            "status": t.status,
            "account": t.account.key if t.account else None,
            "via": t.via,
            "context": t.context,
            "attributes": t.attributes,
            "created_at": _time(t.created_at),
            "updated_at": _time(t.updated_at),
            "solved_at": _time(t.solved_at),
            "closed_at": _time(t.closed_at),
            "conversation": public.get(t.id, []),
        }
        for t in tickets
    ]


async def _public_comments(
    session: AsyncSession, *, ticket_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """The conversation of their tickets as they see it: public comments only, the
    authors by name (staff's e-mail is theirs, not the requester's)."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not ticket_ids:
        return found
    query = (
        select(Comment)
        .where(Comment.ticket_id.in_(list(ticket_ids)), Comment.internal.is_(False))
        .order_by(Comment.id)
    )
    for c in await _rows(session, query, "comments on their tickets"):
        found.setdefault(c.ticket_id, []).append(
            {
                "id": c.id,
                "author": c.author.real_name or c.author.username,
                "body": c.body,
                "created_at": _time(c.created_at),
            }
        )
    return found


async def _comments(session: AsyncSession, *, user: User) -> list[dict[str, Any]]:
    query = select(Comment).where(Comment.author_id == user.id).order_by(Comment.id)
    rows = await _rows(session, query, "comments")
    numbers = await _numbers(session, ticket_ids={c.ticket_id for c in rows})
    return [
        {
            "id": c.id,
            "ticket": numbers.get(c.ticket_id),
            "body": c.body,
            "body_format": c.body_format,
            "internal": c.internal,
            "files": [f.id for f in c.files],
            "created_at": _time(c.created_at),
        }
        for c in rows
    ]


async def _numbers(session: AsyncSession, *, ticket_ids: set[int]) -> dict[int, int]:
    if not ticket_ids:
        return {}
    rows = await session.execute(
        select(Ticket.id, Ticket.number).where(Ticket.id.in_(sorted(ticket_ids)))
    )
    return {row.id: row.number for row in rows}


async def _ratings(session: AsyncSession, *, user: User) -> list[dict[str, Any]]:
    """Ratings of their tickets and of the replies on them (the requester rates both)."""
    tickets = await session.execute(
        select(Ticket.number, Ticket.rating_score, Ticket.rating_comment, Ticket.rated_at)
        .where(Ticket.requester_id == user.id, Ticket.rating_score.is_not(None))
        .order_by(Ticket.id)
    )
    replies = await session.execute(
        select(Ticket.number, Comment.id, Comment.rating_score, Comment.rating_comment)
        .join(Ticket, Ticket.id == Comment.ticket_id)
        .where(Ticket.requester_id == user.id, Comment.rating_score.is_not(None))
        .order_by(Comment.id)
    )
    return [
        {"ticket": r.number, "score": r.rating_score, "comment": r.rating_comment}
        | {"rated_at": _time(r.rated_at)}
        for r in tickets
    ] + [
        {"ticket": r.number, "reply": r.id, "score": r.rating_score, "comment": r.rating_comment}
        for r in replies
    ]


async def _tokens(session: AsyncSession, *, user: User) -> list[dict[str, Any]]:
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    return [
        {
            "id": t.id,
            "label": t.label,
            "prefix": t.prefix,
            "created_at": _time(t.created_at),
            "revoked_at": _time(t.revoked_at),
        }
        for t in await _rows(session, query, "tokens")
    ]


async def _sessions(session: AsyncSession, *, user: User) -> list[dict[str, Any]]:
    query = select(WebSession).where(WebSession.user_id == user.id)
    query = query.order_by(WebSession.created_at)
    return [
        {
            "user_agent": s.user_agent,
            "created_at": _time(s.created_at),
            "expires_at": _time(s.expires_at),
        }
        for s in await _rows(session, query, "web sessions")
    ]


async def _events(session: AsyncSession, *, user: User) -> list[dict[str, Any]]:
    query = select(Event).where(Event.actor_id == user.id).order_by(Event.id)
    rows = await _rows(session, query, "timeline events")
    numbers = await _numbers(session, ticket_ids={e.ticket_id for e in rows})
    return [
        {
            "ticket": numbers.get(e.ticket_id),
            "type": e.type,
            "internal": e.internal,
            "data": e.data,
            "at": _time(e.created_at),
        }
        for e in rows
    ]


async def record_export(session: AsyncSession, *, user: User, plan: ExportPlan) -> None:
    """Who took a copy of whose data, and how much of it: the audit log keeps it."""
    document = plan.document
    await audit(
        session,
        action="user.exported",
        target_type=TargetType.USER,
        target_key=user.username,
        after={
            "tickets": len(document["tickets_requested"]),
            "comments": len(document["comments_written"]),
            "files": len(plan.files),
            "bytes": sum(f.size for f in plan.files),
        },
        subject_user_id=user.id,
    )


async def write_zip(plan: ExportPlan, *, storage: FileStorage) -> IO[bytes]:
    """The zip, rewound, in a temporary file (in memory while small): built before the
    answer starts, so a file whose bytes are missing is an error, not a truncated zip."""
    out = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            text = json.dumps(plan.document, indent=2, ensure_ascii=False, default=str)
            archive.writestr("person.json", text)
            for file in plan.files:
                # Stored, not deflated: uploads are mostly compressed already.
                info = zipfile.ZipInfo(file.path)
                info.compress_type = zipfile.ZIP_STORED
                with archive.open(info, "w", force_zip64=True) as member:
                    try:
                        async for chunk in storage.open_chunks(file.storage_key):
                            member.write(chunk)
                    except FileNotFoundError:
                        raise FileBytesMissing(
                            f"the bytes of file {file.id} are missing from the file storage"
                        ) from None
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


async def chunks_of(stream: IO[bytes], *, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    """The zip's bytes for a streamed answer; the temporary file is closed at the end."""
    try:
        while chunk := stream.read(size):
            yield chunk
    finally:
        stream.close()
