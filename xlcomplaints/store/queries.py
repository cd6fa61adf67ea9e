"""Every figure of the registry (``core.metrics.METRICS``) as one DuckDB query over the facts (issue 22).

Each query below carries the key of the ``Metric`` whose Definitions words it implements
(``explain(key, lang)`` gives the words and the SQL together; ``docs/queries.md`` lists them all).
A query reads the relations of ``store.facts_sql`` through three views made for one grouping:

- ``fc``: the complaints (``cases``), with ``g``, the value a complaint counts under;
- ``fs``: the stages (``stages``) with their complaint's ``handled`` and ``closed`` (and, grouped by what
  only ``cases`` holds, the rest of its columns), ``g`` the value a stage deadline counts under and ``ug``
  the scope its unit is chosen in;
- ``fb``: the reached callbacks with their complaint's ``handled`` and ``g``;

and the table ``periods`` (``p``, ``lo``, ``hi``: [lo, hi) of local time). It returns ``(p, g, value)``:
the same text gives one branch's figure, the whole set's (``g`` null) and each branch's or each
handler's, for one period or twelve. A (period, group) with no row is 0 for a count and None (no
figure: nothing to divide by) for the rest, as ``core.metrics.rate`` has it.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlcomplaints.core.metrics.facts import DECIDED, MET, MISSED
from xlcomplaints.core.metrics.index import AGE_BUCKETS
from xlcomplaints.core.metrics.registry import METRICS
from xlcomplaints.core.policy import STAGES
from xlcomplaints.i18n import pick
from xlcomplaints.spec.vocab import SEVERITY_MOST_FIRST


def _in(codes: frozenset[str]) -> str:
    return "(" + ", ".join(f"'{c}'" for c in sorted(codes)) + ")"


_MET, _MISSED, _DECIDED = _in(MET), _in(MISSED), _in(DECIDED)


@dataclass(frozen=True)
class Query:
    key: str  # the Metric's (``METRICS``), whose words this implements
    sql: str
    count: bool  # a count (0 where nothing is found) rather than a rate, time or score (None)


QUERIES: dict[str, Query] = {}


def _query(key: str, sql: str) -> None:
    QUERIES[key] = Query(key, sql.strip(), METRICS[key].kind == "count")


def explain(key: str, lang: str) -> tuple[str, str, str]:
    """A figure's name, its Definitions words and the query that computes it."""
    m = METRICS[key]
    return m.name(lang), m.definition(lang) + pick(lang, "（", " (") + m.period_rule(lang) + pick(lang, "）", ")"), \
        QUERIES[key].sql


# -- 受理时间在本期 / time received falls in the period ---------------------------------------------------
_RECEIVED = """
SELECT p.p, c.g, {value} FROM fc c JOIN periods p ON c.received >= p.lo AND c.received < p.hi{where}
GROUP BY ALL"""


def _received(key: str, value: str, where: str = "") -> None:
    _query(key, _RECEIVED.format(value=value, where=where and f"\n{where}"))


_received("received", "count(*)")
_received("validity_valid", "count(*) FILTER (WHERE c.validity = 'valid')")
_received("validity_assist", "count(*) FILTER (WHERE c.validity = 'assist')")
_received("validity_invalid", "count(*) FILTER (WHERE c.validity = 'invalid')")
_received("handled", "count(*)", "WHERE c.handled")
_received("major", "count(*) FILTER (WHERE c.severity = 'major')", "WHERE c.handled")
_received("escalations", "count(*) FILTER (WHERE c.escalated)", "WHERE c.handled")
_received("closure_rate", "count(*) FILTER (WHERE c.closed < p.hi)::DOUBLE / count(*)", "WHERE c.handled")
_received("repeat_rate", "count(*) FILTER (WHERE coalesce(c.repeat_of, '') <> '')::DOUBLE / count(*)",
          "WHERE c.handled")

# -- 结案时间在本期 / time closed falls in the period ------------------------------------------------------
_CLOSED = """
SELECT p.p, c.g, {value} FROM fc c JOIN periods p ON c.closed >= p.lo AND c.closed < p.hi
{join}WHERE c.handled{where} GROUP BY ALL"""

_query("closed", _CLOSED.format(value="count(*)", join="", where=""))
_query("callback_rate", _CLOSED.format(
    value="count(*) FILTER (WHERE s.done IS NOT NULL)::DOUBLE / count(*)",
    join="JOIN fs s ON s.cid = c.cid AND s.stage = 'callback'\n", where=""))
_query("reopen_rate", _CLOSED.format(value="count(*) FILTER (WHERE c.reopen_count > 0)::DOUBLE / count(*)",
                                     join="", where=""))

# -- 期末时点 / 期初时点: open at a moment -------------------------------------------------------------------
_OPEN = """
SELECT p.p, c.g, count(*) FROM fc c JOIN periods p ON c.received < p.{at} AND (c.closed IS NULL OR c.closed >= p.{at})
WHERE c.handled GROUP BY ALL"""

_query("open_end", _OPEN.format(at="hi"))
_query("backlog_in", _OPEN.format(at="lo"))

# -- 环节时限在本期 / the stage's due time falls in the period ---------------------------------------------
_DUE = f"""
SELECT p.p, s.g, {{value}} FROM fs s JOIN periods p ON s.due >= p.lo AND s.due < p.hi
WHERE s.handled AND s.status IN {_DECIDED} {{where}} GROUP BY ALL"""

_query("on_time_rate", _DUE.format(value=f"count(*) FILTER (WHERE s.status IN {_MET})::DOUBLE / count(*)", where=""))
_query("late_complaints", _DUE.format(value=f"count(DISTINCT s.cid) FILTER (WHERE s.status IN {_MISSED})", where=""))
_query("callback_on_time_rate", _DUE.format(value=f"count(*) FILTER (WHERE s.status IN {_MET})::DOUBLE / count(*)",
                                            where="AND s.stage = 'callback'"))
_query("overdue_now", f"""
SELECT p.p, s.g, count(DISTINCT s.cid) FROM fs s JOIN periods p ON s.due < p.hi
WHERE s.handled AND s.status IN {_MISSED} AND (s.done IS NULL OR s.done >= p.hi)
  AND (s.closed IS NULL OR s.closed >= p.hi)
GROUP BY ALL""")

# -- “…”完成时间在本期 / the time the stage was done falls in the period: times taken -----------------------
#: The unit a stage's times are shown in, per scope ``ug``: the one most of its measured times use, ties
#: to the one met first (``CaseIndex.units``); times in other units are left out.
UNITS = """
SELECT ug, stage, unit FROM (
  SELECT ug, stage, unit, count(*) AS n, min(cid) AS first FROM fs
  WHERE handled AND took IS NOT NULL AND coalesce(unit, '') <> '' GROUP BY ALL)
QUALIFY row_number() OVER (PARTITION BY ug, stage ORDER BY n DESC, first) = 1"""

_TOOK = f"""
WITH units AS ({UNITS}),
took AS (
  SELECT p.p, s.g, list_sort(list(s.took)) AS v, len(v) AS n
  FROM fs s JOIN units u ON u.ug IS NOT DISTINCT FROM s.ug AND u.stage = s.stage AND u.unit = s.unit
  JOIN periods p ON s.done >= p.lo AND s.done < p.hi
  WHERE s.stage = '{{stage}}' AND s.handled AND s.took IS NOT NULL GROUP BY ALL)
SELECT p, g, {{value}} FROM took"""
#: The median as ``statistics.median``: the middle value, or the mean of the two middle ones.
MEDIAN = "CASE WHEN n % 2 = 1 THEN v[(n + 1) // 2] ELSE (v[n // 2] + v[n // 2 + 1]) / 2 END"
#: The 90th percentile by nearest rank: the ⌈0.9·n⌉-th shortest, ⌈9n/10⌉ in integers.
P90 = "v[(9 * n + 9) // 10]"

for _stage in ("acknowledge", "first_contact", "resolve", "close"):
    _query(f"{_stage}_median", _TOOK.format(stage=_stage, value=MEDIAN))
    _query(f"{_stage}_p90", _TOOK.format(stage=_stage, value=P90))

# -- 回访时间在本期 / time of the callback falls in the period: each complaint's last one -------------------
_LAST_CALLBACK = """
WITH last AS (
  SELECT p.p, b.g, b.outcome, b.score FROM fb b JOIN periods p ON b.at >= p.lo AND b.at < p.hi WHERE b.handled
  QUALIFY row_number() OVER (PARTITION BY p.p, b.cid ORDER BY b.seq DESC) = 1)
SELECT p, g, {value} FROM last {where} GROUP BY ALL"""

_query("satisfaction_rate", _LAST_CALLBACK.format(
    value="count(*) FILTER (WHERE outcome = 'satisfied')::DOUBLE / count(*)", where=""))
_query("average_score", _LAST_CALLBACK.format(value="avg(score)", where="WHERE score IS NOT NULL"))


# -- tables ----------------------------------------------------------------------------------------------
#: 上期结转未结案 by age at the start of the period, in calendar days since receipt (``AGE_BUCKETS``).
BACKLOG_AGES = """
SELECT p.p, c.g, {bucket} AS bucket, count(*) FROM fc c
JOIN periods p ON c.received < p.lo AND (c.closed IS NULL OR c.closed >= p.lo)
WHERE c.handled GROUP BY ALL""".format(bucket="CASE " + " ".join(
    f"WHEN (epoch_us(p.lo) - epoch_us(c.received)) // 86400000000 <= {hi} THEN {i}"
    for i, (_, hi) in enumerate(AGE_BUCKETS) if hi is not None) + f" ELSE {len(AGE_BUCKETS) - 1} END")

#: The earliest time received of any complaint (the trend starts with the first period holding one).
FIRST_RECEIVED = "SELECT min(received) FROM fc"

# -- per person (``core.metrics.people``): the figures above grouped by handler or department, and these --------
_OVERDUE_AT_AS_OF = """
SELECT p.p, s.g, count(DISTINCT s.cid) FROM fs s CROSS JOIN periods p
WHERE s.handled AND s.status = 'overdue' AND s.due IS NOT NULL GROUP BY ALL"""
#: The period's deadlines read once for several figures (issue 22: each scan of the stages costs, past DuckDB's
#: memory, a spill): ``on_time_rate`` and ``late_complaints`` (a breakdown's), and ``on_time_rate`` with each
#: stage's own (By-handler's, ``on_time_{stage}``: as ``on_time_rate`` over that stage's deadlines alone; None
#: where it has none). Each returns ``(p, g, value …)``, the values in that order.
DUE_RATE_LATE = _DUE.format(value=f"count(*) FILTER (WHERE s.status IN {_MET})::DOUBLE / count(*), "
                                  f"count(DISTINCT s.cid) FILTER (WHERE s.status IN {_MISSED})", where="")
ON_TIME_BY_STAGE = _DUE.format(value=", ".join(
    [f"count(*) FILTER (WHERE s.status IN {_MET})::DOUBLE / count(*)"]
    + [f"count(*) FILTER (WHERE s.stage = '{stage}' AND s.status IN {_MET})::DOUBLE "
       f"/ nullif(count(*) FILTER (WHERE s.stage = '{stage}'), 0)" for stage in STAGES]), where="")
#: ``PEOPLE_FIGURES`` key → its query and the place of its value among the query's values (``ON_TIME_BY_STAGE``
#: gives seven): the registry's where the words are the same figure's, grouped.
PEOPLE_QUERIES: dict[str, tuple[str, int]] = {
    "handled": (QUERIES["handled"].sql, 0),
    "closed": (QUERIES["closed"].sql, 0),
    "open": (QUERIES["open_end"].sql, 0),
    "on_time_rate": (ON_TIME_BY_STAGE, 0),
    **{f"on_time_{stage}": (ON_TIME_BY_STAGE, i + 1) for i, stage in enumerate(STAGES)},
    "overdue_now": (_OVERDUE_AT_AS_OF.strip(), 0),
    "resolve_median": (QUERIES["resolve_median"].sql, 0),
    "satisfaction_rate": (QUERIES["satisfaction_rate"].sql, 0),
    "average_score": (QUERIES["average_score"].sql, 0),
    "reopened": (_CLOSED.format(value="count(*)", join="", where=" AND c.reopen_count > 0").strip(), 0),
    "repeats": (_RECEIVED.format(value="count(*)", where="\nWHERE c.handled AND coalesce(c.repeat_of, '') <> ''").strip(),
                0),
}

# -- several figures from one scan (speed, fenced: ``store.figures.Facts.cover`` and ``Facts.people``) ----------
#: Figures whose own queries above read the same rows, asked in one query: ``(p, g, value …)``, each value the
#: figure its key names exactly as that key's own query gives it, and where that query has no row for a (period,
#: group), 0 for a count and NULL for the rest (what ``Facts.metric`` puts there). The words are the keys' own;
#: these only save scans. Buys, at 1,000,000 complaints (the bench's October store, one process,
#: ``time.process_time``): the cover's three deadline figures in one scan of the stages, 0.94 → 0.56 s of CPU; its
#: two callback figures in one, 0.17 → 0.08 s (the times' eight, tried in one query, cost as much as apart: not so).
#: Held to the queries one by one: ``tests/test_store_queries.py::test_figures_asked_together``.
_DUE_MET = f"count(*) FILTER (WHERE s.status IN {_MET})::DOUBLE"
TOGETHER: dict[tuple[str, ...], str] = {
    ("on_time_rate", "late_complaints", "callback_on_time_rate"): _DUE.format(
        value=f"{_DUE_MET} / count(*), count(DISTINCT s.cid) FILTER (WHERE s.status IN {_MISSED}), "
              f"count(*) FILTER (WHERE s.stage = 'callback' AND s.status IN {_MET})::DOUBLE "
              "/ nullif(count(*) FILTER (WHERE s.stage = 'callback'), 0)", where="").strip(),
    ("satisfaction_rate", "average_score"): _LAST_CALLBACK.format(
        value="count(*) FILTER (WHERE outcome = 'satisfied')::DOUBLE / count(*), avg(score)", where="").strip(),
}
#: ``DUE_RATE_LATE`` grouped by what only the complaint holds (the breakdowns', ``Facts.prefetch_breakdowns``): each
#: complaint's deadlines of the period counted first, those counts then summed per group, rather than each deadline
#: joined to its complaint (sums of the same whole numbers: the same rates). Buys, at 1,000,000 complaints, the seven
#: breakdown sheets' deadlines in 0.65 s of CPU instead of 1.7 s (2.8 s wall → 1.0). Held to ``DUE_RATE_LATE``
#: by the same test. ``{stages}``: the stages it reads (``stages``, or ``DUE_CUT``).
DUE_BY_COMPLAINT = f"""
WITH d AS (
  SELECT s.cid, p.p, count(*) FILTER (WHERE s.status IN {_MET}) AS met, count(*) AS n,
         bool_or(s.status IN {_MISSED}) AS late
  FROM {{stages}} s JOIN periods p ON s.due >= p.lo AND s.due < p.hi
  WHERE s.handled AND s.status IN {_DECIDED} GROUP BY s.cid, p.p)
SELECT p.p, c.g, sum(d.met)::DOUBLE / sum(d.n), count(*) FILTER (WHERE d.late)
FROM d JOIN periods p USING (p) JOIN fc c USING (cid) GROUP BY ALL"""
#: ``PEOPLE_QUERIES`` with the callbacks' two figures in one query (``TOGETHER``'s), held to them by the same test.
PEOPLE_TOGETHER: dict[str, tuple[str, int]] = {
    **PEOPLE_QUERIES,
    "satisfaction_rate": (TOGETHER[("satisfaction_rate", "average_score")], 0),
    "average_score": (TOGETHER[("satisfaction_rate", "average_score")], 1),
}

# -- the Stage-times sheet, the overdue list, the late closes ------------------------------------------------
#: Per stage: its deadlines due in the period, met and missed (as ``on_time_rate``, one stage at a time).
STAGE_TALLY = f"""
SELECT p.p, s.stage, count(*) FILTER (WHERE s.status IN {_MET}), count(*) FILTER (WHERE s.status IN {_MISSED})
FROM fs s JOIN periods p ON s.due >= p.lo AND s.due < p.hi
WHERE s.handled AND s.status IN {_DECIDED} GROUP BY ALL"""
#: The stages due within the periods asked, cut from ``stages`` once (speed, fenced: ``store.figures.Facts._source``),
#: and the queries that read only stage rows due within one of those periods, to which it gives what ``stages`` does.
DUE_CUT = "stages_due"
#: The columns of ``stages`` that the queries of ``DUE_WITHIN`` read (a query reading another fails loudly).
DUE_COLUMNS = "cid, stage, status, due, handled, handler, branch"
DUE_WITHIN = frozenset({QUERIES["on_time_rate"].sql, QUERIES["late_complaints"].sql,
                        QUERIES["callback_on_time_rate"].sql, TOGETHER[("on_time_rate", "late_complaints",
                                                                         "callback_on_time_rate")],
                        DUE_RATE_LATE, ON_TIME_BY_STAGE, DUE_BY_COMPLAINT, STAGE_TALLY})
#: Per stage, every unit its times were measured in, most used first (ties: the one met first), and the
#: median and 90th percentile of the times done in the period in that unit.
STAGE_TIMES = f"""
WITH units AS (
  SELECT stage, unit, count(*) AS uses, min(cid) AS first FROM fs
  WHERE handled AND took IS NOT NULL AND coalesce(unit, '') <> '' GROUP BY ALL),
took AS (
  SELECT p.p, s.stage, s.unit, list_sort(list(s.took)) AS v, len(v) AS n FROM fs s
  JOIN periods p ON s.done >= p.lo AND s.done < p.hi
  WHERE s.handled AND s.took IS NOT NULL GROUP BY ALL)
SELECT u.stage, u.unit, t.p, {MEDIAN}, {P90}
FROM units u LEFT JOIN took t ON t.stage = u.stage AND t.unit = u.unit
ORDER BY u.stage, u.uses DESC, u.first"""

#: The stages whose deadline was missed, cut from ``stages`` once (speed, fenced: ``store.figures.Facts._source``),
#: their columns, and the queries that read only such rows (``MISSED``'s statuses), to which it gives what ``stages``
#: does: the overdue now (the cover's, and each person's), the overdue list.
MISSED_CUT = "stages_missed"
MISSED_WHERE = f"status IN {_MISSED}"
MISSED_COLUMNS = "cid, stage, idx, status, due, done, handled, closed, handler, branch"

def _severity_rank(column: str) -> str:
    """``spec.vocab.severity_rank``: most severe first, blank or unknown last."""
    return ("CASE " + " ".join(f"WHEN {column} = '{code}' THEN {i}" for i, code in enumerate(SEVERITY_MOST_FIRST))
            + f" ELSE {len(SEVERITY_MOST_FIRST)} END")


#: ``OVERDUE_DEFINITION``: deadlines due in the period and missed, and earlier ones still not done at the
#: as-of time, of the built-in stages and then the office's own (``custom``), by severity, then the earliest
#: due (then branch, number, and as the engine lists them); the top N are its first N rows (``LIMIT``).
OVERDUE_DETAIL = f"""
WITH rows AS (
  SELECT s.cid, s.stage, s.due, (s.due < p.lo)::INT AS src, s.idx AS pos FROM fs s CROSS JOIN periods p
  WHERE s.handled AND p.p = 0 AND ((s.due >= p.lo AND s.due < p.hi AND s.status IN {_MISSED})
                                   OR (s.due < p.lo AND s.status = 'overdue'))
  UNION ALL
  SELECT k.cid, k.name, k.due, 2, k.pos FROM custom k JOIN fc c USING (cid) CROSS JOIN periods p
  WHERE c.handled AND p.p = 0 AND ((k.due >= p.lo AND k.due < p.hi AND k.status IN {_MISSED})
                                   OR (k.due < p.lo AND k.status = 'overdue')))
SELECT r.cid, r.stage FROM rows r JOIN fc c USING (cid)
ORDER BY {_severity_rank('c.severity')}, r.due, c.branch, coalesce(c.no, ''), r.src, r.cid, r.pos"""
MISSED_ONLY = frozenset({QUERIES["overdue_now"].sql, _OVERDUE_AT_AS_OF.strip(), OVERDUE_DETAIL})
#: ``CLOSED_LATE_DEFINITION``: complaints closed in the period after their close deadline, by time closed.
CLOSED_LATE = """
SELECT c.cid FROM fc c JOIN fs s ON s.cid = c.cid AND s.stage = 'close' JOIN periods p ON c.closed >= p.lo AND c.closed < p.hi
WHERE c.handled AND p.p = 0 AND s.status = 'done_late'
ORDER BY c.closed, c.branch, coalesce(c.no, ''), c.cid"""

#: ``custom_stage_rows``: the office's own stages in the order they first appear, each with its deadlines due in
#: the period and decided, those met, and the unit most of its rules use (ties: the one met first).
CUSTOM_STAGES = f"""
WITH k AS (SELECT u.*, c.handled, u.cid::HUGEINT * 1000000 + u.pos AS seen FROM custom u JOIN fc c USING (cid)),
names AS (SELECT name, arg_min(label_en, seen) AS label_en, min(seen) AS first FROM k GROUP BY name),
units AS (
  SELECT name, unit FROM (SELECT name, unit, count(*) AS n, min(seen) AS first FROM k
                          WHERE handled AND coalesce(unit, '') <> '' GROUP BY ALL)
  QUALIFY row_number() OVER (PARTITION BY name ORDER BY n DESC, first) = 1),
due AS (
  SELECT k.name, count(*) AS n, count(*) FILTER (WHERE k.status IN {_MET}) AS met FROM k
  JOIN periods p ON k.due >= p.lo AND k.due < p.hi WHERE p.p = 0 AND k.handled AND k.status IN {_DECIDED}
  GROUP BY k.name)
SELECT names.name, names.label_en, coalesce(due.n, 0), coalesce(due.met, 0), units.unit
FROM names LEFT JOIN due USING (name) LEFT JOIN units USING (name) ORDER BY names.first"""

#: ``TYPICAL_DEFINITION``: the period's complaints to handle that are major, escalated, reopened, repeats or
#: missed a deadline; most reasons first, then reason by reason in that order, then by time received.
TYPICAL = f"""
WITH r AS (
  SELECT c.cid, c.received, c.branch, c.no, coalesce(c.severity = 'major', false) AS major,
         c.escalated AS escalated, c.reopen_count > 0 AS reopened, c.repeat_of IS NOT NULL AS repeat,
         EXISTS (SELECT 1 FROM stages s WHERE s.cid = c.cid AND s.status IN {_MISSED}) AS late
  FROM fc c JOIN periods p ON c.received >= p.lo AND c.received < p.hi WHERE p.p = 0 AND c.handled)
SELECT cid, major, escalated, reopened, repeat, late FROM r WHERE major OR escalated OR reopened OR repeat OR late
ORDER BY major::INT + escalated::INT + reopened::INT + repeat::INT + late::INT DESC,
         major DESC, escalated DESC, reopened DESC, repeat DESC, late DESC, received, branch, coalesce(no, ''), cid
LIMIT {{limit}}"""

#: ``CaseIndex.units``: each stage's units, most of its measured times first (ties: the one met first).
UNITS_ALL = """
SELECT stage, list(unit ORDER BY n DESC, first) FROM (
  SELECT stage, unit, count(*) AS n, min(cid) AS first FROM fs
  WHERE handled AND took IS NOT NULL AND coalesce(unit, '') <> '' GROUP BY ALL) GROUP BY stage"""

#: ``partial_from``: each branch's first time received; ``unreadable_received``: rows without one.
FIRST_BY_BRANCH = "SELECT branch, min(received) FROM fc WHERE received IS NOT NULL GROUP BY branch"
UNREADABLE_RECEIVED = "SELECT count(*) FROM fc WHERE received IS NULL"
#: The office's own columns the report breaks down by, in the order the complaints name them.
OFFICE_NAMES = """
SELECT o.name FROM office o JOIN fc c USING (cid) GROUP BY o.name ORDER BY min(o.cid::HUGEINT * 1000000 + o.pos)"""


def document() -> str:
    """``docs/queries.md``: each registered figure's words (zh and en, with its period rule) and its query."""
    out = ["# The report's figures as queries over the facts store", "",
           "<!-- Generated from xlcomplaints/core/metrics/registry.py and xlcomplaints/store/queries.py by",
           "     `python scripts/build_queries_doc.py`; do not edit by hand. -->", "",
           "Each figure of the cover (and of the By-branch table, grouped by branch) is one DuckDB query over the",
           "facts store (`xlcomplaints/store/facts_sql.py` describes the relations it reads: `fc` complaints, `fs`",
           "stages, `fb` reached callbacks, `periods`). `tests/test_store_queries.py` holds each to the Python",
           "engine's figure, which the Definitions sheet's words describe.", ""]
    for key, m in METRICS.items():
        out += [f"## {m.zh} / {m.en} (`{key}`)", "", m.what_zh, "", m.what_en, "",
                f"Period: {m.period_zh} / {m.period_en}", "", "```sql", QUERIES[key].sql, "```", ""]
    return "\n".join(out)
