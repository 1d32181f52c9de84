"""Which rules and outcomes of a rule set its test cases exercised, and which none did.

A case file proves a condition only if some case makes it hold and some case makes
it fail; a criterion only if every tier, and "no tier" (0 points), is awarded; a
grade, a status, a title, the financial verdict and the quota only if each of their
outcomes comes out of some case.  Everything is read from the evaluations the cases
already produced (decision outcomes keyed by decision key, the criteria's points,
grade, titles, verdict, quota effect): nothing is evaluated again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from engine import keys
from engine.authoring.cases import CaseResult
from engine.backends.evaluate import UnitEvaluation
from engine.compiling.compile import Plan
from engine.explaining.explain import labels_shown, ruleset_data
from engine.model import GRADE_LABELS, STATUSES


@dataclass
class Target:
    """One outcome some case should produce at least once (``held``, ``tier2``, ``reached``)."""

    name: str
    column: str  # the table column it counts in: held | not_held
    missing: str  # what the report says when no case produced it
    count: int = 0


@dataclass
class Row:
    """One rule of the rule set, or one kind of result, with what the cases made of it."""

    section: str
    rule: str  # decision key (``level.excellent.band``) or result (``level.excellent``, ``status.invalid``)
    where: str  # the same for a designer: ``levels[excellent].min_score``
    line: int | None
    label: dict[str, str] | None
    targets: list[Target]
    undecided: int | None = 0  # None: this row cannot be undecided

    def count(self, column: str) -> int | None:
        counts = [t.count for t in self.targets if t.column == column]
        return sum(counts) if counts else None

    def missing(self) -> list[Target]:
        return [t for t in self.targets if t.count == 0]

    def note(self) -> str:
        """The ``missing`` column: what no case produced, or that it was only ever undecided."""
        missing = self.missing()
        if missing and len(missing) == len(self.targets) and self.undecided:
            return "only undecided"
        return ", ".join(t.missing for t in missing)


def _decision_targets() -> list[Target]:
    return [Target("held", "held", "never held"), Target("not_held", "not_held", "never failed")]


@dataclass
class Coverage:
    """Counts, per rule of one rule set, the outcomes of every unit the cases evaluated."""

    plan: Plan
    rows: list[Row] = field(init=False)
    cases: int = 0
    units: int = 0

    def __post_init__(self) -> None:
        self.rows = list(_rows(self.plan))
        self._by_rule: dict[str, Row] = {row.rule: row for row in self.rows}

    def add_case(self, result: CaseResult) -> None:
        """Every unit a case graded counts, whether the case passed or not: it was exercised."""
        self.cases += 1
        for evaluation in result.evaluations:
            self.add(evaluation)

    def add(self, ev: UnitEvaluation) -> None:
        self.units += 1
        self._hit(f"status.{ev.status}", "reached")
        d = ev.decided
        if d is None:  # malformed facts: nothing was decided
            return
        for key, value in d.outcomes.items():
            self._three(key, value, "held", "not_held")
        for crit in d.one.criteria:
            if crit.max_points is None:  # does not apply to this workplace type: neither 0 points nor a tier
                continue
            if crit.points is None:
                self._by_rule[keys.criterion(crit.id)].undecided += 1
            else:
                self._hit(keys.criterion(crit.id), f"tier{crit.tier}" if crit.tier is not None else "none")
        if d.choice.grade is not None:
            self._hit(keys.level(d.choice.grade), "reached")
        for title, awarded in d.titles.items():
            self._three(keys.title(title), awarded, "awarded", "denied")
        self._three("finance", d.one.finance_passed, "pass", "fail")
        if ev.quota is not None and "quota" in self._by_rule:
            self._hit("quota", "kept" if ev.quota.kept else "demoted")

    def _hit(self, rule: str, target: str) -> None:
        next(t for t in self._by_rule[rule].targets if t.name == target).count += 1

    def _three(self, rule: str, value: bool | None, held: str, not_held: str) -> None:
        if value is None:
            self._by_rule[rule].undecided += 1
        else:
            self._hit(rule, held if value else not_held)

    @property
    def exercised(self) -> int:
        return sum(1 for row in self.rows for t in row.targets if t.count)

    @property
    def total(self) -> int:
        return sum(len(row.targets) for row in self.rows)

    def ratio(self) -> Fraction:
        return Fraction(self.exercised * 100, self.total) if self.total else Fraction(100)

    def percent(self) -> str:
        """One decimal, rounded down: 99.96% of outcomes is not shown as 100.0%."""
        tenths = int(self.ratio() * 10)
        return f"{tenths // 10}.{tenths % 10}"

    def report(self) -> dict:
        """The coverage as JSON-ready data, rows in rule-set order."""
        return {
            "ruleset": ruleset_data(self.plan), "file": self.plan.loaded.source.file,
            "cases": self.cases, "units": self.units,
            "exercised": self.exercised, "total": self.total, "percent": self.percent(),
            "rows": [{"section": r.section, "rule": r.rule, "where": r.where, "line": r.line, "label": r.label,
                      "held": r.count("held"), "not_held": r.count("not_held"), "undecided": r.undecided,
                      "outcomes": {t.name: t.count for t in r.targets},
                      "missing": [t.name for t in r.missing()], "note": r.note()}
                     for r in self.rows],
        }


def _rows(plan: Plan):
    """A row per rule and per kind of result, grouped by section, in the order of the rule set."""
    rs = plan.ruleset
    source = plan.loaded.source

    def line(path: tuple, key: bool = False) -> int | None:
        return source.position(path, key)[0]

    def decision(section: str, key: str, label: dict | None) -> Row:
        d = plan.by_key[key]
        return Row(section, key, d.where, line(d.path), label, _decision_targets())

    def reached(section: str, rule: str, where: str, path: tuple | None, label: dict | None) -> Row:
        return Row(section, rule, where, line(path) if path else None, label,
                   [Target("reached", "held", "never reached")], None)

    for status in STATUSES:
        yield reached("status", f"status.{status}", "", None, None)
    for r in rs.eligibility:
        yield decision("eligibility", keys.eligibility(r.id), labels_shown(plan, r.label))
    for i, (crit, compiled) in enumerate(zip(rs.criteria, plan.criteria)):
        tiers = [Target(f"tier{n}", "held", f"tier {n} never awarded") for n in range(1, len(crit.tiers) + 1)]
        yield Row("criteria", keys.criterion(crit.id), f"criteria[{crit.id}]", line(("criteria", i)), labels_shown(plan, crit.label),
                  tiers + [Target("none", "not_held", "0 points never given")])
        for tier, key in zip(crit.tiers, compiled.tier_keys):
            yield decision("criteria", key, labels_shown(plan, tier.label) if tier.label else None)
    for v in rs.vetoes:
        yield decision("vetoes", keys.veto(v.id), labels_shown(plan, v.label))
    for i, level in enumerate(rs.levels):
        yield reached("levels", keys.level(level.id), f"levels[{level.id}]", ("levels", i), GRADE_LABELS[level.id])
        if level.min_score is not None:
            yield decision("levels", keys.band(level.id), None)
        for c in level.conditions:
            yield decision("levels", keys.level_condition(level.id, c.id), labels_shown(plan, c.label))
    yield Row("finance", "finance", "finance", line(("finance",), key=True), None,
              [Target("pass", "held", "never passed"), Target("fail", "not_held", "never failed")])
    for c in rs.finance.checks:
        yield decision("finance", keys.check(c.id), labels_shown(plan, c.label))
    for i, title in enumerate(rs.titles):
        yield Row("titles", keys.title(title.id), f"titles[{title.id}]", line(("titles", i)), labels_shown(plan, title.label),
                  [Target("awarded", "held", "never awarded"), Target("denied", "not_held", "never denied")])
        for c in title.conditions:
            yield decision("titles", keys.title_condition(title.id, c.id), labels_shown(plan, c.label))
    if rs.quota is not None and rs.quota.enabled:
        yield Row("quota", "quota", "quota", line(("quota",), key=True), None,
                  [Target("kept", "held", "never kept"), Target("demoted", "not_held", "never demoted")], None)
