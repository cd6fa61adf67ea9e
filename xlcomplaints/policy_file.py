"""A head office's policy file, and the industry presets shipped as such files: read from disk here
(TOML), parsed by the pure ``core.policy.parse_policy``. The only module that opens a policy file."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from xlcomplaints.core.models import PolicyRule
from xlcomplaints.core.policy import PolicyFile, PolicyFileError, parse_policy

#: Where the presets live: one policy file per industry, in the ``--policy`` format.
PRESETS_DIR = "data/presets"


def presets() -> tuple[str, ...]:
    """The names of the presets shipped with the package (``retail``, ``insurer`` …)."""
    folder = resources.files("xlcomplaints").joinpath(PRESETS_DIR)
    return tuple(sorted(f.name.removesuffix(".toml") for f in folder.iterdir() if f.name.endswith(".toml")))


def preset_path(name: str) -> Path:
    """The policy file of a preset (see :func:`presets`); ValueError names the presets when unknown."""
    if name not in presets():
        raise ValueError(f"no preset {name!r}; presets: {', '.join(presets())}")
    return Path(str(resources.files("xlcomplaints").joinpath(PRESETS_DIR, f"{name}.toml")))


def load_preset(name: str, lang: str = "zh") -> tuple[PolicyRule, ...]:
    """A preset's rules, read as ``--policy`` reads a head office's file (none: the preset keeps the
    default rules, its file says why)."""
    return load_policy(preset_path(name), lang).rules




def load_policy(path: str | Path, lang: str = "zh") -> PolicyFile:
    """Rules and lists from a TOML file a head office imposes on every branch (``core.policy.parse_policy``
    says what it holds); a file that cannot be read or used raises PolicyFileError (``lang`` is kept
    for callers that pass it: the message is rendered in either language when shown)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise PolicyFileError("policy.toml_unreadable", path=path.name, detail=str(e)) from e
    return parse_policy(data, path.name)


def load_policy_file(path: str | Path, lang: str = "zh") -> tuple[PolicyRule, ...]:
    """The rules of a policy file (``load_policy``); a file without ``[[rule]]`` is refused."""
    rules = load_policy(path, lang).rules
    if not rules:
        raise PolicyFileError("policy.toml_no_rules", path=Path(path).name)
    return rules
