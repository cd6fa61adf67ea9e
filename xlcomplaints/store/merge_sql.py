"""The consolidation's two rules across branches (``report.merging.merge``), over the relations of
``store.facts_sql``: what a report's figures from its store need, since each partition holds one branch's
facts as its file was read.

- ``count_once``: a complaint number in more than one branch's file is counted once, keeping the record that
  got further (more stages done; on a tie, the one met first), in the place of the first one met
  (``merging._count_once``, folded over the few rows concerned, fetched from DuckDB);
- ``repeats_across_branches``: a complaint repeating, at another branch, one the same customer made about
  the same category within the later complaint's branch's repeat window is a repeat complaint
  (``consolidate._mark_repeats_across_branches`` with ``lifecycle.repeat_pairs``; the customer as
  ``consolidate._customer`` tells: a masked number only together with the name).

Both change the tables in place, once per connection, before any figure is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

#: ``str.strip``'s whitespace at either end (Unicode spaces included: a full-width space in a name).
_STRIP = r"regexp_replace({x}, '^[\t\n\x0b\x0c\r\x1c-\x1f \x85\p{{Z}}]+|[\t\n\x0b\x0c\r\x1c-\x1f \x85\p{{Z}}]+$', '', 'g')"
_DIGITS = r"regexp_replace(phone, '\P{Nd}', '', 'g')"  # ``str.isdigit``'s digits (decimal ones)

#: ``consolidate._customer``: who complained, or NULL (repeats nothing, is repeated by nothing).
CUSTOMER = f"""
CASE WHEN coalesce(phone, '') <> '' AND contains(phone, '*') THEN
       CASE WHEN {_STRIP.format(x='customer')} <> '' THEN 'masked:' || phone || ':' || {_STRIP.format(x='customer')} END
     WHEN coalesce(phone, '') <> '' THEN CASE WHEN {_DIGITS} <> '' THEN 'tel:' || right({_DIGITS}, 11) END
     WHEN coalesce(customer, '') <> '' THEN 'name:' || {_STRIP.format(x='customer')}
END"""

#: Pairs of complaints in a row, by time received (then as met), of one customer and category, the later at
#: another branch than the earlier, within the later's branch's window, the later not yet a repeat.
REPEATS = f"""
WITH k AS (
  SELECT cid, branch, no, received, repeat_of, {CUSTOMER} AS who, category FROM cases
  WHERE coalesce(no, '') <> '' AND received IS NOT NULL AND handled),
pairs AS (
  SELECT cid, branch, received, repeat_of, lag(no) OVER w AS e_no, lag(branch) OVER w AS e_branch,
         lag(received) OVER w AS e_received
  FROM k WHERE who IS NOT NULL WINDOW w AS (PARTITION BY who, category ORDER BY received, cid))
SELECT p.cid, p.e_no FROM pairs p LEFT JOIN repeat_windows w ON w.branch = p.branch
WHERE p.e_no IS NOT NULL AND p.e_branch <> p.branch AND p.repeat_of IS NULL
  AND p.received - p.e_received <= to_days(coalesce(w.days, $default)::INTEGER)"""

_TABLES = ("cases", "stages", "callbacks", "custom", "office")


def numbers_in_two_branches(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, int]]:
    """The records whose number is met in more than one branch, in the order met: (number, branch, cid, stages
    done) each; what ``count_once`` folds, and ``report.store_report.duplicate_issues`` warns of."""
    return con.execute("""
        SELECT c.no, c.branch, c.cid, (SELECT count(done) FROM stages s WHERE s.cid = c.cid) AS done
        FROM cases c WHERE c.no IN (SELECT no FROM cases WHERE no IS NOT NULL GROUP BY no
                                   HAVING count(DISTINCT branch) > 1)
        ORDER BY c.cid""").fetchall()


def count_once(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, int, int]] | None = None) -> int:
    """Apply ``merging._count_once``; the number of records left out. ``rows``: ``numbers_in_two_branches``,
    when already asked of these tables."""
    if rows is None:
        rows = numbers_in_two_branches(con)
    kept: dict[str, tuple[int, str, int]] = {}  # number → (cid, branch, stages done) of the record kept
    place: dict[str, int] = {}  # number → the cid whose place the kept record takes
    dropped: list[int] = []
    for no, branch, cid, done in rows:
        if no not in kept:
            kept[no], place[no] = (cid, branch, done), cid
        elif kept[no][1] != branch:
            if done > kept[no][2]:
                dropped.append(kept[no][0])
                kept[no] = (cid, branch, done)
            else:
                dropped.append(cid)
    moved = {kept[no][0]: place[no] for no in kept if kept[no][0] != place[no]}
    if dropped or moved:
        con.execute("CREATE OR REPLACE TEMP TABLE merge_map AS SELECT * FROM (SELECT unnest($a) AS cid, "
                    "unnest($b) AS to_cid)", {"a": [*dropped, *moved], "b": [None] * len(dropped) + [*moved.values()]})
        for table in _TABLES:
            con.execute(f"DELETE FROM {table} WHERE cid IN (SELECT cid FROM merge_map WHERE to_cid IS NULL)")
            con.execute(f"UPDATE {table} SET cid = m.to_cid FROM merge_map m WHERE {table}.cid = m.cid "
                        "AND m.to_cid IS NOT NULL")
        con.execute("DROP TABLE merge_map")
    return len(dropped)


def repeats_across_branches(con: duckdb.DuckDBPyConnection, windows: Mapping[str, int], default: int) -> int:
    """Apply ``consolidate._mark_repeats_across_branches`` (``windows``: each branch's repeat window in days,
    ``default`` for a branch not named); the number of complaints marked.

    The pairs stay in DuckDB (a table, never Python rows), and ``cases`` is written again with them rather than
    updated in place: at 1,000,000 complaints of which 900,000 were marked (the bench's copies repeat their
    customers across branches), fetching the pairs and an ``UPDATE`` of that many rows took 18 s of CPU and set the
    main process's peak (651 MiB); the pairs' table and the rewrite take 2.6 s (docs/benchmarks.md)."""
    con.execute("CREATE OR REPLACE TEMP TABLE repeat_windows AS SELECT * FROM (SELECT unnest($b) AS branch, "
                "unnest($d) AS days)", {"b": list(windows), "d": list(windows.values())})
    con.execute(f"CREATE OR REPLACE TEMP TABLE marked AS {REPEATS}", {"default": default})
    found = con.execute("SELECT count(*) FROM marked").fetchone()[0]  # type: ignore[index]
    if found:
        con.execute("CREATE OR REPLACE TEMP TABLE cases_marked AS SELECT c.* REPLACE "
                    "(coalesce(m.e_no, c.repeat_of) AS repeat_of) FROM cases c LEFT JOIN marked m USING (cid)")
        con.execute("DROP TABLE cases")
        con.execute("ALTER TABLE cases_marked RENAME TO cases")
    con.execute("DROP TABLE marked")
    con.execute("DROP TABLE repeat_windows")
    return int(found)
