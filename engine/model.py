"""Pydantic models of the catalogue and of a rule set, as designers write them.

Unknown keys are errors everywhere (``extra="forbid"``): a misspelt key that is
silently ignored would change a grade without anyone noticing.  Conditions stay text
here; ``compile`` parses and type-checks them.
"""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Literal, Optional, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

GRADES: tuple[str, ...] = ("excellent", "good", "completed", "not_completed")
"""Grades from the top down (1294/HD-TLĐ: HTXSNV, HTTNV, HTNV, KHTNV)."""

GRADE_LABELS: dict[str, dict[str, str]] = {
    "excellent": {"vi": "Hoàn thành xuất sắc nhiệm vụ", "en": "Excellent"},
    "good": {"vi": "Hoàn thành tốt nhiệm vụ", "en": "Good"},
    "completed": {"vi": "Hoàn thành nhiệm vụ", "en": "Completed"},
    "not_completed": {"vi": "Không hoàn thành nhiệm vụ", "en": "Not completed"},
    "not_graded": {"vi": "Chưa xếp loại", "en": "Not graded"},
}

MAX_MAGNITUDE = 10 ** 13  # ten trillion: far above any union's money in VND, and exact in int64 after scaling

Id = str
GradeId = Literal["excellent", "good", "completed", "not_completed"]
Status = Literal["graded", "not_graded", "invalid"]  # a unit's: a grade given, not eligible, or facts that cannot be graded
STATUSES: tuple[str, ...] = get_args(Status)
FactType = Literal["bool", "int", "decimal", "vnd", "percentage", "date", "enum", "string"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(Strict):
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


# --- catalogue ------------------------------------------------------------------

class HistorySpec(Strict):
    """Where a fact comes from when a unit does not report it: the audit ledger's earlier years.

    ``grade``: the unit's standing grade the year before (``not_graded`` when it was not
    graded).  ``title_years``: how many consecutive years before this one the unit held
    ``title``.
    """

    kind: Literal["grade", "title_years"]
    title: Optional[str] = None

    @model_validator(mode="after")
    def _title_named(self) -> "HistorySpec":
        if (self.kind == "title_years") != (self.title is not None):
            raise ValueError("'title' is needed by kind title_years, and only by it")
        return self


class FactSpec(Strict):
    type: FactType
    label: Label
    unit: Optional[str] = None
    min: Optional[Decimal] = None
    max: Optional[Decimal] = None
    places: Optional[int] = Field(default=None, ge=0, le=4)
    values: Optional[dict[str, Label]] = None
    on_missing: Literal["required", "insufficient", "default"] = "insufficient"
    default: Any = None
    history: Optional[HistorySpec] = None  # filled from the audit ledger when the unit does not report it
    reports_only: Optional[bool] = None  # kept for reports (a breakdown, a programme's target): no rule need read it

    @model_validator(mode="after")
    def _consistent(self) -> "FactSpec":
        if self.type == "enum" and not self.values:
            raise ValueError("an enum fact needs 'values'")
        if self.type != "enum" and self.values is not None:
            raise ValueError(f"'values' is only for enum facts, not {self.type}")
        if self.places is not None and self.type not in ("decimal", "percentage"):
            raise ValueError("'places' is only for decimal and percentage facts")
        if self.default is not None and self.on_missing != "default":
            raise ValueError("'default' needs on_missing: default")
        if self.history is not None and self.history.kind == "grade" and self.type != "enum":
            raise ValueError("a fact from history of kind 'grade' must be an enum of the grades")
        if self.history is not None and self.history.kind == "title_years" and self.type != "int":
            raise ValueError("a fact from history of kind 'title_years' must be an int")
        return self

    @property
    def scale(self) -> int:
        """Decimal places kept exactly (the rule engine receives value × 10^scale)."""
        if self.type == "percentage":
            return 2 if self.places is None else self.places
        if self.type == "decimal":
            return 2 if self.places is None else self.places
        return 0

    @property
    def bounds(self) -> tuple[Optional[Decimal], Optional[Decimal]]:
        low, high = self.min, self.max
        if self.type == "percentage":
            low = Decimal(0) if low is None else low
            high = Decimal(100) if high is None else high
        if self.type == "vnd" and low is None:
            low = Decimal(0)
        # The rule engine computes in 64-bit integers (scaled by 10^places and by the
        # constants of a condition): keep every number far inside that range.
        limit = Decimal(MAX_MAGNITUDE)
        low = -limit if low is None else max(low, -limit)
        high = limit if high is None else min(high, limit)
        return low, high


class GroupSpec(Strict):
    label: Label


class Reference(Strict):
    """Where a rule comes from in the policy: the document, and the article or item; a link or page if there is one.

    Shown beside the rule in an explanation, so that "where does 95% come from" is answered by the result."""

    document: str = Field(min_length=1)
    article: Optional[str] = None
    page: Optional[Union[int, str]] = None
    url: Optional[str] = None


class Constraint(Strict):
    """What a unit's facts must satisfy together (``tasks_on_time <= tasks_assigned``): a unit whose reported facts
    break it is invalid, at its cells, before it is graded."""

    require: str
    label: Label
    reference: Optional[Reference] = None


class Catalogue(Strict):
    """Facts and groups; a later version ``extends`` an earlier file and adds or redefines facts.

    Extending instead of editing keeps an earlier catalogue, and so the hash of every rule
    set that names it, unchanged when a new year needs new facts.
    """

    id: Id
    version: str
    extends: Optional[str] = None
    groups: dict[Id, GroupSpec]
    facts: dict[Id, FactSpec]
    constraints: Optional[dict[Id, Constraint]] = None  # across facts, by id; a later version adds or replaces

    @field_validator("facts")
    @classmethod
    def _identity_facts(cls, facts: dict[str, FactSpec]) -> dict[str, FactSpec]:
        for needed in ("unit_id", "name", "year", "workplace_type"):
            if needed not in facts:
                raise ValueError(f"the catalogue must declare the fact '{needed}'")
        return facts


# --- rule set ----------------------------------------------------------------------

class Basis(Strict):
    reference: str
    covers: Optional[str] = None
    note: Optional[str] = None


class Requirement(Strict):
    """A condition that must hold (eligibility, a grade level, a title)."""

    id: Id
    label: Label
    require: str
    reference: Optional[Reference] = None


class Tier(Strict):
    when: str
    award_pct: int = Field(ge=0, le=100)
    label: Optional[Label] = None
    reference: Optional[Reference] = None


class Criterion(Strict):
    id: Id
    group: Id
    label: Label
    points: Union[int, dict[str, Optional[int]]]
    tiers: list[Tier] = Field(min_length=1)
    reference: Optional[Reference] = None

    @field_validator("points")
    @classmethod
    def _non_negative(cls, points):
        values = [points] if isinstance(points, int) else [v for v in points.values() if v is not None]
        if any(v < 0 for v in values):
            raise ValueError("points must not be negative")
        return points


class Level(Strict):
    id: GradeId
    min_score: Optional[Decimal] = None
    conditions: list[Requirement] = []
    reference: Optional[Reference] = None  # of the level's score band (min_score)


class Veto(Strict):
    id: Id
    label: Label
    when: str
    cap: GradeId
    reference: Optional[Reference] = None


class FinanceCheck(Strict):
    id: Id
    label: Label
    require: str
    severity: Literal["required", "advisory"] = "required"
    finding: Label
    reference: Optional[Reference] = None


class Finance(Strict):
    checks: list[FinanceCheck] = Field(min_length=1)


class Title(Strict):
    id: Id
    label: Label
    conditions: list[Requirement] = Field(min_length=1)
    reference: Optional[Reference] = None


class RankKey(Strict):
    key: str
    order: Literal["asc", "desc"] = "desc"


class Quota(Strict):
    """Decree 335/2025 style: excellent may not exceed a share of a base count."""

    enabled: bool = True
    level: GradeId = "excellent"
    share_pct: int = Field(ge=0, le=100)
    of_levels: list[GradeId] = Field(min_length=1)
    demote_to: GradeId
    cohort_by: Optional[Union[str, list[str]]] = None  # a fact, or several: units with similar tasks
    rank_by: list[RankKey] = Field(min_length=1)
    basis: Optional[str] = None
    # a unit without a cohort fact: graded invalid, or ranked in a cohort of its own (unset: one cohort of all such)
    missing_cohort: Optional[Literal["invalid", "own"]] = None
    rounding: Optional[Literal["floor", "nearest"]] = None  # of share × base to whole places (unset: floor)
    at_least_one_from: Optional[int] = Field(default=None, ge=1)  # a cohort this large in the base has a place
    exempt_if: Optional[str] = None  # a true/false fact: a unit for which it holds is outside the quota

    @property
    def cohort_facts(self) -> list[str]:
        return [] if self.cohort_by is None else [self.cohort_by] if isinstance(self.cohort_by, str) else self.cohort_by


ParamValue = Union[bool, int, Decimal, datetime.date, str]  # a number, "30%", a date, true/false, or a text


class DatedValue(Strict):
    since: datetime.date
    value: ParamValue


class Param(Strict):
    """A value the policy sets, named once and read by name in conditions: a threshold, a rate, a date.

    ``values`` (each from a day on) for a value that changes during the year, as the union dues rate did on
    1 July 2025; ``value`` for one that does not."""

    label: Label
    value: Optional[ParamValue] = None
    values: Optional[list[DatedValue]] = Field(default=None, min_length=1)
    unit: Optional[str] = None
    reference: Optional[Reference] = None

    @model_validator(mode="after")
    def _one_way(self) -> "Param":
        if (self.value is None) == (self.values is None):
            raise ValueError("give 'value', or 'values' (each with 'since'), not both and not neither")
        if self.values is not None and [v.since for v in self.values] != sorted({v.since for v in self.values}):
            raise ValueError("'values' must be in order of 'since', each day once")
        return self


class GroupPoints(Strict):
    """The points a criteria group is worth per workplace type, as the guidance's table states them."""

    max_points: Union[int, dict[str, Optional[int]]]


class RuleSet(Strict):
    id: Id
    year: int = Field(ge=2000, le=2100)
    version: str
    effective_from: datetime.date
    label: Label
    catalogue: str
    parent: Optional[str] = None
    scale: int = 100
    basis: list[Basis] = Field(min_length=1)
    provisional: Optional[str] = None
    eligibility: list[Requirement] = []
    criteria: list[Criterion] = Field(min_length=1)
    levels: list[Level] = Field(min_length=1)
    vetoes: list[Veto] = []
    finance: Finance
    titles: list[Title] = []
    quota: Optional[Quota] = None
    groups: Optional[dict[Id, GroupPoints]] = None  # declared per-group maxima, checked against the criteria
    params: Optional[dict[Id, Param]] = None  # named values the conditions read

    @field_validator("version")
    @classmethod
    def _version_shape(cls, version: str) -> str:
        head, _, tail = version.partition(".")
        if not (head.isdigit() and tail.isdigit()):
            raise ValueError(f"version must look like '2024.1' (year.amendment), not '{version}'")
        return version
