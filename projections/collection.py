"""The cyclic garbage collector during a rebuild.

Python examines its youngest objects every 700 new containers and, every so often,
the whole heap. A rebuild makes millions of short-lived containers (decoded events,
rows, documents) beside a large live set (the application's modules, the batch, the
aggregates kept between batches), so the collector kept walking objects that were
neither garbage nor about to be: a fifth of each rebuild process's CPU, measured with
`gc.callbacks`. Almost everything a rebuild frees, reference counting frees; the
collector still runs, only less often, and never over the heap that existed before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG = 50_000  # new containers between collections of the youngest generation


@contextmanager
def bulk_collection() -> Iterator[None]:
    """Collect rarely while the block runs; restore the collector's settings after."""
    previous = gc.get_threshold()
    gc.freeze()  # what exists now lives as long as the process: never examined again
    gc.set_threshold(YOUNG, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
