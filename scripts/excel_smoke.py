"""Press every button of a macro workbook in a real Excel, and check what each did.

The test suite runs the buttons' Python against a stand-in of xlwings (there is no
Excel on the build machines). This script is the check that needs a real Excel: that
the generated VBA project compiles, that each button's macro reaches Python through
RunPython, and that the open workbook ends up as the headless command leaves the file.

Steps (Windows or macOS, with Excel installed):

1. Install Python 3.11 or newer, then ``pip install "xlcomplaints[excel]"`` (brings xlwings).
2. ``xlwings addin install`` (once per PC; on macOS quit Excel with Cmd-Q and start it
   again afterwards). It also records this Python in ``~/.xlwings/xlwings.conf``.
3. Close every Excel window with unsaved work (the script starts its own Excel).
4. ``python scripts/excel_smoke.py`` — or ``--standalone`` to test the variant that
   embeds xlwings' VBA instead of using the add-in, ``--lang en`` for the English
   template, ``--keep`` to leave the workbook open afterwards.
5. If macOS asks to allow Excel to control Excel or to run the AppleScript, allow it.

It builds a fresh workbook in a temporary folder, types sample complaints into the
Register, saves it, presses 编号 AssignNumbers, 刷新逾期 RefreshOverdue, 校验
ValidateWorkbook, 月报 MonthlyReport and (on the first complaint's row) 打印处理单 PrintForm
through ``book.macro(...)()``, and after each
compares the workbook with what the command-line flow gives on a copy of the same
file. The Summary's workload chart is checked after each refresh: drawn as the headless refresh
draws it (same cells, title, corner, size), following a third handler, gone when no complaint has a
handler, and a chart of the office's own on the Summary left as it was. Excel's alerts are switched off, so the buttons write their status cell instead
of showing a message box. It prints one line per check and exits 0 when all pass.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from xlcomplaints.excel.adapter import XlwingsWorkbook, to_millisecond
from xlcomplaints.excel.charts import LiveCharts
from xlcomplaints.flows import (
    CHART_BASE,
    CHART_PER_HANDLER,
    assign_ids_flow,
    handler_chart,
    refresh_flow,
    validate_flow,
)
from xlcomplaints.spec import branch as B
from xlcomplaints.spec.problems import STATUS_NAME
from xlcomplaints.templates.macro import build_branch_xlsm
from xlcomplaints.workbook.file import FileWorkbook

failures: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("PASS " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def sample_rows(now: datetime, lang: str) -> list[list[Any]]:
    """Twelve complaints received over the last days, half-past the hour (deadlines land off the minute)."""
    zh = lang == "zh"
    rows = []
    start = now.replace(minute=30, second=0, microsecond=0) - timedelta(days=6)
    for i in range(12):
        received = start + timedelta(hours=11 * i)
        values: dict[str, Any] = {
            "received_at": received, "channel": "电话" if zh else "Phone", "customer": f"客户{i}",
            "category": ("服务态度" if zh else "Service attitude"), "content": f"sample {i}",
            "severity": (["一般", "重要", "重大"] if zh else ["General", "Important", "Major"])[i % 3],
            "validity": "有效" if zh else "Valid",
            "handler": (["张三", "李四"] if zh else ["Zhang", "Li"])[i % 2],  # two handlers on the chart
        }
        if i % 3 == 0:
            values["acknowledged_at"] = received + timedelta(minutes=20)
        if i == 5:
            values["customer"] = None  # one problem for Validate to find
        rows.append([values.get(c.key) for c in B.REGISTER.input_columns])
    return rows


def normal(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return round(float(v), 9)
    if isinstance(v, datetime):
        return to_millisecond(v)
    return v


def excel_grid(book: Any, sheet: str) -> dict[tuple[int, int], Any]:
    sh = book.sheets[sheet]
    last = sh.used_range.last_cell
    grid = sh.range((1, 1), (last.row, last.column)).options(ndim=2).value
    return {(r, c): normal(v) for r, row in enumerate(grid, 1) for c, v in enumerate(row, 1) if normal(v) is not None}


def file_grid(path: Path, sheet: str) -> dict[tuple[int, int], Any]:
    port = FileWorkbook(path)
    return {(r, c): normal(v) for r, row in enumerate(port.values(sheet), 1) for c, v in enumerate(row, 1)
            if normal(v) is not None}


def press(book: Any, macro: str, status: Any, timeout: float = 120) -> str:
    """Run a button's macro; wait for its status line (RunPython returns early on macOS)."""
    before = status.value
    started = time.monotonic()
    book.macro(macro)()
    while time.monotonic() - started < timeout:
        now = status.value
        if now != before and now:
            return str(now)
        time.sleep(0.5)
    return ""


def our_charts(book: Any, lang: str) -> list[Any]:
    return [c for c in book.sheets[B.SUMMARY.title(lang)].charts if c.name == B.SUMMARY_CHART_KEY]


def chart_state(chart: Any) -> tuple[Any, ...]:
    """What a chart shows, to tell whether it was touched: name, box, title and series' references."""
    return chart.name, LiveCharts(sys.platform == "darwin").shown(chart)


def check_chart(book: Any, lang: str, want: Any, what: str) -> None:
    """Our chart on the Summary is ``want`` (a ``BarChart``: the headless refresh's), or absent for None."""
    found = our_charts(book, lang)
    if want is None:
        check(not found, f"{what}: no workload chart without handlers")
        return
    summary = book.sheets[B.SUMMARY.title(lang)]
    live = LiveCharts(sys.platform == "darwin")
    same = len(found) == 1 and live.shown(found[0]).same(live.wanted(summary, want, summary.name))
    check(same and found[0].chart_type == "bar_clustered",
          f"{what}: one workload chart over the table's {len(want.categories)} handler(s), as the headless refresh draws it")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--standalone", action="store_true", help="embed xlwings' VBA instead of the add-in")
    parser.add_argument("--keep", action="store_true", help="leave the workbook open in Excel")
    args = parser.parse_args()
    import xlwings as xw

    lang = args.lang
    folder = Path(tempfile.mkdtemp(prefix="xlcomplaints-smoke-"))
    path = folder / "smoke.xlsm"
    build_branch_xlsm(path, lang=lang, standalone=args.standalone, created=None)
    print(f"workbook: {path}")
    app = xw.App(visible=True, add_book=False)
    book = app.books.open(str(path))
    try:
        app.display_alerts = False  # the buttons then report in the status cell only
        register = book.sheets[B.REGISTER.title(lang)]
        rows = sample_rows(datetime.now(), lang)
        register.range((2, 1), (1 + len(rows), len(rows[0]))).value = rows  # input columns are unlocked
        book.save()
        headless = folder / "headless.xlsm"
        shutil.copy(path, headless)
        status = book.names[STATUS_NAME].refers_to_range  # the cell the buttons report in

        line = press(book, "AssignNumbers", status)
        check(bool(line), f"AssignNumbers reported: {line!r}")
        assigned = assign_ids_flow(FileWorkbook(headless), now=datetime.now(), lang=lang)
        check(len(assigned.assigned) == len(rows), f"headless numbering numbered {len(assigned.assigned)} rows")
        reg = B.REGISTER.title(lang)
        check(excel_grid(book, reg) == file_grid(headless, reg), "Register after AssignNumbers equals headless")

        line = press(book, "RefreshOverdue", status)
        check(bool(line), f"RefreshOverdue reported: {line!r}")
        summary = excel_grid(book, B.SUMMARY.title(lang))
        stamp = datetime.strptime(str(summary.get((2, 2))), "%Y-%m-%d %H:%M")  # 刷新时间, the button's now
        matched, plan = False, None
        for now in (stamp, stamp + timedelta(minutes=1)):  # the button's now had seconds; the cell has not
            trial = folder / "trial.xlsm"
            shutil.copy(headless, trial)
            plan = refresh_flow(FileWorkbook(trial), now=now, lang=lang).plan
            sheets = (reg, B.OVERDUE.title(lang))
            if all(excel_grid(book, s) == file_grid(trial, s) for s in sheets) and \
                    {k: v for k, v in summary.items() if k[1] <= 3 and k != (2, 2)} == \
                    {k: v for k, v in file_grid(trial, B.SUMMARY.title(lang)).items() if k[1] <= 3 and k != (2, 2)}:
                matched = True
                break
        check(matched, "Register, Overdue and Summary after RefreshOverdue equal the headless refresh")
        want = handler_chart(plan) if plan is not None else None
        check(want is not None, "the sample's two handlers make a workload chart")
        check_chart(book, lang, want, "RefreshOverdue")
        summary_sheet = book.sheets[B.SUMMARY.title(lang)]
        with XlwingsWorkbook(book)._writable(summary_sheet.name) as sh:  # the office's own chart, far right
            office = sh.charts.add(900, 300, 300, 180)
            office.name = "office chart"
            office.set_source_data(sh.range((3, 1), (6, 2)))
        office_before = chart_state(office)
        handler_col = B.REGISTER.index("handler") + 1
        third = "王五" if lang == "zh" else "Wang"
        register.range((2, handler_col)).value = third  # input columns are unlocked
        line = press(book, "RefreshOverdue", status)
        check(bool(line), f"RefreshOverdue (a third handler) reported: {line!r}")
        if want is not None:
            grid = excel_grid(book, summary_sheet.name)
            names = tuple(str(grid[(r, B.SUMMARY_HANDLERS_AT)]) for r in range(want.first_row, want.first_row + 10)
                          if (r, B.SUMMARY_HANDLERS_AT) in grid)
            check(len(names) == 3, f"the Summary's table has three handlers: {names}")
            grown = dataclasses.replace(want, categories=names,
                                        size=(want.size[0], CHART_BASE + CHART_PER_HANDLER * len(names)))
            check_chart(book, lang, grown, "RefreshOverdue with a third handler")
        check(chart_state(office) == office_before, "the office's own chart on the Summary is untouched")
        if sys.platform.startswith("win"):  # the COM names; macOS exposes them differently
            prot = register.api.Protection
            check(bool(register.api.ProtectContents), "Register is protected again after the write")
            check(bool(prot.AllowFiltering and prot.AllowSorting and prot.AllowInsertingRows),
                  "Register protection still allows filtering, sorting and inserting rows")

        line = press(book, "ValidateWorkbook", status)
        check(bool(line), f"ValidateWorkbook reported: {line!r}")
        problems = validate_flow(FileWorkbook(headless), now=datetime.now(), lang=lang).problems
        listed = excel_grid(book, "校验结果" if lang == "zh" else "Problems")
        check(max(r for r, _ in listed) == 1 + max(len(problems), 1),
              f"Problems sheet lists {len(problems)} problem(s) like the headless validate")

        line = press(book, "MonthlyReport", status, timeout=300)
        check(bool(line), f"MonthlyReport reported: {line!r}")
        reports = [p for p in folder.glob("smoke-*.xlsx") if str(p) in line]
        check(len(reports) == 1 or "not available" in line or "还没有月报" in line,
              f"monthly report written and named in the status: {reports}")

        register.activate()
        register.range((2, 1)).select()  # the first complaint's row
        line = press(book, "PrintForm", status, timeout=120)
        check(bool(line), f"PrintForm reported: {line!r}")
        forms = [p for p in folder.glob("smoke-*.xlsx") if p not in reports and str(p) in line]
        check(len(forms) == 1, f"handling form written next to the workbook and named in the status: {forms}")

        register.range((2, handler_col), (1 + len(rows), handler_col)).value = None  # no handlers left
        line = press(book, "RefreshOverdue", status)
        check(bool(line), f"RefreshOverdue (no handlers) reported: {line!r}")
        check_chart(book, lang, None, "RefreshOverdue without handlers")
        check(chart_state(office) == office_before, "the office's own chart is still there, untouched")
    finally:
        if not args.keep:
            book.close()
            app.quit()
    print(f"{'ALL PASSED' if not failures else f'{len(failures)} FAILED'} — files in {folder}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
