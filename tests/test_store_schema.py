"""The facts store's schema: ``Case`` ↔ Arrow without loss, on generated cases and on real branch files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlcomplaints.core.calendar import Unit
from xlcomplaints.core.cells import parse_datetime
from xlcomplaints.core.metrics import Case, Month, stamp
from xlcomplaints.core.metrics.facts import due_months
from xlcomplaints.core.policy import STAGES
from xlcomplaints.core.status import Escalation, OverallStatus, StageStatus
from xlcomplaints.demo import make_branch
from xlcomplaints.report.consolidate import read_file
from xlcomplaints.store.partition import read_partition, write_partition
from xlcomplaints.store.schema import CASES, SchemaMismatch, from_table, to_table

OCT = Month(2026, 10)
NOW = datetime(2026, 11, 2, 9)

_text = st.none() | st.text(max_size=12)
_stamp = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9998, 12, 31, 23, 59, 59)).map(stamp)
_number = st.none() | st.floats(allow_nan=False, allow_infinity=False)
_stage = st.tuples(st.sampled_from(list(StageStatus)), st.none() | _stamp, st.none() | _stamp, _number,
                   st.none() | st.sampled_from(list(Unit)), _number, _text)
_case = st.builds(  # due_months made from the stages, as the engine makes it (the store keeps it no more)
    lambda head, stages, calls, custom, office, texts: (Case._make(
        (*head, flat := tuple(x for s in stages for x in s), tuple(calls), due_months(flat),
         tuple(x for c in custom for x in c), tuple(x for o in office for x in o))), texts),
    st.tuples(st.text(min_size=1, max_size=5), _text, st.none() | _stamp, *([_text] * 9), st.booleans(),
              st.sampled_from(list(Escalation)), st.sampled_from(list(OverallStatus)), _text, st.integers(0, 2**62)),
    st.lists(_stage, min_size=len(STAGES), max_size=len(STAGES)),
    st.lists(st.tuples(_stamp, st.sampled_from(["satisfied", "unsatisfied"]), st.none() | st.integers(0, 10))),
    st.lists(st.tuples(st.text(max_size=4), st.text(max_size=4)).flatmap(
        lambda names: _stage.map(lambda s: (*names, *s))), max_size=2),
    st.lists(st.tuples(st.text(max_size=4), _text), max_size=2),
    st.none() | st.tuples(_text, _text, _text, _text))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_case, max_size=6))
def test_any_cases_round_trip_exactly(made: list[tuple[Case, tuple[str | None, ...] | None]]) -> None:
    cases = [c for c, _ in made]
    texts = {c.no: words for c, words in made if c.no is not None and words is not None}
    back, back_texts = from_table(to_table(cases, texts))
    assert back == cases
    assert [(type(c.status), type(c.escalation), *map(type, c.stages[::7])) for c in back] == [
        (type(c.status), type(c.escalation), *map(type, c.stages[::7])) for c in cases]  # the enums again
    assert [tuple(map(type, c.stages)) for c in back] == [tuple(map(type, c.stages)) for c in cases]
    assert back_texts == {no: words for no, words in texts.items()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_case, max_size=6))
def test_flat_fields_make_the_list_columns_as_items_cut_out_do(made: list[tuple[Case, object]]) -> None:
    """``schema._flat_list`` (the stages', custom stages' and office columns' values sliced from all rows joined)
    makes the column ``_lists`` makes of each row's items cut out one by one (how ``to_table`` made them before)."""
    from xlcomplaints.store.schema import CUSTOM, OFFICE, STAGE, _flat_list, _lists

    cases = [c for c, _ in made]
    for rows, kind in (([c.stages for c in cases], STAGE), ([c.custom for c in cases], CUSTOM),
                       ([c.office for c in cases], OFFICE)):
        w = kind.num_fields
        cut = [[row[i:i + w] for i in range(0, len(row), w)] for row in rows]
        assert _flat_list(rows, kind).equals(_lists(cut, kind))


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("demo")
    return [make_branch(d / f"{code}.xlsx", code, name, n=120, seed=i)
            for i, (code, name) in enumerate([("BJ01", "北京朝阳店"), ("SH02", "上海浦东店")])]


@pytest.mark.parametrize("show_contacts", [False, True])
def test_branch_files_round_trip_exactly(demo_files: list[Path], show_contacts: bool) -> None:
    for path in demo_files:
        f = read_file(str(path), OCT, OCT.end, NOW, show_contacts=show_contacts)
        assert f.cases and f.texts
        table = to_table(f.cases, f.texts)
        assert table.schema.equals(CASES) and table.num_rows == len(f.cases)
        cases, texts = from_table(table)
        assert tuple(cases) == f.cases and texts == f.texts
        assert list(map(_kinds, cases)) == list(map(_kinds, f.cases))  # floats stay floats, codes stay enums


def _kinds(c: Case) -> tuple[type, ...]:
    flat = [*c[:-5], *c.stages, *c.custom, *c.office, *(x for row in (*c.callbacks, *c.due_months) for x in row)]
    return tuple(map(type, flat))


def test_a_table_of_another_shape_is_refused(demo_files: list[Path]) -> None:
    f = read_file(str(demo_files[0]), OCT, OCT.end, NOW)
    table = to_table(f.cases, f.texts)
    with pytest.raises(SchemaMismatch):
        from_table(table.drop_columns(["stages"]))
    with pytest.raises(SchemaMismatch):
        from_table(table.set_column(0, "branch", pa.array([None] * table.num_rows, pa.string())))
    i = table.schema.get_field_index("stages")
    stages = table.column(i).combine_chunks()
    one_short = pa.ListArray.from_arrays(  # the first complaint's last stage cut off: six stages
        pa.array([0, *(o - 1 for o in stages.offsets.to_pylist()[1:])], pa.int32()),
        stages.values.slice(0, len(stages.values) - 1), type=stages.type)
    with pytest.raises(SchemaMismatch, match="without its 7 stages"):
        from_table(table.set_column(i, table.schema.field(i), one_short))


def test_a_code_the_engine_does_not_know_is_refused(demo_files: list[Path]) -> None:
    f = read_file(str(demo_files[0]), OCT, OCT.end, NOW)
    table = to_table(f.cases, f.texts)
    i = table.schema.get_field_index("stages")
    stages = table.column(i).combine_chunks()
    status = stages.values.field("status")
    odd = pa.StructArray.from_arrays(
        [pa.array(["closed_ish"] * len(status), pa.string()) if field.name == "status" else stages.values.field(field.name)
         for field in stages.type.value_type], fields=list(stages.type.value_type))
    edited = pa.ListArray.from_arrays(stages.offsets, odd, type=stages.type)
    with pytest.raises(SchemaMismatch, match="does not know"):
        from_table(table.set_column(i, table.schema.field(i), edited))


def test_times_are_kept_in_the_coarsest_tick_and_any_finer_one_exactly(demo_files: list[Path], tmp_path: Path) -> None:
    """Schema 4 keeps a partition's times as whole ticks after receipt (``store.ticks``): the demo's received times
    are whole minutes, the others no finer than a ms (an Excel serial's); a time typed as text with µs (which the reader keeps) makes that column's tick a µs, and
    every time comes back exactly."""
    f = read_file(str(demo_files[0]), OCT, OCT.end, NOW)
    part = write_partition(tmp_path, f.cases, f.texts)
    assert pq.read_schema(part.path).field("received_at").type == pa.int64()
    ticks = pq.read_table(part.path, columns=["ticks"]).column("ticks")[0].as_py()
    assert ticks["received"] == 60_000_000 and min(ticks.values()) >= 1_000
    assert read_partition(part) == (list(f.cases), f.texts)

    typed = parse_datetime("2026-10-09 09:00:00.123456")  # a cell holding this text
    assert typed is not None and typed.microsecond == 123456
    fine = [f.cases[0]._replace(received_at=stamp(typed)), *f.cases[1:]]
    part = write_partition(tmp_path, fine, f.texts)
    ticks = pq.read_table(part.path, columns=["ticks"]).column("ticks")[0].as_py()
    assert ticks["received"] == 1 and ticks["done"] >= 1_000  # the others count from its day's midnight
    assert read_partition(part) == (fine, f.texts)


_EDGES = [datetime(1900, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999), datetime(2026, 10, 9, 9, 0, 0, 500000),
          datetime(2026, 10, 9, 9, 0, 0, 1), datetime(2026, 10, 9), datetime(1969, 12, 31, 23, 59)]


@pytest.mark.parametrize("received", [None, *_EDGES])
@pytest.mark.parametrize("other", _EDGES)
def test_edge_times_round_trip_through_a_partition(demo_files: list[Path], tmp_path: Path, received: datetime | None,
                                                  other: datetime) -> None:
    """No received time (the others then count from 1970), 1900 and 9999, sub-second and sub-ms times, times before
    their complaint's receipt: each kept exactly, in a file of their own and beside the demo's."""
    f = read_file(str(demo_files[0]), OCT, OCT.end, NOW)
    c = f.cases[1]
    stages = list(c.stages)
    stages[1] = stages[2] = stamp(other)  # the acknowledge stage's due and done
    edited = c._replace(received_at=None if received is None else stamp(received), stages=tuple(stages),
                        callbacks=((stamp(other), "satisfied", 3),), due_months=due_months(stages))
    for cases in ([edited], [edited, *f.cases]):
        part = write_partition(tmp_path, cases, f.texts)
        assert read_partition(part) == (cases, {no: w for no, w in f.texts.items() if no in {c.no for c in cases}})


def test_all_empty_times_and_no_rows(tmp_path: Path, demo_files: list[Path]) -> None:
    """A partition whose time columns are all empty (each then kept in days), and one of no complaint."""
    f = read_file(str(demo_files[0]), OCT, OCT.end, NOW)
    blank = [c._replace(received_at=None, stages=tuple(None if i % 7 in (1, 2) else x for i, x in enumerate(c.stages)),
                        callbacks=(), due_months=()) for c in f.cases[:5]]
    for cases in (blank, []):
        part = write_partition(tmp_path, cases, {})
        assert read_partition(part) == (cases, {})


def test_a_table_read_in_slices_gives_the_same_cases(demo_files: list[Path]) -> None:
    """``store_report.rows_of`` reads a few rows at a time: a slice's lists and ticks are its own rows'."""
    f = read_file(str(demo_files[0]), OCT, OCT.end, NOW)
    table = to_table(f.cases, f.texts)
    for size in (1, 3, 50):
        got = [c for batch in table.slice(5).to_batches(size) for c in from_table(pa.Table.from_batches([batch]))[0]]
        assert got == list(f.cases[5:])
