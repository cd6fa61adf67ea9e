"""The head office's query engine is given memory for the complaints it loads (issue 22): 192 MB up to
1,000,000, as much again for each further million — a consolidation of 10,000,000 complaints stopped on
DuckDB's "Out of Memory" when the limit was a fixed 192 MB."""

from __future__ import annotations

import duckdb
import pytest

from xlcomplaints.report.store_report import MEMORY_LIMIT, memory_limit_for


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
