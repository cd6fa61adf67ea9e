"""The one masking step: what leaves a branch (report, facts store) without ``--show-contacts``.

A branch's summary (``FileSummary``: its cases, typical-case texts, problems, or why it could
not be read) passes through ``mask_summary`` before it leaves the worker, and a previous run's
facts through it again when this run masks. Phone numbers are masked wherever they stand: the
phone column (whatever it holds), a number typed into the customer's name (王先生13700001111),
free text, and the values and parameters of problems (an invalid phone value is shown on the
Issues sheet). A previous run's branch kept in its facts store that showed contacts, carried over by a
run that masks them, is masked one partition at a time (``mask_partition``), and so is a region's branch from a
region's store that showed them, as it is copied into head office's (``report.regions``): the report is then
computed from the store with no more than one branch's cases held at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from xlcomplaints.core.metrics import Case
from xlcomplaints.core.phones import MOBILE
from xlcomplaints.core.problems import Problem
from xlcomplaints.report.file_summary import FileSummary
from xlcomplaints.store.partition import read_partition, write_partition

#: The fewest digits of a phone number (a local number without its area code).
PHONE_DIGITS = 7
#: A run of 7 or more digits (spaces, dashes, brackets between them): a phone number, most likely.
#: Not one that goes on from letters or digits before it (a complaint number: BJ01-2611-007).
_NUMBER_IN_TEXT = re.compile(r"(?<![A-Za-z0-9\-])\+?\d[\d\s\-()（）]{5,}\d")
#: A date (and hour) as problems and cells show them: not a phone number.
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:\s+\d{1,2})?")


def mask_phone(phone: str | None) -> str | None:
    """Keep the first 3 and last 4 digits of a number of 10+ digits (138****5678), else the last 2."""
    if not phone or "*" in phone:  # empty, or masked already
        return phone
    if MOBILE.fullmatch(phone):  # the common case, without the walk below
        return f"{phone[:3]}****{phone[7:]}"
    positions = [i for i, ch in enumerate(phone) if ch.isdigit()]
    keep_head, keep_tail = (3, 4) if len(positions) >= 10 else (0, 2)
    hidden = set(positions[keep_head:len(positions) - keep_tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(phone))


def _number(m: re.Match[str]) -> str:
    found = m.group()
    if sum(ch.isdigit() for ch in found) < PHONE_DIGITS or _DATE.fullmatch(found):
        return found
    return mask_phone(found) or ""


def mask_text(text: str | None) -> str | None:
    """Free text with every phone-like run of digits masked as ``mask_phone`` does."""
    return _NUMBER_IN_TEXT.sub(_number, text) if text else text


def _mask_value(value: Any) -> Any:
    return mask_text(value) if isinstance(value, str) else value


def mask_problem(p: Problem) -> Problem:
    """A problem with its value and every text parameter masked (the same problem if nothing changes)."""
    value = mask_text(p.value)
    params = {k: _mask_value(v) for k, v in p.params.items()}
    if value == p.value and params == p.params:
        return p
    return p.model_copy(update={"value": value, "params": params})


def _names_masked(cases: Iterable[Case]) -> Callable[[str | None], str | None] | None:
    """How ``mask_text`` leaves the handlers' names of these cases, each distinct name masked once (a branch
    has a few, each met on every stage of every complaint); None when it changes none of them, as usual."""
    names: set[str | None] = set()
    for c in cases:
        names.update(c.handler_names())
    changed = {n: masked for n in names if (masked := mask_text(n)) != n}
    return (lambda n: changed.get(n, n)) if changed else None


def mask_case(c: Case, name: Callable[[str | None], str | None] | None = mask_text) -> Case:
    """A case with its phone (whatever the cell held), its customer's name and its handlers' names masked
    (``name``: how each is masked; None: no name needs it)."""
    phone, customer = mask_phone(c.phone), mask_text(c.customer)
    c = c if phone == c.phone and customer == c.customer else c._replace(phone=phone, customer=customer)
    return c if name is None else c.renamed(name)


def mask_summary(f: FileSummary) -> FileSummary:
    """Everything of a branch that leaves it, masked: cases, typical-case texts, problems, the error.
    Its facts store partition (``f.partition``) is kept only if its facts were masked already."""
    name = _names_masked(f.cases)
    cases = tuple(mask_case(c, name) for c in f.cases)
    texts = {no: tuple(map(mask_text, words)) for no, words in f.texts.items()}
    same = cases == f.cases and texts == f.texts
    return replace(
        f, cases=cases, texts=texts, problems=tuple(map(mask_problem, f.problems)),
        error=None if f.error is None else mask_problem(f.error), partition=f.partition if same else None)


def mask_partition(f: FileSummary, folder: str) -> FileSummary:
    """A branch carried from a facts store that showed contacts, for a run that masks them: its partition read
    back, masked (``mask_summary``) and written anew into ``folder`` (the run's staging folder, committed with
    the store), the summary sent on without its cases, as a worker's is. Its partition is kept as it is when
    masking changes nothing in it; a summary holding its cases, or with no partition, is masked as it is."""
    if f.partition is None or f.cases:
        return mask_summary(f)
    cases, texts = read_partition(f.partition)
    masked = mask_summary(replace(f, cases=tuple(cases), texts=texts))
    part = masked.partition or write_partition(folder, masked.cases, masked.texts)
    return replace(masked, cases=(), texts={}, partition=part)
