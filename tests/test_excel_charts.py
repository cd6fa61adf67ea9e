"""The Summary's workload chart drawn by the Excel button's refresh (issue 20), through a stand-in.

There is no Excel here. ``FakeBook`` (tests/test_excel_adapter.py) stands in for xlwings: besides the
cells it offers the chart members ``excel/charts.py`` uses — xlwings' ``Sheet.charts`` (iterated,
``add``), ``Chart.name/.chart_type/.left/.top/.width/.height/.delete/.api`` and ``Range.left/.top``, and
on the native chart (``Chart.api[1]``) Excel's COM ``HasTitle``/``ChartTitle.Text``,
``SeriesCollection().Count/.Item/.NewSeries``, ``Series.Name/.Values/.XValues`` (set to references,
``Name`` reading back the cell's text) and ``.Formula`` (``=SERIES(…)`` with the sheet quoted only when
Excel would), ``Format.Fill.ForeColor.RGB``, ``HasDataLabels``, ``DataLabels().Position``, ``Axes``,
``Legend`` — as Microsoft documents them, refusing any change on a protected sheet. It cannot show that
real Excel draws what these calls ask for: ``scripts/excel_smoke.py`` checks that on a PC with Excel.
The stand-in loads no charts from the file (openpyxl does not read them): a test puts the office's own.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from tests.samples import write_branch
from tests.test_by_handler import bj01
from tests.test_excel_adapter import (
    COLUMN_POINTS,
    ROW_POINTS,
    FakeBook,
    FakeChart,
    FakeSeries,
    _quote,
)
from tests.test_summary_chart import our_chart, series
from xlcomplaints.excel import entry
from xlcomplaints.excel.adapter import XlwingsWorkbook
from xlcomplaints.excel.charts import formula_refs
from xlcomplaints.flows import handler_chart, refresh_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook

OCT = datetime(2026, 10, 31, 18, 0)  # 李四, 王五, 张三
NOV = datetime(2026, 11, 20, 9, 0)  # 李四, 王五
DEC = datetime(2026, 12, 15, 9, 0)
SUMMARY = "汇总"


@pytest.fixture(autouse=True)
def _log_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entry, "LOG_FILE", tmp_path / "xlcomplaints-excel.log")


def ours(book: FakeBook, sheet: str = SUMMARY) -> list[FakeChart]:
    return [c for c in book.sheet(sheet).chart_list if c._name == B.SUMMARY_CHART_KEY]


def press(book: FakeBook, now: datetime) -> entry.Outcome:
    book.app._display_alerts = False
    return entry.run("refresh", book, now=now)


def office_chart(book: FakeBook) -> FakeChart:
    """A chart the office drew on the Summary by hand (columns over its own cells, far right)."""
    chart = FakeChart(book.sheet(SUMMARY), "图表 1", (900.0, 450.0, 360.0, 216.0))
    chart.native.props.update(ChartType=57 - 6, HasTitle=True)
    chart.native.title.props["Text"] = "办公室自己的图"
    own = FakeSeries(book.sheet(SUMMARY), chart.native)
    own.refs.update(Name=(SUMMARY, 1, 1, 1, 1), Values=(SUMMARY, 3, 2, 6, 2))
    chart.native.series.append(own)
    book.sheet(SUMMARY).chart_list.append(chart)
    return chart


def state(chart: FakeChart) -> tuple[object, ...]:
    """Everything the stand-in holds of a chart."""
    return (chart._name, tuple(chart.box), dict(chart.native.props), dict(chart.native.title.props),
            [dict(s.refs) for s in chart.native.series], chart.deleted)


def check_drawn(book: FakeBook, path: Path, now: datetime, handlers: int) -> FakeChart:
    """Our one chart on the Summary is the headless refresh's of the same file and time: series over the
    same cells (what they hold now: the table per handler), title, bar type, corner and size."""
    [chart] = ours(book)
    headless = path.with_name("headless-" + path.name)
    shutil.copy(path, headless)
    plan = refresh_flow(FileWorkbook(headless), now=now, lang="zh").plan
    assert plan is not None
    want = handler_chart(plan)
    assert want is not None and len(want.categories) == handlers
    native = chart.native
    assert native.props["ChartType"] == 57 and native.props["HasTitle"] and native.title.props["Text"] == want.title
    file_series = series(our_chart(headless)[1])  # type: ignore[index]
    assert len(native.series) == len(file_series) == 2
    for got, drawn, spec in zip(native.series, file_series, want.series, strict=True):
        assert formula_refs(got.Formula) == formula_refs(
            f"=SERIES({drawn['name_ref']},{drawn['cat_ref']},{drawn['val_ref']},1)")
        assert got.Formula.startswith(f"=SERIES({_quote(SUMMARY)}!$")  # as Excel writes it back
        assert got.Name == drawn["name"][0]  # type: ignore[index]
        assert list(got.XValues) == drawn["cat"] == list(want.categories)
        assert [float(v) for v in got.Values] == drawn["val"] == list(spec.values)
        colour = got.Format.Fill.ForeColor.RGB
        assert f"{colour & 255:02X}{colour >> 8 & 255:02X}{colour >> 16:02X}" == spec.colour
        assert got.HasDataLabels and got.DataLabels().Position == 2
    assert native.axes[1].props["ReversePlotOrder"] is True  # the first handler on top, as in the table
    row, col = want.at
    assert chart.box == [(col - 1) * COLUMN_POINTS, (row - 1) * ROW_POINTS, want.size[0] * 0.75, want.size[1] * 0.75]
    return chart


def test_the_button_draws_updates_and_keeps_the_chart_with_the_handlers(tmp_path: Path) -> None:
    """November (2 handlers): the button's refresh draws our chart, its series referring to the Summary's
    table; October (3 handlers) on the same open workbook: the same chart object is brought up to 3 rows
    and made taller; the same time again: nothing written, the Summary not even unprotected."""
    path = write_branch(tmp_path / "BJ01.xlsx", bj01())
    book = FakeBook(path)
    press(book, NOV)
    first = check_drawn(book, path, NOV, handlers=2)
    short = first.box[3]
    press(book, OCT)
    again = check_drawn(book, path, OCT, handlers=3)
    assert again is first and again.box[3] > short
    summary = book.sheet(SUMMARY)
    unprotects, writes = book.calls.log["Worksheet.Unprotect"], book.calls.log["Series.Values="]
    assert not XlwingsWorkbook(book).save()
    refresh_flow(port := XlwingsWorkbook(book), now=OCT, lang="zh")
    assert not port.save()
    assert book.calls.log["Worksheet.Unprotect"] == unprotects and book.calls.log["Series.Values="] == writes
    assert summary.protection["Contents"]  # the template's Summary is protected, and stays so


def test_no_handler_removes_our_chart_and_only_ours(tmp_path: Path) -> None:
    """A month without handlers deletes our chart; the office's chart on the Summary is never touched,
    neither when ours is added and updated nor when it goes."""
    data = bj01()
    closed = replace(data, complaints=tuple(c for c in data.complaints if c.no != "BJ01-002"))
    path = write_branch(tmp_path / "closed.xlsx", closed)
    book = FakeBook(path)
    own = office_chart(book)
    before = state(own)
    press(book, OCT)
    assert len(ours(book)) == 1 and state(own) == before
    press(book, NOV)
    assert state(own) == before
    press(book, DEC)
    assert ours(book) == [] and book.sheet(SUMMARY).chart_list == [own] and state(own) == before
    refresh_flow(port := XlwingsWorkbook(book), now=DEC, lang="zh")  # nothing left to remove
    assert not port.save() and book.sheet(SUMMARY).chart_list == [own]


def test_a_chart_the_office_renamed_ours_to_is_not_ours(tmp_path: Path) -> None:
    """Ours is known by its name alone: a chart of any other name is the office's, even one that
    looks like ours; ours is drawn beside it."""
    path = write_branch(tmp_path / "BJ01.xlsx", bj01())
    book = FakeBook(path)
    press(book, OCT)
    [mine] = ours(book)
    mine._name = "我的工作量图"  # the supervisor renamed it: now it is theirs
    kept = state(mine)
    press(book, NOV)
    assert state(mine) == kept and len(ours(book)) == 1 and ours(book)[0] is not mine


def test_protected_summary_is_unprotected_around_the_chart_and_protected_again(tmp_path: Path) -> None:
    """The template protects the Summary: drawing the chart unprotects it (the stand-in refuses any chart
    change on a protected sheet) and protects it again with the options it had; with a password the
    chart is not forced, and the button says why."""
    path = write_branch(tmp_path / "BJ01.xlsx", bj01())
    book = FakeBook(path)
    summary = book.sheet(SUMMARY)
    options = dict(summary.protection)
    assert options["Contents"]
    port = XlwingsWorkbook(book)
    plan = refresh_flow(FileWorkbook(write_branch(tmp_path / "plan.xlsx", bj01())), now=OCT, lang="zh").plan
    assert plan is not None
    port.set_chart(SUMMARY, B.SUMMARY_CHART_KEY, handler_chart(plan))
    assert len(ours(book)) == 1 and summary.protection == options and len(summary.protect_calls) == 1
    port.set_chart(SUMMARY, B.SUMMARY_CHART_KEY, None)
    assert ours(book) == [] and summary.protection == options and len(summary.protect_calls) == 2

    locked = FakeBook(write_branch(tmp_path / "locked.xlsx", bj01()))
    locked.sheet(SUMMARY).password = "secret"
    with pytest.raises(WorkbookError) as refused:
        XlwingsWorkbook(locked).set_chart(SUMMARY, B.SUMMARY_CHART_KEY, handler_chart(plan))
    assert refused.value.code == "excel.sheet_password"
    assert ours(locked) == [] and locked.sheet(SUMMARY).protection["Contents"]
    outcome = press(locked, OCT)
    assert not outcome.ok and "设置了保护密码" in outcome.zh and ours(locked) == []


def test_series_formulas_compare_however_excel_spells_the_references() -> None:
    ours_ = formula_refs("=SERIES('汇总'!$F$3,'汇总'!$E$4:$E$5,'汇总'!$F$4:$F$5,1)")
    assert ours_ == formula_refs("=SERIES(汇总!$F$3,汇总!E4:E5,汇总!$F$4:$F$5,1)")
    assert formula_refs("=SERIES('Bob''s, 汇总'!$F$3,'Bob''s, 汇总'!$E$4:$E$5,'Bob''s, 汇总'!$F$4:$F$5,2)") == (
        ("bob's, 汇总", "F3"), ("bob's, 汇总", "E4:E5"), ("bob's, 汇总", "F4:F5"))
    assert ours_ != formula_refs("=SERIES('汇总'!$F$3,'汇总'!$E$4:$E$6,'汇总'!$F$4:$F$6,1)")
    assert formula_refs('=SERIES("typed",{"a","b"},{1,2},1)') is None


# --- macOS: the appscript side of the chart -------------------------------------------------


class _Prop:
    """An appscript property reference: ``get()``, ``set(value)``."""

    def __init__(self, value: object = None) -> None:
        self.value = value

    def get(self) -> object:
        return self.value

    def set(self, value: object) -> None:
        self.value = value


class MacSeries:
    """Excel's AppleScript ``series`` (names from xlwings' mac_dict); ``formula`` as Excel composes it."""

    def __init__(self, chart: MacChart) -> None:
        self.chart = chart
        self.name, self.series_values, self.xvalues, self.has_data_labels = _Prop(), _Prop(), _Prop(), _Prop(False)
        fill = type("Fill", (), {})()
        fill.visible, fill.fore_color, fill.solid = _Prop(False), _Prop(), lambda: None
        self.chart_format = type("Format", (), {"fill_format": fill})()

    @property
    def formula(self) -> _Prop:
        refs = [str(p.get()).lstrip("=").replace("'汇总'", "汇总") for p in (self.name, self.xvalues, self.series_values)]
        return _Prop(f"=SERIES({','.join(refs)},{self.chart.items.index(self) + 1})")

    def delete(self) -> None:
        self.chart.items.remove(self)


class MacChart:
    """Excel's AppleScript ``chart``: ``series_collection.get()`` is ``missing value`` when empty."""

    def __init__(self) -> None:
        self.items: list[MacSeries] = []
        self.has_title, self.has_legend = _Prop(False), _Prop(False)
        self.chart_title = type("T", (), {"chart_title_text": _Prop()})()
        self.legend_object = type("L", (), {"position": _Prop()})()
        self.series_collection = type("S", (), {"get": lambda _: list(self.items) or "missing value"})()

    def make(self, new: object, at: object) -> MacSeries:
        assert new == "series" and at is self
        self.items.append(MacSeries(self))
        return self.items[-1]


def test_macos_chart_members_use_applescript_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """On a Mac the native chart is appscript's: title, series by reference, colours, labels, legend —
    and read back the same way, so a second refresh writes nothing. (A stand-in of appscript: unverified
    on a Mac.)"""
    import sys
    from types import SimpleNamespace

    from xlcomplaints.excel.charts import LiveCharts

    monkeypatch.setitem(sys.modules, "appscript", SimpleNamespace(
        k=SimpleNamespace(series="series", legend_position_bottom="bottom")))
    plan = refresh_flow(FileWorkbook(write_branch(tmp_path / "plan.xlsx", bj01())), now=OCT, lang="zh").plan
    assert plan is not None
    chart = handler_chart(plan)
    assert chart is not None
    book = FakeBook(write_branch(tmp_path / "mac.xlsx", bj01()))
    native = MacChart()

    class MacFakeChart(FakeChart):  # xlwings' Chart on a Mac: api = (chart object, chart), appscript's
        @property
        def api(self) -> tuple[object, MacChart]:  # type: ignore[override]
            return None, native

    found = MacFakeChart(book.sheet(SUMMARY), B.SUMMARY_CHART_KEY, (0.0, 0.0, 10.0, 10.0))
    live = LiveCharts(mac=True)
    want = live.wanted(book.sheet(SUMMARY), chart, SUMMARY)
    book.sheet(SUMMARY).protection["Contents"] = False
    assert not live.shown(found).same(want)
    live.draw(book.sheet(SUMMARY), found, B.SUMMARY_CHART_KEY, chart, SUMMARY, want)
    assert native.has_title.get() and native.chart_title.chart_title_text.get() == chart.title
    assert [s.series_values.get() for s in native.items] == ["='汇总'!$F$4:$F$6", "='汇总'!$G$4:$G$6"]
    assert {s.xvalues.get() for s in native.items} == {"='汇总'!$E$4:$E$6"}
    assert [s.chart_format.fill_format.fore_color.get() for s in native.items] == [[0x5B, 0x9B, 0xD5],
                                                                                    [0xE4, 0x6C, 0x0A]]
    assert native.legend_object.position.get() == "bottom" and all(s.has_data_labels.get() for s in native.items)
    assert live.shown(found).same(want)
