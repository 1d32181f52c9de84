"""Starting a rule set's next version (``cdcs new-year``, ``cdcs amend``): where it goes and what it is numbered,
the derived file written with a case file inheriting each of the parent's, and what was written checked to load.
An existing file is never replaced: a version once written is amended, not started over."""
from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from engine.authoring.cases import case_files_of
from engine.authoring.derive import derive_text, inheriting_cases_text
from engine.compiling.compile import Plan, compile_file
from engine.errors import CannotWrite
from engine.reading.loading import display_path, find_rules_root
from engine.rendering import render


@dataclass(frozen=True)
class Written:
    """A file the derivation wrote, or kept because it was there already; ``source``: what it copies or
    inherits."""

    path: Path
    source: str
    kept: bool = False


def first_of_year(year: int) -> tuple[Path, str]:
    """Where a year's first rule set goes among the bundled ones, and its version."""
    return find_rules_root() / str(year) / f"ruleset-{year}.1.yaml", f"{year}.1"


def next_amendment(parent: Plan) -> tuple[Path, str]:
    """The amendment after ``parent``: numbered after every version of its year beside it (2025.1 → 2025.2, or
    after a 2025.3 already there)."""
    year, number = parent.ruleset.year, int(parent.ruleset.version.split(".")[1])
    folder = Path(parent.loaded.path).parent
    taken = {int(m) for f in folder.glob(f"ruleset-{year}.*.yaml") for m in [f.stem.rsplit(".", 1)[-1]] if m.isdigit()}
    version = f"{year}.{max(taken | {number}) + 1}"
    return folder / f"ruleset-{version}.yaml", version


def derive(parent: Plan, target: Path, version: str, effective_from: Optional[datetime.date]) -> list[Written]:
    """Write ``target`` as ``parent`` derived to ``version`` (its year is the version's), and beside it a case file
    inheriting each of the parent's case files; the rule set written must load."""
    year = int(version.split(".")[0])
    parent_path = Path(parent.loaded.path)
    parent_cases = case_files_of(parent_path)  # read before anything is written: a broken one stops it all
    _write_new(target, derive_text(parent, year, version, target.parent, effective_from))
    compile_file(target)  # what was written must load
    written = [Written(target, f"parent {parent.ruleset.id} {parent.ruleset.version}")]
    cases_folder = target.parent / "cases"
    for cases in parent_cases:
        name = f"{_unversioned(cases.stem)}{'' if cases_folder != cases.parent else '-' + version}.yaml"
        out = cases_folder / name
        if out.exists():
            written.append(Written(out, "it exists already", kept=True))
            continue
        relative = Path(os.path.relpath(cases.resolve(), cases_folder.resolve())).as_posix()
        _write_new(out, inheriting_cases_text(target.name, relative, version, parent.ruleset.version))
        written.append(Written(out, f"inherits the cases of {display_path(cases)}"))
    return written


def _unversioned(stem: str) -> str:
    """A case file's name without the version an earlier derivation gave it: ``grading-2025.2`` → ``grading``, so
    the next is ``grading-2025.3`` (an amendment, beside it) or ``grading`` (a new year, in its own folder)."""
    return re.sub(r"-\d{4}\.\d+$", "", stem) or stem


def _write_new(out: Path, text: str) -> None:
    """Write ``out`` whole (renamed when complete), in folders made for it."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        where = display_path(Path(exc.filename or out.parent))
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            exc = OSError(exc.errno, "a file of that name stands where a folder is needed")
        raise CannotWrite(where, exc) from None
    with render.Output(out) as output:
        output.write(text)
