"""The consolidation's memory of a period, so a branch can be re-run without re-reading the rest.

``consolidate ... -o group.xlsx`` also writes ``group.state.json.gz``: per branch code, the
facts and problems its file gave, with the file's name and time. ``--update`` loads it,
lets the branches in the new run replace theirs and keeps the others, then writes both
again. JSON (not pickle), so a state file found on a shared drive is data, never code.

Each case is stored as the list of its ``Case`` fields, times as ``Stamp`` integers: the
JSON encoder writes the cases as they are, in one pass in C with no Python code per case
(measured quicker than storing them by column); loading checks every column's types, so
a file edited by hand or cut short is refused rather than trusted.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from xlcomplaints.core.metrics import Case, Period, StageFact
from xlcomplaints.core.metrics.facts import CUSTOM_WIDTH, with_codes
from xlcomplaints.core.policy import STAGES
from xlcomplaints.core.problems import Problem
from xlcomplaints.report.consolidate import (
    CASE_TEXTS,
    DEFAULT_REPEAT_WINDOW,
    Consolidation,
    FileSummary,
)
from xlcomplaints.report.file_summary import DEFAULT_RANK_MIN
from xlcomplaints.workbook.owners import TempKind, default_mode, temp_file

FORMAT = "xlcomplaints.consolidation-state"
#: ASCII escapes and no cycle check: measured the quickest way to write 100,000 cases.
_ENCODER = json.JSONEncoder(ensure_ascii=True, check_circular=False, separators=(",", ":"))
#: 5: each stage's handler of record, and a case's custom stages and office dimensions after its deadlines
#: (4 held one or the other; 3: the id of the run that wrote it, also in the report; 2: times as stamps,
#: a case's stages in one list, its deadlines filed by month; 1: times in seconds, a list per stage).
VERSION = 5
READS = (5,)

assert Case._fields[-5:] == ("stages", "callbacks", "due_months", "custom", "office")  # the lists after the plain fields
_NONE: type = type(None)
_TEXT, _INT, _NUMBER = {str, _NONE}, {int, _NONE}, {int, float, _NONE}
#: The types each ``Case`` field may hold once parsed, and those of a stage's fields.
_HEAD_TYPES: dict[str, set[type]] = {"escalated": {bool}, "received_at": _INT, "reopen_count": {int}}
_HEAD: tuple[set[type], ...] = tuple(_HEAD_TYPES.get(name, _TEXT) for name in Case._fields[:-5])
_STAGE: dict[str, set[type]] = {"status": {str}, "due": _INT, "done_at": _INT, "late_by": _NUMBER,
                                "unit": _TEXT, "took": _NUMBER, "handler": _TEXT}
_STAGES: tuple[set[type], ...] = tuple(_STAGE[name] for _ in STAGES for name in StageFact._fields)
_CALLBACK: tuple[set[type], ...] = ({int}, {str}, _INT)
_DUE_MONTH: tuple[set[type], ...] = ({int}, {int}, {int}, {int})


class StateError(ValueError):
    """The state file is missing, damaged, or for another period."""


class StateOfAnotherRun(StateError):
    """The state file was not written by the run that wrote the report beside it (a run killed
    between writing the two, say): the pair cannot be trusted together."""


class StateOfAnotherPeriod(StateError):
    """The state file holds another period (or kind of period) than the run's: ``held``, its label."""

    def __init__(self, message: str, held: str) -> None:
        super().__init__(message)
        self.held = held


def state_path(output: str | Path) -> Path:
    p = Path(output)
    return p.with_name(f"{p.stem}.state.json.gz")


def _check(rows: Sequence[Sequence[Any]], types: tuple[set[type], ...], what: str) -> None:
    """Rows of ``len(types)`` values, each column of its types (a pass per column, in C)."""
    if not all(isinstance(r, list) and len(r) == len(types) for r in rows):
        raise ValueError(f"{what}: a row of the wrong length")
    for i, (column, allowed) in enumerate(zip(zip(*rows, strict=True), types, strict=False)):
        if not set(map(type, column)) <= allowed:
            raise TypeError(f"{what}: field {i + 1} holds a value of the wrong type")


def cases_in(rows: Sequence[list[Any]], version: int = VERSION) -> tuple[Case, ...]:
    """Cases from their stored rows; raises ValueError or TypeError if any is damaged."""
    head = len(_HEAD)
    _check(rows, (*_HEAD, {list}, {list}, {list}, {list}, {list}), "case")
    _check([r[head] for r in rows], _STAGES, "stages")
    calls = [c for r in rows for c in r[head + 1]]
    months = [m for r in rows for m in r[head + 2]]
    _check(calls, _CALLBACK, "callback")
    _check(months, _DUE_MONTH, "due month")
    custom = [r[head + 3][i:i + CUSTOM_WIDTH] for r in rows for i in range(0, len(r[head + 3]), CUSTOM_WIDTH)]
    _check(custom, ({str}, {str}, *(_STAGE[name] for name in StageFact._fields)), "custom stage")
    _check([r[head + 4][i:i + 2] for r in rows for i in range(0, len(r[head + 4]), 2)], ({str}, _TEXT), "dimension")
    out = []
    for r in rows:
        fields, stages, custom = r[:head], r[head], r[head + 3]
        with_codes(fields, stages, custom)  # the plain codes JSON kept, the enums again
        out.append(Case._make((*fields, tuple(stages), tuple(map(tuple, r[head + 1])), tuple(map(tuple, r[head + 2])),
                               tuple(custom), tuple(r[head + 4]))))
    return tuple(out)


def _branch(f: FileSummary) -> dict[str, Any]:
    return {"branch": f.branch, "branch_name": f.branch_name, "path": f.path, "mtime": f.mtime,
            "problems": [p.model_dump(mode="json") for p in f.problems],
            "cases": f.cases,  # each Case a JSON list, as it is
            "texts": f.texts, "repeat_window_days": f.repeat_window_days,
            "rank_min_complaints": f.rank_min_complaints, "label": f.name}


def texts_in(found: Any) -> dict[str, tuple[str | None, ...]]:
    """The typical cases' texts from a stored branch (absent from states written before they were kept)."""
    if not isinstance(found, dict):
        raise TypeError("texts: not an object")
    rows = list(found.values())
    _check(rows, tuple(_TEXT for _ in CASE_TEXTS), "texts")
    return {str(no): tuple(words) for no, words in found.items()}


def _window_in(found: Any) -> int:
    """A stored branch's repeat window (states written before it was kept have the default)."""
    if type(found) is not int or found < 0:
        raise TypeError("repeat_window_days: not a whole number of days")
    return found


def _label_in(found: Any) -> str:
    """A stored branch's file label (states written before it was kept: its file's name)."""
    if not isinstance(found, str):
        raise TypeError("label: not text")
    return found


def encode_state(result: Consolidation, run: str = "") -> bytes:
    """The state file's bytes: gzip'd JSON of the branches the report used; ``run``: the id of the
    run, written into its report too."""
    doc = {"format": FORMAT, "version": VERSION, "run": run, "month": str(result.month),
           "period_kind": result.month.kind.value,
           "as_of": result.as_of.isoformat(timespec="seconds"), "contacts_shown": result.contacts_shown,
           "branches": [_branch(f) for _, f in sorted(result.branches.items())]}
    return gzip.compress(_ENCODER.encode(doc).encode(), compresslevel=1, mtime=0)  # the same run, the same bytes


def save_state(path: Path, result: Consolidation, run: str = "") -> None:
    """Write the state file whole or not at all."""
    PendingState(path, result, run=run, background=False).commit()


#: Whether the state can be written by a forked child: on Linux, where forking a process
#: that holds a consolidation is cheap and safe (macOS forks badly, Windows not at all).
CAN_FORK = hasattr(os, "fork") and sys.platform.startswith("linux")


class PendingState:
    """The state file of a consolidation, written beside the report while it is computed and written.

    Encoding the state is a tenth of a large consolidation, and the report is computed and
    written by the main process alone, with the workers done and a core idle. So where
    possible (``CAN_FORK``) a forked child, which has the cases without their being sent,
    writes the state to a pending file meanwhile; elsewhere it is written at once. The
    state file itself appears only on ``commit`` (once the report is saved): a run whose
    report could not be written leaves the previous state as it was (``abandon``).

    The pending file has a name of its own run's (``owners.temp_file``): two runs never share
    one, and one left by a killed run is recognised and removed by the next.
    """

    def __init__(self, path: Path, result: Consolidation, *, run: str = "", background: bool = True) -> None:
        self.path = path
        self._error: str | None = None
        self._child: tuple[int, int] | None = None  # (pid, read end of the pipe it reports an error on)
        try:
            self._pending: Path | None = temp_file(path, TempKind.NEW)
        except OSError as e:  # no such folder, or not writable: said on commit, as a failed write is
            self._pending, self._error = None, f"{type(e).__name__}: {e}"
            return
        if not (background and CAN_FORK):
            self._error = _write(self._pending, result, run)
            return
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: write, tell the parent what failed, and leave at once, whatever happens
            code = 1  # (even Ctrl-C: the child must never run on into the parent's code or its clean-up)
            try:
                os.close(read)
                error = _write(self._pending, result, run)
                if error:
                    os.write(write, error.encode()[:2000])
                else:
                    code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._child = (pid, read)

    def _wait(self) -> str | None:
        if self._child is not None:
            pid, read = self._child
            self._child = None
            with os.fdopen(read, "rb") as pipe:
                said = pipe.read().decode(errors="replace")
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                self._error = said or f"exit status {os.waitstatus_to_exitcode(status)}"
        return self._error

    def commit(self) -> None:
        """Wait for the file and put it in place; raises OSError if it could not be written."""
        error = self._wait()
        if error is not None or self._pending is None:
            self._drop()
            raise OSError(error)
        try:
            os.chmod(self._pending, default_mode())  # not the temporary file's 0600: others may --update
            os.replace(self._pending, self.path)
        except OSError:
            self._drop()
            raise

    def abandon(self) -> None:
        """Wait for the child and drop what it wrote."""
        self._wait()
        self._drop()

    def _drop(self) -> None:
        if self._pending is not None:
            with contextlib.suppress(OSError):  # a folder gone read-only: the next run removes it
                self._pending.unlink(missing_ok=True)



def _write(path: Path, result: Consolidation, run: str) -> str | None:
    """Write the state to ``path``; what went wrong, or None."""
    try:
        path.write_bytes(encode_state(result, run))
    except Exception as e:  # the disk, or a bug: the parent reports it
        return f"{type(e).__name__}: {e}"
    return None


def load_state(path: Path, month: Period, run: str | None = None) -> tuple[list[FileSummary], datetime, bool]:
    """The branches of a previous run of the period ``month``: (summaries, as-of time, contacts shown).

    A state is keyed by its period's kind and label (``"month": "2026-W43", "period_kind": "week"``);
    one written before periods had kinds holds a month (``"month": "2026-10"`` alone) and is read as such.

    ``run``: the run id the report beside it holds; a state of another run is refused
    (``StateOfAnotherRun``)."""
    try:
        doc = json.loads(gzip.decompress(path.read_bytes()))
    except FileNotFoundError:
        raise StateError(f"{path.name}: not found") from None
    except (OSError, EOFError, ValueError) as e:
        raise StateError(f"{path.name}: {e}") from e
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StateError(f"{path.name}: not a state file")
    if doc.get("version") not in READS:
        raise StateError(f"{path.name}: written by another version of xlcomplaints (state version "
                         f"{doc.get('version')}, this one reads {VERSION}); consolidate all branches without --update")
    if run is not None and doc.get("run") != run:
        raise StateOfAnotherRun(f"{path.name}: written by another run than the report beside it")
    held = (doc.get("period_kind", "month"), doc.get("month"))
    if held != (month.kind.value, str(month)):
        raise StateOfAnotherPeriod(f"{path.name}: holds {held[1]} ({held[0]}), not {month} ({month.kind.value})",
                                   str(held[1]))
    try:
        out = [FileSummary(b["path"], b["mtime"], b["branch"], b["branch_name"], cases_in(b["cases"], doc["version"]),
                           tuple(Problem.model_validate(p) for p in b["problems"]), texts=texts_in(b.get("texts", {})),
                           repeat_window_days=_window_in(b.get("repeat_window_days", DEFAULT_REPEAT_WINDOW)),
                           rank_min_complaints=_window_in(b.get("rank_min_complaints", DEFAULT_RANK_MIN)),
                           label=_label_in(b.get("label", "")))
               for b in doc["branches"]]
        return out, datetime.fromisoformat(doc["as_of"]), bool(doc["contacts_shown"])
    except (KeyError, TypeError, ValueError, IndexError) as e:  # edited by hand, or cut short
        raise StateError(f"{path.name}: damaged ({type(e).__name__}: {e})") from e
