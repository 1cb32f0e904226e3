"""How fast the interpreter runs right now, printed beside a benchmark's figures.

The machine's speed changes from spell to spell (other work shares its host). A ratio
whose baseline is not bound by the interpreter (raw saves wait on the database's
flushes) moves with it, and so does every absolute rate: this gauge says which spell
a run was in. About 1.0 s on this machine when idle and quick.
"""

from __future__ import annotations

import time

ADDITIONS = 10_000_000


def interpreter_seconds() -> float:
    """Seconds for a plain loop of ten million additions (the best of three)."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(ADDITIONS):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def speed_line() -> str:
    return f"interpreter: {interpreter_seconds():.2f} s for ten million additions"
