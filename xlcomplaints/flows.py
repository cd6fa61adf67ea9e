"""The flows users run — validate, refresh, assign numbers — written once over the port.

The CLI runs them on a ``FileWorkbook``; the Excel buttons on an ``XlwingsWorkbook``.
Each returns a result that says what happened, for the caller to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from xlcomplaints.core.models import PolicyRule
from xlcomplaints.core.numbering import assign_numbers
from xlcomplaints.core.problems import Level, Problem
from xlcomplaints.core.refresh import RefreshPlan, plan_refresh
from xlcomplaints.core.rows import Layout
from xlcomplaints.core.validation import validate
from xlcomplaints.workbook.port import WorkbookPort
from xlcomplaints.workbook.reader import BranchRead, read_branch


@dataclass
class FlowResult:
    problems: list[Problem] = field(default_factory=list)
    changed: bool = False
    plan: RefreshPlan | None = None
    assigned: dict[int, str] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(p.level is Level.ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.level is Level.WARNING for p in self.problems)


def check(port: WorkbookPort, *, now: datetime, lang: str = "zh") -> tuple[BranchRead, list[Problem]]:
    """Read and validate: every problem, located."""
    read = read_branch(port, lang=lang)
    problems = read.problems + validate(read.data, read.layouts, now=now)
    return read, problems


def validate_flow(port: WorkbookPort, *, now: datetime, lang: str = "zh") -> FlowResult:
    _, problems = check(port, now=now, lang=lang)
    return FlowResult(problems=problems)


def refresh_flow(port: WorkbookPort, *, now: datetime, lang: str = "zh", save: bool = True,
                 policy: Sequence[PolicyRule] | None = None) -> FlowResult:
    """Fill the computed columns, rebuild Overdue and Summary; touch nothing else.

    ``policy`` (a head office's rules) replaces the workbook's own SLA table.
    """
    read, problems = check(port, now=now, lang=lang)
    data = read.data
    if policy is not None:
        data = data.model_copy(update={"settings": data.settings.model_copy(update={"policy": tuple(policy)})})
    plan = plan_refresh(data, now, lang=data.settings.language)
    for kind, values_by_row in (("register", plan.register), ("tracking", plan.tracking),
                                ("callbacks", plan.callbacks)):
        layout = read.layouts.get(kind)
        if layout is not None:
            _write_computed(port, read.sheets[kind], layout, values_by_row)
    if "overdue" in read.sheets:
        port.replace_rows(read.sheets["overdue"], 2, plan.overdue_rows)
    if "summary" in read.sheets:
        port.replace_rows(read.sheets["summary"], 2, plan.summary_rows)
    changed = port.save() if save else False
    return FlowResult(problems=problems + plan.problems, changed=changed, plan=plan)


WRITE_CHUNK_ROWS = 5_000


def _write_computed(port: WorkbookPort, sheet: str, layout: Layout,
                    values_by_row: dict[int, dict[str, object]]) -> None:
    """Computed values placed where this workbook has their columns, a few thousand rows
    at a time (memory stays flat); rows that are no longer records (the clerk cleared
    them) lose their stale computed values."""
    keys = [(c.key, layout.columns[c.key]) for c in layout.spec.computed_columns if c.key in layout.columns]
    rows = sorted(set(values_by_row) | set(range(layout.header_row + 1, layout.last_row + 1)))
    for start in range(0, len(rows), WRITE_CHUNK_ROWS):
        cells: dict[tuple[int, int], object] = {}
        for row in rows[start:start + WRITE_CHUNK_ROWS]:
            values = values_by_row.get(row, {})
            for key, col in keys:
                cells[(row, col)] = values.get(key)
        port.write_cells(sheet, cells)  # type: ignore[arg-type]


def assign_ids_flow(port: WorkbookPort, *, now: datetime, lang: str = "zh", save: bool = True) -> FlowResult:
    """Give every complaint without a number one from the workbook's pattern; never renumber."""
    read, problems = check(port, now=now, lang=lang)
    layout = read.layouts.get("register")
    if layout is None or "no" not in layout.columns:
        return FlowResult(problems=problems)
    assigned = assign_numbers(read.data.complaints, read.data.settings)
    col = layout.columns["no"]
    port.write_cells(read.sheets["register"], {(row, col): no for row, no in assigned.items()})
    changed = port.save() if save and assigned else False
    return FlowResult(problems=[p for p in problems if p.code != "no.missing"], changed=changed,
                      assigned=assigned)
