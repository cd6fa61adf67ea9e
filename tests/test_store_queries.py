"""Equality is the proof (issue 22): every figure computed by DuckDB over the facts store's table
(``store.queries`` through ``store.figures.Facts``) equals the Python engine's (``core.metrics`` over a
``CaseIndex``) — exactly, floats and None alike — on the demo's three branch workbooks (written to disk and
read as a consolidation reads them) and on a twelve-branch generated set, for a month, an ISO week, a quarter
and a range of days across National Day, each with its previous period; for the whole set, grouped by branch,
and for one branch alone; and the tables: trend, backlog ages, breakdowns, By-handler and By-department,
stage times, the overdue list and the late closes. The same SQL over Parquet partitions on disk gives the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, is_dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.samples import synthetic_branch, write_branch
from tests.test_by_handler import bj01
from tests.test_consolidate import _case as _done_case
from tests.test_custom_stages import make_branch as custom_branch
from tests.test_metrics import OCT, hand_branch
from xlcomplaints.core import metrics as M
from xlcomplaints.core.deadlines import make_calendar
from xlcomplaints.core.metrics import CaseIndex, Period, PeriodKind
from xlcomplaints.core.policy import default_policy
from xlcomplaints.core.refresh import evaluate_branch
from xlcomplaints.demo import BRANCHES, make_branch
from xlcomplaints.report import consolidate as C
from xlcomplaints.report.consolidate import read_file
from xlcomplaints.report.facts import store_path
from xlcomplaints.report.merging import merge
from xlcomplaints.report.run import ReportHooks, ReportRequest, RunResult, report_flow
from xlcomplaints.report.store_figures import connect_store, figures_from_store
from xlcomplaints.report.summary import DIMENSIONS, partial_from
from xlcomplaints.store import figures as F
from xlcomplaints.store.facts_sql import connect_table
from xlcomplaints.store.figures import (
    ALL,
    BY_BRANCH,
    BY_DEPARTMENT,
    BY_HANDLER,
    Facts,
    by_dimension,
    by_office_column,
    figures_from_parquet,
)
from xlcomplaints.store.merge_sql import count_once, repeats_across_branches
from xlcomplaints.store.queries import (
    DUE_BY_COMPLAINT,
    DUE_RATE_LATE,
    PEOPLE_QUERIES,
    QUERIES,
    TOGETHER,
    document,
    explain,
)
from xlcomplaints.store.schema import to_table

NOW = datetime(2026, 11, 2, 9, 0)  # the demo's
PERIODS = {
    "month": Period.month(2026, 10),
    "iso-week": Period.week(2026, 43),
    "quarter": Period.quarter(2026, 3),
    "national-day": Period.days("2026-10-01", "2026-10-08"),
}


def make_report(inputs: list[Path], period: M.Month, output: Path, now: datetime) -> RunResult:
    """A consolidation computed by the Python engine (``ReportHooks.python_engine``): what DuckDB is held to."""
    return report_flow(ReportRequest(tuple(inputs), period, output, now=now), ReportHooks(python_engine=True))


def _as_of(p: Period) -> datetime:
    return M.default_period_as_of(p, NOW)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("demo")
    return [make_branch(d / f"{code}.xlsx", code, name, n=60, seed=i) for i, (code, name) in enumerate(BRANCHES)]


def _demo(paths: list[Path], p: Period) -> list[M.Case]:
    """The demo's branches read as a consolidation of period ``p`` reads them (masked, merged, repeats across)."""
    files = [read_file(str(path), p, _as_of(p), NOW) for path in paths]
    return merge(files, p, _as_of(p)).cases


def _generated(p: Period, branches: int = 12, n: int = 150) -> list[M.Case]:
    """``bench_report``'s generator in memory: branches with the default rules, evaluated as of the period's end."""
    out: list[M.Case] = []
    for i in range(branches):
        data = synthetic_branch(f"BR{i:04d}", n, end=M.Month(2026, 11).end, months=8, seed=i)
        data = replace(data, settings=data.settings.model_copy(update={"policy": default_policy()}))
        results, _ = evaluate_branch(data, _as_of(p))
        out += M.case_facts(data.settings.branch_code, data, results, make_calendar(data.settings, data),
                            timed=(p.shift(-1).start, p.end), as_of=_as_of(p))
    return out


_CACHE: dict[tuple[str, str], list[M.Case]] = {}


@pytest.fixture(params=["demo", "generated"])
def data_set(request: pytest.FixtureRequest, demo_dir: list[Path]) -> Callable[[str], list[M.Case]]:
    def cases(period: str) -> list[M.Case]:
        key = (request.param, period)
        if key not in _CACHE:
            p = PERIODS[period]
            _CACHE[key] = _demo(demo_dir, p) if request.param == "demo" else _generated(p)
        return _CACHE[key]
    return cases


def _facts(cases: list[M.Case]) -> Facts:
    return Facts(connect_table(to_table(cases)))


def _diff(name: str, got: Any, want: Any) -> list[str]:
    """Exactly equal (``==`` on floats; None is None) or a line saying how not."""
    return [] if got == want and type(got) is type(want) else [f"{name}: duckdb {got!r} != engine {want!r}"]


@pytest.mark.parametrize("period", PERIODS)
def test_every_metric_equals_the_engine(data_set: Callable[[str], list[M.Case]], period: str) -> None:
    cases = data_set(period)
    p, facts, ix = PERIODS[period], _facts(cases), CaseIndex(cases)
    assert {c.branch for c in cases} and ix.received(p), "a set with complaints in the period"
    wrong: list[str] = []
    for key, metric in M.METRICS.items():
        now, before = facts.metric(key, [p, p.previous])
        wrong += _diff(f"{key} {p}", now[None], metric(ix, p))
        wrong += _diff(f"{key} {p.previous}", before[None], metric(ix, p.previous))
    assert wrong == []
    # every figure is there to be compared: durations and scores were measured, deadlines missed
    assert all(facts.metric(k, [p])[0][None] is not None for k in ("resolve_median", "on_time_rate", "average_score"))


@pytest.mark.parametrize("period", PERIODS)
def test_grouped_by_branch_and_one_branch_alone(data_set: Callable[[str], list[M.Case]], period: str) -> None:
    """One query text for the whole set, each branch (as its own report), and one branch picked out."""
    cases = data_set(period)
    p, facts = PERIODS[period], _facts(cases)
    by: dict[str, list[M.Case]] = {}
    for c in cases:
        by.setdefault(c.branch, []).append(c)
    one = sorted(by)[-1]
    wrong: list[str] = []
    for key, metric in M.METRICS.items():
        grouped = facts.metric(key, [p, p.previous], BY_BRANCH)
        alone = facts.metric(key, [p], ALL, branch=one)[0][None]
        for branch, mine in by.items():
            ix = CaseIndex(mine)
            wrong += _diff(f"{key} {branch} {p}", grouped[0][branch], metric(ix, p))
            wrong += _diff(f"{key} {branch} {p.previous}", grouped[1][branch], metric(ix, p.previous))
        wrong += _diff(f"{key} {one} alone", alone, metric(CaseIndex(by[one]), p))
    assert wrong == []
    assert sorted(facts.groups(BY_BRANCH)) == sorted(by)


@pytest.mark.parametrize("period", PERIODS)
def test_tables_equal_the_engine(data_set: Callable[[str], list[M.Case]], period: str) -> None:
    cases = data_set(period)
    p, facts, ix = PERIODS[period], _facts(cases), CaseIndex(cases)
    assert facts.trend(p) == M.trend(ix, p)
    assert facts.backlog_ages(p)[None] == M.backlog_ages(ix, p)
    assert facts.backlog_ages(p.previous)[None] == M.backlog_ages(ix, p.previous)
    for dim, vocab in DIMENSIONS:
        order = vocab.codes if vocab else ()
        assert facts.breakdown(p, dim, order) == M.breakdown(ix, p, dim, order), dim
    assert facts.people(p, BY_HANDLER) == M.people(ix, p, M.BY_HANDLER)
    departments = [r.key for r in M.breakdown(ix, p, "department")]
    assert facts.people(p, BY_DEPARTMENT, departments) == M.people(ix, p, M.BY_DEPARTMENT, departments)
    assert facts.stage_table(p) == M.stage_table(ix, p)
    overdue = [(d.case, d.stage) for d in M.overdue_detail(ix, p)]
    assert [(cases[cid], stage) for cid, stage in facts.overdue_detail(p)] == overdue
    assert [(cases[cid], stage) for cid, stage in facts.overdue_detail(p, top=5)] == overdue[:5]
    assert [cases[cid] for cid in facts.closed_late(p)] == M.closed_late(ix, p)
    assert [(cases[cid], reasons) for cid, reasons in facts.typical(p)] == [tuple(t) for t in M.typical_cases(ix, p)]
    assert facts.units() == ix.units
    assert facts.partial_from(p.previous) == partial_from(cases, p.previous)
    assert facts.unreadable_received() == sum(1 for c in cases if c.received_at is None)


@pytest.mark.parametrize("period", ["month", "iso-week"])
def test_breakdowns_in_one_query(data_set: Callable[[str], list[M.Case]], period: str) -> None:
    """``Facts.prefetch_breakdowns``: every dimension's figures in one ``GROUPING SETS`` query each, the same
    rows as one query per dimension and as the engine (by branch alone too)."""
    cases = data_set(period)
    p, facts, ix = PERIODS[period], _facts(cases), CaseIndex(cases)
    facts.prefetch_breakdowns(p, [dim for dim, _ in DIMENSIONS])
    for dim, vocab in DIMENSIONS:
        order = vocab.codes if vocab else ()
        assert facts.breakdown(p, dim, order) == M.breakdown(ix, p, dim, order), dim
    assert not facts._prefetched, "each prefetched breakdown read once"
    branch = sorted({c.branch for c in cases})[0]
    mine = CaseIndex([c for c in cases if c.branch == branch])
    facts.prefetch_breakdowns(p, ["category", "severity"], branch=branch)
    assert facts.breakdown(p, "category", branch=branch) == M.breakdown(mine, p, "category")
    assert facts.breakdown(p, "severity", branch=branch) == M.breakdown(mine, p, "severity")
    assert facts.metric("received", [p])[0][None] == M.METRICS["received"](ix, p), "the views made again after"


def _typed(figures: Any) -> Any:
    """Figures with each value's type beside it: 1 and 1.0, 0 and None told apart."""
    if isinstance(figures, dict):
        return [(k, _typed(v)) for k, v in figures.items()]
    if is_dataclass(figures) and not isinstance(figures, type):
        return [type(figures).__name__, _typed(astuple(figures))]
    if isinstance(figures, list | tuple):
        return [_typed(v) for v in figures]
    return (figures, type(figures).__name__)


@pytest.mark.parametrize("period", ["month", "iso-week"])
def test_figures_asked_together(data_set: Callable[[str], list[M.Case]], period: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Speed, fenced (``store.queries.TOGETHER``, ``PEOPLE_TOGETHER``, ``DUE_BY_COMPLAINT``, the cuts): a figure
    asked in one query with others is, for every grouping, period and group, what its own query gives (0 or None
    where that has no row); the cover and the people as they are asked one query a figure; the breakdowns' deadlines
    counted per complaint first as ``DUE_RATE_LATE`` gives them; and all of it, with the stage table and the overdue
    list, from the stages due in the period and the one before and the stages missed (``Facts._source``) as from
    every stage."""
    cases = data_set(period)
    p, facts = PERIODS[period], _facts(cases)
    periods = [p, p.previous]
    one = sorted({c.branch for c in cases})[0]
    groupings = [(ALL, None), (BY_BRANCH, None), (BY_HANDLER, None), (BY_DEPARTMENT, None), (ALL, one),
                 (by_dimension("category"), None), (by_dimension("severity"), one)]
    for by, branch in groupings:
        for names, sql in TOGETHER.items():
            together = facts.metrics(sql, [QUERIES[n].count for n in names], periods, by, branch)
            for i, name in enumerate(names):
                alone = facts.metric(name, periods, by, branch)
                assert _typed([f[i] for f in together]) == _typed(alone), (name, by, branch)
        if by.stage is None:  # a grouping by what the complaint holds: the breakdowns'
            by_complaint = DUE_BY_COMPLAINT.format(stages="stages")
            assert _typed(facts.metrics(by_complaint, (False, True), periods, by, branch)) == _typed(
                facts.metrics(DUE_RATE_LATE, (False, True), periods, by, branch)), (by, branch)
    shown = facts.cover(p, BY_BRANCH)
    assert any(v[0] is not None for v in shown["callback_on_time_rate"].values())
    assert any(v[0] is not None for v in shown["average_score"].values())
    facts = _facts(cases)  # afresh: the stages cut as a report cuts them
    covers = [facts.cover(p), facts.cover(p, BY_BRANCH, one)]
    assert facts._cut == (p.previous.start, p.end)
    together = {by: facts.people(p, by) for by in (BY_HANDLER, BY_DEPARTMENT)}
    facts.prefetch_breakdowns(p, [dim for dim, _ in DIMENSIONS])
    breakdowns = [facts.breakdown(p, dim) for dim, _ in DIMENSIONS]
    stage_table, overdue = facts.stage_table(p), facts.overdue_detail(p)
    assert facts._cut == (p.previous.start, p.end) and facts._missed_cut, "cut once"
    assert overdue, "an overdue list to compare"
    facts = _facts(cases)
    monkeypatch.setattr(F, "TOGETHER", {})
    monkeypatch.setattr(F, "PEOPLE_TOGETHER", PEOPLE_QUERIES)
    monkeypatch.setattr(F, "DUE_BY_COMPLAINT", DUE_RATE_LATE)
    monkeypatch.setattr(F, "DUE_WITHIN", frozenset())
    monkeypatch.setattr(F, "MISSED_ONLY", frozenset())
    assert _typed(covers) == _typed([facts.cover(p), facts.cover(p, BY_BRANCH, one)])
    for by, rows in together.items():
        assert rows == facts.people(p, by) and _typed([r.values for r in rows]) == _typed(
            [r.values for r in facts.people(p, by)])
    facts.prefetch_breakdowns(p, [dim for dim, _ in DIMENSIONS])
    assert _typed(breakdowns) == _typed([facts.breakdown(p, dim) for dim, _ in DIMENSIONS])
    assert _typed(stage_table) == _typed(facts.stage_table(p)) and overdue == facts.overdue_detail(p)
    assert facts._cut is None and not facts._missed_cut


def test_the_offices_own_stages_and_columns(tmp_path: Path) -> None:
    """A branch with two stages of its own (one timed from the office's column, one recurring) and a
    breakdown by the office's column 楼栋: stage rows, the overdue list and the breakdown alike."""
    now = datetime(2026, 11, 3, 12, 0)
    path = custom_branch(tmp_path, dims=("楼栋",), buildings={"BJ01-2611001": "3栋", "BJ01-2611002": "3栋",
                                                              "BJ01-2611003": "5栋"})
    for p in (Period.month(2026, 11), Period.week(2026, 45), Period.quarter(2026, 4)):
        as_of = M.default_period_as_of(p, now)
        cases = merge([read_file(str(path), p, as_of, now)], p, as_of).cases
        facts, ix = _facts(cases), CaseIndex(cases)
        assert ix.custom and ix.custom_labels, "the office's stages are in the facts"
        assert facts.custom_labels() == ix.custom_labels
        assert facts.stage_table(p) == M.stage_table(ix, p)
        assert [(cases[cid], stage) for cid, stage in facts.overdue_detail(p)] == [
            (d.case, d.stage) for d in M.overdue_detail(ix, p)]
        office = list(dict.fromkeys(str(c.office[i]) for c in cases for i in range(0, len(c.office), 2)))
        assert facts.office_dimensions() == office == ["楼栋"]
        assert facts.breakdown(p, by_office_column("楼栋")) == M.breakdown(ix, p, lambda c: c.office_value("楼栋"))
        facts.prefetch_breakdowns(p, [by_office_column("楼栋"), "category"])
        assert facts.breakdown(p, by_office_column("楼栋")) == M.breakdown(ix, p, lambda c: c.office_value("楼栋"))
        assert facts.breakdown(p, "category") == M.breakdown(ix, p, "category")
        for key, metric in M.METRICS.items():
            assert facts.metric(key, [p])[0][None] == metric(ix, p), key


def test_parquet_partitions_give_the_same_figures(tmp_path: Path) -> None:
    """The store's way: one Parquet file per branch, read where it lies — the same SQL, the same figures."""
    p = PERIODS["month"]
    cases = _generated(p, branches=4, n=120)
    paths = []
    for branch in sorted({c.branch for c in cases}):
        paths.append(tmp_path / f"{branch}.parquet")
        pq.write_table(to_table([c for c in cases if c.branch == branch]), paths[-1])
    ix = CaseIndex(cases)
    stored = figures_from_parquet(paths, p)
    assert stored == {key: {None: (m(ix, p), m(ix, p.previous))} for key, m in M.METRICS.items()}
    by_branch = figures_from_parquet(paths, p, BY_BRANCH, memory_limit="200MB")
    for branch in {c.branch for c in cases}:
        mine = CaseIndex([c for c in cases if c.branch == branch])
        assert {k: v[branch] for k, v in by_branch.items()} == {
            key: (m(mine, p), m(mine, p.previous)) for key, m in M.METRICS.items()}


def test_the_trend_by_nested_loops_or_merge_joins() -> None:
    """``facts_sql.NESTED_LOOP_ROWS`` changes how DuckDB joins the twelve periods, not what it finds: the trend as
    DuckDB's default (a merge join past 5 rows) gives it, and as the engine does."""
    p = PERIODS["month"]
    cases = _generated(p)
    facts = _facts(cases)
    ours = facts.trend(p)
    facts.con.execute("SET nested_loop_join_threshold = 5")
    facts._grouping, facts._period_rows = None, ()
    assert facts.trend(p) == ours == M.trend(CaseIndex(cases), p) and len(ours) > 5


def test_duckdb_draws_no_progress_bar_on_the_users_console() -> None:
    """A query past two seconds (a 1,000,000-complaint store) had DuckDB draw its progress bar after our own
    output (seen on a subprocess's stdout): every connection the store makes has it off."""
    facts = _facts(_generated(PERIODS["month"]))
    assert facts.con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)


def test_every_figure_has_its_query_next_to_its_words() -> None:
    assert set(QUERIES) == set(M.METRICS) and set(PEOPLE_QUERIES) == set(M.PEOPLE_FIGURES)
    for key in M.METRICS:
        for lang in ("zh", "en"):
            name, words, sql = explain(key, lang)
            assert name == M.METRICS[key].name(lang) and M.METRICS[key].definition(lang) in words
            assert sql.lstrip().upper().startswith(("SELECT", "WITH"))


def test_the_words_and_queries_document_is_current() -> None:
    """docs/queries.md is rebuilt by ``scripts/build_queries_doc.py`` whenever a figure's words or query change."""
    assert (Path(__file__).resolve().parents[1] / "docs" / "queries.md").read_text(encoding="utf-8") == document()


@pytest.fixture(scope="module")
def consolidated(tmp_path_factory: pytest.TempPathFactory, demo_dir: list[Path]) -> dict[str, tuple[Path, Any]]:
    """October consolidated as ``xlcomplaints consolidate`` does (the report, and its facts store beside it):
    the demo's three branches, and eight branches of the demo's kind."""
    d = tmp_path_factory.mktemp("consolidated")
    many = [make_branch(d / f"B{i:02d}.xlsx", f"B{i:02d}", f"网点{i}", n=80, seed=10 + i) for i in range(8)]
    out = {}
    for name, inputs in (("demo", demo_dir), ("eight", many)):
        report = d / f"{name}-2026-10.xlsx"
        out[name] = (report, make_report(inputs, M.Month(2026, 10), report, now=NOW))
    return out


@pytest.mark.parametrize("which", ["demo", "eight", "across"])
def test_every_figure_of_the_report_from_its_store(consolidated: dict[str, tuple[Path, Any]],
                                                   across: tuple[Path, Any], which: str) -> None:
    """The report as written (``MonthlyReport``) against DuckDB over its facts store, figure by figure:
    every one the report shows, the consolidation's rules across branches applied by ``store.merge_sql``."""
    report, run = across if which == "across" else consolidated[which]
    rep = run.report
    if which == "across":  # the rules across branches met: numbers in both files, repeats across
        issues = {p.code for p in rep.issues}
        assert "report.duplicate_no" in issues and rep.value("repeat_rate")
        repeats = {c.no: c.repeat_of for c in run.consolidation.cases if c.repeat_of}
        assert any(no.split("-")[0] != of.split("-")[0] for no, of in repeats.items())
    con, p = connect_store(store_path(report))
    facts = Facts(con)
    assert p == rep.month
    cover, units = facts.cover(p), facts.units()
    for row in rep.cover:
        stage = M.METRICS[row.key].stage
        unit = (units.get(stage) or [None])[0] if M.METRICS[row.key].kind == "duration" and stage else None
        assert (row.key, *cover[row.key][None], unit) == (row.key, row.value, row.previous, row.unit)
    for dim, vocab in rep.dimensions:
        order = vocab.codes if vocab else sorted(b.code for b in rep.branches) if dim == "branch" else ()
        rows = facts.breakdown(p, dim, order)
        if dim == "branch":
            rows.sort(key=lambda r: (r.on_time_rate is None, r.on_time_rate or 0.0, r.key or ""))
        assert rows == rep.breakdowns[dim][:len(rows)], dim
    assert facts.people(p, BY_HANDLER) == rep.handlers
    departments = [r.key for r in rep.breakdowns["department"]]
    assert {r.key: r for r in facts.people(p, BY_DEPARTMENT, departments)} == rep.departments
    assert (facts.backlog_ages(p)[None], facts.backlog_ages(p.previous)[None]) == rep.backlog_ages
    assert facts.stage_table(p) == rep.stages
    overdue = facts.overdue_detail(p)
    assert [(*k, s) for k, (_, s) in zip(facts.keys([c for c, _ in overdue]), overdue, strict=True)] == [
        (d.case.branch, d.case.no, d.stage) for d in rep.overdue]
    assert facts.keys(facts.closed_late(p)) == [(c.branch, c.no) for c in rep.closed_late]
    typical = facts.typical(p)
    assert [(*k, r) for k, (_, r) in zip(facts.keys([c for c, _ in typical]), typical, strict=True)] == [
        (t.case.branch, t.case.no, t.reasons) for t in rep.typical]
    assert facts.trend(p) == rep.trend
    assert facts.unreadable_received() == rep.unreadable_received
    assert facts.partial_from(p.previous) == rep.previous_partial
    assert facts.custom_labels() == rep.custom_stages and facts.office_dimensions() == rep.office_dimensions
    assert figures_from_store(store_path(report)) == {k: {None: v[None]} for k, v in cover.items()}


def _case(branch: str, no: str | None, done: int) -> M.Case:
    """``test_consolidate._case`` with real times: its first ``done`` stages done."""
    c = _done_case(branch, no, done)
    return c._replace(stages=tuple(M.stamp(datetime(2026, 10, 1)) + x if i % M.WIDTH == 2 and x is not None else x
                                   for i, x in enumerate(c.stages)))


def _customer_case(branch: str, no: str, received: datetime, customer: str | None, phone: str | None,
                   category: str = "billing", repeat_of: str | None = None, validity: str = "valid") -> M.Case:
    """``test_consolidate._customer_case`` with real times."""
    return _case(branch, no, 1)._replace(received_at=M.stamp(received), customer=customer, phone=phone,
                                         category=category, repeat_of=repeat_of, validity=validity)


def _raw(summaries: list[C.FileSummary]) -> Facts:
    """Each branch's facts as its partition holds them, branch by branch (the store's order)."""
    ordered = sorted(summaries, key=lambda f: f.branch or "")
    return _facts([c for f in ordered for c in f.cases])


def _merged(facts: Facts) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in facts.con.execute(
        "SELECT c.branch, c.no, c.repeat_of, (SELECT count(done) FROM stages s WHERE s.cid = c.cid) "
        "FROM cases c ORDER BY c.cid").fetchall()]


def test_the_consolidations_rules_across_branches_in_sql() -> None:
    """``store.merge_sql`` against ``merging.merge`` on its own tests' cases: a number in several branches
    kept once (the record that got furthest, in the first one's place), and repeats across branches (masked
    numbers with the name, full numbers by their digits, names without a number, the later branch's window)."""
    a = C.FileSummary("a.xlsx", 1.0, "A", cases=(_case("A", "A-1", 2), _case("A", "X", 1), _case("A", "X", 3),
                                                  _case("A", None, 0)))
    b = C.FileSummary("b.xlsx", 1.0, "B", cases=(_case("B", "X", 2),))
    c = C.FileSummary("c.xlsx", 1.0, "C", cases=(_case("C", "X", 2),))
    d = C.FileSummary("d.xlsx", 1.0, "D", cases=(_case("D", "Y", 0), _case("D", None, 1)))
    facts = _raw([d, c, b, a])
    assert count_once(facts.con) == 2
    want = [(x.branch, x.no, x.repeat_of, x.done_count()) for x in merge([d, c, b, a], OCT, OCT.end).cases]
    assert _merged(facts) == want

    e = C.FileSummary("e.xlsx", 1.0, "E", cases=(
        _customer_case("E", "E-1", datetime(2026, 10, 1, 9), "张三", "138****5678"),
        _customer_case("E", "E-2", datetime(2026, 10, 2, 9), "李四", "13900001111"),
        _customer_case("E", "E-3", datetime(2026, 10, 3, 9), " 王五\u3000", None),
        _customer_case("E", "E-4", datetime(2026, 10, 4, 9), "赵六", "137****0000", validity="invalid")))
    f = C.FileSummary("f.xlsx", 1.0, "F", repeat_window_days=60, cases=(
        _customer_case("F", "F-1", datetime(2026, 10, 20, 9), "张三", "138****5678"),
        _customer_case("F", "F-2", datetime(2026, 10, 9, 9), "李四（先生）", "139-0000-1111"),
        _customer_case("F", "F-3", datetime(2026, 10, 3, 18), "王五", None, category="delay"),
        _customer_case("F", "F-4", datetime(2026, 10, 5, 9), "钱七", "138****5678"),
        _customer_case("F", "F-5", datetime(2026, 10, 6, 9), "赵六", "137****0000"),
        _customer_case("F", "F-6", datetime(2026, 12, 1, 9), "李四", "13900001111"),
        _customer_case("F", "F-8", datetime(2026, 10, 5, 9), "王五", None),  # E-3's name, its spaces left out
        _customer_case("F", "F-7", datetime(2026, 10, 10, 9), "王五", None, repeat_of="F-0")))
    g = C.FileSummary("g.xlsx", 1.0, "G", cases=(
        _customer_case("G", "G-1", datetime(2026, 11, 25, 9), "李四", "13900001111"),))  # 47 days after F-2: G's 30 pass
    facts = _raw([e, f, g])
    windows = {s.branch or "": s.repeat_window_days for s in (e, f, g)}
    repeats_across_branches(facts.con, windows, 30)
    merged = merge([e, f, g], OCT, OCT.end).cases
    assert {x.no: x.repeat_of for x in merged if x.repeat_of} == {
        "F-1": "E-1", "F-2": "E-2", "F-7": "F-0", "F-8": "E-3", "F-6": "G-1"}  # F-6: 6 days after G-1
    assert _merged(facts) == [(x.branch, x.no, x.repeat_of, x.done_count()) for x in merged]


@pytest.fixture(scope="module")
def across(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """Two hand-made branches whose customers are the same (repeats across branches), one complaint number
    in both files (B1 got further with it) and one in both alike (A1's is kept); and BJ01 of
    ``test_by_handler``, whose complaints change hands (a stage's handler of record is not the complaint's)."""
    d = tmp_path_factory.mktemp("across")
    a, b = hand_branch("A1"), hand_branch("B1")
    first, second = a.complaints[0], a.complaints[1]
    b = replace(b, complaints=(*b.complaints, replace(second, row=len(b.complaints) + 2),
                               replace(first, row=len(b.complaints) + 3, closed_at=first.received_at)))
    paths = [write_branch(d / "a1.xlsx", a), write_branch(d / "b1.xlsx", b), write_branch(d / "bj01.xlsx", bj01())]
    report = d / "group-2026-10.xlsx"
    return report, make_report(paths, M.Month(2026, 10), report, now=NOW)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60), branches=st.integers(1, 3),
       kind=st.sampled_from(["month", "week", "quarter", "range"]), at=st.integers(0, 60), days=st.integers(1, 20))
def test_any_branches_any_period(seed: int, n: int, branches: int, kind: str, at: int, days: int) -> None:
    """Whatever the data and the period: every metric, whole and by branch, the trend and the tables."""
    first = datetime(2026, 9, 1) + timedelta(days=at)
    p = (Period.days(first.date(), (first + timedelta(days=days - 1)).date()) if kind == "range"
         else Period.containing(PeriodKind(kind), first))
    cases: list[M.Case] = []
    for i in range(branches):
        data = synthetic_branch(f"H{i}", n, end=datetime(2026, 11, 1), months=4, seed=seed + i)
        data = replace(data, settings=data.settings.model_copy(update={"policy": default_policy()}))
        results, _ = evaluate_branch(data, _as_of(p))
        cases += M.case_facts(f"H{i}", data, results, make_calendar(data.settings, data), as_of=_as_of(p))
    facts, ix = _facts(cases), CaseIndex(cases)
    by_branch = {b: CaseIndex([c for c in cases if c.branch == b]) for b in {c.branch for c in cases}}
    for key, metric in M.METRICS.items():
        now, before = facts.metric(key, [p, p.previous])
        assert (now[None], before[None]) == (metric(ix, p), metric(ix, p.previous)), key
        grouped = facts.metric(key, [p], BY_BRANCH)[0]
        assert grouped == {b: metric(one, p) for b, one in by_branch.items()}, key
    assert facts.trend(p) == M.trend(ix, p)
    assert facts.breakdown(p, "category") == M.breakdown(ix, p, "category")
    assert facts.people(p, BY_HANDLER) == M.people(ix, p, M.BY_HANDLER)
    assert facts.stage_table(p) == M.stage_table(ix, p)
    assert [(cases[c], s) for c, s in facts.overdue_detail(p)] == [(d.case, d.stage) for d in M.overdue_detail(ix, p)]
