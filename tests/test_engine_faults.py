"""The rule engine's silent failure modes are detected, never turned into a grade."""
from __future__ import annotations


import durable.engine as durable_engine
import pytest

from conftest import ROOT, compiled
from engine.backends.durable import DurableBackend
from engine.errors import EngineFault
from engine.backends.evaluate import TraceBackend, decide_unit
from engine.reading.facts import load_facts


def _first_unit(plan):
    return load_facts(ROOT / "examples" / "province_2024.csv", plan.catalogue, plan.ruleset.year).units[0]


def test_engine_that_abandons_a_facts_actions_raises_instead_of_deciding(monkeypatch):
    """durable-rules stops running a fact's actions when one started over 10 s (wall
    clock) before: a long pause would silently turn held conditions into failed ones."""
    plan, _ = compiled("rules/2024/ruleset-2024.1.yaml")
    backend = DurableBackend(plan)
    unit = _first_unit(plan)
    real, calls = durable_engine._unix_now, [0]

    def clock_that_jumps():
        calls[0] += 1
        return real() + (11 if calls[0] % 2 == 0 else 0)

    monkeypatch.setattr(durable_engine, "_unix_now", clock_that_jumps)
    with pytest.raises(EngineFault, match="stopped running the actions"):
        decide_unit(plan, backend, unit.values)


def test_engine_recovers_from_one_abandoned_fact(monkeypatch):
    plan, _ = compiled("rules/2024/ruleset-2024.1.yaml")
    backend = DurableBackend(plan)
    unit = _first_unit(plan)
    real, jumps = durable_engine._unix_now, [1]

    def clock_that_jumps_once():
        if jumps[0]:
            jumps[0] -= 1
            return real() - 11  # the first action looks as if it started 11 s ago
        return real()

    monkeypatch.setattr(durable_engine, "_unix_now", clock_that_jumps_once)
    decided = decide_unit(plan, backend, unit.values)
    monkeypatch.setattr(durable_engine, "_unix_now", real)
    assert decided.outcomes == decide_unit(plan, TraceBackend(plan), unit.values).outcomes
