"""The user's language, and the one way every zh/en text is looked up.

A text is a pair ``(zh, en)`` kept in a catalogue next to the code that uses it (messages by
their codes in ``MESSAGES`` dicts registered here; labels in the specs; help in ``cli_help``;
what the command line prints in ``console``). Code does not spell out a zh/en ternary on
``lang``: it picks a pair's side with ``pick``/``say``, and messages carried as codes are
rendered with ``render``. Nothing here imports the rest of the package, so every layer may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")

#: A text in both languages: (Chinese, English).
Text = tuple[str, str]


class Lang(StrEnum):
    """The languages xlcomplaints speaks; Chinese unless English is asked for."""

    ZH = "zh"
    EN = "en"

    @classmethod
    def of(cls, value: str | None) -> Lang:
        """``"en"`` is English; anything else (None, ``"zh"``, ``"zh_CN"``) is Chinese."""
        return cls.EN if value == cls.EN else cls.ZH


def pick(lang: str, zh: T, en: T) -> T:
    """The Chinese or the English of two things, by ``lang`` (anything but ``"zh"`` is English, as
    every command has always read it)."""
    return zh if lang == Lang.ZH else en


def say(text: Text, lang: str, /, **params: Any) -> str:
    """A catalogue's text in ``lang``, its ``{fields}`` filled from ``params`` when given."""
    template = text[0] if lang == Lang.ZH else text[1]
    return template.format(**params) if params else template


_CATALOGUES: list[Mapping[str, Text]] = []


def register_messages(messages: Mapping[str, Text]) -> None:
    """Modules that raise or report coded messages add their (zh, en) templates here."""
    _CATALOGUES.append(messages)


def render(code: str, lang: str, params: Mapping[str, Any]) -> str:
    """A coded message in ``lang``: the latest registered catalogue holding ``code``, filled from
    ``params`` (the template as it stands if a field is missing; the code if no catalogue has it)."""
    for catalogue in reversed(_CATALOGUES):
        if code in catalogue:
            template = say(catalogue[code], lang)
            try:
                return printable(template.format(**params))
            except (KeyError, IndexError, ValueError):
                return template
    return code


def printable(text: str) -> str:
    """``text`` as it can be printed and saved: a file name's bytes of another encoding (a GBK
    name unzipped on Linux, which Python carries as lone surrogates) are shown as ``\\xNN``."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
