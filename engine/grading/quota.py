"""The cohort quota (Decree 335/2025 style): excellent may not exceed a share of a base.

It ranks units against each other, so it runs after every unit of the batch is
graded.  Allowed = floor(share × units graded in the base levels) per cohort; the
candidates are ranked by the rule set's keys and, last, by unit id, so the same
batch always keeps the same units.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cmp_to_key
from typing import Any, Optional

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


def apply_quota(quota: Quota, units: list[QuotaCandidate]) -> dict[str, QuotaEffect]:
    """Effect on every unit the quota touches (every candidate for the capped level), from every graded unit."""
    base: dict[str, int] = {}
    for u in units:
        if u.grade in quota.of_levels:
            base[u.cohort] = base.get(u.cohort, 0) + 1
    return place(quota, [u for u in units if u.grade == quota.level], base)


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
        allowed = int(Fraction(quota.share_pct * count, 100))  # floor: "may not exceed"
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


