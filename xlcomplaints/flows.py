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
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.core.refresh import ComputedCells, RefreshPlan, plan_refresh
from xlcomplaints.core.rows import Layout
from xlcomplaints.core.settings import numbering_blockers
from xlcomplaints.core.validation import validate
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.port import RecreatesSheets, WorkbookPort
from xlcomplaints.workbook.reader import SETTINGS_MISSING, BranchRead, read_branch


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
    layouts, sheets, problems, plan = _plan(port, now=now, lang=lang, policy=policy)
    problems = _recreate_generated(port, sheets, problems)
    for kind, computed in (("register", plan.register), ("tracking", plan.tracking),
                           ("callbacks", plan.callbacks)):
        layout = layouts.get(kind)
        if layout is not None:
            _write_computed(port, sheets[kind], layout, computed)
    if "overdue" in sheets:
        port.replace_rows(sheets["overdue"], 2, plan.overdue_rows)
    if "summary" in sheets:
        port.replace_rows(sheets["summary"], 2, plan.summary_rows)
    changed = port.save() if save else False
    return FlowResult(problems=problems + plan.problems, changed=changed, plan=plan)


def _plan(port: WorkbookPort, *, now: datetime, lang: str, policy: Sequence[PolicyRule] | None,
          ) -> tuple[dict[str, Layout], dict[str, str], list[Problem], RefreshPlan]:
    """Read, check and plan. The records stay in here: only the plan (cells to write) goes on
    to the writing, so a large register's records are gone before the save needs memory."""
    read, problems = check(port, now=now, lang=lang)
    data = read.data
    if policy is not None:
        data = data.model_copy(update={"settings": data.settings.model_copy(update={"policy": tuple(policy)})})
    return read.layouts, read.sheets, problems, plan_refresh(data, now, lang=data.settings.language)


def _recreate_generated(port: WorkbookPort, sheets: dict[str, str], problems: list[Problem]) -> list[Problem]:
    """Overdue and Summary the clerk deleted are added again as the template has them, said as a
    warning in place of "missing" (a port that cannot add sheets keeps the warning)."""
    missing = [kind for kind in ("overdue", "summary") if kind not in sheets]
    if not missing or not isinstance(port, RecreatesSheets):
        return problems
    # the workbook's language, by its sheets' titles (a renamed one does not decide it)
    titled = {lg: sum(sheets.get(s.kind) == s.title(lg) for s in B.BRANCH_SHEETS) for lg in ("zh", "en")}
    book_lang = "en" if titled["en"] > titled["zh"] else "zh"
    gone = {B.OVERDUE.title(lg) for lg in ("zh", "en")} | {B.SUMMARY.title(lg) for lg in ("zh", "en")}
    out = [p for p in problems if not (p.code == "file.sheet_missing" and p.sheet in gone)]
    for kind in missing:
        sheets[kind] = title = port.recreate_sheet(kind, book_lang)
        out.append(Problem(level=Level.WARNING, code="file.sheet_recreated", sheet=title, params={"sheet": title}))
    return out


def _write_computed(port: WorkbookPort, sheet: str, layout: Layout, computed: ComputedCells) -> None:
    """Computed values placed where this workbook has their columns, as one column write
    (the file port applies it while saving, so memory stays flat); rows that are no longer
    records (the clerk cleared them) lose their stale computed values."""
    keys = [k for k in computed.keys if k in layout.columns]
    if not keys:
        return
    blank = (None,) * len(keys)
    # Rows up to the last one holding computed values (a deleted last complaint's too), not
    # totals lines the office typed under the table: each a record's values, or blanks.
    last = max(layout.last_row, layout.computed_to)
    rows: dict[int, tuple[object, ...]] = dict.fromkeys(range(layout.header_row + 1, last + 1), blank)
    for row in layout.totals_rows:
        rows.pop(row, None)
    if len(keys) == len(computed.keys):
        rows.update(computed.rows)  # the plan's own tuples, not copies
    else:  # an office that deleted some computed columns: only the ones it kept
        at = [computed.keys.index(k) for k in keys]
        rows.update((row, tuple(values[i] for i in at)) for row, values in computed.rows.items())
    port.write_columns(sheet, [layout.columns[key] for key in keys], rows)  # type: ignore[arg-type]


MESSAGES = {
    "numbering.refused": (
        "{path}：没有生成任何投诉编号（编号一经写入就不再更改，不能按错误或默认的设置生成）。{reasons_zh}"
        " 请先改正，再运行编号。",
        "{path}: no complaint numbers were assigned (numbers never change once written, so none are made from "
        "wrong or default settings). {reasons_en} Fix this first, then number again."),
}
register_messages(MESSAGES)


def _located(p: Problem, lang: str) -> str:
    where = "!".join(x for x in (p.sheet, p.cell) if x)
    return f"{where}: {p.message(lang)}" if where else p.message(lang)


def assign_ids_flow(port: WorkbookPort, *, now: datetime, lang: str = "zh", save: bool = True) -> FlowResult:
    """Give every complaint without a number one from the workbook's pattern; never renumber.

    Raises WorkbookError ``numbering.refused``, writing nothing, while the branch code or the
    pattern is not the workbook's own and valid (no Settings sheet, blank code, bad pattern).
    """
    read, problems = check(port, now=now, lang=lang)
    blockers = [p for p in problems if p.code == SETTINGS_MISSING] + numbering_blockers(problems)
    if blockers:
        raise WorkbookError("numbering.refused", path=port.label,
                            reasons_zh="；".join(_located(p, "zh") for p in blockers),
                            reasons_en="; ".join(_located(p, "en") for p in blockers))
    layout = read.layouts.get("register")
    if layout is None or "no" not in layout.columns:
        return FlowResult(problems=problems)
    assigned = assign_numbers(read.data.complaints, read.data.settings)
    col = layout.columns["no"]
    port.write_cells(read.sheets["register"], {(row, col): no for row, no in assigned.items()})
    changed = port.save() if save and assigned else False
    return FlowResult(problems=[p for p in problems if p.code != "no.missing"], changed=changed,
                      assigned=assigned)
