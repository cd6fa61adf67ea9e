"""The flows users run — validate, refresh, assign numbers — written once over the port.

The CLI runs them on a ``FileWorkbook``; the Excel buttons on an ``XlwingsWorkbook``.
Each returns a result that says what happened, for the caller to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from xlcomplaints.collector import collector_paused
from xlcomplaints.core import cells
from xlcomplaints.core.corrections import Correction, find_corrections, skipped_numbering
from xlcomplaints.core.lists import OfficeLists
from xlcomplaints.core.models import BranchData, PolicyRule
from xlcomplaints.core.numbering import assign_numbers
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.core.refresh import ComputedCells, RefreshPlan, plan_refresh, summary_grid
from xlcomplaints.core.rows import Layout
from xlcomplaints.core.settings import numbering_blockers
from xlcomplaints.core.validation import read_computed, typed_over, validate, written_digest
from xlcomplaints.i18n import pick
from xlcomplaints.spec import branch as B
from xlcomplaints.spec.model import Need
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.port import (
    BarChart,
    ChartSeries,
    DrawsCharts,
    RecreatesSheets,
    WorkbookPort,
)
from xlcomplaints.workbook.reader import SETTINGS_MISSING, BranchRead, read_branch

#: What a flow cannot do without a column it needs, said in the refusal.
NEED_WORDS: dict[Need, tuple[str, str]] = {
    Need.DEADLINES: ("无法计算时限和状态", "no due time or status can be computed"),
    Need.NUMBERING: ("无法编号", "no complaint can be numbered"),
}


@dataclass
class FlowResult:
    problems: list[Problem] = field(default_factory=list)
    changed: bool = False
    plan: RefreshPlan | None = None
    assigned: dict[int, str] = field(default_factory=dict)
    #: Complaints assign-ids left without a number, each located with why (``numbering.skipped``).
    skipped: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(p.level is Level.ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.level is Level.WARNING for p in self.problems)


def refuse_without(read: BranchRead, need: Need, label: str) -> None:
    """Raise ``column.needed`` (exit 2, nothing written) while a column ``need`` depends on is missing:
    a renamed 受理时间 must not clear every deadline and report success."""
    missing = read.missing_for(need)
    if missing:
        zh, en = NEED_WORDS[need]
        raise WorkbookError("column.needed", path=label, what_zh=zh, what_en=en,
                            columns_zh="、".join(m.describe("zh") for m in missing),
                            columns_en=", ".join(m.describe("en") for m in missing),
                            label_zh="”“".join(m.column.zh for m in missing),
                            label_en="', '".join(m.column.en for m in missing))


def check(port: WorkbookPort, *, now: datetime, lang: str = "zh",
          lists: OfficeLists | None = None) -> tuple[BranchRead, list[Problem]]:
    """Read and validate: every problem, located (``lists``: a head office's, over the workbook's)."""
    read = read_branch(port, lang=lang, lists=lists)
    problems = read.problems + validate(read.data, read.layouts, now=now)
    return read, problems


def validate_flow(port: WorkbookPort, *, now: datetime, lang: str = "zh",
                  lists: OfficeLists | None = None) -> FlowResult:
    """Every problem, and each computed (grey) cell holding what refresh neither computes nor wrote."""
    with collector_paused():  # the records pile up: see collector.py
        read, problems = check(port, now=now, lang=lang, lists=lists)
        if not read.missing_for(Need.DEADLINES):  # without them nothing can be computed to compare with
            fixes = find_corrections(read.data.complaints, read.layouts.get("register"), read.problems)
            plan = plan_refresh(read.data, _minute(now), lang=read.data.settings.language, corrections=fixes,
                                lists=read.lists)
            problems += _typed_over(port, read, read.data, plan, fixes, "computed.typed_over")
    return FlowResult(problems=problems)


def _minute(now: datetime) -> datetime:
    """Refresh computes as of a whole minute: the time the Summary shows, so what a refresh wrote
    can be computed again from it (``_summary_marks``)."""
    return now.replace(second=0, microsecond=0)


#: The Summary's line of when refresh ran, in either language (``B.SUMMARY_LINES``): label, time.
REFRESHED_AT = frozenset(line.label(lang) for line in B.SUMMARY_LINES if line.key.what is B.Count.REFRESHED_AT
                         for lang in ("zh", "en"))
#: The Summary's last line, added here: the checksum of the computed cells refresh wrote.
CHECKSUM: dict[str, tuple[str, str]] = {
    "zh": ("计算列校验码", "供“刷新”和“校验”判断灰底计算列是否被手工改动，请勿修改"),
    "en": ("Computed-cells checksum", "Lets Refresh and Validate tell whether grey computed cells were typed over; "
                                      "do not edit"),
}
#: Cells refresh lists one by one when it replaces what it did not write; the rest are counted.
REPLACED_LISTED = 20
_SHEETS_COMPUTED = ("register", "tracking", "callbacks")


def _summary_marks(port: WorkbookPort, sheets: dict[str, str]) -> tuple[datetime | None, str | None]:
    """When the workbook was last refreshed and the checksum it kept, from its Summary sheet
    (None for what is not there: never refreshed, or an older workbook)."""
    last = stored = None
    if "summary" not in sheets:
        return last, stored
    labels = {label for label, _ in CHECKSUM.values()}
    for row in port.values(sheets["summary"]):
        if len(row) < 2 or not isinstance(row[0], str):
            continue
        if row[0].strip() in REFRESHED_AT:
            try:
                last = cells.parse_datetime(row[1])
            except cells.CellError:
                last = None
        elif row[0].strip() in labels and isinstance(row[1], str):
            stored = row[1].strip()
    return last, stored


def _computed_of(plan: RefreshPlan, kind: str) -> ComputedCells:
    return {"register": plan.register, "tracking": plan.tracking, "callbacks": plan.callbacks}[kind]


def _checksum(total: int) -> str:
    return f"{total % 2**64:016x}"


def _checksum_row(layouts: dict[str, Layout], plan: RefreshPlan, lang: str) -> list[object]:
    total = sum(written_digest(layouts[k], _computed_of(plan, k)) for k in _SHEETS_COMPUTED if k in layouts)
    label, note = CHECKSUM[pick(lang, "zh", "en")]
    return [label, _checksum(total), note]


def _typed_over(port: WorkbookPort, read: BranchRead, data: BranchData, plan: RefreshPlan,
                fixes: dict[int, Correction], code: str) -> list[Problem]:
    """Computed cells holding what refresh did not write (the rule: ``core/validation.py``)."""
    if read.computed_digest is not None:
        if not read.computed_filled:  # every grey cell blank (never refreshed): nothing to report
            return []
        last, stored = _summary_marks(port, read.sheets)
        if stored == _checksum(read.computed_digest):  # as the last refresh left them: no second read
            return []
    reads = [read_computed(port.rows(read.sheets[kind]), read.layouts[kind], _computed_of(plan, kind))
             for kind in _SHEETS_COMPUTED if kind in read.layouts]
    if not any(r.differences for r in reads):
        return []
    last, stored = _summary_marks(port, read.sheets)
    if stored == _checksum(sum(r.digest for r in reads)):  # every computed cell as refresh left it
        return []
    previous = plan_refresh(data, last, lang=data.settings.language, corrections=fixes,
                            lists=read.lists) if last else None
    out: list[Problem] = []
    for r in reads:
        out += typed_over(r, None if previous is None else _computed_of(previous, r.layout.spec.kind), code)
    return out


def refresh_flow(port: WorkbookPort, *, now: datetime, lang: str = "zh", save: bool = True,
                 policy: Sequence[PolicyRule] | None = None, lists: OfficeLists | None = None) -> FlowResult:
    """Fill the computed columns, rebuild Overdue and Summary; touch nothing else.

    ``policy`` (a head office's rules) replaces the workbook's own SLA table, ``lists`` (its lists)
    the workbook's lists it names.
    """
    with collector_paused():  # the records pile up while read and planned: see collector.py
        layouts, sheets, problems, plan = _plan(port, now=now, lang=lang, policy=policy, lists=lists)
    problems = _recreate_generated(port, sheets, problems)
    for kind, computed in (("register", plan.register), ("tracking", plan.tracking),
                           ("callbacks", plan.callbacks)):
        layout = layouts.get(kind)
        if layout is not None:
            _write_computed(port, sheets[kind], layout, computed)
    if "overdue" in sheets:
        port.replace_rows(sheets["overdue"], 2, plan.overdue_rows)
    if "summary" in sheets:
        port.replace_rows(sheets["summary"], SUMMARY_FROM, summary_grid(plan))
        if isinstance(port, DrawsCharts):
            port.set_chart(sheets["summary"], B.SUMMARY_CHART_KEY, handler_chart(plan))
    changed = port.save() if save else False
    return FlowResult(problems=problems + plan.problems, changed=changed, plan=plan)


#: The Summary is written from this row down (its header above).
SUMMARY_FROM = 2
#: The workload chart's size in pixels: its width, and its height without handlers and per handler.
CHART_WIDTH, CHART_BASE, CHART_PER_HANDLER = 520, 90, 30


def handler_chart(plan: RefreshPlan) -> BarChart | None:
    """The Summary's workload chart (``B.SUMMARY_CHART_SERIES``) over its table per handler, as
    ``summary_grid`` places it: the title in row 2, the header in row 3, a row per handler below, from
    column ``B.SUMMARY_HANDLERS_AT``. The chart sits in column A one row under the Summary's lines
    (``plan.summary_rows``, the checksum's included), where nothing is written however many handlers
    the table grows to, as tall as its handlers need (all of them). None when the month has no
    handler: nothing to chart."""
    if len(plan.handler_rows) < 3:
        return None
    header, rows = plan.handler_rows[1], plan.handler_rows[2:]
    at, keys = B.SUMMARY_HANDLERS_AT, [c.key for c in B.SUMMARY_HANDLER_COLUMNS]
    header_row = SUMMARY_FROM + 1
    series = tuple(ChartSeries(name_cell=(header_row, at + keys.index(key)), name=str(header[keys.index(key)]),
                               column=at + keys.index(key),
                               values=tuple(float(r[keys.index(key)] or 0) for r in rows), colour=colour)
                   for key, colour in B.SUMMARY_CHART_SERIES)
    return BarChart(title=pick(plan.lang, *B.SUMMARY_CHART_TITLE), category_column=at, first_row=header_row + 1,
                    categories=tuple(str(r[0]) for r in rows), series=series,
                    at=(SUMMARY_FROM + len(plan.summary_rows) + 1, 1),
                    size=(CHART_WIDTH, CHART_BASE + CHART_PER_HANDLER * len(rows)))


def _plan(port: WorkbookPort, *, now: datetime, lang: str, policy: Sequence[PolicyRule] | None,
          lists: OfficeLists | None = None) -> tuple[dict[str, Layout], dict[str, str], list[Problem], RefreshPlan]:
    """Read, check and plan. The records stay in here: only the plan (cells to write) goes on
    to the writing, so a large register's records are gone before the save needs memory."""
    read, problems = check(port, now=now, lang=lang, lists=lists)
    refuse_without(read, Need.DEADLINES, port.label)
    data = read.data
    if policy is not None:
        data = replace(data, settings=data.settings.model_copy(update={"policy": tuple(policy)}))
    fixes = find_corrections(data.complaints, read.layouts.get("register"), read.problems)
    plan = plan_refresh(data, _minute(now), lang=data.settings.language, corrections=fixes, lists=read.lists)
    replaced = _typed_over(port, read, data, plan, fixes, "computed.replaced")
    if len(replaced) > REPLACED_LISTED:
        more = len(replaced) - REPLACED_LISTED
        replaced = replaced[:REPLACED_LISTED] + [Problem(level=Level.WARNING, code="computed.replaced_more",
                                                         params={"count": more})]
    # the Summary keeps the checksum of the grey cells; a deleted Summary is made again before it is written
    plan.summary_rows.append(_checksum_row(read.layouts, plan, data.settings.language))
    return read.layouts, read.sheets, problems + replaced, plan


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
    "computed.replaced_more": ("另有 {count} 个计算单元格原有的值也不是上次刷新写入的，已一并替换。",
                               "{count} more computed cells held something the last refresh did not write; "
                               "replaced as well."),
    "column.needed": ("{path}：找不到{columns_zh}，{what_zh}，未写入任何内容；请把表头改回“{label_zh}”。",
                      "{path}: cannot find {columns_en}, so {what_en} and nothing was written; rename the "
                      "header back to '{label_en}'."),
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
    refuse_without(read, Need.NUMBERING, port.label)
    blockers = [p for p in problems if p.code == SETTINGS_MISSING] + numbering_blockers(problems)
    if blockers:
        raise WorkbookError("numbering.refused", path=port.label,
                            reasons_zh="；".join(_located(p, "zh") for p in blockers),
                            reasons_en="; ".join(_located(p, "en") for p in blockers))
    layout = read.layouts.get("register")
    if layout is None or "no" not in layout.columns:
        return FlowResult(problems=problems)
    assigned = assign_numbers(read.data.complaints, read.data.settings)
    skipped = skipped_numbering(find_corrections(read.data.complaints, layout, read.problems),
                                read.data.complaints, layout)
    col = layout.columns["no"]
    port.write_cells(read.sheets["register"], {(row, col): no for row, no in assigned.items()})
    changed = port.save() if save and assigned else False
    return FlowResult(problems=[p for p in problems if p.code != "no.missing"], changed=changed,
                      assigned=assigned, skipped=skipped)
