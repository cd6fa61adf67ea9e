"""Head office's lists (``--policy``) over the relations of ``store.facts_sql``: the values the branches'
complaints carry, and those values put on head office's entries, in the ``cases`` table in place.

Which value becomes which is not decided here: ``report.imposed.relabelling`` folds the values met (a few per
branch and list) through ``core.lists.relabel``, the one rule the Python engine applies to its cases too; this
module only reads the values out and writes the answer back, before any figure is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb

from xlcomplaints.store.figures import DIMENSIONS


def value_counts(con: duckdb.DuckDBPyConnection, keys: Sequence[str]) -> list[tuple[str, str, str, int]]:
    """Each (branch, list, value) the complaints carry (``keys``: ``Case`` fields, as ``core.lists.BY_KEY``
    names them), with how many complaints carry it; blanks left out. In branch, list and value order."""
    out: list[tuple[str, str, str, int]] = []
    for key in keys:
        column = DIMENSIONS[key]
        out += [(branch, key, value, n) for branch, value, n in con.execute(
            f"SELECT branch, {column}, count(*) FROM cases WHERE {column} IS NOT NULL GROUP BY ALL ORDER BY ALL"
        ).fetchall()]
    return out


def put_on(con: duckdb.DuckDBPyConnection, changes: Mapping[tuple[str, str, str], str]) -> None:
    """Replace each (branch, list, value) of ``changes`` by the value it names, in ``cases``."""
    for key in sorted({k for _, k, _ in changes}):
        column = DIMENSIONS[key]
        pairs = [(branch, value, code) for (branch, k, value), code in changes.items() if k == key]
        con.execute("CREATE OR REPLACE TEMP TABLE relabelled AS SELECT * FROM (SELECT unnest($b) AS branch, "
                    "unnest($v) AS own, unnest($c) AS code)",
                    {"b": [p[0] for p in pairs], "v": [p[1] for p in pairs], "c": [p[2] for p in pairs]})
        con.execute(f"UPDATE cases SET {column} = r.code FROM relabelled r "
                    f"WHERE cases.branch = r.branch AND cases.{column} = r.own")
    con.execute("DROP TABLE IF EXISTS relabelled")
