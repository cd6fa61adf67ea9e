"""The codes the engine branches on for a stage's and a complaint's status, and its escalation level.

Their words (zh and en) are in ``spec.vocab`` (STAGE_STATUS, OVERALL_STATUS, ESCALATION), the one
place every label lives; ``tests/test_engine_rules.py`` holds each enum's codes equal to its
vocabulary's (the deadline units, ``core.calendar.Unit``, to ``spec.vocab.UNIT`` alike). They are
``StrEnum``s: equal to, hashed and written (JSON, cells) as their plain codes.
"""

from __future__ import annotations

from enum import StrEnum


class StageStatus(StrEnum):
    """A stage's status: the codes of ``spec.vocab.STAGE_STATUS``, which holds their words."""

    NOT_DUE = "not_due"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"
    NOT_APPLICABLE = "not_applicable"
    #: Never done, its due time passed before the case was closed: stays a miss.
    MISSED = "missed"
    #: The callback given up after the Settings' number of unreachable attempts.
    GIVEN_UP = "given_up"


class OverallStatus(StrEnum):
    """A complaint's overall status: the codes of ``spec.vocab.OVERALL_STATUS``. One state with the next
    action: awaiting the callback exactly when the next action is a callback, awaiting the close when it
    is to close the case."""

    OPEN = "open"
    PAUSED = "paused"
    AWAITING_CALLBACK = "awaiting_callback"
    AWAITING_CLOSE = "awaiting_close"
    REOPENED = "reopened"
    CLOSED = "closed"
    INVALID = "invalid"


class Escalation(StrEnum):
    """How high a complaint must be taken: the codes of ``spec.vocab.ESCALATION``, lowest first."""

    NONE = "none"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    GENERAL_MANAGER = "general_manager"
