"""The one spelling of a decision's key and of a rule's name.

A decision key names one condition a rule set states; the ledger stores the keys, ``audit
replay`` compares them and the explanations, coverage and diff name rules by them.  Their
spelling is a file format, so it is made here and nowhere else.
"""
from __future__ import annotations


def eligibility(requirement_id: object) -> str:
    return f"eligibility.{requirement_id}"


def tier(criterion_id: object, number: int) -> str:
    """A criterion's tier, counted from 1 (``criterion.<id>.tier<n>``)."""
    return f"criterion.{criterion_id}.tier{number}"


def veto(veto_id: object) -> str:
    return f"veto.{veto_id}"


def check(check_id: object) -> str:
    """A finance check's requirement."""
    return f"check.{check_id}"


def band(level_id: object) -> str:
    """A grade level's minimum score."""
    return f"level.{level_id}.band"


def level_condition(level_id: object, condition_id: object) -> str:
    return f"level.{level_id}.{condition_id}"


def title_condition(title_id: object, condition_id: object) -> str:
    return f"title.{title_id}.{condition_id}"


def criterion(criterion_id: object) -> str:
    """A criterion as a whole (its points), as coverage and impact name it."""
    return f"criterion.{criterion_id}"


def level(level_id: object) -> str:
    """A grade level as a whole (reached or not)."""
    return f"level.{level_id}"


def title(title_id: object) -> str:
    """A title as a whole (awarded or not)."""
    return f"title.{title_id}"


def group_score(group: object) -> str:
    """A criteria group's points, as conditions of grade levels and titles read them (not a decision)."""
    return f"group_score.{group}"


def constraint(constraint_id: object) -> str:
    """A constraint of the catalogue across a unit's facts (checked before grading, not a decision)."""
    return f"constraint.{constraint_id}"
