"""A numbering lock and the command under it on one PostgreSQL session.

An account's writers queue for its invoice numbers on a session advisory lock
(`PostgresDatabase.hold`). Taken on a session of its own, the lock cost a command two
round trips of its own (lock, unlock) beside its reads and its save, and stayed held
after the save's COMMIT until the command's thread woke again to send the unlock: under
load, that wake-up waited for a core, and every writer of the account waited with it.

So while a thread holds the lock, the command's row reads and its save go on the
session that holds it (`current`): the lock is asked for in the same round trip as the
first read after it (pipelined: the server takes the lock, then reads), and given back
in the same message as the save's COMMIT. A read or save that goes elsewhere (the event
store's own reads, on a retry) first takes the lock alone (`ensure_locked`), so nothing
of the counter is read before the lock is granted. A hold ends with one save: once that
save has given the lock back, the block's later reads (work after the commit) go to the
pools as any other's, and never wait for the lock again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

LOCK_SQL = "SELECT pg_advisory_lock(%s)"


def unlock_sql(key: int) -> str:
    """The unlock as a statement of its own, with the key written out (an integer)."""
    return f"SELECT pg_advisory_unlock({int(key)})"


@dataclass
class Held:
    """A session advisory lock: the connection that holds (or will hold) it, its key,
    and the database object that took it (whose reads, and whose store's saves, go on
    its session)."""

    conn: Any
    key: int
    owner: object
    sent: bool = False  # the lock statement went to the server
    released: bool = False  # a save gave it back, right after its COMMIT

    def ensure_locked(self) -> None:
        """Take the lock now if it is not asked for yet (a read elsewhere follows)."""
        if not self.sent and not self.released:
            self.sent = True  # first: a lock taken twice would need two unlocks
            self.conn.execute(LOCK_SQL, (self.key,))

    def serves(self, owner: object) -> bool:
        """Whether `owner`'s reads and saves go on this session: until a save."""
        return not self.released and self.owner is owner


_local = threading.local()


def current() -> Held | None:
    """The innermost lock this thread holds, if any."""
    stack: list[Held] | None = getattr(_local, "stack", None)
    return stack[-1] if stack else None


def held_by(owner: object) -> Held | None:
    """The lock this thread holds whose session still serves `owner`'s reads and saves."""
    held = current()
    return held if held is not None and held.serves(owner) else None


@contextmanager
def holding(held: Held) -> Iterator[Held]:
    stack: list[Held] = getattr(_local, "stack", None) or []
    _local.stack = stack
    stack.append(held)
    try:
        yield held
    finally:
        stack.pop()
