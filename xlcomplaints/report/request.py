"""What a report run is asked for (``ReportRequest``), and how it is run (``ReportHooks``).

The request says what the report *is*: its inputs, period, output, language, times, whether
contacts are shown, which kind of run (one branch, a consolidation, an update of one), earlier
reports for the trend, a head office's lists. Every way in (the command line, the button, the
Python API, the demo) builds one and hands it to ``report.run.report_flow``; the same request
makes the same report whichever way it came.

The hooks are the run-time plumbing, apart from what the report is: the executor (or the number of
workers) the branch files are read with, and the callbacks a progress bar listens to.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from xlcomplaints.core.lists import OfficeLists
from xlcomplaints.core.metrics import Period, as_period
from xlcomplaints.i18n import Lang

if TYPE_CHECKING:
    from xlcomplaints.report.consolidate import FileSummary


class ReportKind(StrEnum):
    """Which kind of report run: the ``report`` command, ``consolidate``, ``consolidate --update``."""

    #: One branch's report: its workbook read here, no pool, no facts store.
    BRANCH = "branch"
    #: Many branches' workbooks (files or folders, regions' reports) read in parallel into one
    #: report, with the facts store beside it that an update reads.
    CONSOLIDATION = "consolidation"
    #: A consolidation into an earlier one's output: the branches given replace theirs in the last
    #: run's facts store, the others are carried from it.
    UPDATE = "update"

    @property
    def consolidates(self) -> bool:
        """Read in parallel, regions taken apart, a facts store written: everything but one branch."""
        return self is not ReportKind.BRANCH


class Contacts(StrEnum):
    """Customers' phone numbers in the report: masked (the default) or shown (``--show-contacts``)."""

    MASKED = "masked"
    SHOWN = "shown"

    @classmethod
    def of(cls, shown: bool) -> Contacts:
        return cls.SHOWN if shown else cls.MASKED


#: How long a consolidation waits, at most, for a region's run that is writing its store while it reads it (polling
#: every ``report.regions._POLL`` seconds); past it, the region is refused (``report.region_changing``). A run may
#: say another (``ReportRequest.region_wait``, ``--region-wait``: 0 refuses at once), up to ``LONGEST_REGION_WAIT``.
REGION_WAIT = 120
LONGEST_REGION_WAIT = 3600


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """One report to make.

    ``as_of`` defaults to the end of the period, or now if the period is not over; ``now`` (the
    real clock, default: now) only decides which entered times are "in the future". ``history``:
    earlier reports, for the trend and, when the branches hold none of it, the previous period.
    ``lists`` (a head office's, ``--policy``): every branch's values put on them (``report.imposed``).
    ``store``: the folder a consolidation's facts store is kept in (``--store``: a shared folder the Dask
    workers write their partitions to; ``store.layout.store_location``), default beside the report.
    ``region_wait``: how long, in seconds, to wait for a region's store that its own run is writing (``REGION_WAIT``).
    Paths given as strings or in a list, and a ``Month`` for the period, are taken as what they are.
    """

    inputs: tuple[Path, ...]
    period: Period
    output: Path
    kind: ReportKind = ReportKind.CONSOLIDATION
    lang: str = Lang.ZH
    as_of: datetime | None = None
    now: datetime | None = None
    contacts: Contacts = Contacts.MASKED
    history: tuple[Path, ...] = ()
    lists: OfficeLists | None = None
    store: Path | None = None
    region_wait: float = REGION_WAIT  # seconds

    def __post_init__(self) -> None:  # one shape whatever the caller had: tuples of paths, a Period
        object.__setattr__(self, "inputs", tuple(Path(p) for p in self.inputs))
        object.__setattr__(self, "period", as_period(self.period))
        object.__setattr__(self, "output", Path(self.output))
        object.__setattr__(self, "history", tuple(Path(p) for p in self.history))
        object.__setattr__(self, "kind", ReportKind(self.kind))
        object.__setattr__(self, "contacts", Contacts(self.contacts))
        if self.store is not None:
            object.__setattr__(self, "store", Path(self.store))
        if not 0 <= self.region_wait <= LONGEST_REGION_WAIT:
            raise ValueError(f"region_wait: {self.region_wait} s is not between 0 and {LONGEST_REGION_WAIT}")

    @property
    def shows_contacts(self) -> bool:
        return self.contacts is Contacts.SHOWN


@dataclass(frozen=True, slots=True)
class ReportHooks:
    """How a report is run, not what it is: read with ``executor`` (any ``concurrent.futures``
    executor, a distributed one too if its workers reach the files), else a process pool of
    ``workers`` (default: one per core); ``on_start(n)`` once the n files to read are known,
    ``on_file(summary)`` as each is read. A branch's report reads its file here, with no pool."""

    executor: Executor | None = None
    workers: int | None = None
    on_start: Callable[[int], None] | None = field(default=None)
    on_file: Callable[[FileSummary], None] | None = field(default=None)
    #: Internal, not a user's option: a consolidation computed over the merged ``Case``s in this process (as a
    #: branch's report is), not from its facts store; the tests and benchmarks compare the two.
    python_engine: bool = False
