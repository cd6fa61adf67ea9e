"""The facts store beside a consolidated report (issue 22): the report from it equals the report read without
it, cell for cell; ``--update`` rewrites only what it re-read; a store edited, cut short or of an earlier
version is refused with what to do; the workers send back no cases."""

from __future__ import annotations

import json
import pickle
import re
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import python_calamine
from typer.testing import CliRunner

from xlcomplaints.cli import app
from xlcomplaints.core.metrics import Month
from xlcomplaints.demo import run_demo
from xlcomplaints.report import run as run_module
from xlcomplaints.report.consolidate import read_file
from xlcomplaints.report.facts import MANIFEST, StoreError, load_facts, store_path
from xlcomplaints.report.run import Contacts, ReportKind, ReportRequest, RunResult, report_flow
from xlcomplaints.store.facts_sql import connect_parquet
from xlcomplaints.store.partition import read_partition
from xlcomplaints.workbook.errors import WorkbookError

OCT = Month(2026, 10)
NOW = datetime(2026, 11, 2, 9, 0)
REPORT = "月报-2026-10.xlsx"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("facts")
    run_demo(d / "demo", now=NOW)
    return d / "demo"


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Eight branches of the demo's kind, each with its own code and data."""
    from xlcomplaints.demo import make_branch
    d = tmp_path_factory.mktemp("many")
    return [make_branch(d / f"B{i:02d}.xlsx", f"B{i:02d}", f"网点{i}", n=80, seed=10 + i) for i in range(8)]


def make_report(inputs: list[Path], period: Month, output: Path, *, update: bool = False, show_contacts: bool = False,
                **kw: object) -> RunResult:
    kind = ReportKind.UPDATE if update else ReportKind.CONSOLIDATION
    return report_flow(ReportRequest(inputs, period, output, kind, contacts=Contacts.of(show_contacts),  # type: ignore[arg-type]
                                     **kw))


def branches(demo: Path) -> list[Path]:
    return [demo / f"{code}.xlsx" for code in ("BJ01", "SH02", "GZ03")]


def cells(path: Path) -> dict[str, list[list[object]]]:
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def without_store(monkeypatch: pytest.MonkeyPatch, *args: object, **kw: object) -> RunResult:
    """The same run the way it went before the store: the workers send their cases back, nothing is kept."""
    with monkeypatch.context() as m:
        m.setattr(run_module, "Staging", lambda *_: None)
        result = make_report(*args, **kw)  # type: ignore[arg-type]
    assert result.state is None
    return result


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", ["demo", "many"])
def test_the_report_from_the_store_is_the_report_without_it_cell_for_cell(
        demo: Path, many: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, which: str) -> None:
    inputs = branches(demo) if which == "demo" else many
    stored = make_report(inputs, OCT, tmp_path / "stored.xlsx", now=NOW, lang=lang)
    plain = without_store(monkeypatch, inputs, OCT, tmp_path / "plain.xlsx", now=NOW, lang=lang)
    assert stored.state is not None and (stored.state / MANIFEST).is_file()
    assert not stored.consolidation.cases and plain.consolidation.cases  # the report computed from the store
    assert cells(tmp_path / "stored.xlsx") == cells(tmp_path / "plain.xlsx")
    # and what the store holds is what the run counted, branch by branch
    kept, _, _ = load_facts(store_path(tmp_path / "stored.xlsx"), OCT, stored.run_id)
    assert {f.branch: (f.cases, f.texts, f.problems) for f in kept} == {
        code: (f.cases, f.texts, f.problems) for code, f in plain.consolidation.branches.items()}


def packs_of(store: Path) -> dict[str, tuple[str, int, int]]:
    """Each branch's pack in the store's manifest: (file, first row, the file's mtime)."""
    return {e["branch"]: (e["file"], e["first"], (store / e["file"]).stat().st_mtime_ns)
            for e in json.loads((store / MANIFEST).read_text())["partitions"]}


def codecs(store: Path) -> set[str]:
    """The compression of every column of every Parquet file in the store."""
    meta = [pq.ParquetFile(f).metadata for f in store.rglob("*.parquet")]
    return {m.row_group(g).column(c).compression for m in meta for g in range(m.num_row_groups)
            for c in range(m.row_group(g).num_columns)}


def test_update_of_some_branches_equals_a_full_run_and_keeps_the_other_packs_as_they_are(
        many: list[Path], tmp_path: Path) -> None:
    """Eight branches in packs of three (``conftest.small_packs``): an update of B03 and B04 writes again their pack
    (B05's rows copied over), and keeps the two others as they are, by name and mtime."""
    out = tmp_path / "group.xlsx"
    make_report(many, OCT, out, now=NOW)
    store = store_path(out)
    before = packs_of(store)
    assert len(set(before.values())) == 8 and len({f for f, _, _ in before.values()}) == 3
    assert sorted(p.name for p in store.glob("period=*/*.parquet")) == sorted({Path(f).name for f, _, _ in
                                                                               before.values()})
    assert codecs(store) == {"ZSTD"}  # the store keeps packs in zstd, never a worker's staged partition (LZ4)
    updated = make_report(many[3:5], OCT, out, now=NOW, update=True)
    assert sorted(updated.consolidation.carried) == [f"B{i:02d}" for i in (0, 1, 2, 5, 6, 7)]
    after = packs_of(store)
    kept = sorted(code for code in after if after[code] == before[code])
    assert kept == [f"B{i:02d}" for i in (0, 1, 2, 6, 7)]
    assert len({after[c][0] for c in ("B03", "B04", "B05")}) == 1 and after["B03"][0] != before["B03"][0]
    assert len(list(store.glob("period=*/*.parquet"))) == 3 and not list(store.glob("period=*/branch=*"))
    assert codecs(store) == {"ZSTD"}
    make_report(many, OCT, tmp_path / "full.xlsx", now=NOW)
    got, want = cells(out), cells(tmp_path / "full.xlsx")
    # the Issues sheet lists the files read first, then the branches carried (``merge``): the same rows
    issues = "问题清单"
    mine, theirs = got.pop(issues), want.pop(issues)
    assert mine[0] == theirs[0] and sorted(map(repr, mine[1:])) == sorted(map(repr, theirs[1:]))
    assert got == want
    assert not updated.consolidation.cases  # the carried branches not read back: the report from the store


def _alike(update: Path, full: Path, read: tuple[int, int] | None) -> None:
    """An update's report and a full run's equal on every sheet, cell for cell, but for the order of the Issues
    sheet, which lists the files read first, then those carried (``merge``): the same rows. The cover's summary
    counts the files behind each whole report (``read``: the update's, the full run's: the same)."""
    got, want = cells(update), cells(full)
    assert list(got) == list(want)
    cover = next(iter(want))
    for n, report in zip(read, (got, want), strict=True) if read else ():
        summary = str(report[cover][2][0])
        assert f"读取 {n} 个文件" in summary
        report[cover][2][0] = summary.replace(f"读取 {n} 个文件", "读取 … 个文件")
    for sheet in want:
        mine, theirs = got[sheet], want[sheet]
        if sheet in ("问题清单", "Issues"):
            mine, theirs = mine[:1] + sorted(mine[1:], key=repr), theirs[:1] + sorted(theirs[1:], key=repr)
        assert mine == theirs, sheet


def test_an_update_given_a_file_now_unreadable_missing_or_of_another_branch_counts_what_the_file_holds_now(
        tmp_path: Path) -> None:
    """``--update`` replaces what the files given held: B01's file is no workbook any more, B02's now holds branch
    X02, B03's was deleted. The report counts none of what they held at the last run (B01, B02 and B03 were
    counted as well, B02 twice under two codes), and equals a full run over the files as they are now."""
    from xlcomplaints.demo import make_branch

    folder = tmp_path / "in"
    folder.mkdir()
    files = [make_branch(folder / f"B{i:02d}.xlsx", f"B{i:02d}", f"网点{i}", n=20, seed=10 + i) for i in range(5)]
    out = tmp_path / "group.xlsx"
    make_report(files, OCT, out, now=NOW)
    files[1].write_bytes(b"not a workbook any more")
    make_branch(files[2], "X02", "网点2", n=20, seed=12)
    files[3].unlink()
    updated = make_report(files[1:4], OCT, out, now=NOW, update=True)
    assert sorted(updated.consolidation.branches) == ["B00", "B04", "X02"]
    assert sorted(updated.consolidation.carried) == ["B00", "B04"]
    make_report(sorted(folder.glob("*.xlsx")) + [files[3]], OCT, tmp_path / "full.xlsx", now=NOW)
    _alike(out, tmp_path / "full.xlsx", read=(5, 5))  # the carried branches' files counted too, as a full run counts them


def test_an_update_given_the_older_of_two_files_of_one_branch_keeps_the_one_saved_last(tmp_path: Path) -> None:
    """Two files carry branch B01 (a copy saved earlier, and the workbook): a full run uses the one saved last.
    An ``--update`` given only the older copy must not put it in the newer one's place: the file the last run used
    is weighed against it by the same rule, and the older set aside with the same note."""
    import os

    from xlcomplaints.demo import make_branch

    folder = tmp_path / "in"
    folder.mkdir()
    files = [make_branch(folder / f"B{i:02d}.xlsx", f"B{i:02d}", f"网点{i}", n=20, seed=10 + i) for i in range(3)]
    older = make_branch(folder / "B01 copy.xlsx", "B01", "网点1", n=20, seed=33)
    os.utime(older, (1_700_000_000, 1_700_000_000))
    out = tmp_path / "group.xlsx"
    make_report([*files, older], OCT, out, now=NOW)
    make_report([older], OCT, out, now=NOW, update=True)
    make_report([*files, older], OCT, tmp_path / "full.xlsx", now=NOW)
    _alike(out, tmp_path / "full.xlsx", read=None)  # none unreadable: the cover says nothing of the files read


def test_workers_send_back_where_their_partition_is_not_their_cases(many: list[Path], tmp_path: Path) -> None:
    plain = read_file(str(many[0]), OCT, OCT.end, NOW)
    staged = read_file(str(many[0]), OCT, OCT.end, NOW, staging=str(tmp_path))
    assert staged.partition is not None and not staged.cases and not staged.texts
    assert Path(staged.partition.path).parent == tmp_path and staged.partition.rows == len(plain.cases)
    cases, texts = read_partition(staged.partition)
    assert tuple(cases) == plain.cases and texts == plain.texts
    assert len(pickle.dumps(staged)) < len(pickle.dumps(plain)) / 5


def test_the_store_reads_in_duckdb(many: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "group.xlsx"
    result = make_report(many, OCT, out, now=NOW)
    store = store_path(out)
    rows = duckdb.sql(f"select branch, count(*) from read_parquet('{store}/period=*/*.parquet', "
                      "hive_partitioning=false) group by branch order by branch").fetchall()
    assert rows == sorted((code, f.partition.rows) for code, f in result.consolidation.branches.items()
                          if f.partition is not None) and len(rows) == 8
    received = duckdb.sql(f"select count(*) from read_parquet('{store}/period=*/*.parquet') "
                          "where make_timestamp(received_at * ticks.received) >= timestamp '2026-10-01' "  # store.ticks
                          "and make_timestamp(received_at * ticks.received) < timestamp '2026-11-01'")
    assert received.fetchall() == [(result.report.value("received"),)]


def test_the_readmes_query_of_a_store_gives_the_times_the_report_counts(demo: Path, tmp_path: Path) -> None:
    """The README shows how to read a store's times in DuckDB (schema 4 keeps them as ticks): its query, run as
    written, gives every complaint's resolve time as the report's own loader has it, a complaint without a received
    time (the demo's 2026/10/32) included."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    [query] = re.findall(r"\(`(SELECT no, make_timestamp.*?)`\)", readme, re.S)
    out = tmp_path / "group.xlsx"
    make_report(branches(demo), OCT, out, now=NOW)
    store = store_path(out)
    query = " ".join(query.split()).replace("group-2026-10.facts", str(store))
    got = duckdb.sql(query).fetchall()
    con = connect_parquet(sorted(store.glob("period=*/*.parquet")))
    want = con.execute("SELECT c.no, s.done FROM stages s JOIN cases c USING (cid) WHERE s.stage = 'resolve' "
                       "ORDER BY c.cid").fetchall()
    assert sorted(got, key=str) == sorted(want, key=str) and any(done is not None for _, done in got)
    assert con.execute("SELECT count(*) FROM cases WHERE received IS NULL").fetchone() != (0,)


def _remade(store: Path, body: dict[str, object]) -> None:
    """The manifest ``body`` written with its digest made again, each entry's size and hash its file's."""
    import hashlib

    from xlcomplaints.report.facts import _digest
    for entry in body["partitions"]:  # type: ignore[attr-defined]
        data = (store / entry["file"]).read_bytes()
        entry["size"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    (store / MANIFEST).write_text(json.dumps({**body, "digest": _digest(body)}))


def damaged(store: Path, how: str) -> None:
    """A store's pack, manifest or branches table damaged as ``how`` says (the last three ways: of a store of five
    branches in two packs, B00–B02 and B03–B04, ``conftest.small_packs``)."""
    manifest = store / MANIFEST
    doc = json.loads(manifest.read_text())
    part = store / doc["partitions"][0]["file"]
    other = store / doc["partitions"][-1]["file"]  # the last pack
    if how == "partition cut short":
        part.write_bytes(part.read_bytes()[:-100])
    elif how == "partition replaced":
        if other == part:  # a store of one pack: the same rows written otherwise
            import pyarrow as pa
            import pyarrow.parquet as pq
            sink = pa.BufferOutputStream()
            pq.write_table(pq.read_table(part), sink, compression="gzip")
            other.write_bytes(sink.getvalue().to_pybytes())
        else:
            part.write_bytes(other.read_bytes())
    elif how == "partition gone":
        part.unlink()
    elif how == "manifest edited":
        doc["partitions"][0]["rows"] += 1
        manifest.write_text(json.dumps(doc))
    elif how == "manifest edited and its digest too":  # a careful hand: the partition's hash still tells
        from xlcomplaints.report.facts import _digest
        body = {k: v for k, v in doc.items() if k != "digest"}
        body["partitions"][0]["sha256"] = "0" * 64
        manifest.write_text(json.dumps({**body, "digest": _digest(body)}))
    elif how in ("partitions swapped, the manifest made again", "a partition not a facts table, the manifest made again"):
        # a careful hand who knows the digest: only the rows, as loaded, tell (``store_report._check_loaded``)
        first, second = part.read_bytes(), other.read_bytes()
        if how.startswith("partitions swapped"):
            part.write_bytes(second)
            other.write_bytes(first)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq
            rows = sum(e["rows"] for e in doc["partitions"][3:])
            pq.write_table(pa.table({"no": ["x"] * rows}), other)  # a kept pack's
        _remade(store, {k: v for k, v in doc.items() if k != "digest"})
    elif how in ("a stage status the code does not know, the manifest made again",
                 "a unit the code does not know, the manifest made again"):
        import pyarrow as pa
        import pyarrow.parquet as pq
        table = pq.read_table(other)  # a kept pack's: loaded by DuckDB (its ENUMs), not read back as cases
        rows = table.to_pylist()
        rows[-1]["stages"][3]["status" if "status" in how else "unit"] = "fortnights"
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), other)
        _remade(store, {k: v for k, v in doc.items() if k != "digest"})
    elif how == "a branch past its pack's rows, the manifest made again":
        doc["partitions"][2]["rows"] += 1
        _remade(store, {k: v for k, v in doc.items() if k != "digest"})
    elif how == "two branches' rows overlapping, the manifest made again":
        doc["partitions"][1]["first"] -= 1
        doc["partitions"][1]["rows"] += 1
        _remade(store, {k: v for k, v in doc.items() if k != "digest"})
    elif how == "a pack holding a branch not named, the manifest and branches table made again":
        import pyarrow.parquet as pq

        from xlcomplaints.store.partition import table_bytes
        dropped = doc["partitions"].pop(2)  # B02, the last of the first pack: its rows still there
        table = store / doc["branches"]["file"]
        rows = pq.read_table(table).to_pylist()
        assert rows[2]["branch"] == dropped["branch"]
        data = table_bytes(pq.read_table(table).filter([r["branch"] != dropped["branch"] for r in rows]))
        table.write_bytes(data)
        import hashlib
        doc["branches"].update(rows=len(rows) - 1, size=len(data), sha256=hashlib.sha256(data).hexdigest())
        _remade(store, {k: v for k, v in doc.items() if k != "digest"})
    elif how == "manifest cut short":
        manifest.write_bytes(manifest.read_bytes()[:-30])
    elif how == "branches table edited":
        table = store / doc["branches"]["file"]
        table.write_bytes(table.read_bytes().replace(b"BR", b"XX") + b"\0")
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["partition cut short", "partition replaced", "partition gone", "manifest edited",
                                 "manifest edited and its digest too", "manifest cut short", "branches table edited",
                                 "partitions swapped, the manifest made again",
                                 "a partition not a facts table, the manifest made again",
                                 "a branch past its pack's rows, the manifest made again",
                                 "a stage status the code does not know, the manifest made again",
                                 "a unit the code does not know, the manifest made again",
                                 "two branches' rows overlapping, the manifest made again",
                                 "a pack holding a branch not named, the manifest and branches table made again"])
def test_a_store_edited_or_cut_short_is_refused_and_nothing_is_written(
        many: list[Path], tmp_path: Path, how: str) -> None:
    out = tmp_path / "group.xlsx"
    first = make_report(many[:5], OCT, out, now=NOW)
    damaged(store_path(out), how)
    with pytest.raises(StoreError):
        load_facts(store_path(out), OCT, first.run_id)  # read back as cases
    was = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for lang, said in (("en", "Cannot --update"), ("zh", "无法 --update")):
        ran = CliRunner().invoke(app, ["consolidate", str(many[0]), "--period", "2026-10", "-o", str(out), "--update",
                                       "--now", "2026-11-02 09:00", "--lang", lang])
        assert ran.exit_code == 2 and said in ran.output and "Traceback" not in ran.output, ran.output
        if "the code does not know" in how:  # refused by the load's ENUMs (``facts_sql.CODES``), saying what
            assert "fortnights" in ran.output, ran.output
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == was


@pytest.mark.parametrize("field", ["status", "unit"])
def test_a_code_outside_the_loads_enums_is_refused_as_the_schemas_mismatch(
        many: list[Path], tmp_path: Path, field: str) -> None:
    """The load keeps a stage's status and unit as DuckDB ENUMs of the code's enums (``facts_sql.CODES``): a
    partition holding another value (edited by hand, or written by a later code) is refused with the store's
    ``SchemaMismatch``, not DuckDB's conversion error; the queries' text order holds (each ENUM's values sorted)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from xlcomplaints.store.facts_sql import CODES, connect_parquet
    from xlcomplaints.store.schema import SchemaMismatch
    out = tmp_path / "group.xlsx"
    make_report(many[:2], OCT, out, now=NOW)
    [part] = sorted(store_path(out).glob("period=*/*.parquet"))
    con = connect_parquet([part])
    assert con.execute("SELECT DISTINCT typeof(stage), typeof(status), typeof(unit) FROM stages").fetchall() == [
        ("ENUM('acknowledge', 'callback', 'close', 'first_contact', 'reply', 'report', 'resolve')",
         f"ENUM({', '.join(repr(v) for v in CODES['stage_status'])})",
         "ENUM('calendar_days', 'hours', 'working_days', 'working_hours')")]
    for column in ("stage", "status", "unit"):  # ORDER BY, min and max as the text's
        assert con.execute(f"SELECT list({column} ORDER BY {column}), min({column}), max({column}) FROM stages"
                           ).fetchone() == con.execute(f"SELECT list({column}::VARCHAR ORDER BY {column}::VARCHAR), "
                                                       f"min({column}::VARCHAR), max({column}::VARCHAR) FROM stages"
                                                       ).fetchone()
    table = pq.read_table(part)
    rows = table.to_pylist()
    rows[0]["stages"][3][field] = "fortnights"
    edited = tmp_path / "edited.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), edited)
    with pytest.raises(SchemaMismatch, match="a value the store does not write.*fortnights"):
        connect_parquet([edited])


@pytest.mark.parametrize("earlier", [1, 2, 3])
def test_a_store_of_an_earlier_schema_is_refused_saying_to_consolidate_again(
        many: list[Path], tmp_path: Path, earlier: int) -> None:
    """Schema version 1 kept times in µs, version 2 each stage's fields in columns side by side, version 3 times in ms
    since 1970; this one writes times as ticks after receipt (``store.schema.SCHEMA_VERSION`` 4)."""
    from xlcomplaints.report.facts import _digest
    out = tmp_path / "group.xlsx"
    first = make_report(many[:2], OCT, out, now=NOW)
    manifest = store_path(out) / MANIFEST
    body = {k: v for k, v in json.loads(manifest.read_text()).items() if k != "digest"}
    assert body["schema_version"] == 4
    body["schema_version"] = earlier
    manifest.write_text(json.dumps({**body, "digest": _digest(body)}))
    with pytest.raises(StoreError, match=rf"store version \d+\.{earlier}, this one reads \d+\.4.*without --update"):
        load_facts(store_path(out), OCT, first.run_id)
    for lang, said in (("en", "Cannot --update"), ("zh", "无法 --update")):
        ran = CliRunner().invoke(app, ["consolidate", str(many[0]), "--period", "2026-10", "-o", str(out), "--update",
                                       "--now", "2026-11-02 09:00", "--lang", lang])
        assert ran.exit_code == 2 and said in ran.output and "Traceback" not in ran.output, ran.output


@pytest.mark.parametrize(("lang", "said"), [("en", "consolidate again without --update to build the store"),
                                            ("zh", "以建立汇总数据目录")])
def test_an_earlier_versions_state_file_says_to_consolidate_again(
        many: list[Path], tmp_path: Path, lang: str, said: str) -> None:
    out = tmp_path / "group.xlsx"
    make_report(many[:2], OCT, out, now=NOW)
    shutil.rmtree(store_path(out))
    old = tmp_path / "group.state.json.gz"
    old.write_bytes(b"\x1f\x8b an earlier version's state")
    with pytest.raises(WorkbookError) as info:
        make_report(many[:1], OCT, out, now=NOW, update=True)
    assert info.value.code == "report.old_state"
    ran = CliRunner().invoke(app, ["consolidate", str(many[0]), "--period", "2026-10", "-o", str(out), "--update",
                                   "--lang", lang])
    assert ran.exit_code == 2 and said in " ".join(ran.output.split()) and "Traceback" not in ran.output
    # what it says to do works: a full run builds the store, and the old file goes
    make_report(many[:2], OCT, out, now=NOW)
    assert not old.exists() and (store_path(out) / MANIFEST).is_file()
    assert make_report(many[:1], OCT, out, now=NOW, update=True).consolidation.carried == ["B01"]


def test_a_folder_holding_reports_and_their_stores_reads_only_the_workbooks(many: list[Path], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for p in many[:2]:
        shutil.copy(p, folder / p.name)
    make_report([folder], OCT, folder / "group.xlsx", now=NOW)
    again = make_report([folder], OCT, tmp_path / "again.xlsx", now=NOW)
    assert sorted(again.consolidation.branches) == ["B00", "B01"]
    assert not [p for p in again.report.issues if "parquet" in str(p.params) or "manifest" in str(p.params)]


def test_stages_as_the_list_has_them(many: list[Path], tmp_path: Path) -> None:
    """``facts_sql.STAGES_VIEW`` (over the list read once as plain columns, ``_FLAT``) gives the rows of the plain
    reading: each stage by its place in the list, ``stages[i].field`` for i = 1 … 7 (its times decoded by
    ``store.ticks.sql``)."""
    from xlcomplaints.core.policy import STAGES
    from xlcomplaints.store.facts_sql import (
        _FLAT,
        _READ,
        _TIMES,
        ORDINAL,
        STAGES_VIEW,
        _literal,
        declare_codes,
    )
    from xlcomplaints.store.ticks import DAY_SQL, sql

    out = tmp_path / "group.xlsx"
    make_report(many, OCT, out, now=NOW)
    files = sorted(str(p) for p in store_path(out).glob("period=*/*.parquet"))
    con = duckdb.connect()
    declare_codes(con)
    con.execute(f"CREATE TEMP TABLE facts AS SELECT ordinal, stages, received_at, ticks, "
                f"{', '.join(_READ + _TIMES + _FLAT)} FROM (SELECT *, {ORDINAL} AS ordinal, {DAY_SQL} AS _base FROM "
                f"read_parquet([{', '.join(map(_literal, files))}], file_row_number = true, hive_partitioning = false))")
    fields = ("status", "due", "done", "late_by", "unit", "took", "handler")
    plain = "\nUNION ALL ".join(
        f"SELECT ordinal AS cid, '{s}' AS stage, {i} AS idx, "
        + ", ".join(f"{sql(f'stages[{i + 1}].{f}', f) if f in ('due', 'done') else f'stages[{i + 1}].{f}'} AS {f}"
                    for f in fields)
        + f", branch, validity IS DISTINCT FROM 'invalid' AS handled, {sql('stages[7].done', 'done')} AS closed FROM facts"
        for i, s in enumerate(STAGES))
    con.execute(STAGES_VIEW)
    got = con.execute("SELECT * FROM stages ORDER BY cid, idx").fetchall()
    assert got == con.execute(f"SELECT * FROM ({plain}) ORDER BY cid, idx").fetchall()
    complaints = con.execute("SELECT count(*) FROM facts").fetchone()[0]  # type: ignore[index]
    assert len(got) == 7 * complaints > 0 and {r[1] for r in got} == set(STAGES)


def _one_facts_table(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """The relations as the plain load made them (before ``facts_sql._load``): one ``facts`` table of every column
    they use (``_READ``, ``_TIMES``, ``_FLAT``), each relation made from it."""
    from xlcomplaints.store.facts_sql import (
        _FLAT,
        _READ,
        _TIMES,
        CALLBACKS_VIEW,
        CASES_VIEW,
        CUSTOM_VIEW,
        OFFICE_VIEW,
        STAGES_VIEW,
        declare_codes,
    )
    from xlcomplaints.store.ticks import DAY_SQL

    declare_codes(con)
    con.execute(f"CREATE TEMP TABLE facts AS SELECT ordinal, {', '.join(_READ + _TIMES + _FLAT)} "
                f"FROM (SELECT *, {DAY_SQL} AS _base FROM {source})")
    for sql in (CASES_VIEW, STAGES_VIEW, CALLBACKS_VIEW, CUSTOM_VIEW, OFFICE_VIEW):
        con.execute(sql.replace("{facts}", "facts"))


_RELATIONS = ("cases", "stages", "callbacks", "custom", "office")


def _relations(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[list[tuple[object, ...]], list[tuple[object, ...]]]]:
    """Each relation's columns (name, type) and rows, in one order."""
    return {t: (con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {t})").fetchall(),
                con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()) for t in _RELATIONS}


@pytest.mark.parametrize("source", ["packs", "office's own stages and columns"])
def test_the_load_gives_the_relations_one_facts_table_gives(many: list[Path], tmp_path: Path, source: str) -> None:
    """The load (``facts_sql._load``: the stages' table made first, the complaints' and callbacks' columns read from
    the files again) gives ``cases``, ``stages``, ``callbacks``, ``custom`` and ``office`` column for column and row
    for row as one ``facts`` table of all their columns gave: over a consolidation's packs (``connect_parquet``), and
    over a branch with two stages of its own and a column of its own, each stage a handler of its own
    (``connect_table``)."""
    import pyarrow as pa

    from tests.test_custom_stages import make_branch as custom_branch
    from xlcomplaints.core.metrics import Period
    from xlcomplaints.report.consolidate import merge
    from xlcomplaints.store.facts_sql import ORDINAL, _literal, connect_parquet, connect_table
    from xlcomplaints.store.schema import to_table

    plain = duckdb.connect()
    if source == "packs":
        out = tmp_path / "group.xlsx"
        make_report(many, OCT, out, now=NOW)
        files = sorted(str(p) for p in store_path(out).glob("period=*/*.parquet"))
        assert len(files) > 1, "the tests' packs hold three branches each"
        got = connect_parquet(files)
        _one_facts_table(plain, f"(SELECT *, {ORDINAL} AS ordinal FROM read_parquet([{', '.join(map(_literal, files))}], "
                                f"file_row_number = true, hive_partitioning = false))")
    else:
        now, p = datetime(2026, 11, 3, 12, 0), Period.month(2026, 11)
        path = custom_branch(tmp_path, dims=("楼栋",), buildings={"BJ01-2611001": "3栋", "BJ01-2611003": "5栋"})
        cases = merge([read_file(str(path), p, now, now)], p, now).cases
        width = len(cases[0].stages) // 7  # each stage a handler of its own: the resolve stage's is the one of record
        cases = [c._replace(stages=tuple(f"经办{k // width}" if k % width == width - 1 else x
                                         for k, x in enumerate(c.stages))) for c in cases]
        table = to_table(cases)
        got = connect_table(table)
        plain.register("arrow", table.append_column("ordinal", pa.array(range(table.num_rows), pa.int64())))
        _one_facts_table(plain, "arrow")
    mine, want = _relations(got), _relations(plain)
    assert mine == want
    held = ("cases", "stages", "callbacks") if source == "packs" else ("cases", "stages", "custom", "office")
    assert all(want[t][1] for t in held), "the relations this source has rows for are compared on rows"


def test_a_store_of_version_2_is_read_as_packs_of_one_branch_and_updated(
        many: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store as version 2 wrote it (a file per branch under ``period=…/branch=…/``, no ``first`` in its manifest):
    each file is a pack of one branch; an ``--update`` keeps the others' files as they are, packs the one it
    re-read, and its report equals a full run's (the Issues sheet's rows in another order)."""
    import hashlib

    from xlcomplaints.report.facts import _digest
    from xlcomplaints.store import pack
    out = tmp_path / "group.xlsx"
    with monkeypatch.context() as m:
        m.setattr(pack, "PACK_BRANCHES", 1)
        make_report(many[:4], OCT, out, now=NOW)
    store = store_path(out)
    body = {k: v for k, v in json.loads((store / MANIFEST).read_text()).items() if k != "digest"}
    for e in body["partitions"]:  # type: ignore[attr-defined]
        old = store / e["file"]
        new = old.parent / f"branch={e['branch']}" / old.name.removeprefix(pack.PACK_PREFIX)
        new.parent.mkdir()
        old.rename(new)
        e["file"] = new.relative_to(store).as_posix()
        assert e.pop("first") == 0 and e["sha256"] == hashlib.sha256(new.read_bytes()).hexdigest()
    import pyarrow as pa
    import pyarrow.parquet as pq

    from xlcomplaints.store.partition import table_bytes
    table = store / body["branches"]["file"]  # type: ignore[index]
    rows = pq.read_table(table)
    files = pa.array([e["file"] for e in body["partitions"]], rows.schema.field("partition").type)  # type: ignore[attr-defined]
    table.write_bytes(table_bytes(rows.set_column(rows.schema.get_field_index("partition"), "partition", files)))
    body["branches"].update(size=table.stat().st_size, sha256=hashlib.sha256(table.read_bytes()).hexdigest())  # type: ignore[attr-defined]
    body["version"] = 2
    (store / MANIFEST).write_text(json.dumps({**body, "digest": _digest(body)}))
    kept = {e["branch"]: e["file"] for e in body["partitions"]}  # type: ignore[attr-defined]
    updated = make_report(many[1:2], OCT, out, now=NOW, update=True)
    assert sorted(updated.consolidation.carried) == ["B00", "B02", "B03"] and not updated.consolidation.cases
    now = {e["branch"]: e["file"] for e in json.loads((store / MANIFEST).read_text())["partitions"]}
    assert {b: now[b] for b in ("B00", "B02", "B03")} == {b: kept[b] for b in ("B00", "B02", "B03")}
    assert now["B01"].startswith("period=2026-10/pack-") and not (store / kept["B01"]).exists()
    make_report(many[:4], OCT, tmp_path / "full.xlsx", now=NOW)
    got, want = cells(out), cells(tmp_path / "full.xlsx")
    issues = "问题清单"
    mine, theirs = got.pop(issues), want.pop(issues)
    assert sorted(map(repr, mine)) == sorted(map(repr, theirs)) and got == want
