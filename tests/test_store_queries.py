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
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.samples import synthetic_branch
from tests.test_custom_stages import make_branch as custom_branch
from xlcomplaints.core import metrics as M
from xlcomplaints.core.deadlines import make_calendar
from xlcomplaints.core.metrics import CaseIndex, Period
from xlcomplaints.core.policy import default_policy
from xlcomplaints.core.refresh import evaluate_branch
from xlcomplaints.demo import BRANCHES, make_branch
from xlcomplaints.report.consolidate import merge, read_file
from xlcomplaints.report.facts import store_path
from xlcomplaints.report.run import make_report
from xlcomplaints.report.store_figures import connect_store, figures_from_store
from xlcomplaints.report.summary import DIMENSIONS, partial_from
from xlcomplaints.store.facts_sql import connect_table
from xlcomplaints.store.figures import (
    ALL,
    BY_BRANCH,
    BY_DEPARTMENT,
    BY_HANDLER,
    Facts,
    by_office_column,
    figures_from_parquet,
)
from xlcomplaints.store.queries import PEOPLE_QUERIES, QUERIES, document, explain
from xlcomplaints.store.schema import to_table

NOW = datetime(2026, 11, 2, 9, 0)  # the demo's
PERIODS = {
    "month": Period.month(2026, 10),
    "iso-week": Period.week(2026, 43),
    "quarter": Period.quarter(2026, 3),
    "national-day": Period.days("2026-10-01", "2026-10-08"),
}


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


@pytest.mark.parametrize("which", ["demo", "eight"])
def test_every_figure_of_the_report_from_its_store(consolidated: dict[str, tuple[Path, Any]], which: str) -> None:
    """The report as written (``MonthlyReport``) against DuckDB over its facts store, figure by figure:
    what the report shows that the queries compute, and nothing of it left out but what the docstring of
    ``report.store_figures`` names (the consolidation's rules across branches, which these sets never meet)."""
    report, run = consolidated[which]
    rep = run.report
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
