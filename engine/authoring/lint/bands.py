"""band-unreachable: a grade whose score band no reachable score falls in.

Levels are tried from the top down; a level's band runs from its ``min_score`` up to
(not including) the band above it, and the last level is the fallback, so no score is
without a grade and taking the highest level that holds is by design, not an overlap.
What can be wrong is a band that no unit can score in:

- a ``min_score`` equal to the one above it (the band is empty)::

      - {id: excellent, min_score: 90}
      - {id: good, min_score: 90}

- a ``min_score`` above the best score a workplace type can reach (when the best tier
  of some criterion awards less than 100%, or never holds);
- a band between two reachable scores: with points in halves, no score lies in
  ``89.7 <= score < 90``.

Scores are the sums of each criterion's possible awards (none, or a tier's share)
for each workplace type, so the check is exact about granularity.  The compiler
already refuses bands that rise or leave ``0..scale``; these are warnings because the
rule set still grades every unit.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Optional
from collections.abc import Iterator

from engine.authoring.lint.check import Check, Finding
from engine.authoring.lint.ranges import Domain, formula, show_number, verdict
from engine.compiling.compile import Plan

LIMIT = 100_000  # more distinct sums than this: treat scores as continuous (never a false warning)


def reachable_scores(plan: Plan, domain: Domain, workplace_type: str) -> tuple[Optional[set[Fraction]], Fraction]:
    """Every score a unit of this type can reach (None when too many to list), and the best one."""
    sums: Optional[set[Fraction]] = {Fraction(0)}
    best = Fraction(0)
    for crit in plan.criteria:
        points = crit.points[workplace_type]
        if not points:
            continue
        tiers = zip(crit.tier_keys, crit.tier_awards, strict=True)
        options = {Fraction(0)} | {Fraction(points * award, 100) for key, award in tiers
                                   if verdict(formula(plan.by_key[key].expr, domain), domain)[0] is not False}
        best += max(options)
        if sums is not None:
            sums = {s + o for s in sums for o in options}
            if len(sums) > LIMIT:
                sums = None
    return sums, best


def band_unreachable(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A grade level whose score band no unit can reach."""
    levels = [(i, lv) for i, lv in enumerate(plan.ruleset.levels) if lv.min_score is not None]
    scores = {t: reachable_scores(plan, domain, t) for t in plan.workplace_types}
    for n, (i, level) in enumerate(levels):
        low = Fraction(level.min_score)
        above = levels[n - 1][1] if n else None
        high = Fraction(above.min_score) if above is not None else None
        where = ("levels", i, "min_score")
        shown = show_number(low)
        if high is not None and low == high:
            yield Finding(f"levels[{level.id}].min_score {shown} equals the min_score of {above.id}: no score falls in "
                          f"this band, so {level.id} is given only to units that reach {shown} but miss a condition "
                          f"of {above.id}", where)
            continue
        reasons: dict[str, list[str]] = {}
        for workplace_type, (sums, best) in scores.items():
            reason = _unreached(sums, best, low, high)
            if reason is not None:
                reasons.setdefault(reason, []).append(workplace_type)
        for reason, types in reasons.items():
            who = "no unit" if len(types) == len(scores) else \
                f"no unit of workplace type{'s' if len(types) > 1 else ''} {types}"
            yield Finding(f"levels[{level.id}].min_score {shown}: {who} can score in this band ({reason})", where)


def _unreached(sums: Optional[set[Fraction]], best: Fraction, low: Fraction, high: Optional[Fraction]) -> Optional[str]:
    """Why no reachable score lies in ``low <= score < high``, or None when one does."""
    if best < low:
        return f"the best score there is {show_number(best)}"
    if sums is None or high is None:
        return None
    if any(low <= s < high for s in sums):
        return None
    below = max(s for s in sums if s < low)
    over = min(s for s in sums if s >= high)
    return (f"from {show_number(low)} to under {show_number(high)}; "
            f"reachable scores go from {show_number(below)} to {show_number(over)}")


CHECKS = (Check("band-unreachable", "warning", band_unreachable),)
