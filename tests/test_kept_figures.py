"""A period's own figures kept in its store (``report.kept_figures``): a later period's trend and cover read them
instead of loading the store's facts, with the same result cell for cell as from a store without them (written
before them: version 1), which is queried as before; a figures file edited by hand makes the store refused."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from tests.audit.report import read_report
from tests.samples import write_branch
from tests.test_facts_store import cells
from tests.test_metrics import hand_branch
from tests.test_report import fresh_november
from tests.test_store_history import _now, _registers, series
from xlcomplaints.core.metrics import Month, Period
from xlcomplaints.demo import make_branch
from xlcomplaints.report import store_history
from xlcomplaints.report.facts import (
    StoreOfAnotherVersion,
    _digest,
    kept_bytes,
    load_facts,
    read_manifest,
    store_path,
)
from xlcomplaints.report.kept_figures import KeptFigures, fitting, keep
from xlcomplaints.report.run import ReportHooks, ReportKind, ReportRequest, report_flow
from xlcomplaints.report.summary import DIMENSIONS, Branch

__all__ = ["series"]  # the fixture, used here


def _remake(store: Path, body: dict[str, object]) -> None:
    (store / "manifest.json").write_text(json.dumps({**body, "digest": _digest(body)}))


def as_written_before(store: Path) -> None:
    """The store as a version before the kept figures wrote it: version 1, no figures file."""
    body = {k: v for k, v in json.loads((store / "manifest.json").read_text()).items() if k != "digest"}
    (store / body.pop("figures")["file"]).unlink()  # type: ignore[index]
    body["version"] = 1
    _remake(store, body)


def of_another_layout(store: Path) -> None:
    """The store as a version of another store layout wrote it: its manifest's schema version another, its kept
    figures computed by that version's rules (both files made whole again, as that version made them)."""
    body = {k: v for k, v in json.loads((store / "manifest.json").read_text()).items() if k != "digest"}
    body["schema_version"] = int(body["schema_version"]) - 1  # type: ignore[call-overload]
    figures = store / body["figures"]["file"]  # type: ignore[index]
    figures.write_text(json.dumps({**json.loads(figures.read_text()), "rules": "another version's"}))
    data = figures.read_bytes()
    body["figures"].update(size=len(data), sha256=hashlib.sha256(data).hexdigest())  # type: ignore[attr-defined]
    _remake(store, body)


def august_and_september(series: Path, folder: Path, made: Callable[[Path], None] | None) -> None:
    """The series' August and September stores copied into ``folder``, each then ``made`` as another version wrote it."""
    folder.mkdir()
    for m in (8, 9):
        store = store_path(folder / f"group-2026-{m:02d}.xlsx")
        shutil.copytree(store_path(series / f"group-2026-{m:02d}.xlsx"), store)
        if made is not None:
            made(store)


def _opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The periods whose store's facts are loaded into DuckDB (``store_history._open``)."""
    opened: list[str] = []
    original = store_history._open

    def spy(summaries, period, *args):  # type: ignore[no-untyped-def]
        opened.append(str(period))
        return original(summaries, period, *args)

    monkeypatch.setattr(store_history, "_open", spy)
    return opened


def _same(got: Path, want: Path) -> None:
    a, b = cells(got), cells(want)
    assert list(a) == list(b)
    for sheet in b:
        assert a[sheet] == b[sheet], sheet


def _queried(store: Path) -> KeptFigures:
    """The store's figures as a later run computes them from its facts, not from its figures file."""
    m = read_manifest(store)
    period = Period.parse(m.period)
    summaries, as_of, _ = load_facts(store, period, cases=False)
    facts = store_history._open(summaries, period, as_of)
    try:
        return keep(facts, period, [Branch(f.branch or "", f.branch_name, f.name) for f in summaries],
                    [(e.branch, e.rows, e.sha256) for e in m.partitions])
    finally:
        facts.con.close()


def _kept(store: Path) -> KeptFigures:
    m = read_manifest(store)
    kept = fitting(kept_bytes(store, m), m, store.name)
    assert kept is not None, "the store's figures do not fit"
    return kept


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_trend_and_cover_from_kept_figures_equal_those_from_the_stores_facts(
        series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    """October with August's and September's stores: from their kept figures (no store loaded), and from the same
    stores as a version before wrote them (their facts queried), cell for cell the same report."""
    opened = _opened(monkeypatch)
    out = {}
    for kept in (True, False):
        folder = tmp_path / f"kept-{kept}"
        august_and_september(series, folder, None if kept else as_written_before)
        opened.clear()
        run = report_flow(ReportRequest(_registers(series, 10), Month(2026, 10), folder / "group-2026-10.xlsx",
                                        now=_now(10), lang=lang))
        assert opened == ([] if kept else ["2026-08", "2026-09"])
        assert run.report.previous_from is None and "2026-07" in {str(r.month) for r in run.report.trend}
        assert not [p for p in run.report.issues if p.code.startswith("report.history_store")]
        out[kept] = run.output
    _same(out[True], out[False])


def test_stores_of_another_layout_give_the_trend_and_cover_their_own_runs_kept(
        series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A head office upgrades to a version whose store layout is another: its earlier months' stores cannot be
    queried any more, but each keeps the figures its own run computed, which are what that month's report showed.
    October takes August's and September's trend rows from them (no store loaded): every figure as from stores of
    this version, and the Issues sheet says whose rules counted each month (zh, en). A store of
    another layout that keeps no figures is passed over as before."""
    opened = _opened(monkeypatch)
    runs = {}
    for older in (False, True):
        folder = tmp_path / f"older-{older}"
        august_and_september(series, folder, of_another_layout if older else None)
        if older:
            with pytest.raises(StoreOfAnotherVersion):  # this version would refuse to query it
                read_manifest(store_path(folder / "group-2026-09.xlsx"))
        opened.clear()
        runs[older] = report_flow(ReportRequest(_registers(series, 10), Month(2026, 10), folder / "group-2026-10.xlsx",
                                                now=_now(10)))
        assert opened == []
        notes = [p for p in runs[older].report.issues if p.code == "report.history_store_older"]
        assert [(p.file, p.params["period"]) for p in notes] == (
            [("group-2026-08.facts", "2026-08"), ("group-2026-09.facts", "2026-09")] if older else [])
        assert not [p for p in runs[older].report.issues if p.code == "report.history_store_damaged"]
    got, want = runs[True], runs[False]
    assert got.report.previous_from == want.report.previous_from
    assert {str(r.month) for r in got.report.trend} >= {"2026-07", "2026-08", "2026-09"}
    assert read_report(got.output) == read_report(want.output)  # every figure, as the auditor reads them
    [note, _] = [p for p in got.report.issues if p.code == "report.history_store_older"]
    assert "按当时版本的规则" in note.message("zh") and "that version's rules" in note.message("en")
    as_written_before(store_path(tmp_path / "older-True" / "group-2026-08.xlsx"))  # keeping no figures
    again = report_flow(ReportRequest(_registers(series, 10), Month(2026, 10), tmp_path / "older-True" /
                                      "group-2026-10.xlsx", now=_now(10)))
    [passed] = [p for p in again.report.issues if p.code == "report.history_store_damaged"]
    assert passed.params["store"] == "group-2026-08.facts" and "another version" in passed.params["detail"]
    assert [p.file for p in again.report.issues if p.code == "report.history_store_older"] == ["group-2026-09.facts"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_cover_a_later_store_needs_from_kept_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       lang: str) -> None:
    """Registers started afresh in November and December: December's cover is November's, which showed October's
    as its last month (November's store holds nothing of October): from the kept figures, with an earlier period's
    breakdown counts put on them, as from the stores' facts and from the reports."""
    october = report_flow(ReportRequest([write_branch(tmp_path / "t1.xlsx", hand_branch())], Month(2026, 10),
                                        tmp_path / "t1-2026-10.xlsx", now=datetime(2026, 11, 22, 9), lang=lang))
    nov = write_branch(tmp_path / "nov.xlsx", fresh_november())
    november = report_flow(ReportRequest([nov], Month(2026, 11), tmp_path / "t1-2026-11.xlsx",
                                         now=datetime(2026, 12, 3), lang=lang))
    from dataclasses import replace
    data = fresh_november()
    dec = write_branch(tmp_path / "dec.xlsx", replace(data, complaints=tuple(
        replace(c, received_at=c.received_at.replace(month=12)) for c in data.complaints)))
    assert not _kept(store_path(november.output)).cover.holds_previous
    opened = _opened(monkeypatch)
    out = {}
    for kept in (True, False):
        folder = tmp_path / f"kept-{kept}"
        folder.mkdir()
        for r in (october, november):
            shutil.copytree(store_path(r.output), store_path(folder / r.output.name))
            if not kept:
                as_written_before(store_path(folder / r.output.name))
        opened.clear()
        run = report_flow(ReportRequest([dec], Month(2026, 12), folder / "t1-2026-12.xlsx", now=datetime(2027, 1, 3),
                                        lang=lang))
        assert run.report.previous_from == "t1-2026-11.facts"
        assert opened == ([] if kept else ["2026-10", "2026-11", "2026-10"])  # October opened again for its cover
        out[kept] = run.output
    _same(out[True], out[False])


def _eight(folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    return [make_branch(folder / f"B{i}.xlsx", f"B{i}", f"网点{i}", n=60, seed=20 + i) for i in range(4)]


@pytest.mark.parametrize("how", ["plain", "head office's lists", "contacts shown", "updated", "tricky"])
def test_the_kept_figures_are_those_the_stores_facts_give(tmp_path: Path, how: str) -> None:
    """What a run keeps equals what a later run computes from the store's facts: with head office's lists imposed
    (kept before they relabel the tables, as a later run does not impose them), contacts shown, after an
    ``--update`` (the store rewritten: its figures too), and over branches a number is met twice in."""
    from tests.policies import HEAD_OFFICE_LISTS as HEAD_OFFICE
    from tests.test_store_report import bj01
    from xlcomplaints.policy_file import load_policy

    if how == "tricky":
        from dataclasses import replace
        a, b = hand_branch("A1"), hand_branch("B1")
        first, second = a.complaints[0], a.complaints[1]
        b = replace(b, complaints=(*b.complaints, replace(second, row=len(b.complaints) + 2),
                                   replace(first, row=len(b.complaints) + 3, closed_at=first.received_at)))
        inputs = [write_branch(tmp_path / "a1.xlsx", a), write_branch(tmp_path / "b1.xlsx", b),
                  write_branch(tmp_path / "bj01.xlsx", bj01())]
    else:
        inputs = _eight(tmp_path / "in")
    kw: dict[str, object] = {"now": datetime(2026, 11, 2, 9)}
    if how == "head office's lists":
        (tmp_path / "hq.toml").write_text(HEAD_OFFICE, encoding="utf-8")
        kw["lists"] = load_policy(tmp_path / "hq.toml").lists
    if how == "contacts shown":
        kw["contacts"] = "shown"
    out = tmp_path / "group-2026-10.xlsx"
    report_flow(ReportRequest(inputs, Month(2026, 10), out, **kw))  # type: ignore[arg-type]
    if how == "updated":
        changed = make_branch(tmp_path / "in" / "B1.xlsx", "B1", "网点1", n=90, seed=99)
        before = _kept(store_path(out))
        report_flow(ReportRequest([changed], Month(2026, 10), out, kind=ReportKind.UPDATE, **kw))  # type: ignore[arg-type]
        assert _kept(store_path(out)).cover != before.cover
    kept = _kept(store_path(out))
    assert kept == _queried(store_path(out))
    assert len(list(store_path(out).glob("figures-*.json"))) == 1
    # every breakdown from the kept rows, with earlier counts put on them (values it has, others, zeros)
    m = read_manifest(store_path(out))
    summaries, as_of, _ = load_facts(store_path(out), Month(2026, 10), cases=False)
    facts = store_history._open(summaries, Period.parse(m.period), as_of)
    try:
        for dim, vocab in DIMENSIONS:
            order = vocab.codes if vocab else sorted(f.branch or "" for f in summaries) if dim == "branch" else ()
            rows = kept.cover.breakdown(dim, order, None)
            for previous in (None, {}, {r.key: 3 for r in rows[:2]}, {"elsewhere": 2, None: 0}):
                assert kept.cover.breakdown(dim, order, previous) == facts.breakdown(
                    Period.parse(m.period), dim, order, previous=previous), (dim, previous)
    finally:
        facts.con.close()


def test_an_update_computed_by_the_python_engine_leaves_no_figures(tmp_path: Path) -> None:
    """A run that does not query the store keeps no figures: the earlier run's are not left to be trusted."""
    inputs = _eight(tmp_path / "in")
    out = tmp_path / "group-2026-10.xlsx"
    report_flow(ReportRequest(inputs, Month(2026, 10), out, now=datetime(2026, 11, 2, 9)))
    assert read_manifest(store_path(out)).figures is not None
    report_flow(ReportRequest(inputs[:1], Month(2026, 10), out, now=datetime(2026, 11, 2, 9), kind=ReportKind.UPDATE),
                ReportHooks(python_engine=True))
    assert read_manifest(store_path(out)).figures is None and not list(store_path(out).glob("figures-*.json"))


@pytest.mark.parametrize("how", ["edited", "cut short", "gone", "junk, the manifest made again",
                                 "junk period, the manifest made again", "a figure missing, the manifest made again",
                                 "of another period, the manifest made again"])
def test_a_figures_file_edited_by_hand_is_refused_or_not_used(series: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """September's figures file damaged: the store is passed over with the warning a damaged store gets (zh, en),
    August's still read; a figures file that is well formed but not of this store (another period's, the manifest's
    hash made again) is not used: September's facts are queried, as those of a store without one."""
    for m in (8, 9):
        shutil.copytree(store_path(series / f"group-2026-{m:02d}.xlsx"), store_path(tmp_path / f"group-2026-{m:02d}.xlsx"))
    september = store_path(tmp_path / "group-2026-09.xlsx")
    body = {k: v for k, v in json.loads((september / "manifest.json").read_text()).items() if k != "digest"}
    figures = september / body["figures"]["file"]
    doc = json.loads(figures.read_text())
    if how == "edited":
        doc["cover"]["figures"]["received"][0] += 1
        figures.write_text(json.dumps(doc))
    elif how == "cut short":
        figures.write_bytes(figures.read_bytes()[:-20])
    elif how == "gone":
        figures.unlink()
    else:
        if how.startswith("junk,"):
            figures.write_text(json.dumps({**doc, "cover": {"run": "print('hello')"}}))
        elif how.startswith("junk period"):
            doc["trend"][0]["period"] = "2026-13"
            figures.write_text(json.dumps(doc))
        elif how.startswith("a figure missing"):
            del doc["cover"]["figures"]["received"]
            figures.write_text(json.dumps(doc))
        else:
            figures.write_bytes((store_path(series / "group-2026-08.xlsx") / json.loads(
                (store_path(series / "group-2026-08.xlsx") / "manifest.json").read_text())["figures"]["file"]
            ).read_bytes())
        data = figures.read_bytes()
        body["figures"].update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
        _remake(september, body)
    opened = _opened(monkeypatch)
    run = report_flow(ReportRequest(_registers(series, 10), Month(2026, 10), tmp_path / "group-2026-10.xlsx",
                                    now=_now(10)))
    said = [p for p in run.report.issues if p.code == "report.history_store_damaged"]
    months = {str(r.month) for r in run.report.trend}
    if how.startswith("of another period"):
        assert not said and opened == ["2026-09"] and "2026-09" in months
        return
    assert [p.params["store"] for p in said] == ["group-2026-09.facts"] and opened == []
    assert "2026-07" in months  # August's store was read
    assert run.report.previous_from != "group-2026-09.facts"
    assert "已跳过" in said[0].message("zh") and "passed over" in said[0].message("en")
    assert ("missing" if how == "gone" else "cut short or changed" if how in ("edited", "cut short") else "damaged") \
        in said[0].params["detail"]


def test_asked_once_answers_as_facts(tmp_path: Path) -> None:
    """``AskedOnce`` (the run's report and its kept figures sharing answers): each of its questions answered as
    ``Facts`` answers it, asked once or twice, and only once of the tables."""
    from xlcomplaints.report.kept_figures import AskedOnce
    from xlcomplaints.report.summary import COVER_KEYS
    from xlcomplaints.store.figures import BY_DEPARTMENT, BY_HANDLER

    out = tmp_path / "group-2026-10.xlsx"
    report_flow(ReportRequest(_eight(tmp_path / "in"), Month(2026, 10), out, now=datetime(2026, 11, 2, 9)))
    summaries, as_of, _ = load_facts(store_path(out), Month(2026, 10), cases=False)
    period = Period.parse("2026-10")
    plain = store_history._open(summaries, period, as_of)
    once = AskedOnce(plain.con)
    try:
        for ask in (lambda f: f.trend(period), lambda f: f.cover(period, keys=COVER_KEYS), lambda f: f.cover(period),
                    lambda f: f.units(), lambda f: f.backlog_ages(period), lambda f: f.backlog_ages(period.shift(-1)),
                    lambda f: f.trend(period.shift(-1))):
            want = ask(plain)
            assert ask(once) == want and ask(once) is ask(once)
        assert len(once._answers) == 7
        # the people of a grouping, with and without keys first (one a key nobody counts under), asked once
        departments = [r.key for r in plain.people(period, BY_DEPARTMENT)]
        for by, keys in ((BY_DEPARTMENT, ()), (BY_DEPARTMENT, [departments[-1], "无此部门", departments[0]]),
                         (BY_HANDLER, ()), (BY_HANDLER, ["无此人"])):
            assert once.people(period, by, keys) == plain.people(period, by, keys)
        assert len(once._answers) == 9
        # each dimension's breakdown asked once, whatever dimensions it was asked with
        for dims in (["channel", "category"], ["category", "severity", "branch"], ["branch", "channel"]):
            plain.prefetch_breakdowns(period, dims)
            once.prefetch_breakdowns(period, dims)
            for d in dims:
                assert once.breakdown(period, d) == plain.breakdown(period, d)
        assert len(once._answers) == 9 + 4
    finally:
        plain.con.close()


def test_an_install_without_its_source_keeps_figures_by_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """A program frozen without its .py files cannot digest them: its figures are kept under its version, not a
    traceback at the end of every consolidation."""
    from xlcomplaints import __version__
    from xlcomplaints.report import kept_figures

    def unreadable(self: Path) -> bytes:
        raise FileNotFoundError(self)

    kept_figures.rules.cache_clear()
    monkeypatch.setattr(kept_figures.Path, "read_bytes", unreadable)
    try:
        assert kept_figures.rules() == f"version {__version__}, source not readable"
    finally:
        kept_figures.rules.cache_clear()
