"""Rule-set test cases: facts plus the expected result, in YAML a designer can read.

A case file names its rule set, a ``base`` unit and a list of ``cases``; each case
changes a few facts of the base (``null`` removes a fact) or lists several
``units`` for cohort rules such as the quota, and states what must come out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field

from engine import yamlpos
from engine.compile import Plan
from engine.errors import Problem, RuleSetError, did_you_mean
from engine.evaluate import Grader, UnitEvaluation
from engine.explain import missing_facts, reasons, verdict
from engine.facts import Cell, unit_from_record
from engine.loading import load_model


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


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ruleset: str
    description: Optional[str] = None
    base: dict[str, Any]
    cases: list[Case] = Field(min_length=1)


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
    return load_model(path, CaseFile)


def run_case_file(path: Path, plan: Plan, grader: Optional[Grader] = None) -> list[CaseResult]:
    cases, located = load_cases(path)
    grader = grader or Grader(plan)
    return [run_case(plan, grader, cases, i, located) for i in range(len(cases.cases))]


def run_case(plan: Plan, grader: Grader, file: CaseFile, index: int, located: yamlpos.Located) -> CaseResult:
    case = file.cases[index]
    line = located.position(("cases", index))[0]
    out = CaseResult(located.file, case.name, line)
    records = [dict(file.base, **u) for u in case.units] if case.units is not None else [dict(file.base)]
    if case.units is None:
        records[0].update(case.facts)
    problems = []
    units = []
    for n, rec in enumerate(records, start=1):
        rec = {k: v for k, v in rec.items() if v is not None}
        unknown = [k for k in rec if k not in plan.catalogue.facts]
        for k in unknown:
            problems.append(f"unknown fact '{k}'.{did_you_mean(k, plan.catalogue.facts)}")
        units.append(unit_from_record(n, {k: v for k, v in rec.items() if k not in unknown},
                                      {k: Cell(line, None) for k in rec}, plan.catalogue, located.file,
                                      plan.ruleset.year))
    if problems:
        raise RuleSetError([Problem(located.file, f"cases[{case.name}]: {p}", line) for p in problems])
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
    from engine.explain import number

    return {
        "status": ev.status,
        "grade": d.choice.grade if d else None,
        "score": float(number(d.one.score)) if d and d.one.score is not None else None,
        "titles": dict(d.titles) if d else {},
        "financial_audit": verdict(d.one.finance_passed) if d else None,
        "findings": [c for c, v in d.one.checks.items() if v is False] if d else [],
        "reasons": [r["code"] for r in reasons(plan, ev, "en")],
        "rules": [r["rule"] for r in reasons(plan, ev, "en") if r["rule"]],
        "missing_facts": missing_facts(ev),
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
