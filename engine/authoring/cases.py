"""Rule-set test cases: facts plus the expected result, in YAML a designer can read.

A case file names its rule set, a ``base`` unit and a list of ``cases``; each case
changes a few facts of the base (``null`` removes a fact) or lists several
``units`` for cohort rules such as the quota, and states what must come out.

A new year's file may ``inherit`` the cases of the parent year's file: they run against
the new rule set, moved into its year, and each one whose expected result changes
must be approved in the file with the new expectation and a reason.  A change nobody
approved fails; so does an approval the new rule set does not need.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine import yamlpos
from engine.backends.evaluate import Grader, UnitEvaluation
from engine.compiling.compile import Plan
from engine.errors import Problem, RuleSetError, UserInputError, did_you_mean
from engine.explaining.explain import missing_facts, reasons, verdict
from engine.reading.facts import Cell, moved_row, unit_from_row
from engine.reading.loading import display_path, load_model, read_text


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Optional[str] = None
    grade: Optional[str] = None
    score: Optional[float] = None
    titles: Optional[dict[str, Optional[bool]]] = None
    financial_audit: Optional[str] = None
    findings: Optional[list[str]] = None
    reasons: Optional[list[str]] = None
    rules: Optional[list[str]] = None
    missing_facts: Optional[list[str]] = None
    quota: Optional[str] = None  # kept | demoted


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: Optional[str] = None
    facts: dict[str, Any] = {}
    units: Optional[list[dict[str, Any]]] = None
    expect: dict[str, Any]


class Approval(BaseModel):
    """A parent case whose result the new rule set changes, on purpose."""

    model_config = ConfigDict(extra="forbid")
    case: str
    reason: str = Field(min_length=1)
    expect: Optional[dict[str, Any]] = None  # the new expectation, or
    drop: bool = False  # the case no longer applies to this year

    @model_validator(mode="after")
    def _one_of(self) -> "Approval":
        if (self.expect is None) == (not self.drop):
            raise ValueError("an approval gives either the new 'expect' or 'drop: true'")
        return self


class Inherit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_: str = Field(alias="from")
    base: dict[str, Any] = {}  # facts added to (or, null, removed from) the parent's base
    approved: list[Approval] = []


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ruleset: str
    description: Optional[str] = None
    inherit: Optional[Inherit] = None
    base: dict[str, Any] = {}
    cases: list[Case] = []

    @model_validator(mode="after")
    def _has_cases(self) -> "CaseFile":
        if not self.cases and self.inherit is None:
            raise ValueError("a case file needs 'cases', or 'inherit' to take them from the parent year")
        if self.cases and not self.base and self.inherit is None:
            raise ValueError("'cases' need a 'base' unit to start from")
        return self


@dataclass(frozen=True)
class CaseToRun:
    """One case as it runs: its own file's case, or a parent's case moved into this year."""

    case: Case
    base: dict[str, Any]
    file: str
    line: Optional[int]
    origin: str = ""  # "" for the file's own cases; else "inherited from <file>" (+ approval)
    parent_expect: Optional[dict[str, Any]] = None  # when an approval replaced it


@dataclass
class CaseResult:
    file: str
    name: str
    line: Optional[int]
    failures: list[str] = field(default_factory=list)
    evaluations: list[UnitEvaluation] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_cases(path: Path) -> tuple[CaseFile, yamlpos.Located]:
    cases, located = load_model(path, CaseFile)
    problems = []
    for i, case in enumerate(cases.cases):
        if case.units is None:
            problems += _expect_problems(located, ("cases", i, "expect"), f"cases[{case.name}].expect", case.expect)
        else:
            for unit_id, expect in case.expect.items():
                problems += _expect_problems(located, ("cases", i, "expect", unit_id),
                                             f"cases[{case.name}].expect.{unit_id}", expect)
    for j, approval in enumerate(cases.inherit.approved if cases.inherit else []):
        expect, path = approval.expect, ("inherit", "approved", j, "expect")
        if expect is None:
            continue
        if expect and all(isinstance(v, dict) for v in expect.values()) and not set(expect) & set(Expect.model_fields):
            for unit_id, one in expect.items():  # a case of several units: one expectation per unit id
                problems += _expect_problems(located, path + (unit_id,), f"approved[{approval.case}].expect.{unit_id}", one)
        else:
            problems += _expect_problems(located, path, f"approved[{approval.case}].expect", expect)
    if problems:
        raise RuleSetError(problems)
    return cases, located


def case_files_of(ruleset: Path) -> list[Path]:
    """The case files kept for a rule set: those in ``cases/`` next to it that name it.  A file whose target cannot
    even be read raises its own located problems (passing over it would pass a rule set whose cases were never
    run)."""
    wanted = ruleset.resolve()
    return [f for f in sorted((ruleset.parent / "cases").glob("*.yaml")) if _target(f) == wanted]


def _target(file: Path) -> Optional[Path]:
    """The rule set a case file names."""
    try:
        located, _ = yamlpos.load(read_text(file), display_path(file))
    except UserInputError:
        located = None
    target = located.data.get("ruleset") if located is not None and isinstance(located.data, dict) else None
    if not isinstance(target, str):
        load_cases(file)  # raises with the file's own located problems
        return None
    return (file.parent / target).resolve()


def _expect_problems(located: yamlpos.Located, path: tuple, where: str, raw: Any) -> list[Problem]:
    """An expectation checked when the file is read: a misspelt key would otherwise stop the run mid-way."""
    try:
        Expect.model_validate(raw)
        return []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = path + tuple(err["loc"])
            if err["type"] == "extra_forbidden":
                key = str(err["loc"][-1])
                problems.append(located.problem(loc, f"{where}: unexpected key '{key}'.{did_you_mean(key, Expect.model_fields)} "
                                                     f"Allowed keys are {sorted(Expect.model_fields)}", key=True))
            else:
                inner = ".".join(map(str, err["loc"]))
                problems.append(located.problem(loc, f"{where}{'.' + inner if inner else ''}: {err['msg']} "
                                                     f"(found {err.get('input')!r})"))
        return problems


def cases_to_run(path: Path, plan: Plan) -> list[CaseToRun]:
    """The file's inherited cases (in the parent's order), then its own, all in ``plan``'s year."""
    return _expand(path, plan, ())[0]


def _expand(path: Path, plan: Plan, chain: tuple[Path, ...]) -> tuple[list[CaseToRun], dict[str, Any]]:
    """A file's cases as they run under ``plan``, and the base its own cases start from.

    A parent may inherit in turn (an amendment's cases inherit the year's, which
    inherit the year before's): approvals accumulate down the chain.
    """
    file, located = load_cases(path)
    out: list[CaseToRun] = []
    inherited_base: dict[str, Any] = {}
    if file.inherit is not None:
        out, inherited_base = _inherited(path, file, located, plan, chain + (path.resolve(),))
    base = moved_row(file.base, _years(file.base, plan), plan.catalogue) if file.base else inherited_base
    names = {c.case.name for c in out}
    for i, case in enumerate(file.cases):
        if case.name in names:
            raise RuleSetError([located.problem(("cases", i, "name"), f"cases[{case.name}]: the name is used twice "
                                                "(by an inherited case or another case here); names must be unique")])
        names.add(case.name)
        shift = _years(file.base, plan) if file.base else 0
        out.append(CaseToRun(_moved_case(case, shift, plan), base, located.file, located.position(("cases", i))[0]))
    return out, base


def _years(base: dict[str, Any], plan: Plan) -> int:
    """How many years a file's cases move to reach ``plan``'s year (by its base's ``year``)."""
    try:
        return plan.ruleset.year - int(base.get("year", plan.ruleset.year))
    except (TypeError, ValueError):
        return 0  # the facts reader reports the malformed year


def _moved_case(case: Case, years: int, plan: Plan) -> Case:
    if not years:
        return case
    return case.model_copy(update={"facts": moved_row(case.facts, years, plan.catalogue),
                                   "units": None if case.units is None else [moved_row(u, years, plan.catalogue) for u in case.units]})


def _inherited(path: Path, file: CaseFile, located: yamlpos.Located, plan: Plan,
               chain: tuple[Path, ...]) -> tuple[list[CaseToRun], dict[str, Any]]:
    """The parent's cases as they run here (approvals applied), and the base they share."""
    assert file.inherit is not None
    parent_path = path.parent / file.inherit.from_
    if not parent_path.is_file():
        raise RuleSetError([located.problem(("inherit", "from"), f"inherit.from: no such file '{file.inherit.from_}'")])
    if parent_path.resolve() in chain:
        raise RuleSetError([located.problem(("inherit", "from"), f"inherit.from: '{file.inherit.from_}' inherits "
                                            "from this file again (a cycle)")])
    parents, parent_base = _expand(parent_path, plan, chain)
    names = {r.case.name for r in parents}
    approvals = {}
    for i, approval in enumerate(file.inherit.approved):
        if approval.case not in names:
            raise RuleSetError([located.problem(("inherit", "approved", i, "case"),
                                                f"inherit.approved[{i}].case: '{approval.case}' is not a case of "
                                                f"{display_path(parent_path)}.{did_you_mean(approval.case, names)}")])
        approvals[approval.case] = (approval, located.position(("inherit", "approved", i))[0])
    overlay = file.inherit.base  # written in this file's terms: not moved
    unknown = [k for k in overlay if k not in plan.catalogue.facts]
    if unknown:
        raise RuleSetError([located.problem(("inherit", "base", k), f"inherit.base: unknown fact '{k}'."
                                            f"{did_you_mean(k, plan.catalogue.facts)}", key=True) for k in unknown])
    out = []
    for run in parents:
        origin = run.origin or f"inherited from {run.file}"
        base = {**run.base, **overlay}
        if run.case.name not in approvals:
            out.append(CaseToRun(run.case, base, run.file, run.line, origin, run.parent_expect))
            continue
        approval, approval_line = approvals[run.case.name]
        if approval.drop:
            continue
        out.append(CaseToRun(run.case.model_copy(update={"expect": approval.expect}), base, located.file,
                             approval_line, f"{origin}, expectation changed: {approval.reason}", run.case.expect))
    return out, {**parent_base, **overlay}


def run_case(plan: Plan, grader: Grader, to_run: CaseToRun) -> CaseResult:
    """Grade the case's unit(s) and compare with what it expects; an approval must be needed."""
    out = _run(plan, grader, to_run.case, to_run.base, to_run.file, to_run.line)
    if to_run.parent_expect is not None and out.passed:
        before = _run(plan, grader, to_run.case.model_copy(update={"expect": to_run.parent_expect}),
                      to_run.base, to_run.file, to_run.line)
        if before.passed:
            out.failures.append("the approved change is not needed: the case passes with its parent's expectation; "
                                "remove the approval")
    return out


def _run(plan: Plan, grader: Grader, case: Case, base: dict[str, Any], file: str, line: Optional[int]) -> CaseResult:
    out = CaseResult(file, case.name, line)
    records = [dict(base, **u) for u in case.units] if case.units is not None else [dict(base)]
    if case.units is None:
        records[0].update(case.facts)
    problems = []
    units = []
    for n, rec in enumerate(records, start=1):
        rec = {k: v for k, v in rec.items() if v is not None}
        unknown = [k for k in rec if k not in plan.catalogue.facts]
        for k in unknown:
            problems.append(f"unknown fact '{k}'.{did_you_mean(k, plan.catalogue.facts)}")
        units.append(unit_from_row(n, {k: v for k, v in rec.items() if k not in unknown},
                                   {k: Cell(line, None) for k in rec}, plan.catalogue, file,
                                   plan.ruleset.year))
    if problems:
        raise RuleSetError([Problem(file, f"cases[{case.name}]: {p}", line) for p in problems])
    evaluations = grader.batch(units, cohort=case.units is not None)
    out.evaluations = evaluations
    by_id = {ev.unit.unit_id: ev for ev in evaluations}
    expectations = case.expect if case.units is not None else {evaluations[0].unit.unit_id: case.expect}
    for unit_id, raw in expectations.items():
        if unit_id not in by_id:
            out.failures.append(f"expected a unit '{unit_id}', but the case has {sorted(by_id)}")
            continue
        expect = Expect.model_validate(raw)
        out.failures += [f"{unit_id}: {f}" if case.units is not None else f for f in compare(plan, by_id[unit_id], expect)]
    return out


def actual(plan: Plan, ev: UnitEvaluation) -> dict[str, Any]:
    """The facets of a result a case can state, in the case file's vocabulary."""
    d = ev.decided
    from engine.values import number

    return {
        "status": ev.status,
        "grade": d.choice.grade if d else None,
        "score": float(number(d.one.score)) if d and d.one.score is not None else None,
        "titles": dict(d.titles) if d else {},
        "financial_audit": verdict(d.one.finance_passed) if d else None,
        "findings": [c for c, v in d.one.checks.items() if v is False] if d else [],
        "reasons": [r["code"] for r in reasons(plan, ev, "en")],
        "rules": [r["rule"] for r in reasons(plan, ev, "en") if r["rule"]],
        "missing_facts": missing_facts(plan, ev),
        "quota": None if ev.quota is None else ("kept" if ev.quota.kept else "demoted"),
    }


def compare(plan: Plan, ev: UnitEvaluation, expect: Expect) -> list[str]:
    got = actual(plan, ev)
    failures = []
    for key, wanted in expect.model_dump(exclude_unset=True).items():
        have = got[key]
        if key == "titles":
            for title, value in wanted.items():
                if have.get(title, "absent") != value:
                    failures.append(f"titles.{title}: expected {value}, got {have.get(title, 'absent')}")
        elif key in ("reasons", "rules") and isinstance(wanted, list):
            absent = [w for w in wanted if w not in have]
            if absent:
                failures.append(f"{key}: expected to include {absent}, got {have}")
        elif have != wanted:
            failures.append(f"{key}: expected {wanted!r}, got {have!r}")
    return failures
