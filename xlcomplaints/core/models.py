"""Domain records: what the core computes over.

The rows of a sheet are plain immutable records (slotted frozen dataclasses): the reader has
already parsed and checked every cell, so they are made through their constructors with no
second validation. ``Settings`` stays a pydantic model: it is built from structured input
(the Settings sheet's values, the CLI's options) and checks it.

Field names are the spec's column keys (``tests/test_spec.py`` holds them in step).
Fields a clerk may leave blank or mistype are optional: the reader puts ``None`` for
a cell it could not read and reports the cell, so one bad cell never hides a row.
``row`` is the sheet row the record came from, for locating problems.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import datetime, time

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True, slots=True)
class Record:
    #: 1-based sheet row it was read from.
    row: int | None = None


@dataclass(frozen=True, slots=True)
class Complaint(Record):
    no: str | None = None
    received_at: datetime | None = None
    case_type: str | None = None
    channel: str | None = None
    customer: str | None = None
    phone: str | None = None
    location: str | None = None
    product: str | None = None
    order_ref: str | None = None
    category: str | None = None
    severity: str | None = None
    validity: str | None = None
    complexity: str | None = None
    escalated: bool | None = None
    content: str | None = None
    request: str | None = None
    person_complained: str | None = None
    department: str | None = None
    handler: str | None = None
    acknowledged_at: datetime | None = None
    first_contact_at: datetime | None = None
    reported_at: datetime | None = None
    resolved_at: datetime | None = None
    replied_at: datetime | None = None
    callback_at: datetime | None = None
    closed_at: datetime | None = None
    result: str | None = None
    root_cause: str | None = None
    corrective_action: str | None = None
    remarks: str | None = None


@dataclass(frozen=True, slots=True)
class TrackingStep(Record):
    no: str | None = None
    at: datetime | None = None
    step: str | None = None
    from_department: str | None = None
    to_department: str | None = None
    handler: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CallbackAttempt(Record):
    no: str | None = None
    at: datetime | None = None
    method: str | None = None
    caller: str | None = None
    outcome: str | None = None
    score: int | None = None
    comments: str | None = None


@dataclass(frozen=True, slots=True)
class CalendarEntry(Record):
    date: dt.date | None = None
    kind: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyRule(Record):
    """One SLA limit: a stage, for the complaints it matches (blank matcher = any)."""

    stage: str | None = None
    severity: str | None = None
    category: str | None = None
    channel: str | None = None
    complexity: str | None = None
    amount: float | None = None
    unit: str | None = None
    source: str | None = None

    def specificity(self) -> int:
        return sum(x is not None for x in (self.severity, self.category, self.channel, self.complexity))

    def matches(self, c: Complaint) -> bool:
        return all(
            want is None or want == have
            for want, have in (
                (self.severity, c.severity),
                (self.category, c.category),
                (self.channel, c.channel),
                (self.complexity, c.complexity or "simple"),
            )
        )


@dataclass(frozen=True, slots=True)
class CustomStage(Record):
    """One row of the office's own stages (Settings, below the SLA policy; ``spec.branch.CUSTOM_STAGES``).

    Rows sharing a ``name`` are one stage, limited per kind of complaint like the policy's rows."""

    name: str | None = None
    name_en: str | None = None
    start: str | None = None
    done_step: str | None = None
    done_column: str | None = None
    severity: str | None = None
    category: str | None = None
    channel: str | None = None
    complexity: str | None = None
    amount: float | None = None
    unit: str | None = None
    recurring: bool | None = None
    source: str | None = None

    def as_rule(self) -> PolicyRule:
        """The row as a policy rule of the stage ``name``: the same matching and "most specific wins"."""
        return PolicyRule(row=self.row, stage=self.name, severity=self.severity, category=self.category,
                          channel=self.channel, complexity=self.complexity, amount=self.amount, unit=self.unit,
                          source=self.source)


@dataclass(frozen=True, slots=True)
class OfficeColumn:
    """A column the office added to the Register that Settings names (a custom stage's done column or a
    report dimension): its header as typed, its 1-based column, and each record row's cell as read."""

    header: str
    column: int
    values: dict[int, object] = field(default_factory=dict)


class Settings(BaseModel):
    """The Settings sheet, parsed; defaults are the template's defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    branch_code: str = "BR01"
    branch_name: str = ""
    language: str = "zh"
    number_pattern: str = "{branch}-{yy}{mm}{seq:03}"
    country: str = "CN"
    office_start: time = time(9, 0)
    office_end: time = time(18, 0)
    due_soon_percent: float = 25.0
    repeat_window_days: int = 30
    callback_retry_hours: tuple[float, ...] = (24.0, 48.0)
    callback_max_attempts: int = 3
    handoff_hours: float = 24.0
    handoff_unreachable_hours: float = 48.0
    timestamps_rule: str = "register"
    rank_min_complaints: int = 5
    #: Headers of Register columns the monthly report breaks down by (the office's own columns).
    report_dimensions: tuple[str, ...] = ()
    policy: tuple[PolicyRule, ...] = ()
    #: The office's own stages, the rows that passed their checks (``core.custom_stages``).
    custom_stages: tuple[CustomStage, ...] = ()
    #: Where the Settings were read, for problems found later against the Register: the sheet, the
    #: value cell of each key/value setting read, and the custom-stage table's columns (key → 1-based).
    sheet: str | None = None
    cells: dict[str, str] = Field(default_factory=dict)
    custom_columns: dict[str, int] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BranchData:
    """Everything read from one branch workbook."""

    settings: Settings
    complaints: tuple[Complaint, ...] = ()
    tracking: tuple[TrackingStep, ...] = ()
    callbacks: tuple[CallbackAttempt, ...] = ()
    calendar: tuple[CalendarEntry, ...] = ()
    #: The Register columns the Settings name (custom stages' done columns, report dimensions), by header.
    office_columns: dict[str, OfficeColumn] = field(default_factory=dict)
