"""The cohort quota (Decree 335/2025 style): excellent may not exceed a share of a base.

It ranks units against each other, so it runs after every unit of the batch is
graded.  Allowed = share × units graded in the base levels, per cohort; the
candidates are ranked by the rule set's keys and, last, by unit id, so the same
batch always keeps the same units.  What makes a cohort (one fact or several), what
becomes of a unit that does not report it, and how the share is rounded are the rule
set's to say (:func:`cohort_key`, :func:`places`).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cmp_to_key
from typing import Any, Mapping, Optional

from engine.model import Quota
from engine.values import data


@dataclass(frozen=True)
class QuotaCandidate:
    unit_id: str
    cohort: str
    grade: Optional[str]
    keys: tuple[Any, ...]  # values of the rule set's rank keys (None when unknown)


@dataclass(frozen=True)
class QuotaEffect:
    cohort: str
    level: str
    base_levels: tuple[str, ...]
    base_count: int
    share_pct: int
    allowed: int
    candidates: int
    rank: int
    kept: bool
    demote_to: Optional[str]
    rank_by: tuple[tuple[str, str, Any], ...]  # (key, order, this unit's value)


def cohort_key(quota: Quota, values: Mapping[str, Any], unit_id: str) -> str:
    """The cohort a unit is ranked in: the values of the ``cohort_by`` facts (``""``: one cohort for all).

    A unit that does not report one of them is ranked in a cohort of its own when the rule set says
    ``missing_cohort: own``; otherwise with every other such unit, in the cohort ``""`` (a rule set that says
    ``invalid`` has made it invalid before it was graded)."""
    names = quota.cohort_facts
    if not names:
        return ""
    parts = [values.get(name) for name in names]
    if any(part is None or part == "" for part in parts):
        return f"({unit_id} alone)" if quota.missing_cohort == "own" else ""
    return " / ".join(str(part) for part in parts)


def places(quota: Quota, base_count: int) -> int:
    """How many units of a cohort may keep the level: share × base, rounded as the rule set says (down unless it
    says ``nearest``, a half up), at least one in a cohort of ``at_least_one_from`` units or more."""
    allowed = rounded(quota, base_count)
    if quota.at_least_one_from is not None and base_count >= quota.at_least_one_from:
        allowed = max(allowed, 1)
    return allowed


def rounded(quota: Quota, base_count: int) -> int:
    """Share × base rounded to whole places as the rule set says, before any floor of one place."""
    exact = Fraction(quota.share_pct * base_count, 100)
    return int(exact) if quota.rounding != "nearest" else int(exact + Fraction(1, 2))


def exempt(quota: Quota, values: Mapping[str, Any]) -> bool:
    """A unit outside the quota (``exempt_if``: an outstanding organisation, as the decree excepts it): it keeps the
    grade it earns and takes no place; it is counted in the base as any unit graded there."""
    return quota.exempt_if is not None and values.get(quota.exempt_if) is True


def apply_quota(quota: Quota, units: list[QuotaCandidate], exempted: frozenset[str] = frozenset()) -> dict[str, QuotaEffect]:
    """Effect on every unit the quota touches (every candidate for the capped level, less the ``exempted`` unit
    ids), from every graded unit."""
    base: dict[str, int] = {}
    for u in units:
        if u.grade in quota.of_levels:
            base[u.cohort] = base.get(u.cohort, 0) + 1
    return place(quota, [u for u in units if u.grade == quota.level and u.unit_id not in exempted], base)


def place(quota: Quota, candidates: list[QuotaCandidate], base: dict[str, int]) -> dict[str, QuotaEffect]:
    """Effect on each candidate, given how many units of each cohort are graded in the base levels.

    A batch too large to keep keeps only these: the candidates and a count per cohort.
    """
    effects: dict[str, QuotaEffect] = {}
    by_cohort: dict[str, list[QuotaCandidate]] = {}
    for u in candidates:
        by_cohort.setdefault(u.cohort, []).append(u)
    for cohort in sorted(by_cohort):
        count = base.get(cohort, 0)
        allowed = places(quota, count)
        ranked = sorted(by_cohort[cohort], key=cmp_to_key(_comparer(quota)))
        for rank, unit in enumerate(ranked, start=1):
            kept = rank <= allowed
            effects[unit.unit_id] = QuotaEffect(
                cohort, quota.level, tuple(quota.of_levels), count, quota.share_pct, allowed, len(ranked), rank,
                kept, None if kept else quota.demote_to,
                tuple((k.key, k.order, data(v)) for k, v in zip(quota.rank_by, unit.keys)))
    return effects


def _comparer(quota: Quota):
    def compare(a: QuotaCandidate, b: QuotaCandidate) -> int:
        for key, x, y in zip(quota.rank_by, a.keys, b.keys):
            if x == y:
                continue
            if x is None:  # an unknown value ranks after every known one
                return 1
            if y is None:
                return -1
            smaller = x < y
            return (1 if smaller else -1) if key.order == "desc" else (-1 if smaller else 1)
        return (a.unit_id > b.unit_id) - (a.unit_id < b.unit_id)
    return compare


