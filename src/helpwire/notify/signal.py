"""Waking relays the moment an outbox write commits.

In one process: the wake-up signal named OUTBOX_SIGNAL of the Database's subscribers
(db/subscribers.py), set after a commit that wrote deliveries; each running relay waits on
it. Across processes (PostgreSQL): the writing transaction also sends
NOTIFY helpwire_outbox, which PostgreSQL delivers at commit, and relays LISTEN for it.
Relays also poll, so a lost wake-up only delays a delivery, never loses it; a LISTEN
connection the database dropped is opened again by the relay (relay.py), followed by a
claim pass for what was committed meanwhile.
"""

from __future__ import annotations

PG_CHANNEL = "helpwire_outbox"
OUTBOX_SIGNAL = "notify.outbox"
