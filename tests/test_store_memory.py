"""The head office's query engine is given memory for the complaints it loads (issue 22): 192 MB up to
1,000,000, as much again for each further million — a consolidation of 10,000,000 complaints stopped on
DuckDB's "Out of Memory" when the limit was a fixed 192 MB. ``XLCOMPLAINTS_DUCKDB_MEMORY`` sets another; running
out of it is a refusal of ours (``QueryMemoryError``, exit code 2), nothing written."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import xlcomplaints as xc
from xlcomplaints.cli import app
from xlcomplaints.console import REFUSAL_PREFIX
from xlcomplaints.demo import run_demo
from xlcomplaints.errors import XlcError
from xlcomplaints.i18n import Lang
from xlcomplaints.report.facts import store_path
from xlcomplaints.report.store_report import (
    MEMORY_LIMIT,
    MEMORY_VARIABLE,
    QueryMemoryError,
    memory_limit_for,
)
from xlcomplaints.store.facts_sql import temp_folder

NOW = datetime(2026, 11, 2, 9, 0)


@pytest.mark.parametrize(("complaints", "limit"), [(0, "192MB"), (80, "192MB"), (1_000_000, "192MB"),
                                                   (1_000_001, "384MB"), (10_000_000, "1920MB")])
def test_the_memory_grows_by_a_step_for_each_million_complaints(complaints: int, limit: str) -> None:
    assert memory_limit_for(complaints) == limit
    assert memory_limit_for(min(complaints, 1_000_000)) == MEMORY_LIMIT


def test_duckdb_takes_the_limit_as_written() -> None:
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit_for(10_000_000)}'")
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0].replace(" ", "") in (
        "1.7GiB", "1.8GiB", "1.9GB", "1.92GB", "1831.0MiB")


# DuckDB's Out of Memory is a refusal of ours (issue 22's closing note): forced with a tiny limit through
# ``XLCOMPLAINTS_DUCKDB_MEMORY`` (the demo's three branches stop below about 32 MB), on real files.

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("memory") / "demo"
    run_demo(d, now=NOW)
    return [d / f"{b}.xlsx" for b in ("BJ01", "SH02", "GZ03")]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_duckdbs_out_of_memory_is_a_refusal_through_the_api_nothing_written(
        demo: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "group.xlsx"
    monkeypatch.setenv(MEMORY_VARIABLE, "1MB")
    with pytest.raises(QueryMemoryError) as info:
        xc.consolidate(demo, "2026-10", out, now=NOW)
    assert isinstance(info.value, XlcError) and info.value.code == "report.query_no_memory"
    assert info.value.params["limit"] == "1MB" and info.value.params["temp"] == str(temp_folder())
    assert not out.exists() and not store_path(out).exists()
    for lang in ("zh", "en"):  # the limit, the variable that sets it and the temporary folder are said
        said = info.value.message(lang)
        assert "1MB" in said and MEMORY_VARIABLE in said and str(temp_folder()) in said
    # an update stopped so leaves the report and its store as they were
    monkeypatch.delenv(MEMORY_VARIABLE)
    xc.consolidate(demo, "2026-10", out, now=NOW)
    before = _files(tmp_path)
    monkeypatch.setenv(MEMORY_VARIABLE, "2 MB")
    with pytest.raises(QueryMemoryError) as info:
        xc.consolidate(demo[:1], "2026-10", out, now=NOW, update=True)
    assert info.value.code == "report.query_no_memory" and info.value.params["limit"] == "2MB"
    assert _files(tmp_path) == before


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_cli_says_it_in_the_users_language_exit_2_no_traceback(
        demo: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    out = tmp_path / "group.xlsx"
    monkeypatch.setenv(MEMORY_VARIABLE, "1MB")
    said = CliRunner().invoke(app, ["consolidate", *map(str, demo), "--period", "2026-10", "--now", "2026-11-02 09:00",
                                    "-o", str(out), "--lang", lang])
    text = " ".join(said.output.split())
    assert said.exit_code == 2, said.output
    assert text.startswith(REFUSAL_PREFIX[Lang(lang)].strip()) and MEMORY_VARIABLE in text and "1MB" in text
    assert "Traceback" not in said.output and "internal error" not in said.output
    assert not out.exists() and not store_path(out).exists()


@pytest.mark.parametrize("value", ["lots", "-1GB", "4 GB of it"])
def test_a_setting_that_is_not_an_amount_is_refused_before_anything_is_read(
        demo: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(MEMORY_VARIABLE, value)
    read: list[object] = []
    with pytest.raises(QueryMemoryError) as info:
        xc.consolidate(demo, "2026-10", tmp_path / "group.xlsx", now=NOW, on_file=read.append)
    assert info.value.code == "report.memory_setting" and info.value.params["value"] == value
    assert not read and list(tmp_path.iterdir()) == []
    said = CliRunner().invoke(app, ["consolidate", *map(str, demo), "--period", "2026-10", "-o",
                                    str(tmp_path / "group.xlsx"), "--lang", "en"])
    assert said.exit_code == 2 and MEMORY_VARIABLE in " ".join(said.output.split())
    assert list(tmp_path.iterdir()) == []


def test_out_of_memory_reading_an_earlier_periods_store_is_the_same_refusal(
        demo: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store whose figures were not kept (written before they were, or by other code) is queried for the trend:
    running out of memory there is refused as the report's own compute is, not DuckDB's error raw."""
    from tests.test_kept_figures import as_written_before
    from xlcomplaints.core.metrics import Period
    from xlcomplaints.report import store_history

    earlier = tmp_path / "group-2026-09.xlsx"
    xc.consolidate(demo, "2026-09", earlier, now=datetime(2026, 10, 2, 9, 0))
    as_written_before(store_path(earlier))
    monkeypatch.setenv(MEMORY_VARIABLE, "1MB")
    with pytest.raises(QueryMemoryError) as info:
        store_history._figures(store_history.Earlier(store_path(earlier), earlier.name), Period.parse("2026-09"),
                               cover=True)
    assert info.value.code == "report.query_no_memory" and info.value.params["limit"] == "1MB"
