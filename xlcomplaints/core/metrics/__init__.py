"""Report metrics, each defined once: what is counted and which date decides the period.

A metric is a pure function over ``Case`` facts (one complaint as the deadline engine
saw it) organised by month in a ``CaseIndex`` (a week, quarter or range read from the months it overlaps), registered together with its zh/en name
and definition; the report's Definitions sheet is generated from these registrations,
so the words and the arithmetic cannot drift apart.

Conventions every definition relies on:
- *handled* complaints are all except those marked invalid (无效); blank validity counts
  as handled, as the deadline engine gives it deadlines too;
- the workbook is seen as it stood at the as-of time: anything recorded after it has not
  happened yet (the engine is evaluated at the as-of time, ``case_facts`` drops later callbacks
  and complaints received later);
- a *deadline* is one stage's due time for one complaint; it is *met* when the stage was
  done at or before it, *missed* when done later, not done at the as-of time though due,
  or never done and already due when the case was closed; deadlines neither done nor due
  at the as-of time, not applicable at the close, or of a callback given up are in neither group;
- periods (``Period``: a month, an ISO week, a quarter, a year or a range of days) are of local
  (wall-clock) time, ``end`` exclusive; the comparison period is the previous one of the same kind;
- a ``Case`` keeps its times as ``Stamp`` ints, the one fast path of the report's facts (``months.py`` says
  what it buys), made by ``stamp`` and read by ``time_of`` and ``month_key`` only; shown as datetimes in the report.
"""

from xlcomplaints.core.metrics.facts import (
    CLOSE,
    DECIDED,
    MET,
    MISSED,
    NOT_APPLICABLE,
    STAGE_INDEX,
    TIMED_STAGES,
    WIDTH,
    Case,
    DueMonth,
    StageFact,
    case_facts,
    case_maker,
    received_by,
)
from xlcomplaints.core.metrics.index import (
    AGE_BUCKETS,
    CaseIndex,
    Deadline,
    DueMonthRows,
    Took,
    age_bucket,
    backlog_ages,
    durations,
    median,
    p90,
    rate,
)
from xlcomplaints.core.metrics.months import (
    MONTH_BITS,
    Month,
    Stamp,
    default_as_of,
    month_end,
    month_key,
    month_start,
    stamp,
    time_of,
    time_or_none,
)
from xlcomplaints.core.metrics.people import (
    BY_DEPARTMENT,
    BY_HANDLER,
    COUNT_FIGURES,
    DEPARTMENT_COLUMNS,
    HANDLER_OF_RECORD,
    PEOPLE_FIGURES,
    RANKING_DEFINITION,
    Grouping,
    PersonFigure,
    PersonRow,
    people,
    ranking,
)
from xlcomplaints.core.metrics.periods import (
    PERIOD_MESSAGES,
    PERIOD_WORDS,
    Period,
    PeriodError,
    PeriodKind,
    as_period,
    default_period_as_of,
)
from xlcomplaints.core.metrics.registry import CLOSED, DUE, METRICS, RECEIVED, Kind, Metric, metric
from xlcomplaints.core.metrics.tables import (
    CLOSED_LATE_DEFINITION,
    OVERDUE_DEFINITION,
    TREND_METRICS,
    TREND_PERIODS,
    GroupRow,
    StageRow,
    TrendRow,
    breakdown,
    closed_late,
    overdue_detail,
    stage_table,
    top,
    trend,
)
from xlcomplaints.core.metrics.typical import (
    TYPICAL_DEFINITION,
    TYPICAL_MAX,
    TYPICAL_REASONS,
    TypicalCase,
    typical_cases,
    typical_reasons,
)

__all__ = [
    "BY_DEPARTMENT", "BY_HANDLER", "COUNT_FIGURES", "DEPARTMENT_COLUMNS", "HANDLER_OF_RECORD", "PEOPLE_FIGURES", "RANKING_DEFINITION",
    "Grouping", "PersonFigure", "PersonRow", "people", "ranking",
    "AGE_BUCKETS", "CLOSE", "CLOSED", "CLOSED_LATE_DEFINITION", "DECIDED", "DUE", "MET", "METRICS", "MISSED", "MONTH_BITS",
    "NOT_APPLICABLE", "OVERDUE_DEFINITION", "PERIOD_MESSAGES", "PERIOD_WORDS", "RECEIVED", "STAGE_INDEX",
    "TIMED_STAGES", "TREND_METRICS", "TREND_PERIODS",
    "TYPICAL_DEFINITION", "TYPICAL_MAX", "TYPICAL_REASONS", "WIDTH",
    "Case", "CaseIndex", "Deadline", "DueMonth", "DueMonthRows", "GroupRow", "Kind", "Metric", "Month",
    "Period", "PeriodError", "PeriodKind",
    "StageFact", "StageRow", "Stamp", "Took", "TrendRow", "TypicalCase",
    "age_bucket", "as_period", "backlog_ages", "breakdown", "case_facts", "case_maker", "closed_late", "default_as_of",
    "default_period_as_of", "durations", "median",
    "metric", "month_end", "month_key", "month_start", "overdue_detail", "p90", "rate", "received_by", "stage_table",
    "stamp", "time_of", "time_or_none", "top", "trend", "typical_cases", "typical_reasons",
]
