"""The rule-engine back end: decisions run in durable_rules, one session per unit.

One host per process, without its background threads (they ran actions after
``assert_fact`` returned and crashed after ``delete_state``).  Each unit's session
is deleted as soon as its stage is decided: at most one session is ever live, so
the 1,024-session limit and the engine's 32-bit session-id hashes cannot bite.
"""
from __future__ import annotations

import locale
from typing import Any, Mapping, Optional

from durable import engine as durable_engine

from engine.compile import Plan
from engine.errors import EngineFault, EnvironmentProblem, RuleSetError
from engine.compile_durable import ZERO, CompileLimit, StageRuleset, combine, compile_stage, leaf_rules, splittable
from engine.integers import field_name, to_engine


class _QuietHost(durable_engine.Host):
    def _run(self) -> None:  # no background dispatch threads: everything runs in assert_fact
        return None


_HOST: Optional[_QuietHost] = None
_REGISTERED: dict[str, list[tuple[int, bool]]] = {}  # ruleset name → its action sink


def _host() -> _QuietHost:
    global _HOST
    if _HOST is None:
        point = locale.localeconv()["decimal_point"]
        if point != ".":
            raise EnvironmentProblem(f"the numeric locale uses {point!r} as decimal point; durable-rules would misread "
                                     "numbers. Unset LC_NUMERIC / LC_ALL before grading")
        _HOST = _QuietHost()
    return _HOST


class DurableBackend:
    """Decides a plan's decisions in the rule engine; see :mod:`engine.compile_durable`."""

    name = "durable_rules"

    def __init__(self, plan: Plan):
        self.plan = plan
        self.host = _host()
        self.stages: dict[int, list[tuple[StageRuleset, list, frozenset]]] = {}
        self._sid = 0
        try:
            for stage in (1, 2, 3):
                self.stages[stage] = self._register(stage)
        except CompileLimit as exc:
            decision = plan.by_key[exc.key]
            raise RuleSetError([plan.loaded.source.problem(decision.path, f"{decision.where}: {exc.message}")]) from None

    def _register(self, stage: int) -> list[tuple[StageRuleset, list, frozenset]]:
        """Register the stage's rulesets, splitting conditions the engine finds too large."""
        split: frozenset[str] = frozenset()
        while True:
            compiled = compile_stage(self.plan, stage, split)
            too_large = set()
            for ruleset in compiled:
                if ruleset.name not in _REGISTERED and not self._try_register(ruleset.name, ruleset.definition):
                    too_large |= self._probe(stage, ruleset)
            if not too_large:
                return [(r, _REGISTERED[r.name], frozenset().union(*(leaf.reads for leaf in r.leaves))) for r in compiled]
            split = split | too_large

    def _try_register(self, name: str, definition: dict) -> bool:
        sink: list[tuple[int, bool]] = []
        bound = {rule: dict(body, run=_appender(sink, *body["run"])) for rule, body in definition.items()}
        try:
            self.host.register_rulesets({name: bound})
        except Exception as exc:  # durable-rules raises a bare Exception with an error code
            if "error code" not in str(exc):
                raise
            return False
        _REGISTERED[name] = sink
        return True

    def _probe(self, stage: int, ruleset: StageRuleset) -> set[str]:
        """Which leaves the engine refuses, registered one by one under throwaway names."""
        refused = set()
        for leaf in ruleset.leaves:
            rules = leaf_rules(self.plan, f"s{stage}", leaf)
            if rules and not self._try_register(f"{ruleset.name}_probe{leaf.index}", rules):
                if not splittable(leaf.expr):
                    raise CompileLimit(leaf.key.split("#")[0], f"'{leaf.expr.text}' is too large for one rule of the "
                                       "rule engine; split it into several conditions")
                refused.add(leaf.key)
        return refused

    def decide(self, stage: int, env: Mapping[str, Any]) -> dict[str, Optional[bool]]:
        """Outcome of every decision of the stage: True, False, or None (unknown)."""
        out: dict[str, Optional[bool]] = {}
        for ruleset, sink, reads in self.stages[stage]:
            fact: dict[str, Any] = {"kind": f"s{stage}", ZERO: 0}
            for key in sorted(reads):
                if key in env:
                    fact[field_name(key)] = to_engine(self.plan, key, env[key])
            fired = self._assert(ruleset.name, fact, sink)
            leaves = [fired[leaf.index] if leaf.index in fired else
                      (leaf.usual if all(r in env for r in leaf.reads) else None) for leaf in ruleset.leaves]
            for decision, shape in zip(ruleset.decisions, ruleset.shapes):
                out[decision.key] = combine(shape, leaves)
        return out


    def _assert(self, name: str, fact: dict, sink: list) -> dict[int, bool]:
        """Which leaves' rules fired for this fact; retried once if the engine cut its run short.

        durable-rules stops running a fact's actions, silently, when one started more
        than 10 seconds (wall clock) before it ended (a long pause of the process is
        enough): it then returns 0 instead of the session state.
        """
        for attempt in range(2):
            self._sid += 1
            sid = str(self._sid)
            sink.clear()
            state = self.host.assert_fact(name, dict(fact, sid=sid))  # a catch-all rule handles every fact
            self.host.delete_state(name, sid)
            if isinstance(state, dict):
                if state.get("exception"):
                    raise EngineFault(f"a rule action failed inside the engine: {state['exception']}")
                fired = {i: held for i, held in sink if i >= 0}
                sink.clear()
                return fired
        raise EngineFault(f"the rule engine twice stopped running the actions of a fact of '{name}'")


def _appender(sink: list, index: int, held: bool):
    def run(c) -> None:  # one parameter: two would make durable-rules treat it as asynchronous
        sink.append((index, held))
    return run
