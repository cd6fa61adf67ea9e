"""What a worker sends back for one branch file (``FileSummary``), apart from the reading itself so
that the masking step and the consolidation can both name it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from xlcomplaints.core.lists import BUILT_IN, OfficeLists
from xlcomplaints.core.metrics import Case
from xlcomplaints.core.models import Settings
from xlcomplaints.core.problems import Problem
from xlcomplaints.store.partition import Partition

#: Between a region's name and what it names: ``north/月报-2026-10.xlsx › BJ01.xlsx`` (``report.regions``).
WITHIN = " › "
DEFAULT_REPEAT_WINDOW: int = Settings.model_fields["repeat_window_days"].default
DEFAULT_RANK_MIN: int = Settings.model_fields["rank_min_complaints"].default


@dataclass(frozen=True)
class FileSummary:
    """What a worker sends back for one file: facts (or the partition it wrote them to) and problems, or why
    the file is unusable."""

    path: str
    mtime: float
    branch: str | None = None
    branch_name: str = ""
    cases: tuple[Case, ...] = ()
    problems: tuple[Problem, ...] = ()
    error: Problem | None = None
    seconds: float = 0.0
    #: The texts of the branch's typical cases of the month (complaint number → CASE_TEXTS), masked as ``cases``.
    texts: dict[str, tuple[str | None, ...]] = field(default_factory=dict)
    #: The branch's repeat-complaint window (its Settings): what its complaints are judged by across branches too.
    repeat_window_days: int = DEFAULT_REPEAT_WINDOW
    #: The branch's fewest complaints for a handler to be ranked on the By-handler sheet (its Settings).
    rank_min_complaints: int = DEFAULT_RANK_MIN
    #: How the report names the file (see ``file_labels``); its name if not given.
    label: str = ""
    #: The office's lists the file was read with (its Lists sheet, or the built-in ones).
    lists: OfficeLists = BUILT_IN
    #: The facts store's file holding ``cases`` and ``texts`` (``store.partition``); a worker that wrote it sends
    #: the summary without them (``report.facts.with_cases`` reads them back). None: not written, or changed since.
    partition: Partition | None = None

    @property
    def name(self) -> str:
        return self.label or Path(self.path).name

    @property
    def usable(self) -> bool:
        return self.error is None

    @property
    def workbook(self) -> str:
        """The workbook's own path: a region's branch's as its region read it (``report.regions``)."""
        return self.path.rsplit(WITHIN, 1)[-1]


def stored_path(path: str) -> str:
    """How the facts store keeps a file's path: absolute, as this process sees it (not resolved: a mapped drive
    stays as written), so that an ``--update`` run from another folder still knows the file when it is given again
    (``report.run``: the last run's files matched by resolved path). A region's branch (``WITHIN``) as it is."""
    return path if WITHIN in path else os.path.abspath(path)
