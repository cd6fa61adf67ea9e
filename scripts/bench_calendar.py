"""Time WorkCalendar.add for 100,000 complaints x 6 stages (600,000 calls, mixed units).

Run: ``python scripts/bench_calendar.py``.  Prints timings; asserts
nothing, since speed depends on the machine (and on what else runs on it: take the
best of several runs).  Starts are spread uniformly over 2025-2026 at any second of
the day, which is harsher for working hours than real office-hours arrivals.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from xlcomplaints.core.calendar import Due, Unit, WorkCalendar

N_COMPLAINTS = 100_000
# A typical stage plan: acknowledge, assign, first reply, handle, review, close.
STAGES: list[tuple[float, Unit]] = [
    (2, Unit.HOURS),
    (4, Unit.WORKING_HOURS),
    (3, Unit.WORKING_DAYS),
    (7, Unit.CALENDAR_DAYS),
    (5, Unit.WORKING_DAYS),
    (15, Unit.CALENDAR_DAYS),
]


def make_starts(n: int, seed: int = 1) -> list[datetime]:
    rng = random.Random(seed)
    origin = datetime(2025, 1, 1)
    span = int(timedelta(days=2 * 365).total_seconds())
    return [origin + timedelta(seconds=rng.randrange(span)) for _ in range(n)]


def best_of(fn: Callable[[], object], repeats: int = 5) -> tuple[float, float]:
    """Best wall-clock and best CPU time of ``repeats`` runs (CPU time is steadier on a busy box)."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def main() -> None:
    starts = make_starts(N_COMPLAINTS)
    cal = WorkCalendar("CN")
    t0 = time.perf_counter()
    cal.add(starts[0], 1, Unit.WORKING_DAYS)  # warm-up builds the per-date arrays
    print(f"warm-up (build 2024-2026 arrays): {(time.perf_counter() - t0) * 1000:.1f} ms")
    calls = N_COMPLAINTS * len(STAGES)

    def per_call() -> list[Due]:  # the results are kept, as a caller would
        add = cal.add
        return [add(s, amount, unit) for s in starts for amount, unit in STAGES]

    wall, cpu = best_of(per_call)
    print(f"      add(): {calls:,} dues in {wall:.3f} s wall / {cpu:.3f} s CPU "
          f"({cpu / calls * 1e9:.0f} ns/due CPU, best of 5)")
    for amount, unit in STAGES:
        wall, cpu = best_of(lambda a=amount, u=unit: [cal.add(s, a, u) for s in starts], 3)
        print(f"  add {unit.value:>14} x{amount:<3}: {cpu / N_COMPLAINTS * 1e9:5.0f} ns/due CPU")


if __name__ == "__main__":
    main()
