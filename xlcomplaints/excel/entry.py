"""What the workbook's buttons call: ``RunPython "import xlcomplaints.excel.entry as e; e.refresh_overdue()"``.

Each entry point finds the calling workbook (``xlwings.Book.caller()``), runs the same
flow as the command line over ``XlwingsWorkbook``, and reports back in the workbook:
a message box (what changed, how many are overdue, where the first problems are), the
status cell next to the Summary's buttons, and the Problems sheet with every problem
and a link to its cell. Every exception ends as a friendly message in Chinese and
English; a bug's traceback goes to a log file the message names, never to a console.

The functions take an optional ``book`` and ``now`` so tests and scripts can call
them with a stand-in or a fixed time; RunPython calls them without arguments.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from xlcomplaints.console import error_text, refusal
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.excel.adapter import Formula, XlwingsWorkbook, cell_of
from xlcomplaints.flows import FlowResult, assign_ids_flow, refresh_flow, validate_flow
from xlcomplaints.i18n import pick, say
from xlcomplaints.spec import branch as B
from xlcomplaints.spec.problems import PROBLEMS, STATUS_NAME
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.reader import find_stamps, read_branch

LOG_FILE = Path(tempfile.gettempdir()) / "xlcomplaints-excel.log"
TITLE = "xlcomplaints"
MAX_LISTED = 5  # problems spelled out in the message box; the sheet has all of them
STATUS_MAX = 250


@dataclass
class Outcome:
    """What a button reports: the same text in both languages, the workbook's first."""

    zh: str
    en: str
    ok: bool = True
    lang: str = "zh"
    problems: list[Problem] = field(default_factory=list)
    problems_written: str | None = None  # the Problems sheet's name, when it was written

    def text(self) -> str:
        first, second = pick(self.lang, (self.zh, self.en), (self.en, self.zh))
        return f"{first}\n\n{second}"


def _counts(result: FlowResult) -> tuple[str, str]:
    e, w = result.errors, result.warnings
    return f"{e} 个错误、{w} 个警告", f"{e} error(s), {w} warning(s)"


def _where(p: Problem) -> str:
    return f"{p.sheet}!{p.cell}" if p.sheet and p.cell else (p.sheet or "")


def _problem_lines(problems: list[Problem], lang: str) -> str:
    lines = [f"• {_where(p)}  {p.message(lang)}" if _where(p) else f"• {p.message(lang)}"
             for p in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append("…")
    return "\n".join(lines)


def _with_problems(zh: str, en: str, result: FlowResult, lang: str, sheet: str) -> tuple[str, str]:
    if not result.problems:
        return zh, en
    czh, cen = _counts(result)
    listed = _problem_lines(result.problems, lang)
    return (f"{zh}\n发现 {czh}，全部列在“{sheet}”表：\n{listed}",
            f"{en}\nFound {cen}, all listed on the '{sheet}' sheet:\n{listed}")


# --- the four actions ---------------------------------------------------------------------


def _refresh(port: XlwingsWorkbook, now: datetime, lang: str) -> tuple[FlowResult, str, str]:
    result = refresh_flow(port, now=now, lang=lang)
    assert result.plan is not None
    zh, en = "刷新完成：" + result.plan.outcome("zh"), "Refreshed: " + result.plan.outcome("en")
    if not result.changed:
        zh, en = zh + "没有需要更新的单元格。", en + " No cell needed updating."
    return result, zh, en


def _validate(port: XlwingsWorkbook, now: datetime, lang: str) -> tuple[FlowResult, str, str]:
    result = validate_flow(port, now=now, lang=lang)
    if not result.problems:
        return result, "校验完成：没有发现问题。", "Validated: no problems found."
    return result, "校验完成。", "Validated."


def _assign(port: XlwingsWorkbook, now: datetime, lang: str) -> tuple[FlowResult, str, str]:
    result = assign_ids_flow(port, now=now, lang=lang)
    got = sorted(result.assigned.values())
    skipped_zh = "".join(f"\n{p.message('zh')}" for p in result.skipped)
    skipped_en = "".join(f"\n{p.message('en')}" for p in result.skipped)
    if not got:
        if result.skipped:
            return result, "没有编号：" + skipped_zh, "Nothing numbered:" + skipped_en
        return result, "没有需要编号的投诉（编号已齐全）。", "Nothing to number: every complaint has a number."
    span = got[0] if len(got) == 1 else f"{got[0]} … {got[-1]}"
    return (result, f"已编号 {len(got)} 宗：{span}。{skipped_zh}",
            f"Numbered {len(got)} complaint(s): {span}.{skipped_en}")


def report_month(now: datetime) -> tuple[int, int]:
    """Reports are due by the 10th of the next month: until then the button reports last month."""
    if now.day <= 10:
        return (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)
    return now.year, now.month


def _report(port: XlwingsWorkbook, now: datetime, lang: str) -> tuple[FlowResult, str, str]:
    """This branch's monthly report, written next to the workbook, from its saved file.

    The report module reads files, not an open workbook: so the workbook must be saved,
    and the report is of what was saved (the button says so when there are unsaved edits).
    """
    from xlcomplaints.core.metrics import Month, as_period
    from xlcomplaints.report.run import NothingRead, ReportKind, ReportRequest, report_flow

    path = port.saved_path()
    if path is None:
        raise WorkbookError("excel.not_saved", path=port.label)
    month = Month(*report_month(now))
    output = path.with_name(f"{path.stem}-{'月报' if lang == 'zh' else 'report'}-{month.year}-{month.month:02d}.xlsx")
    try:
        run = report_flow(ReportRequest((path,), as_period(month), output, ReportKind.BRANCH, lang=lang, now=now))
    except NothingRead as e:
        return (FlowResult(problems=list(e.issues)), refusal("无法生成月报。", "zh"),
                refusal("No monthly report could be made.", "en"))
    issues = [p for p in run.report.issues if p.code != "report.open_in_excel"]  # we know: we are Excel
    zh = f"已生成 {month.label('zh')} 月报：{output}"
    en = f"Wrote the {month.label('en')} report: {output}"
    if port.unsaved():
        zh += "\n（按已保存的内容统计；未保存的修改不在其中，请先保存再生成。）"
        en += "\n(From the saved file; unsaved edits are not in it. Save, then run it again.)"
    return FlowResult(problems=issues), zh, en


register_messages({
    "excel.form_not_saved": ("“{path}”还没有保存为文件，处理单要写在它旁边：请先保存（Ctrl+S）再打印处理单。",
                             "'{path}' has not been saved as a file yet, and the form is written next to it: "
                             "save it (Ctrl+S), then print the form."),
    "excel.form_pick_row": ("请先在“{sheet}”表中点选要打印的投诉所在的行，再点“打印处理单”。",
                            "First click a cell in the row of the complaint to print, on the '{sheet}' sheet, "
                            "then click Print form."),
    "excel.form_no_number": ("第 {row} 行的投诉还没有投诉编号（{cell}）：请先点“编号”，再打印处理单。",
                             "The complaint in row {row} has no complaint number yet ({cell}): click Assign "
                             "numbers first, then print the form."),
})


def _active_row(book: Any) -> tuple[str, int] | None:
    """The sheet and row of the cell selected in the workbook's window (``Book.selection``)."""
    try:
        selection = book.selection
        return None if selection is None else (str(selection.sheet.name), int(selection.row))
    except Exception:  # a chart or a shape selected, or no window: no row to print
        return None


def _form(port: XlwingsWorkbook, now: datetime, lang: str) -> tuple[FlowResult, str, str]:
    """The handling form of the complaint in the active row of the Register, from the open workbook
    (unsaved edits included), written next to its file and opened in Excel to print."""
    from xlcomplaints.form.run import form_flow, outcome_lines

    path = port.saved_path()
    if path is None:
        raise WorkbookError("excel.form_not_saved", path=port.label)
    read = read_branch(port, lang=lang)
    register = read.sheets.get("register", "")
    where = _active_row(port.book)
    complaint = None
    if where is not None and register and where[0].casefold() == register.casefold():
        complaint = next((c for c in read.data.complaints if c.row == where[1]), None)
    if complaint is None:
        raise WorkbookError("excel.form_pick_row", sheet=register or B.REGISTER.title(lang))
    if not complaint.no:
        layout = read.layouts["register"]
        raise WorkbookError("excel.form_no_number", row=complaint.row, cell=layout.cell(complaint.row or 0, "no"))
    result = form_flow(port, [complaint.no], now=now, lang=lang, source=path)
    try:
        port.book.app.books.open(str(result.output))  # on screen, for Ctrl+P
    except Exception:  # showing it is a convenience: the message says where it is
        logging.getLogger(__name__).debug("form not opened", exc_info=True)
    return FlowResult(), "\n".join(outcome_lines(result, "zh")), "\n".join(outcome_lines(result, "en"))


Action = Callable[[XlwingsWorkbook, datetime, str], tuple[FlowResult, str, str]]
ACTIONS: dict[str, Action] = {"refresh": _refresh, "validate": _validate, "assign": _assign,
                              "report": _report, "form": _form}
#: Actions that check nothing: the Problems sheet keeps what the last check listed.
UNCHECKED = frozenset({"form"})


# --- reporting back -----------------------------------------------------------------------


def _workbook_lang(port: XlwingsWorkbook) -> str:
    """The workbook's own language (Settings), so messages match what the clerk reads."""
    return read_branch(port).data.settings.language


def _problems_sheet(port: XlwingsWorkbook, lang: str) -> str:
    """Our Problems sheet: found by its stamp (renamed is fine), else by title, else added."""
    try:
        _, sheets = find_stamps(port)
    except WorkbookError:
        sheets = {}
    if "problems" in sheets:
        return sheets["problems"]
    existing = {n.casefold(): n for n in port.sheet_names()}
    for title in (PROBLEMS.title(lang), PROBLEMS.zh, PROBLEMS.en):
        if title.casefold() in existing:
            return existing[title.casefold()]
    name = port.add_sheet(PROBLEMS.title(lang))
    port.write_cells(name, {(1, i): c.label(lang) for i, c in enumerate(PROBLEMS.columns, 1)})
    return name


def _link(p: Problem) -> str | None:
    if not (p.sheet and p.cell):
        return None
    target = "'" + p.sheet.replace("'", "''") + "'!" + p.cell
    return Formula(f'=HYPERLINK("#{target.replace(chr(34), chr(34) * 2)}","{p.cell}")')


#: What the Problems sheet says besides the problems themselves.
_ROWS = {"none": ("没有发现问题（{stamp}）", "No problems found ({stamp})"), "error": ("错误", "Error"),
         "warning": ("警告", "Warning")}


def problem_rows(problems: list[Problem], lang: str, now: datetime) -> list[list[Any]]:
    """One row per problem in PROBLEMS column order; a single 'none found' row when clean."""
    if not problems:
        stamp = now.strftime("%Y-%m-%d %H:%M")
        return [[None, None, None, None, None, say(_ROWS["none"], lang, stamp=stamp)]]
    rows: list[list[Any]] = []
    for p in problems:
        level = say(_ROWS["error" if p.level is Level.ERROR else "warning"], lang)
        rows.append([level, p.sheet, _link(p), p.column, p.value, p.message(lang)])
    return rows


def _status_cell(port: XlwingsWorkbook) -> tuple[str, int, int] | None:
    for n in port.names():
        if n.name.lower() == STATUS_NAME and n.local_sheet is None:
            where = cell_of(n.value)
            if where and where[0].casefold() in {s.casefold() for s in port.sheet_names()}:
                return where
    return None


def _tell(book: Any, port: XlwingsWorkbook | None, outcome: Outcome, now: datetime) -> None:
    """Status cell (if the workbook has one), then the message box unless alerts are off."""
    line = f"{now:%Y-%m-%d %H:%M} " + " ".join(outcome.text().split("\n\n")[0].split())
    if port is not None:
        try:
            where = _status_cell(port)
            if where:
                port.write_cells(where[0], {(where[1], where[2]): line[:STATUS_MAX]})
        except Exception:  # the status cell is a convenience; the message box still comes
            logging.getLogger(__name__).debug("status cell not written", exc_info=True)
    app = book.app
    if app.display_alerts:
        app.alert(outcome.text(), title=TITLE, mode="info" if outcome.ok else "critical")


def _log_bug(action: str) -> None:
    try:
        with LOG_FILE.open("a", encoding="utf-8") as f:
            f.write(f"--- {datetime.now():%Y-%m-%d %H:%M:%S} {action}\n{traceback.format_exc()}\n")
    except OSError:
        pass


def run(action: str, book: Any = None, *, now: datetime | None = None) -> Outcome:
    """Run one button's action on ``book`` (default: the calling workbook) and report back."""
    if book is None:
        try:
            import xlwings

            book = xlwings.Book.caller()
        except Exception as e:  # not started by a button, or Excel went away: nowhere to show a box
            _log_bug(action)
            # RunPython shows what Python wrote to stderr: one line, not a traceback.
            print(f"xlcomplaints: {refusal('找不到调用的工作簿', 'zh')} / "
                  f"{refusal('cannot find the calling workbook', 'en')} ({type(e).__name__}: {e})", file=sys.stderr)
            return Outcome(refusal("找不到调用的工作簿。", "zh"), refusal("Cannot find the calling workbook.", "en"),
                           ok=False)
    now = now or datetime.now().replace(microsecond=0)
    port: XlwingsWorkbook | None = None
    lang = "zh"
    try:
        port = XlwingsWorkbook(book)
        lang = _workbook_lang(port)
        result, zh, en = ACTIONS[action](port, now, lang)
        outcome = Outcome(zh, en, ok=not result.errors, lang=lang, problems=result.problems)
        if action not in UNCHECKED:
            sheet = _problems_sheet(port, lang)
            outcome.zh, outcome.en = _with_problems(zh, en, result, lang, sheet)
            port.replace_rows(sheet, 2, problem_rows(result.problems, lang, now))
            outcome.problems_written = sheet
    except WorkbookError as e:  # a refusal: said as every command says one (console.error_text)
        outcome = Outcome(error_text(e, "zh"), error_text(e, "en"), ok=False, lang=lang)
    except MemoryError:  # the PC's limit, not a bug: no log to send
        outcome = Outcome(refusal(f"内存不足，无法处理 {getattr(port, 'label', '此工作簿')}；请关闭其他程序后再试。", "zh"),
                          refusal(f"Not enough memory to process {getattr(port, 'label', 'this workbook')}; close "
                                  "other programs and try again.", "en"), ok=False, lang=lang)
    except Exception as e:
        _log_bug(action)
        outcome = Outcome(
            f"xlcomplaints 内部错误（{type(e).__name__}），工作簿可能只更新了一部分。"
            f"请把 {LOG_FILE} 和工作簿发给维护人员。",
            f"xlcomplaints internal error ({type(e).__name__}); the workbook may be partly updated. "
            f"Please send {LOG_FILE} and the workbook to your maintainer.", ok=False, lang=lang)
    try:
        _tell(book, port, outcome, now)
    except Exception:
        _log_bug(f"{action}: reporting")
    return outcome


def refresh_overdue(book: Any = None, *, now: datetime | None = None) -> Outcome:
    """刷新逾期: due times and statuses on the Register, the Overdue and Summary sheets rebuilt."""
    return run("refresh", book, now=now)


def validate(book: Any = None, *, now: datetime | None = None) -> Outcome:
    """校验: every problem, located to its cell, on the Problems sheet."""
    return run("validate", book, now=now)


def assign_numbers(book: Any = None, *, now: datetime | None = None) -> Outcome:
    """编号: numbers for complaints without one, from the Settings pattern; never renumbers."""
    return run("assign", book, now=now)


def monthly_report(book: Any = None, *, now: datetime | None = None) -> Outcome:
    """月报: this branch's monthly report of its saved file, written next to it (see ``_report``)."""
    return run("report", book, now=now)


def print_form(book: Any = None, *, now: datetime | None = None) -> Outcome:
    """打印处理单: the handling form of the complaint in the active row of the Register (see ``_form``)."""
    return run("form", book, now=now)
