"""The status machine: new -> open -> pending | hold -> solved -> closed.

Staff may move a ticket between any two of the working states; closed is left only by
reopening (back to open), which also works from solved. Each rule that refuses a move
says why, and the API answers 409 with that reason.
"""

from __future__ import annotations

from helpwire.problems import IllegalTransition
from helpwire.tickets.models import Priority, Status

ALLOWED_MOVES: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.HOLD, Status.SOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.PENDING, Status.HOLD, Status.SOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.HOLD, Status.SOLVED, Status.CLOSED}),
    Status.HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.PENDING, Status.HOLD, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}

# A reply from the customer side brings these back to support's attention.
REOPENED_BY_CUSTOMER_REPLY = frozenset({Status.PENDING, Status.SOLVED})
REOPENABLE = frozenset({Status.SOLVED, Status.CLOSED})
RATABLE = frozenset({Status.SOLVED, Status.CLOSED})


def check_move(current: Status, target: Status) -> None:
    if target == current:
        return
    if target == Status.NEW:
        raise IllegalTransition(
            f"a ticket cannot go back to new (it is {current})",
            current_status=current.value,
            requested_status=target.value,
        )
    if current == Status.CLOSED:
        raise IllegalTransition(
            "the ticket is closed; reopen it to work on it again",
            current_status=current.value,
            requested_status=target.value,
        )
    if target not in ALLOWED_MOVES[current]:
        raise IllegalTransition(
            f"a {current} ticket cannot move to {target}",
            current_status=current.value,
            requested_status=target.value,
        )


def check_can_comment(current: Status) -> None:
    if current == Status.CLOSED:
        raise IllegalTransition(
            "the ticket is closed and takes no more comments; reopen it first",
            current_status=current.value,
        )


def check_can_close(current: Status) -> None:
    if current == Status.CLOSED:
        raise IllegalTransition("the ticket is closed already", current_status=current.value)


def check_can_reopen(current: Status) -> None:
    if current not in REOPENABLE:
        raise IllegalTransition(
            f"only solved or closed tickets can be reopened (it is {current})",
            current_status=current.value,
        )


def check_can_rate(current: Status) -> None:
    if current not in RATABLE:
        raise IllegalTransition(
            f"a ticket can be rated once it is solved or closed (it is {current})",
            current_status=current.value,
        )


def check_can_escalate(current: Status, *, priority: Priority, escalated: bool) -> None:
    """Escalating makes a ticket urgent: not for a closed one, nor one urgent already."""
    if current == Status.CLOSED:
        raise IllegalTransition("a closed ticket cannot be escalated", current_status=current.value)
    if escalated or priority == Priority.URGENT:
        raise IllegalTransition(
            "the ticket is urgent already", current_priority=priority.value, escalated=escalated
        )


def can_escalate(current: Status, *, priority: Priority, escalated: bool) -> bool:
    """Whether :func:`check_can_escalate` lets the ticket be escalated (for offering it)."""
    try:
        check_can_escalate(current, priority=priority, escalated=escalated)
    except IllegalTransition:
        return False
    return True
