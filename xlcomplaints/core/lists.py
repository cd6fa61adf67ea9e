"""The office's own lists (词表): category, type, channel, department, handler, tracking department.

Pure over values: the Lists sheet arrives as a grid of cells, a head office's ``[lists]`` as the
TOML table, and what comes out is an ``OfficeLists`` — one ``Vocabulary`` per list — that the
reader puts into the sheet specs (``specs_with``) so that every check and every label follows the
office's words. A list not given (a workbook made before the Lists sheet, a policy that names only
some lists) is the built-in one (``spec.branch.OFFICE_LISTS``); an empty department, handler or
tracking-department list leaves its columns free text, as they always were.

An entry is its Chinese name (or its English one when only that is typed), an optional English
name, aliases, and a code: the code is what records and reports hold, and is the Chinese name when
left blank, so an office's own entry reads as itself everywhere.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from xlcomplaints.core import cells
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.spec import branch as B
from xlcomplaints.spec.model import ColType, SheetSpec
from xlcomplaints.spec.vocab import Choice, Vocabulary

LIST_DUPLICATE = "lists.duplicate"
LIST_GAP = "lists.gap"
LIST_NOT_ON = "lists.not_on_head_office_list"
MESSAGES = {
    LIST_DUPLICATE: (
        "“{list}”列表中“{value}”已在前面的“{other}”出现，本项的这个说法不计。请删去重复的说法。",
        "'{value}' in the '{list_en}' list already names '{other}' above; it is not counted here. Remove the "
        "duplicate."),
    LIST_GAP: (
        "“{list}”列表在第 {row} 行有空行：下拉列表只显示空行以上的项（校验仍接受下面的项）。请删去空行。",
        "The '{list_en}' list has a blank row at row {row}: the dropdown shows only the entries above it "
        "(validate still accepts those below). Remove the blank row."),
    LIST_NOT_ON: (
        "网点 {branch} 的“{list}”“{value}”不在总部的列表中（{count} 宗），在报表中按其本名单列统计。",
        "Branch {branch}'s {list_en} '{value}' is not on head office's list ({count} complaints); the report "
        "counts it under its own name."),
}
register_messages(MESSAGES)

_SPLIT = re.compile("[" + re.escape(B.ALIAS_SEPARATORS) + "]")
BY_KEY: dict[str, B.OfficeList] = {lst.key: lst for lst in B.OFFICE_LISTS}


@dataclass(frozen=True)
class OfficeLists:
    """One vocabulary per office list, by list key; a key not held is the built-in list."""

    given: Mapping[str, Vocabulary] = field(default_factory=dict)

    def get(self, key: str) -> Vocabulary | None:
        """The list, or None when it is empty (its columns are then free text)."""
        vocab = self.given.get(key)
        if vocab is None:
            vocab = BY_KEY[key].builtin
        return vocab if vocab is not None and len(vocab) else None

    def over(self, other: OfficeLists) -> OfficeLists:
        """These lists where given, ``other``'s for the rest (a head office's over a branch's)."""
        return OfficeLists({**other.given, **self.given})

    @property
    def own(self) -> bool:
        return bool(self.given)


BUILT_IN = OfficeLists()


def split_aliases(text: str | None) -> tuple[str, ...]:
    return tuple(a.strip() for a in _SPLIT.split(text or "") if a.strip())


def entry(zh: str | None, en: str | None = None, aliases: Sequence[str] = (), code: str | None = None) -> Choice | None:
    """One entry; None when it has no name."""
    zh, en, code = (cells.normalize_text(x) if isinstance(x, str) else None for x in (zh, en, code))
    name = zh or en
    if not name:
        return None
    return Choice(code=code or name, zh=name, en=en or name, aliases=tuple(a for a in aliases if a))


def vocabulary(key: str, entries: Sequence[tuple[Choice, int | None]], sheet: str | None = None,
               ) -> tuple[Vocabulary, list[Problem]]:
    """A list from its entries (with their rows, for locating problems): an entry whose name or code
    an entry above already has is dropped, an English name or alias already taken is dropped from
    the later entry; each is reported."""
    lst = BY_KEY[key]
    taken: dict[str, str] = {}  # each word's header_key → the code of the entry that has it
    out: list[Choice] = []
    problems: list[Problem] = []
    for choice, row in entries:
        keys = {w: cells.header_key(w) for w in (choice.code, choice.zh, choice.en, *choice.aliases) if w}
        other = taken.get(keys.get(choice.zh, "")) or taken.get(keys.get(choice.code, ""))
        if other is not None:
            problems.append(_duplicate(lst, choice.zh, other, row, sheet))
            continue
        extra = [w for w in (choice.en, *choice.aliases) if w]
        dropped = {w for w in extra if keys[w] in taken}
        problems += [_duplicate(lst, w, taken[keys[w]], row, sheet) for w in dropped]
        kept = choice if not dropped else dataclasses.replace(
            choice, en=choice.zh if choice.en in dropped else choice.en,
            aliases=tuple(a for a in choice.aliases if a not in dropped))
        out.append(kept)
        for word in (kept.code, kept.zh, kept.en, *kept.aliases):
            if k := keys.get(word):
                taken.setdefault(k, kept.code)
    return Vocabulary(key, tuple(out)), problems


def _duplicate(lst: B.OfficeList, word: str, other: str, row: int | None, sheet: str | None) -> Problem:
    return Problem(level=Level.WARNING, code=LIST_DUPLICATE, sheet=sheet,
                   cell=f"{_col_name(B.LISTS.index(lst.key) + 1)}{row}" if row else None, column=lst.zh,
                   value=word, params={"list": lst.zh, "list_en": lst.en, "value": word, "other": other})


def _col_name(n: int) -> str:
    name = ""
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


def read_lists(grid: Sequence[Sequence[object]], sheet: str) -> tuple[OfficeLists, list[Problem]]:
    """The Lists sheet's grid (A1 down) as the office's lists; a list whose columns are not found
    stays built-in."""
    from xlcomplaints.core.rows import find_layout

    layout, problems = find_layout(grid, B.LISTS, sheet)
    if layout is None:
        return BUILT_IN, problems
    given: dict[str, Vocabulary] = {}
    for lst in B.OFFICE_LISTS:
        col = layout.columns.get(lst.key)
        if col is None:
            continue
        at = {k: layout.columns.get(f"{lst.key}_{k}") for k in ("en", "aliases", "code")}

        def cell(row: Sequence[object], c: int | None) -> str | None:
            value = row[c - 1] if c is not None and c - 1 < len(row) else None
            return None if value is None else str(value).strip() or None

        entries: list[tuple[Choice, int | None]] = []
        gap: int | None = None
        for r in range(layout.header_row + 1, len(grid) + 1):
            row = grid[r - 1]
            name = cell(row, col)
            choice = entry(name, cell(row, at["en"]), split_aliases(cell(row, at["aliases"])), cell(row, at["code"]))
            if choice is not None and name is None:
                choice = _with_builtin_names(lst, choice)
            if choice is None:
                gap = gap or r
                continue
            if gap is not None:
                problems.append(Problem(level=Level.WARNING, code=LIST_GAP, sheet=sheet,
                                        cell=f"{_col_name(col)}{gap}", column=layout.headers.get(lst.key, lst.zh),
                                        params={"list": lst.zh, "list_en": lst.en, "row": gap}))
                gap = None
            entries.append((choice, r))
        vocab, p = vocabulary(lst.key, entries, sheet)
        problems += p
        given[lst.key] = vocab
    return OfficeLists(given), problems


def _with_builtin_names(lst: B.OfficeList, choice: Choice) -> Choice:
    """An entry without a Chinese name (an English workbook's, whose Lists show no Chinese) whose code
    is a built-in entry's keeps that entry's Chinese name and aliases, so 产品质量 still reads there."""
    builtin = next((c for c in lst.builtin or () if c.code == choice.code), None)
    if builtin is None:
        return choice
    aliases = tuple(dict.fromkeys((*choice.aliases, *builtin.aliases)))
    return dataclasses.replace(choice, zh=builtin.zh, aliases=aliases)


def specs_with(specs: Mapping[str, SheetSpec], lists: OfficeLists) -> dict[str, SheetSpec]:
    """The sheet specs with each column an office list drives checked against that list: a choice
    column takes the list as its vocabulary; a text column (department, handler) becomes a choice
    while its list has entries."""
    out = dict(specs)
    for lst in B.OFFICE_LISTS:
        vocab = lists.get(lst.key)
        for kind, key in lst.drives:
            spec = out.get(kind)
            if spec is None:
                continue
            col = spec.column(key)
            if vocab is None:
                new = dataclasses.replace(col, type=ColType.TEXT, vocab=None) if col.vocab is not None else col
            else:
                new = dataclasses.replace(col, type=ColType.CHOICE, vocab=vocab)
            out[kind] = dataclasses.replace(
                spec, columns=tuple(new if c.key == key else c for c in spec.columns))
    return out


#: What a ``[lists]`` entry table may hold: its names and code, and where it comes from (``source`` in
#: words, ``seed`` the seed file's number and ``quote`` the seed's own words, checked by the tests).
ENTRY_KEYS = frozenset({"zh", "en", "aliases", "code", "source", "seed", "quote"})


def from_toml(table: object) -> tuple[OfficeLists, list[str]]:
    """A policy file's ``[lists]``: ``category = ["网络质量类", {zh = "业务类", en = "Business",
    aliases = ["业务"], code = "business", source = "…"}]``; what is wrong, in words, second."""
    if not isinstance(table, dict):
        return BUILT_IN, ["[lists] is not a table"]
    given: dict[str, Vocabulary] = {}
    errors: list[str] = []
    for key, items in table.items():
        if key not in BY_KEY:
            errors.append(f"unknown list {key!r} (lists: {', '.join(BY_KEY)})")
            continue
        if not isinstance(items, list):
            errors.append(f"{key}: not a list")
            continue
        entries: list[tuple[Choice, int | None]] = []
        for n, item in enumerate(items, start=1):
            if isinstance(item, str):
                choice = entry(item)
            elif isinstance(item, dict) and set(item) - ENTRY_KEYS:
                errors.append(f"{key}, entry {n}: unknown keys {sorted(set(item) - ENTRY_KEYS)} "
                              f"(use: {', '.join(sorted(ENTRY_KEYS))})")
                continue
            elif isinstance(item, dict):
                aliases = item.get("aliases", ())
                if isinstance(aliases, str):
                    aliases = split_aliases(aliases)
                choice = entry(item.get("zh"), item.get("en"), tuple(str(a) for a in aliases), item.get("code"))
            else:
                choice = None
            if choice is None:
                errors.append(f"{key}, entry {n}: neither a name nor a table with zh")
                continue
            entries.append((choice, None))
        vocab, dup = vocabulary(key, entries)
        errors += [f"{key}: {p.value!r} twice" for p in dup]
        given[key] = vocab
    return OfficeLists(given), errors


def relabel(choice_code: str | None, own: Vocabulary | None, imposed: Vocabulary | None) -> tuple[str | None, bool]:
    """A branch's value (a code of its own list) as head office's list has it: the entry of
    ``imposed`` that the branch entry's code, names or aliases spell; else the branch entry's name,
    and False (not on head office's list)."""
    if choice_code is None or imposed is None:
        return choice_code, True
    mine = next((c for c in own or () if c.code == choice_code), None)
    words = (mine.code, mine.zh, mine.en, *mine.aliases) if mine else (choice_code,)
    for word in words:
        try:
            code = cells.parse_choice(word, imposed.choices)
        except cells.CellError:
            continue
        if code is not None:
            return code, True
    return (mine.zh if mine else choice_code), False


def merged(lists: Sequence[OfficeLists], key: str) -> Vocabulary | None:
    """One list for a report over several branches: the first branch's entries, then each other
    branch's entries not yet there (by code), in their order."""
    seen: dict[str, Choice] = {}
    for ol in lists:
        for c in ol.get(key) or ():
            seen.setdefault(c.code, c)
    if not lists:
        return BUILT_IN.get(key)
    return Vocabulary(key, tuple(seen.values())) if seen else None
