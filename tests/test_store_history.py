"""Earlier periods from their facts stores, and a region's roll-up from its store (issue 22).

Real workbooks on disk: two branches' registers for August, September and October 2026 (each month's register
its own file, holding the last days of the month before too), consolidated month by month into reports named
``group-2026-MM.xlsx``, each finding the earlier months' stores by name (``report.store_history``). The same
October from the reports given with ``--history`` instead (copied without their stores) is the same workbook,
sheet for sheet and cell for cell; so is a November register started afresh, whose last-month figures come from
October's store. The regions of ``tests/test_regions.py`` roll up from their stores, without the Python engine,
into the same workbook as the Python engine's.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.samples import synthetic_branch, write_branch
from tests.test_facts_store import cells
from tests.test_metrics import hand_branch
from tests.test_report import fresh_november
from tests.test_store_report import store_computed
from xlcomplaints.cli import app
from xlcomplaints.core.metrics import Month, Period
from xlcomplaints.demo import make_branch
from xlcomplaints.report.facts import store_path
from xlcomplaints.report.run import ReportHooks, ReportKind, ReportRequest, report_flow

MONTHS = (8, 9, 10)


def _now(month: int) -> datetime:
    return datetime(2026, month + 1, 2, 9, 0)


def _registers(folder: Path, month: int) -> list[Path]:
    """Two branches' registers of ``month`` (made once)."""
    found = sorted((folder / f"in-{month}").glob("*.xlsx"))
    return found or [make_branch(folder / f"in-{month}" / f"{code}.xlsx", code, f"网点{code}", n=40, seed=3,
                                 month=month) for code in ("B1", "B2")]


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """August to October consolidated month by month, each finding the earlier months' stores by name: beside the
    reports in ``series``, and in a shared ``--store`` folder for the reports of ``series/kept``."""
    d = tmp_path_factory.mktemp("series")
    (d / "kept").mkdir()
    (d / "shared").mkdir()
    for m in MONTHS:
        (d / f"in-{m}").mkdir()
        report_flow(ReportRequest(_registers(d, m), Month(2026, m), d / f"group-2026-{m:02d}.xlsx", now=_now(m)))
        if m < 10:
            report_flow(ReportRequest(_registers(d, m), Month(2026, m), d / "kept" / f"group-2026-{m:02d}.xlsx",
                                      now=_now(m), store=d / "shared"))
    return d


def _without_stores(series: Path, to: Path, months: tuple[int, ...]) -> list[Path]:
    to.mkdir(exist_ok=True)
    return [Path(shutil.copy(series / f"group-2026-{m:02d}.xlsx", to / f"report-2026-{m:02d}.xlsx")) for m in months]


def test_the_trend_from_earlier_stores_equals_the_trend_from_their_reports(series: Path, tmp_path: Path) -> None:
    october = report_flow(ReportRequest(_registers(series, 10), Month(2026, 10), series / "kept" / "group-2026-10.xlsx",
                                        now=_now(10), store=series / "shared"))  # found in the --store folder by name
    months = [str(r.month) for r in october.report.trend]
    assert months[:3] == ["2026-07", "2026-08", "2026-09"] and months[-1] == "2026-10"
    # the same month with the reports given as history, their stores not beside them
    reports = _without_stores(series, tmp_path / "reports", (8, 9))
    plain = report_flow(ReportRequest(_registers(series, 10), Month(2026, 10),
                                      tmp_path / "reports" / "october.xlsx", now=_now(10), history=tuple(reports)))
    assert [str(r.month) for r in plain.report.trend] == months
    got, want = cells(october.output), cells(plain.output)
    assert list(got) == list(want)
    for sheet in want:
        assert got[sheet] == want[sheet], sheet
    # without either, the trend starts with what October's registers hold
    alone = report_flow(ReportRequest(_registers(series, 10), Month(2026, 10),
                                      tmp_path / "alone.xlsx", now=_now(10)))
    assert str(alone.report.trend[0].month) == "2026-09"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_last_month_from_its_store_when_the_inputs_lack_it(tmp_path: Path, lang: str) -> None:
    """A register started afresh in November: one branch's report compares with October's consolidation, read
    from its store found by name, as it does with October's report given with ``--history``."""
    october = report_flow(ReportRequest([write_branch(tmp_path / "t1.xlsx", hand_branch())], Month(2026, 10),
                                        tmp_path / "t1-2026-10.xlsx", now=datetime(2026, 11, 22, 9), lang=lang))
    nov = write_branch(tmp_path / "nov.xlsx", fresh_november())
    kw = {"now": datetime(2026, 12, 3), "lang": lang, "kind": ReportKind.BRANCH}
    stored = report_flow(ReportRequest([nov], Month(2026, 11), tmp_path / "t1-2026-11.xlsx", **kw))  # type: ignore[arg-type]
    (tmp_path / "reports").mkdir()
    report = Path(shutil.copy(october.output, tmp_path / "reports" / "t1-2026-10.xlsx"))  # without its store
    plain = report_flow(ReportRequest([nov], Month(2026, 11), tmp_path / "reports" / "nov.xlsx",
                                      history=(report,), **kw))  # type: ignore[arg-type]
    assert stored.report.previous_from == "t1-2026-10.facts" and plain.report.previous_from == "t1-2026-10.xlsx"
    assert [r.previous for r in stored.report.cover] == [r.previous for r in plain.report.cover]
    assert stored.report.cover[0].previous == october.report.value("received") > 0
    assert stored.report.backlog_ages == plain.report.backlog_ages
    got, want = cells(stored.output), cells(plain.output)
    assert list(got) == list(want)
    for sheet in want:
        rows_got, rows_want = got[sheet], want[sheet]
        if sheet in ("封面", "Cover"):  # the cover's note names where last month's figures are from
            assert rows_got[2][0] == rows_want[2][0].replace("t1-2026-10.xlsx", "t1-2026-10.facts")
            rows_got, rows_want = rows_got[3:], rows_want[3:]
        assert rows_got == rows_want, sheet


def _of_month(code: str, n: int, month: int, folder: Path) -> Path:
    """A register of ``month`` alone (an office keeping a register a month): ``n`` complaints over three months, those
    received in ``month`` kept."""
    from dataclasses import replace

    data = synthetic_branch(code, n, end=datetime(2026, 11, 1), months=3, seed=5)
    nos = {c.no for c in data.complaints if c.received_at is not None and c.received_at.month == month}
    folder.mkdir(exist_ok=True)
    return write_branch(folder / f"{code}.xlsx", replace(
        data, complaints=tuple(c for c in data.complaints if c.no in nos),
        tracking=tuple(t for t in data.tracking if t.no in nos), callbacks=tuple(c for c in data.callbacks if c.no in nos)))


def test_last_months_figures_are_those_its_report_shows_not_those_of_a_store_left_from_an_earlier_run(
        tmp_path: Path) -> None:
    """September consolidated, then again with B1's register corrected; its store is the first run's (the second run
    killed before its store was replaced, or a store copied back from a backup). October's comparison with September
    is what September's report shows, read from its sheets, and the Issues sheet says why the store was passed over."""
    sep, report = Month(2026, 9), tmp_path / "group-2026-09.xlsx"
    first = [_of_month(c, 150, 9, tmp_path / "in-9") for c in ("B1", "B2")]
    stale = report_flow(ReportRequest(first, sep, report, now=_now(9)))
    shutil.copytree(store_path(report), tmp_path / "first.facts")
    _of_month("B1", 60, 9, tmp_path / "in-9")  # corrected
    again = report_flow(ReportRequest(first, sep, report, now=_now(9)))
    shutil.rmtree(store_path(report))
    shutil.copytree(tmp_path / "first.facts", store_path(report))
    october = [_of_month(c, 150, 10, tmp_path / "in-10") for c in ("B1", "B2")]
    got = report_flow(ReportRequest(october, Month(2026, 10), tmp_path / "group-2026-10.xlsx", now=_now(10)))
    assert got.report.cover[0].key == "received"
    assert got.report.cover[0].previous == again.report.value("received") != stale.report.value("received")
    assert got.report.previous_from == report.name
    [said] = [p for p in got.report.issues if p.code == "report.history_store_unpaired"]
    assert said.params == {"store": "group-2026-09.facts", "report": report.name}


def test_a_store_that_cannot_be_used_is_passed_over_and_said(series: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(series, copy)
    [part, *_] = sorted(store_path(copy / "group-2026-08.xlsx").glob("period=*/*.parquet"))
    part.write_bytes(part.read_bytes()[:-40])  # August's store cut short
    manifest = store_path(copy / "group-2026-09.xlsx") / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["as_of"] = "2026-10-05T09:00:00"  # September's edited by hand
    manifest.write_text(json.dumps(doc))
    july = store_path(copy / "group-2026-07.xlsx")  # and a July of another version of the store
    shutil.copytree(store_path(series / "group-2026-08.xlsx"), july)
    doc = json.loads((july / "manifest.json").read_text())
    (july / "manifest.json").write_text(json.dumps({**doc, "period": "2026-07", "schema_version": 99}))
    inputs = _registers(series, 10)
    run = report_flow(ReportRequest(inputs, Month(2026, 10), copy / "group-2026-10.xlsx", now=_now(10)))
    said = {p.file: p for p in run.report.issues if p.code == "report.history_store_damaged"}
    assert sorted(said) == ["group-2026-07.facts", "group-2026-08.facts", "group-2026-09.facts"]
    assert "cut short" in said["group-2026-08.facts"].params["detail"]
    assert "edited by hand" in said["group-2026-09.facts"].params["detail"]
    assert "another version" in said["group-2026-07.facts"].params["detail"]
    assert "已跳过" in said["group-2026-07.facts"].message("zh")
    assert str(run.report.trend[0].month) == "2026-09"  # August left out, the run went on
    # August's report given by name with its damaged store beside it: read from its sheets instead
    again = report_flow(ReportRequest(inputs, Month(2026, 10), copy / "other.xlsx", now=_now(10),
                                      history=(copy / "group-2026-08.xlsx",)))
    assert "2026-08" in {str(r.month) for r in again.report.trend}
    assert [(p.file, p.params["store"]) for p in again.report.issues if p.code == "report.history_store_damaged"] \
        == [("group-2026-08.xlsx", "group-2026-08.facts")]
    # a store of another kind of period given is passed over, said
    week = report_flow(ReportRequest(inputs, Period.parse("2026-W43"), tmp_path / "week.xlsx", now=_now(10)))
    other = report_flow(ReportRequest(inputs, Month(2026, 10), tmp_path / "o.xlsx", now=_now(10),
                                      history=(store_path(week.output),)))
    [note] = [p for p in other.report.issues if p.code == "report.history_store_period"]
    assert note.params["held"] == "2026-W43" and "2026-W43" in note.message("en")


def test_the_cli_reads_a_store_given_with_history_and_says_so_in_the_users_language(series: Path,
                                                                                  tmp_path: Path) -> None:
    inputs = [str(p) for p in _registers(series, 10)]
    out = tmp_path / "oct.xlsx"
    ok = CliRunner().invoke(app, ["consolidate", *inputs, "--period", "2026-10", "--now", "2026-11-02 09:00",
                                  "-o", str(out), "--history", str(store_path(series / "group-2026-09.xlsx"))])
    assert ok.exit_code == 0, ok.output
    sheet = cells(out)["月度趋势"]
    assert any(str(r[0]) == "2026-08" for r in sheet)  # September's store held August's trend row
    helped = CliRunner().invoke(app, ["consolidate", "--help", "--lang", "en"])
    assert ".facts" in helped.output and "--history" in helped.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_regions_roll_up_is_computed_from_its_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      lang: str) -> None:
    from tests.test_regions import regions
    from xlcomplaints.demo import run_demo

    run_demo(tmp_path / "demo", now=datetime(2026, 11, 2, 9, 0))
    north, south = regions(tmp_path / "demo", tmp_path, lang=lang)
    computed = store_computed(monkeypatch)
    req = {"now": datetime(2026, 11, 2, 9, 0), "lang": lang}
    group = report_flow(ReportRequest([north, south], Month(2026, 10), tmp_path / "group.xlsx", **req))  # type: ignore[arg-type]
    assert computed == [True] and not group.consolidation.cases  # from the regions' partitions, no case held
    python = report_flow(ReportRequest([north, south], Month(2026, 10), tmp_path / "python.xlsx", **req),  # type: ignore[arg-type]
                         ReportHooks(python_engine=True))
    got, want = cells(group.output), cells(python.output)
    assert list(got) == list(want)
    for sheet in want:
        assert got[sheet] == want[sheet], sheet
    # south's pack (GZ03) was copied into head office's store as it was, byte for byte; north's (BJ01 and SH02) is
    # not whole there (GZ03 comes between its branches): its branches were packed anew (``store.pack``)
    ours = {e["branch"]: e["sha256"] for e in
            json.loads((store_path(group.output) / "manifest.json").read_text())["partitions"]}
    theirs = {e["branch"]: e["sha256"] for r in (north, south)
              for e in json.loads((store_path(r) / "manifest.json").read_text())["partitions"]}
    assert ours["GZ03"] == theirs["GZ03"] and ours["BJ01"] != theirs["BJ01"] and ours["SH02"] != theirs["SH02"]


def test_regions_whose_stores_are_kept_in_a_shared_store_folder(tmp_path: Path) -> None:
    """Regions and head office keep their stores in one shared ``--store`` folder: head office names the regions'
    reports, their stores are found there by name (and only with the same run as the report)."""
    from tests.test_regions import region
    from xlcomplaints.demo import run_demo
    from xlcomplaints.workbook.errors import WorkbookError

    run_demo(tmp_path / "demo", now=datetime(2026, 11, 2, 9, 0))
    demo, shared = tmp_path / "demo", tmp_path / "shared"
    shared.mkdir()
    (tmp_path / "south").mkdir()
    north = region(tmp_path / "north", demo / "BJ01.xlsx", demo / "SH02.xlsx", store=shared)
    south = region(tmp_path / "south", demo / "GZ03.xlsx")  # the south keeps its store beside its report
    assert not store_path(north).exists() and (store_path(north, shared) / "manifest.json").is_file()
    now = datetime(2026, 11, 2, 9, 0)
    with pytest.raises(WorkbookError) as refused:  # without --store, the north's store is not beside its report
        report_flow(ReportRequest([north, south], Month(2026, 10), tmp_path / "g.xlsx", now=now))
    assert refused.value.code == "report.region_no_state"
    group = report_flow(ReportRequest([north, south], Month(2026, 10), tmp_path / "group.xlsx", now=now, store=shared))
    direct = report_flow(ReportRequest([demo / f"{b}.xlsx" for b in ("BJ01", "GZ03", "SH02")], Month(2026, 10),
                                       tmp_path / "direct.xlsx", now=now))
    assert sorted(group.consolidation.branches) == ["BJ01", "GZ03", "SH02"]
    assert group.report.cover == direct.report.cover and group.report.trend == direct.report.trend


def test_a_region_that_moved_its_store_to_the_shared_folder_is_read_from_the_store_of_its_run(tmp_path: Path) -> None:
    """The north kept its store beside its report, then consolidated again keeping it in the shared folder: the store
    left beside its report is an earlier run's. Head office with ``--store`` counts the north from the store of its
    report's run, as the branches directly give it, neither refusing it nor using the earlier one."""
    from tests.test_regions import region
    from xlcomplaints.demo import run_demo

    now = datetime(2026, 11, 2, 9, 0)
    run_demo(tmp_path / "demo", now=now)
    demo, shared = tmp_path / "demo", tmp_path / "shared"
    shared.mkdir()
    north = region(tmp_path / "north", demo / "BJ01.xlsx")  # its store beside it, BJ01 alone
    north = region(tmp_path / "north", demo / "BJ01.xlsx", demo / "SH02.xlsx", store=shared)
    assert store_path(north).exists() and store_path(north, shared).exists()
    group = report_flow(ReportRequest([north, demo / "GZ03.xlsx"], Month(2026, 10), tmp_path / "group.xlsx", now=now,
                                      store=shared))
    direct = report_flow(ReportRequest([demo / f"{b}.xlsx" for b in ("BJ01", "GZ03", "SH02")], Month(2026, 10),
                                       tmp_path / "direct.xlsx", now=now))
    assert sorted(group.consolidation.branches) == ["BJ01", "GZ03", "SH02"]
    assert group.report.cover == direct.report.cover


def _another_branchs_partition(store: Path) -> None:
    """A careful hand: the first branch's rows in its pack replaced by the second's (both in one pack), the rows, the
    pack's size and SHA-256 written into the manifest and the branches table, the digest made again: only the rows as
    loaded tell (their branch)."""
    import hashlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    from xlcomplaints.report.facts import _digest
    from xlcomplaints.store.partition import table_bytes

    manifest = store / "manifest.json"
    body = {k: v for k, v in json.loads(manifest.read_text()).items() if k != "digest"}
    first, second = body["partitions"][:2]
    assert first["file"] == second["file"] and first["first"] == 0
    pack = store / first["file"]
    table = pq.read_table(pack)
    theirs = table.slice(second["first"], second["rows"])
    pack.write_bytes(table_bytes(pa.concat_tables([theirs, table.slice(second["first"])])))
    first["rows"] = second["rows"]
    for e in body["partitions"][1:]:
        if e["file"] == first["file"]:
            e["first"] += second["rows"] - second["first"]
    for e in body["partitions"]:
        if e["file"] == first["file"]:
            e.update(size=pack.stat().st_size, sha256=hashlib.sha256(pack.read_bytes()).hexdigest())
    branches = store / body["branches"]["file"]
    rows = pq.read_table(branches)
    counts = rows.column("rows").to_pylist()
    counts[0] = second["rows"]
    branches.write_bytes(table_bytes(rows.set_column(rows.schema.get_field_index("rows"), "rows",
                                                     pa.array(counts, rows.schema.field("rows").type))))
    body["branches"].update(size=branches.stat().st_size, sha256=hashlib.sha256(branches.read_bytes()).hexdigest())
    manifest.write_text(json.dumps({**body, "digest": _digest(body)}))


@pytest.mark.parametrize("how", ["partition cut short", "partition replaced", "manifest edited",
                                 "manifest edited and its digest too", "branches table edited",
                                 "another branch's partition, the manifest made again"])
def test_an_earlier_store_edited_by_hand_is_still_refused(series: Path, tmp_path: Path, how: str) -> None:
    """Earlier stores are checked by their manifest's digest and each partition's size and SHA-256, the rows'
    branch and number once loaded: September's store damaged as ``test_facts_store`` damages a store is passed
    over with its warning, August's still read, and no figure of September's comes from it."""
    from tests.test_facts_store import damaged

    copy = tmp_path / "copy"
    copy.mkdir()
    for m in (8, 9):
        shutil.copytree(store_path(series / f"group-2026-{m:02d}.xlsx"), store_path(copy / f"group-2026-{m:02d}.xlsx"))
    september = store_path(copy / "group-2026-09.xlsx")
    if how.startswith("another branch's"):
        _another_branchs_partition(september)
    else:
        damaged(september, how)
    run = report_flow(ReportRequest(_registers(series, 10), Month(2026, 10), copy / "group-2026-10.xlsx",
                                    now=_now(10)))
    said = [p.params["store"] for p in run.report.issues if p.code == "report.history_store_damaged"]
    assert said == ["group-2026-09.facts"]
    assert run.report.previous_from != "group-2026-09.facts"
    assert "2026-07" in {str(r.month) for r in run.report.trend}  # from August's store: it was read


def test_only_the_covers_a_report_shows_are_computed(series: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """October with August's and September's stores: only September's cover is computed (October's registers
    hold September's last days, so August's cover would not be asked for); both give their trend rows."""
    from xlcomplaints.report import store_history

    made: list[str] = []
    original = store_history._cover

    def spy(facts, period, *args, **kw):  # type: ignore[no-untyped-def]
        made.append(str(period))
        return original(facts, period, *args, **kw)

    monkeypatch.setattr(store_history, "_cover", spy)
    run = report_flow(ReportRequest(_registers(series, 10), Month(2026, 10), tmp_path / "again-2026-10.xlsx",
                                    now=_now(10), history=(store_path(series / "group-2026-08.xlsx"),
                                                           store_path(series / "group-2026-09.xlsx"))))
    assert made == ["2026-09"]
    assert {"2026-07", "2026-08", "2026-09"} <= {str(r.month) for r in run.report.trend}


def test_a_cover_a_later_store_needs_is_computed_from_its_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Registers started afresh in November and again in December: December's report shows November's cover,
    which (November's store holding nothing of October) showed October's figures as its last month: October's
    cover is computed too, from its store opened again, and the report equals the one from the reports."""
    from dataclasses import replace

    from xlcomplaints.report import store_history

    made: list[str] = []
    original = store_history._cover

    def spy(facts, period, *args, **kw):  # type: ignore[no-untyped-def]
        made.append(str(period))
        return original(facts, period, *args, **kw)

    kw = {"lang": "en"}
    october = report_flow(ReportRequest([write_branch(tmp_path / "t1.xlsx", hand_branch())], Month(2026, 10),
                                        tmp_path / "t1-2026-10.xlsx", now=datetime(2026, 11, 22, 9), **kw))  # type: ignore[arg-type]
    nov = write_branch(tmp_path / "nov.xlsx", fresh_november())
    november = report_flow(ReportRequest([nov], Month(2026, 11), tmp_path / "t1-2026-11.xlsx",
                                         now=datetime(2026, 12, 3), **kw))  # type: ignore[arg-type]
    data = fresh_november()
    dec = write_branch(tmp_path / "dec.xlsx", replace(data, complaints=tuple(
        replace(c, received_at=c.received_at.replace(month=12)) for c in data.complaints)))
    monkeypatch.setattr(store_history, "_cover", spy)
    stored = report_flow(ReportRequest([dec], Month(2026, 12), tmp_path / "t1-2026-12.xlsx",
                                       now=datetime(2027, 1, 3), **kw))  # type: ignore[arg-type]
    assert made == ["2026-11", "2026-10"]  # November's, which asked for October's
    (tmp_path / "reports").mkdir()
    reports = [Path(shutil.copy(r.output, tmp_path / "reports" / r.output.name)) for r in (october, november)]
    plain = report_flow(ReportRequest([dec], Month(2026, 12), tmp_path / "reports" / "dec.xlsx",
                                      now=datetime(2027, 1, 3), history=tuple(reports), **kw))  # type: ignore[arg-type]
    assert stored.report.previous_from == "t1-2026-11.facts" and plain.report.previous_from == "t1-2026-11.xlsx"
    got, want = cells(stored.output), cells(plain.output)
    assert list(got) == list(want)
    for sheet in want:
        rows_got, rows_want = got[sheet], want[sheet]
        if sheet == "Cover":  # the cover's note names where last month's figures are from
            assert rows_got[2][0] == rows_want[2][0].replace("t1-2026-11.xlsx", "t1-2026-11.facts")
            rows_got, rows_want = rows_got[3:], rows_want[3:]
        assert rows_got == rows_want, sheet
