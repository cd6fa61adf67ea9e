"""What the command line and the demo print: the consoles and the problem list.

No console markup: what is printed holds clerks' cells, file names and messages, where "[...]"
is text (a "[/]" typed in a cell would otherwise stop the command). Styles go in as Text.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from xlcomplaints.core.problems import Level, Problem, in_sheet_order
from xlcomplaints.spec.problems import PROBLEMS

console = Console(markup=False, soft_wrap=True)  # a log gets whole lines; a terminal wraps them itself
err = Console(stderr=True, markup=False, soft_wrap=True)

#: What every refusal starts with — a command that stops without doing its work (exit 2), a button
#: that could not run. One style for all: a log or a scheduled job's output is searched for them by
#: this word, and they stand apart from the notes a command also prints on stderr (what an
#: interrupted run left and was cleared away).
REFUSAL_PREFIX = {"zh": "错误：", "en": "Error: "}


def refusal(message: str, lang: str) -> str:
    """A refusal's sentence as every command and button shows it."""
    return REFUSAL_PREFIX["en" if lang == "en" else "zh"] + message


def print_refusal(message: str, lang: str) -> None:
    """Print a refusal on stderr, as typed (no highlighting), on one line."""
    err.print(Text.assemble((REFUSAL_PREFIX["en" if lang == "en" else "zh"], "bold red"), message),
              highlight=False, soft_wrap=True)


def show_problems(problems: list[Problem], lang: str, title: str) -> None:
    if not problems:
        return
    zh = lang == "zh"
    problems = in_sheet_order(problems)
    if not console.is_terminal:  # a log file or a scheduled job: one problem per line, never wrapped
        for p in problems:
            level = ("错误" if zh else "error") if p.level is Level.ERROR else ("警告" if zh else "warning")
            where = "!".join(x for x in (p.sheet, p.cell) if x)
            column = f" {p.column}" if p.column else ""
            value = f" “{p.value}”" if zh and p.value else f' "{p.value}"' if p.value else ""
            console.print(f"{title}: {level} {where}{column}{value}: {p.message(lang)}",
                          highlight=False, soft_wrap=True)
        return
    table = Table(title=title, show_lines=False, header_style="bold")
    for heading in PROBLEMS.columns:
        table.add_column(heading.label(lang), overflow="fold")
    for p in problems:
        level = ("错误" if zh else "error") if p.level is Level.ERROR else ("警告" if zh else "warning")
        style = "red" if p.level is Level.ERROR else "yellow"
        table.add_row(Text(level, style=style), p.sheet or "", p.cell or "", p.column or "", p.value or "",
                      p.message(lang))
    console.print(table)
