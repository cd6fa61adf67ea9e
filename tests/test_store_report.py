"""The consolidated report from the facts store equals the Python engine's, cell for cell (issue 22).

A consolidation computes its report from the partitions the workers wrote (``report.store_report``: DuckDB
over the store, the printed lists' rows read back alone); ``ReportHooks(python_engine=True)`` keeps the
earlier way (every case read back into this process, ``report.summary.build``). The two workbooks' every
sheet and every cell (values, not styles) are compared: the demo's three branches, eight branches of the
demo's kind, and a tricky set (a complaint number in two branches' files, repeats across branches, stages
that change hands), in Chinese and English.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.policies import HEAD_OFFICE_LISTS
from tests.samples import write_branch
from tests.test_by_handler import bj01
from tests.test_facts_store import NOW, OCT, cells
from tests.test_metrics import hand_branch
from xlcomplaints.demo import make_branch, run_demo
from xlcomplaints.report import store_report
from xlcomplaints.report.run import ReportHooks, ReportKind, ReportRequest, RunResult, report_flow


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    d = tmp_path_factory.mktemp("store-report")
    run_demo(d / "demo", now=NOW)
    eight = [make_branch(d / f"B{i:02d}.xlsx", f"B{i:02d}", f"网点{i}", n=80, seed=10 + i) for i in range(8)]
    a, b = hand_branch("A1"), hand_branch("B1")
    first, second = a.complaints[0], a.complaints[1]
    b = replace(b, complaints=(*b.complaints, replace(second, row=len(b.complaints) + 2),
                               replace(first, row=len(b.complaints) + 3, closed_at=first.received_at)))
    tricky = [write_branch(d / "a1.xlsx", a), write_branch(d / "b1.xlsx", b), write_branch(d / "bj01.xlsx", bj01())]
    return {"demo": [d / "demo" / f"{c}.xlsx" for c in ("BJ01", "SH02", "GZ03")], "eight": eight, "tricky": tricky}


def _run(inputs: list[Path], out: Path, lang: str, python: bool) -> RunResult:
    return report_flow(ReportRequest(tuple(inputs), OCT, out, ReportKind.CONSOLIDATION, lang=lang, now=NOW),
                       ReportHooks(workers=2, python_engine=python))


def store_computed(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """A list that gets a ``True`` each time the run computes its report from the store (``report_from_store``)."""
    computed: list[bool] = []
    original = store_report.report_from_store

    def spy(*args, **kw):  # type: ignore[no-untyped-def]
        computed.append(True)
        return original(*args, **kw)

    monkeypatch.setattr("xlcomplaints.report.run.report_from_store", spy)
    return computed


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", ["demo", "eight", "tricky"])
def test_the_report_from_the_store_equals_the_python_engines_cell_for_cell(
        sets: dict[str, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str, lang: str) -> None:
    computed = store_computed(monkeypatch)
    stored = _run(sets[which], tmp_path / "store.xlsx", lang, python=False)
    assert computed, "the report was not computed from the store"
    assert not stored.consolidation.cases  # the main process never held them
    plain = _run(sets[which], tmp_path / "python.xlsx", lang, python=True)
    assert len(computed) == 1 and plain.consolidation.cases
    got, want = cells(tmp_path / "store.xlsx"), cells(tmp_path / "python.xlsx")
    assert list(got) == list(want)
    for sheet in want:
        assert got[sheet] == want[sheet], sheet
    if which == "tricky":  # the rules across branches were met
        assert {p.code for p in stored.report.issues} >= {"report.duplicate_no"}
        assert stored.report.value("repeat_rate")


def test_the_offices_own_stages_and_columns_and_earlier_reports(sets: dict[str, list[Path]], tmp_path: Path) -> None:
    """A branch with stages and a breakdown column of its own, in November, with October's report of the
    eight branches given as history (its trend rows, its branches another set): alike, cell for cell."""
    from datetime import datetime

    from tests.test_custom_stages import make_branch as custom_branch
    from xlcomplaints.core.metrics import Month

    path = custom_branch(tmp_path, dims=("楼栋",), buildings={"BJ01-2611001": "3栋", "BJ01-2611002": "3栋",
                                                              "BJ01-2611003": "5栋"})
    october = _run(sets["eight"], tmp_path / "october.xlsx", "zh", python=False).output
    now = datetime(2026, 11, 3, 12, 0)
    out = {}
    for python in (False, True):
        for lang in ("zh", "en"):
            target = tmp_path / f"nov-{python}-{lang}.xlsx"
            report_flow(ReportRequest((path, sets["demo"][1]), Month(2026, 11), target, lang=lang, now=now,
                                      history=(october,)), ReportHooks(workers=2, python_engine=python))
            out[python, lang] = cells(target)
    for lang in ("zh", "en"):
        assert out[False, lang] == out[True, lang]
    assert any("楼栋" in name for name in out[False, "zh"])


@pytest.mark.parametrize("shown_then", [False, True])
def test_an_update_from_the_store_equals_the_python_engines(sets: dict[str, list[Path]], tmp_path: Path,
                                                            shown_then: bool) -> None:
    """``--update`` of two of the eight branches: the carried branches' partitions are checked, not read back,
    and the report equals the Python engine's over the same store; a store that showed contacts, updated by a
    run that masks them, has its carried partitions masked one at a time and rewritten
    (``masking.mask_partition``), the report still computed from the store and alike, the store masked after."""
    import pyarrow.parquet as pq

    from xlcomplaints.report.facts import load_facts, store_path
    from xlcomplaints.report.request import Contacts

    out = {}
    for python in (False, True):
        target = tmp_path / f"group-{python}.xlsx"
        report_flow(ReportRequest(tuple(sets["eight"]), OCT, target, now=NOW, contacts=Contacts.of(shown_then)),
                    ReportHooks(workers=2))
        before = {f.branch: f.partition.sha256 for f in load_facts(store_path(target), OCT, cases=False)[0]
                  if f.partition}
        written = {f.branch: Path(f.partition.path).name for f in load_facts(store_path(target), OCT, cases=False)[0]
                   if f.partition}
        result = report_flow(ReportRequest(tuple(sets["eight"][2:4]), OCT, target, ReportKind.UPDATE, now=NOW),
                             ReportHooks(workers=2, python_engine=python))
        assert sorted(result.consolidation.carried) == [f"B{i:02d}" for i in (0, 1, 4, 5, 6, 7)]
        assert bool(result.consolidation.cases) == python  # from the store: no branch's cases held here
        kept, _, shown = load_facts(store_path(target), OCT, result.run_id)
        assert not shown
        phones = [c.phone for f in kept for c in f.cases if c.phone]
        assert phones and all("*" in p for p in phones)
        after = {f.branch: f.partition.sha256 for f in kept if f.partition}
        # packs of three (``conftest.small_packs``): B00–B02 and B03–B05 hold an updated branch and are written
        # again; B06–B07's is kept as it is, unless the run masks what the store showed
        untouched = ("B06", "B07")
        assert all((after[b] == before[b]) != shown_then for b in untouched)  # rewritten masked only if shown
        files = {f.branch: Path(f.partition.path).name for f in kept if f.partition}
        assert all(files[b] != written[b] for b in ("B00", "B01", "B04", "B05"))  # the same bytes, maybe: a new file
        assert all(pq.read_table(f.partition.path).num_rows == f.partition.held for f in kept if f.partition)
        assert all(f.partition.rows == len(f.cases) for f in kept if f.partition)
        out[python] = cells(target)
    assert out[False] == out[True]


@pytest.mark.parametrize(("which", "lang"), [("demo", "zh"), ("eight", "en"), ("tricky", "zh")])
def test_a_consolidation_with_head_offices_lists_from_the_store_equals_the_python_engines(
        sets: dict[str, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str, lang: str) -> None:
    """``--policy`` with ``[lists]``: computed from the store (head office's entries put on its tables, the
    printed lists' rows relabelled as read back), cell for cell the Python engine's, the values off the list
    named alike on the Issues sheet; and an ``--update`` of it too."""
    from xlcomplaints.core.lists import LIST_NOT_ON
    from xlcomplaints.policy_file import load_policy

    hq = tmp_path / "hq.toml"
    hq.write_text(HEAD_OFFICE_LISTS, encoding="utf-8")
    lists = load_policy(hq).lists
    computed = store_computed(monkeypatch)
    results, out = {}, {}
    for python in (False, True):
        target = tmp_path / f"hq-{python}.xlsx"
        results[python] = report_flow(
            ReportRequest(tuple(sets[which]), OCT, target, lang=lang, now=NOW, lists=lists),
            ReportHooks(workers=2, python_engine=python))
        out[python] = cells(target)
    assert computed == [True] and not results[False].consolidation.cases and results[True].consolidation.cases
    assert list(out[False]) == list(out[True])
    for sheet in out[True]:
        assert out[False][sheet] == out[True][sheet], sheet
    not_on = [(p.params["branch"], p.params["value"], p.params["count"]) for p in results[False].report.issues
              if p.code == LIST_NOT_ON]
    assert not_on and not_on == [(p.params["branch"], p.params["value"], p.params["count"])
                                 for p in results[True].report.issues if p.code == LIST_NOT_ON]
    if which == "demo":  # the branches' 客服部 counted as head office's 客户服务部, 保安部 under its own name
        departments = {g.key for g in results[False].report.breakdowns["department"]}
        assert "客户服务部" in departments and "客服部" not in departments
        assert any(value == "保安部" for _, value, _ in not_on)
    for python in (False, True):  # an update of two branches with the same lists: alike again
        target = tmp_path / f"hq-{python}.xlsx"
        report_flow(ReportRequest(tuple(sets[which][:2]), OCT, target, ReportKind.UPDATE, lang=lang, now=NOW,
                                  lists=lists), ReportHooks(workers=2, python_engine=python))
        out[python] = cells(target)
    assert out[False] == out[True]


def test_the_listed_rows_made_cases_a_few_at_a_time_and_after_duckdbs_tables_are_dropped(
        sets: dict[str, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``rows_of`` makes the printed lists' rows ``Case``s ``_CHUNK`` rows at a time, reading only the partitions'
    files once DuckDB's tables are dropped (``release``, issue 22's memory at 10 M): with chunks of 3 rows the
    workbook is the Python engine's, cell for cell, and no loaded table is left when the rows are read."""
    monkeypatch.setattr(store_report, "_CHUNK", 3)
    tables: list[list[str]] = []
    fetch = store_report.rows_of

    def spy(facts, *args, **kw):  # type: ignore[no-untyped-def]
        tables.append([name for (name,) in facts.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()])
        return fetch(facts, *args, **kw)

    monkeypatch.setattr(store_report, "rows_of", spy)
    stored = _run(sets["eight"], tmp_path / "store.xlsx", "zh", python=False)
    _run(sets["eight"], tmp_path / "python.xlsx", "zh", python=True)
    assert len(stored.report.overdue) > 3 * 2  # several chunks
    assert len(tables) == 1 and not set(tables[0]) & set(store_report._LOADED)
    assert cells(tmp_path / "store.xlsx") == cells(tmp_path / "python.xlsx")
