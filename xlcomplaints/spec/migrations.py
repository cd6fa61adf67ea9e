"""How a branch workbook of an older template version becomes the current one (``xlcomplaints upgrade``).

Like a database's migrations: one ``Step`` per version step, each a list of operations declared as
data, applied in order (1.0.0 → 1.1.0 → …). The operations are few and generic; what they copy
comes from the *current* template (``templates/build.py``), so a step names what changes, never
how the template looks. ``upgrading.py`` applies them through the workbook port; every operation
that finds nothing to do does nothing, so a step may name a sheet or a row the template gains later.

Version policy (``spec/branch.py``): a patch-newer workbook is read as it is; an older minor one is
read, and ``upgrade`` brings it up to date; another major version needs a step from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AddSheet:
    """Add the template's sheet of this kind, last, as the template has it (columns, styles,
    dropdowns, protection, its stamp), when the workbook has none; the office's sheets stay."""

    kind: str


@dataclass(frozen=True)
class AddColumn:
    """Give the sheet the spec's column ``key`` where the template puts it (its header, in the
    workbook's language), only when that column is blank in the workbook; refused otherwise
    (an office column is never moved or written over)."""

    sheet: str
    key: str


@dataclass(frozen=True)
class RenameLabel:
    """The header of our column ``key`` becomes today's label, when it still reads as the older
    template had it (``old_zh``/``old_en``); a header the office renamed stays the office's."""

    sheet: str
    key: str
    old_zh: str
    old_en: str


@dataclass(frozen=True)
class ExtendList:
    """On the office's lists sheet (``sheet``), the values the template lists under the header
    ``header`` (zh or en) that the workbook's column lacks are added below the office's own;
    the office's values, their order and the ones it added stay."""

    sheet: str
    header_zh: str
    header_en: str


@dataclass(frozen=True)
class SettingsRows:
    """Settings brought up to the template, nothing of the office's shifted: the setting rows (label,
    default value, note) the workbook lacks go into the free rows above the rule table when all of them
    fit, else all of them under a "更多设置 More settings" title (read like the rows above: docs/sheets.md);
    each titled block the template has below the rule table (the office's stages…) and the workbook lacks
    is added — as far below the rule table's header as the template puts the first, or under the sheet's
    last row — with its rows to fill in; the rule table's dropdowns become the template's and end above
    the blocks. Formats and dropdowns come along. Refused only when the sheet has no rows left."""


@dataclass(frozen=True)
class RefreshValidations:
    """The dropdowns and input messages of our columns on this sheet become the template's,
    placed where the workbook has those columns; the office's columns' validations stay."""

    sheet: str


@dataclass(frozen=True)
class RefreshConditionalFormats:
    """The colouring of our columns (conditional formats) becomes the template's, when the workbook has
    our columns where the template has them (the rules name columns by letter); else it is kept, and
    said. The office's own conditional formats, on its own columns, stay."""

    sheet: str


@dataclass(frozen=True)
class RefreshProtection:
    """The sheet's protection options (what clerks may still do: sort, filter, insert rows…) become
    the template's, when the sheet is protected as ours is, without a password; a sheet the office
    unprotected or protected with a password of its own stays as it is."""

    sheet: str


Operation = (AddSheet | AddColumn | RenameLabel | ExtendList | SettingsRows | RefreshValidations
             | RefreshConditionalFormats | RefreshProtection)


@dataclass(frozen=True)
class Step:
    """One version step: from ``start`` to ``end``, the operations in order."""

    start: str
    end: str
    operations: tuple[Operation, ...]
    note_zh: str = ""
    note_en: str = ""


#: Every step, oldest first. The template stamp is set to the step's end after its operations.
STEPS: tuple[Step, ...] = (
    Step("1.0.0", "1.1.0", (
        # issue 19: the office's dropdown lists on a sheet of their own (词表 Lists, with the workbook names
        # Lists_… the dropdowns refer to), the new settings (考核排名最少件数, 报表维度) and the office's own
        # stages on Settings, and the dropdowns of Register, Tracking and the rule table from the Lists.
        AddSheet("lists"),
        SettingsRows(),
        RefreshValidations("register"),
        RefreshValidations("tracking"),
        RefreshValidations("callbacks"),
        RefreshValidations("calendar"),
        RefreshConditionalFormats("register"),
        RefreshConditionalFormats("tracking"),
        *(RefreshProtection(kind) for kind in ("register", "tracking", "callbacks", "calendar", "settings")),
    ), "词表工作表；设置表新增两项设置和本单位自定义环节表；登记表、跟踪表和时限规则的下拉列表取自词表",
       "the Lists sheet; two new settings and the office's own stages table on Settings; Register, Tracking "
       "and SLA-rule dropdowns from the Lists"),
)


def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.10.2"`` → (1, 10, 2); (-1,) for what is not a version."""
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (-1,)


def path(start: str, end: str, steps: tuple[Step, ...] | None = None) -> list[Step] | None:
    """The steps that take a workbook of version ``start`` to ``end``: a patch-newer or patch-older
    ``start`` of a step's version counts as that version (patches change looks only). None when
    no chain of steps leads there; an empty list when ``start`` is ``end``'s minor already."""
    steps = STEPS if steps is None else steps
    here, goal = version_tuple(start)[:2], version_tuple(end)[:2]
    chain: list[Step] = []
    while here != goal:
        step = next((s for s in steps if version_tuple(s.start)[:2] == here), None)
        if step is None or version_tuple(step.end)[:2] > goal:
            return None
        chain.append(step)
        here = version_tuple(step.end)[:2]
    return chain
