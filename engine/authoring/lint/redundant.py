"""veto-redundant, veto-implied, duplicate-condition: rules that add nothing to other rules.

A veto adds nothing when another veto holds whenever it does and caps at least as low::

    - {id: leadership_disciplined, when: "leadership_disciplined", cap: not_completed}
    - {id: disunity, when: "leadership_disciplined", cap: not_completed}   # a copy

nor when the grade levels above its cap already refuse every unit it holds for: each of
them has a condition the veto contradicts (a veto ``tasks_on_time < tasks_assigned``
capping at ``completed``, when ``good`` and ``excellent`` require
``tasks_on_time >= tasks_assigned``).  Such a veto can never change a grade.

A level condition that says the same as another condition of the level (or as its
``min_score`` band) is a copy, often of a condition meant to be different.
"""
from __future__ import annotations

from collections.abc import Iterator

from engine import keys
from engine.authoring.lint.check import Check, Finding
from engine.authoring.lint.ranges import Domain, formula, implies
from engine.compiling.compile import Plan
from engine.model import GRADES


def veto_redundant(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A veto that never lowers a grade: another veto holds whenever it does, with a cap as low or lower."""
    vetoes = plan.ruleset.vetoes
    decisions = [plan.by_key[keys.veto(v.id)] for v in vetoes]
    formulas = [formula(d.expr, domain) for d in decisions]
    for j, veto in enumerate(vetoes):
        for i, other in enumerate(vetoes):
            if i == j or GRADES.index(other.cap) < GRADES.index(veto.cap):
                continue
            if not implies(formulas[j], formulas[i], domain):
                continue
            same = implies(formulas[i], formulas[j], domain) and other.cap == veto.cap
            if same and i > j:
                continue  # of two copies, the later one is reported
            cap = f"at {other.cap} as well" if other.cap == veto.cap else f"at {other.cap}, lower than this veto's {veto.cap}"
            shown = f'vetoes[{other.id}] ("{decisions[i].source}")'
            what = f"this veto says the same as {shown}" if same else f"whenever this veto holds, {shown} holds too"
            yield Finding(f"{decisions[j].where}: {what}, which caps the grade {cap}; "
                          "this veto never lowers a grade on its own", decisions[j].path)
            break


def veto_implied(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A veto that never changes a grade: each level above its cap has a condition that fails whenever it holds."""
    for veto in plan.ruleset.vetoes:
        decision = plan.by_key[keys.veto(veto.id)]
        holds = formula(decision.expr, domain)
        above = [level for level in plan.ruleset.levels if GRADES.index(level.id) < GRADES.index(veto.cap)]
        refused: list[str] = []
        for level in above:
            tests = ([keys.band(level.id)] if level.min_score is not None else []) + \
                    [keys.level_condition(level.id, c.id) for c in level.conditions]
            failing = next((plan.by_key[k] for k in tests
                            if implies(holds, formula(plan.by_key[k].expr, domain, negate=True), domain)), None)
            if failing is None:
                break
            refused.append(f'{failing.where} ("{failing.source}")')
        else:
            if refused:
                yield Finding(f"{decision.where}: whenever this veto holds, every level above its cap {veto.cap} "
                              f"already fails: {'; '.join(refused)}; the veto never changes a grade (it caps what "
                              "the levels' own conditions already refuse)", decision.path)


def duplicate_condition(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A condition of a grade level that says the same as another condition of that level."""
    for level in plan.ruleset.levels:
        tests = ([keys.band(level.id)] if level.min_score is not None else []) + \
                [keys.level_condition(level.id, c.id) for c in level.conditions]
        decisions = [plan.by_key[k] for k in tests]
        formulas = [formula(d.expr, domain) for d in decisions]
        for j in range(1, len(decisions)):
            for i in range(j):
                if implies(formulas[j], formulas[i], domain) and implies(formulas[i], formulas[j], domain):
                    line = plan.loaded.source.position(decisions[i].path)[0]
                    yield Finding(f'{decisions[j].where} ("{decisions[j].source}") says the same as {decisions[i].where} '
                                  f'("{decisions[i].source}", line {line}); a unit meets both or neither, '
                                  "so one of them is redundant or was meant to be different", decisions[j].path)
                    break


CHECKS = (Check("veto-redundant", "warning", veto_redundant), Check("veto-implied", "warning", veto_implied),
          Check("duplicate-condition", "warning", duplicate_condition))
