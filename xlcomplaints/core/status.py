"""The codes the engine branches on: a stage's (and a hand-off's) status, a complaint's status, its
escalation level and its next action.

Their words (zh and en) are in one catalogue each: ``spec.vocab`` (STAGE_STATUS, OVERALL_STATUS,
ESCALATION), and for the next action ``core.refresh.NEXT_ACTIONS``; ``tests/test_engine_rules.py``
holds each enum's codes equal to its catalogue's (the deadline units, ``core.calendar.Unit``, to
``spec.vocab.UNIT`` alike). They are ``StrEnum``s: equal to, hashed and written (JSON, cells) as
their plain codes.
"""

from __future__ import annotations

from enum import StrEnum


class StageStatus(StrEnum):
    """A stage's status: the codes of ``spec.vocab.STAGE_STATUS``, which holds their words. A hand-off's
    status on the Tracking sheet (``core.lifecycle.handoff_results``) is one of them too."""

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


class NextAction(StrEnum):
    """What to do next on a complaint: the codes of ``core.refresh.NEXT_ACTIONS``, which holds their words.
    One per built-in stage, named as the stage (``core.policy.STAGES``: the first stage still to do is the
    action), and the actions that are not a stage's."""

    ACKNOWLEDGE = "acknowledge"
    FIRST_CONTACT = "first_contact"
    REPORT = "report"
    RESOLVE = "resolve"
    REPLY = "reply"
    CALLBACK = "callback"
    #: The callback again, after an unreachable attempt.
    RETRY_CALLBACK = "retry_callback"
    CLOSE = "close"
    #: The case waits on the customer or is in cold handling.
    FOLLOW_UP_PAUSE = "follow_up_pause"
    #: Nothing: closed or invalid.
    NONE = "none"
