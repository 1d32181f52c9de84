"""A programme's targets (shares and counts of units) → a validated, compiled set, or every problem located.

Targets are policy written by the upper level, like rule sets: versioned YAML with a
content hash, each target naming the programme's item it comes from (``reference``).
What counts a unit is a grade, a title, a yes/no fact, a condition in the rule
language, or a mean of a percentage fact weighted by another fact; the units counted
over (``of``) are all units, the graded ones, or a group defined by a condition.  A
target no fact measures yet names the fact it needs and is reported as not measurable.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, model_validator

from engine.compiling.compile import Plan, checked_condition, symbols_for
from engine.errors import Problem, RuleSetError, did_you_mean
from engine.expr import ast
from engine.model import GRADES, Label, Strict
from engine.reading.loading import load_model

BUNDLED = Path("criteria") / "targets" / "cdytvn-2023-2028.yaml"
"""The bundled programme, beside the bundled ``rules/`` folder (as the rule sets are found, not beside the code:
an installed copy of the engine has no ``criteria/``)."""
OF_BUILT_IN = ("all", "graded")
"""The units a target may count over without a group: every unit of the file, or those given a grade."""


class Measure(Strict):
    """What counts a unit toward a target: exactly one of these."""

    grade_at_least: Optional[Literal["excellent", "good", "completed"]] = None
    title: Optional[str] = None
    fact: Optional[str] = None  # a yes/no fact that holds
    condition: Optional[str] = None  # on the unit's facts, in the rule language
    mean_of: Optional[str] = None  # a percentage fact, averaged ...
    weighted_by: Optional[str] = None  # ... weighted by this number fact
    needs_fact: Optional[str] = None  # a fact not collected yet: not measurable

    @model_validator(mode="after")
    def _one_kind(self) -> "Measure":
        given = [k for k in ("grade_at_least", "title", "fact", "condition", "mean_of", "needs_fact")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of grade_at_least, title, fact, condition, mean_of (with "
                             f"weighted_by) or needs_fact; found {', '.join(given) or 'none'}")
        if (self.weighted_by is not None) != (self.mean_of is not None):
            raise ValueError("mean_of and weighted_by go together: the percentage and what it is weighted by")
        return self


class Target(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    period: Literal["yearly", "term"] = "yearly"
    reference: str = Field(min_length=1)  # the programme's item
    text: str = Field(min_length=1)  # the programme's own words
    label: Label
    kind: Literal["share", "count"]
    at_least: float = Field(ge=0)
    of: str = "all"
    measure: Measure


class Group(Strict):
    label: Label
    condition: str = Field(min_length=1)


class TargetSet(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = Field(min_length=1)
    title: Label
    source: str = Field(min_length=1)
    groups: dict[str, Group] = Field(default_factory=dict)
    targets: list[Target] = Field(min_length=1)


@dataclass(frozen=True)
class Targets:
    """A target set checked against a rule set's catalogue and titles, its conditions compiled to syntax trees."""

    model: TargetSet
    path: str
    sha256: str
    conditions: dict[str, ast.Node]  # "group.<id>" and "target.<id>" → the condition's checked tree
    facts: tuple[str, ...]  # the facts the targets read, in file order


def load_targets(path: Path, plan: Plan) -> Targets:
    """The target set at ``path``, every problem located in it (unknown facts, titles, groups, bad conditions)."""
    model, located = load_model(path, TargetSet)
    problems: list[Problem] = []
    facts = plan.catalogue.facts
    symbols = symbols_for(plan.catalogue, plan.ruleset.year, [])[1]
    conditions: dict[str, ast.Node] = {}
    read: dict[str, None] = {}
    for gid, group in model.groups.items():
        node = checked_condition(group.condition, symbols, located, ("groups", gid, "condition"), problems)
        if node is not None:
            conditions[f"group.{gid}"] = node
            read.update(dict.fromkeys(ast.reading_order(node)))
    seen: set[str] = set()
    for i, target in enumerate(model.targets):
        where = ("targets", i)
        if target.id in seen:
            problems.append(located.problem(where + ("id",), f"targets[{target.id}]: the id is given twice"))
        seen.add(target.id)
        if target.of not in OF_BUILT_IN and target.of not in model.groups:
            choices = [*OF_BUILT_IN, *model.groups]
            problems.append(located.problem(where + ("of",), f"targets[{target.id}].of: unknown units '{target.of}'."
                                            f"{did_you_mean(target.of, choices)} Expected one of {choices}"))
        m = target.measure
        at = where + ("measure",)
        if target.kind == "share" and target.at_least > 100:
            problems.append(located.problem(where + ("at_least",), f"targets[{target.id}].at_least: a share is at most "
                                            f"100 (percent), found {target.at_least:g}"))
        if target.kind == "count" and m.mean_of is not None:
            problems.append(located.problem(where + ("kind",), f"targets[{target.id}].kind: a mean is a share, not a "
                                            "count: write kind: share"))
        if m.title is not None and m.title not in {t.id for t in plan.ruleset.titles}:
            titles = [t.id for t in plan.ruleset.titles]
            problems.append(located.problem(at + ("title",), f"targets[{target.id}].measure.title: the rule set has no "
                                            f"title '{m.title}'.{did_you_mean(m.title, titles)} Its titles: {titles}"))
        for key, wanted in (("fact", ("bool",)), ("mean_of", ("percentage",)),
                            ("weighted_by", ("int", "vnd", "decimal", "percentage"))):
            name = getattr(m, key)
            if name is None:
                continue
            if name not in facts:
                problems.append(located.problem(at + (key,), f"targets[{target.id}].measure.{key}: unknown fact "
                                                f"'{name}'.{did_you_mean(name, facts)} A fact the catalogue does not "
                                                "have yet is written needs_fact: and reported as not measurable"))
            elif facts[name].type not in wanted:
                problems.append(located.problem(at + (key,), f"targets[{target.id}].measure.{key}: '{name}' is a "
                                                f"{facts[name].type} fact; expected a {' or '.join(wanted)} fact"))
            else:
                read[name] = None
        if m.needs_fact is not None and m.needs_fact in facts:
            problems.append(located.problem(at + ("needs_fact",), f"targets[{target.id}].measure.needs_fact: the "
                                            f"catalogue has '{m.needs_fact}' now; measure the target with it "
                                            "(fact:, condition: or mean_of:)"))
        if m.condition is not None:
            node = checked_condition(m.condition, symbols, located, at + ("condition",), problems)
            if node is not None:
                conditions[f"target.{target.id}"] = node
                read.update(dict.fromkeys(ast.reading_order(node)))
    if problems:
        raise RuleSetError(problems)
    text = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return Targets(model, located.file, hashlib.sha256(text.encode("utf-8")).hexdigest(), conditions,
                   tuple(n for n in read if n in facts))


def grade_reaches(grade: Optional[str], level: str) -> bool:
    """``grade`` is ``level`` or better."""
    return grade is not None and GRADES.index(grade) <= GRADES.index(level)
