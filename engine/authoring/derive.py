"""A new rule set started from an existing one: next year, or the next amendment.

The designer's file is copied as text, so its comments and layout survive; only the
identity lines change (year, version, effective date, parent, catalogue path), and
the result must load before it is written.  Old versions are never touched.
"""
from __future__ import annotations

import datetime
import os
import re
from pathlib import Path
from typing import Optional

from engine.compiling.compile import Plan


def derive_text(parent: Plan, year: int, version: str, folder: Path,
                effective_from: Optional[datetime.date] = None) -> str:
    """The parent's text with the identity lines of ``year`` / ``version`` (effective from 1 January by default)."""
    source = Path(parent.loaded.path)
    text = source.read_text(encoding="utf-8-sig")
    catalogue = (source.parent / parent.ruleset.catalogue).resolve()
    relative = Path(os.path.relpath(catalogue, folder.resolve())).as_posix()
    reference = f"{parent.ruleset.id} {parent.ruleset.version} sha256:{parent.loaded.sha256}"
    if year != parent.ruleset.year:  # a new year: its title names it ("… năm 2025" → "… năm 2026")
        text = _relabel(text, parent.ruleset.year, year)
    text = _set(text, "year", str(year))
    text = _set(text, "version", f'"{version}"')
    text = _set(text, "effective_from", (effective_from or datetime.date(year, 1, 1)).isoformat())
    text = _set(text, "catalogue", relative)
    if re.search(r"(?m)^parent:", text):
        text = _set(text, "parent", f'"{reference}"')
    else:
        text = re.sub(r"(?m)^(version:.*)$", lambda m: f'{m.group(1)}\nparent: "{reference}"', text, count=1)
    return text


def _relabel(text: str, old: int, new: int) -> str:
    """The top-level ``label:`` (its lines up to the next top-level key) with the year ``old`` written as ``new``."""
    found = re.search(r"(?m)^label:.*(?:\n(?:[ \t#].*|))*", text)
    if found is None:
        return text
    label = re.sub(rf"(?<!\d){old}(?!\d)", str(new), found.group(0))
    return text[:found.start()] + label + text[found.end():]


def _set(text: str, key: str, value: str) -> str:
    """Replace a top-level ``key: value`` line, keeping any comment after it."""
    pattern = re.compile(rf"(?m)^{key}:[^#\n]*(#.*)?$")
    if not pattern.search(text):
        raise ValueError(f"the parent rule set has no top-level '{key}:' line")
    return pattern.sub(lambda m: f"{key}: {value}" + (f"  {m.group(1)}" if m.group(1) else ""), text, count=1)


def inheriting_cases_text(ruleset_file: str, parent_cases: str, version: str, parent_version: str) -> str:
    """A case file for a derived rule set: every case of the parent's, none approved yet.

    ``cdcs test`` then shows, case by case, what the new version changes; each change
    the designer means is approved here with its reason.
    """
    return (f"# Test cases for {version}: every case of {parent_version} ({parent_cases}), run against\n"
            f"# {version}.  A case whose result {version} changes fails until it is approved below with\n"
            "# the new expectation (or `drop: true`) and the reason; add this version's own cases\n"
            "# under `cases:` (they start from the inherited base unless they give their own).\n"
            f"ruleset: ../{ruleset_file}\n"
            "inherit:\n"
            f"  from: {parent_cases}\n"
            "  base: {}\n"
            "  approved: []\n")
