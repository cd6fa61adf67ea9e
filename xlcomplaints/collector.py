"""Python's cycle collector paused while a flow's records pile up (refresh, validate, a report's read)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while records or cases pile up.

    Reading a branch, planning its refresh and gathering a consolidation build many small objects
    and no reference cycles; the collector would re-scan them again and again as they accumulate
    (measured: a tenth of reading a branch, about half of indexing 100,000 cases, a tenth of a
    10,000-row refresh). Reference counting still frees everything; any cycle waits for the next
    collection.

    What is still alive afterwards is moved to the oldest generation: left young, all of it
    would be scanned by the first collection after the pause (a third of a second after a
    consolidation of 100,000 complaints). The collector is left as it was found: paused
    inside a pause, running otherwise.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()  # every tracked object to the permanent generation...
            gc.unfreeze()  # ...and back into the oldest one, so the young ones are empty
            gc.enable()
