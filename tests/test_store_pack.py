"""Packs (``store.pack``): several branches' partitions in one Parquet file, each branch read back as it was written,
whole packs kept by an update, the others' branches packed anew; real workbooks read by the workers, real files."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from xlcomplaints.core.metrics import Month
from xlcomplaints.report.consolidate import read_file
from xlcomplaints.store.pack import PACK_PREFIX, plan, write_pack
from xlcomplaints.store.pack import pack as pack_all
from xlcomplaints.store.partition import Partition, PartitionDamaged, read_partition, read_table

OCT = Month(2026, 10)
NOW = datetime(2026, 11, 2, 9, 0)


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Partition], list[Path]]:
    """Five branches of different sizes, each read by a
    worker into its own partition, as a consolidation's workers write them."""
    from xlcomplaints.demo import make_branch
    d = tmp_path_factory.mktemp("pack")
    (d / "staging").mkdir()
    books = [make_branch(d / f"P{i}.xlsx", f"P{i}", f"网点{i}", n=n, seed=40 + i)
             for i, n in enumerate((30, 8, 55, 12, 70))]
    parts = []
    for b in books:
        f = read_file(str(b), OCT, OCT.end, NOW, staging=str(d / "staging"))
        assert f.partition is not None
        parts.append(f.partition)
    return parts, books


def test_a_pack_gives_each_branch_its_rows_as_written(staged: tuple[list[Partition], list[Path]],
                                                      tmp_path: Path) -> None:
    parts, _ = staged
    packed = write_pack(tmp_path, parts)
    [file] = tmp_path.iterdir()
    assert file.name.startswith(PACK_PREFIX) and len({p.path for p in packed}) == 1
    assert pq.ParquetFile(file).metadata.num_row_groups == 1
    assert [(p.first, p.rows, p.held) for p in packed] == [
        (sum(q.rows for q in parts[:i]), q.rows, sum(q.rows for q in parts)) for i, q in enumerate(parts)]
    for alone, in_pack in zip(parts, packed, strict=True):
        assert read_partition(in_pack) == read_partition(alone)
        assert read_table(in_pack).equals(read_table(alone).cast(read_table(in_pack).schema))
    # a pack of packs' branches (an update's): the same rows again, the packed ones read from their pack
    again = write_pack(tmp_path, [packed[3], parts[0], packed[4]])
    assert [read_partition(p) for p in again] == [read_partition(parts[i]) for i in (3, 0, 4)]


def test_a_pack_cut_short_or_of_other_rows_is_refused(staged: tuple[list[Partition], list[Path]],
                                                      tmp_path: Path) -> None:
    parts, _ = staged
    packed = write_pack(tmp_path, parts[:3])
    with pytest.raises(PartitionDamaged, match="rows"):  # the manifest says the pack holds a row more than it does
        read_partition(replace(packed[2], rows=packed[2].rows + 1, held=packed[2].held + 1))  # type: ignore[operator]
    with pytest.raises(PartitionDamaged, match="rows"):  # a branch past the pack's rows
        read_partition(replace(packed[2], rows=packed[2].rows + 1))
    path = Path(packed[0].path)
    path.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(PartitionDamaged, match="cut short or changed"):
        read_partition(packed[1])


def _in(path: str, rows: list[int]) -> list[Partition]:
    """A pack at ``path`` holding branches of ``rows`` rows each, as a manifest names them."""
    firsts = [sum(rows[:i]) for i in range(len(rows))]
    return [Partition(path, n, 100, "a" * 64, first, sum(rows)) for n, first in zip(rows, firsts, strict=True)]


def test_whole_packs_are_kept_and_the_rest_packed_in_order() -> None:
    a, b = _in("/s/a.parquet", [5, 6, 7]), _in("/s/b.parquet", [4, 4])
    loose = [Partition(f"/staging/{i}.parquet", 3, 50, "b" * 64) for i in range(5)]
    # every branch of both packs kept, nothing between them: both kept, nothing written
    assert plan([*a, *b], 3) == [(True, [0, 1, 2]), (True, [3, 4])]
    # a branch of a re-read (a worker's partition in its place): its pack packed anew, the other kept
    assert plan([a[0], loose[0], a[2], *b], 3) == [(False, [0, 1, 2]), (True, [3, 4])]
    # a new branch between two of a pack's: that pack packed anew with it
    assert plan([a[0], a[1], loose[1], a[2], *b], 3) == [(False, [0, 1, 2]), (False, [3]), (True, [4, 5])]
    # a branch of a pack not taken (a region's): its pack's others packed anew
    assert plan([a[0], a[2], *b], 3) == [(False, [0, 1]), (True, [2, 3])]
    # workers' partitions alone: packed three at a time, in order
    assert plan(loose, 3) == [(False, [0, 1, 2]), (False, [3, 4])]
    # a pack held apart (outside the store): packed anew
    assert plan([*a, *b], 3, apart={4}) == [(True, [0, 1, 2]), (False, [3, 4])]
    # a pack whose branches are not side by side is never kept
    assert plan([a[0], *b, a[1], a[2]], 3) == [(False, [0]), (True, [1, 2]), (False, [3, 4])]


def test_pack_writes_only_the_packs_it_must(staged: tuple[list[Partition], list[Path]], tmp_path: Path) -> None:
    parts, _ = staged
    first = pack_all(tmp_path, parts, 2)
    assert len({p.path for p in first}) == 3 and len(list(tmp_path.iterdir())) == 3
    (tmp_path / "w").mkdir()
    fresh = read_file(str(staged[1][2]), OCT, OCT.end, NOW, staging=str(tmp_path / "w"))  # P2 read again
    assert fresh.partition is not None
    second = pack_all(tmp_path, [*first[:2], fresh.partition, *first[3:]], 2)
    assert second[:2] == first[:2] and second[4] == first[4]  # P0–P1's pack and P4's kept as they are
    assert second[2].path == second[3].path != first[2].path  # P2 re-read: packed with P3, copied from its pack
    assert [read_partition(p) for p in second] == [read_partition(p) for p in parts]


def test_packs_written_in_threads_are_the_packs_written_one_by_one(
        staged: tuple[list[Partition], list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``written_packs``'s threads (a speed trick) change nothing: the same packs, byte for byte, each branch where it
    was; and a damaged branch is refused as it is one pack at a time, nothing begun after it."""
    from xlcomplaints.store import pack

    parts, _ = staged
    groups = [parts[:2], parts[2:3], parts[3:]]

    def written(threads: int, where: Path) -> tuple[list[list[Partition]], list[bytes]]:
        where.mkdir()
        monkeypatch.setattr(pack, "PACK_THREADS", threads)
        out = pack.written_packs(where, groups)
        return out, [Path(g[0].path).read_bytes() for g in out]

    alone, alone_bytes = written(1, tmp_path / "one")
    together, together_bytes = written(3, tmp_path / "three")
    assert together_bytes == alone_bytes
    assert [[(p.first, p.rows, p.held, p.size, p.sha256) for p in g] for g in together] == \
        [[(p.first, p.rows, p.held, p.size, p.sha256) for p in g] for g in alone]
    assert [[read_partition(p) for p in g] for g in together] == [[read_partition(p) for p in g] for g in groups]
    damaged = replace(parts[2], sha256="0" * 64)
    (tmp_path / "bad").mkdir()
    with pytest.raises(PartitionDamaged, match="cut short or changed"):
        pack.written_packs(tmp_path / "bad", [parts[:2], [damaged], parts[3:]])
