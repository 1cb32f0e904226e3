"""How fast the interpreter runs right now, printed beside a benchmark's figures.

The machine's speed changes from spell to spell (other work shares its host), and so
does every absolute rate. This gauge is one reading of it: a plain loop, which took
0.62-1.49 s on machines of this size. It does not see everything that slows a run
(memory, the host's other load on the database): read it beside the baselines.
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


def speed_line(before: float | None = None) -> str:
    """The gauge read now, after `before` (a reading taken as the run began) if given."""
    now = interpreter_seconds()
    read = f"{now:.2f} s" if before is None else f"{before:.2f} s before the run, {now:.2f} s after"
    return f"interpreter: {read} for ten million additions (see bench/machine.py)"
