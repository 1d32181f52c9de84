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
from engine.errors import EnvironmentProblem
from engine.compile_durable import ZERO, compile_stage, field_name, to_engine


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
        self.stages: dict[int, list[tuple[str, list, tuple, frozenset]]] = {}
        self._sid = 0
        for stage in (1, 2, 3):
            compiled = []
            for name, definition, decisions in compile_stage(plan, stage):
                if name not in _REGISTERED:  # a ruleset name cannot be registered twice in a process
                    sink: list[tuple[int, bool]] = []
                    for rule in definition.values():
                        rule["run"] = _appender(sink, *rule["run"])
                    self.host.register_rulesets({name: definition})
                    _REGISTERED[name] = sink
                reads = frozenset().union(*(d.reads for d in decisions))
                compiled.append((name, _REGISTERED[name], decisions, reads))
            self.stages[stage] = compiled

    def decide(self, stage: int, env: Mapping[str, Any]) -> dict[str, Optional[bool]]:
        """Outcome of every decision of the stage: True, False, or None (unknown)."""
        out: dict[str, Optional[bool]] = {}
        for name, sink, decisions, reads in self.stages[stage]:
            fact: dict[str, Any] = {"kind": f"s{stage}", ZERO: 0}
            for key in sorted(reads):
                if key in env:
                    fact[field_name(key)] = to_engine(self.plan, key, env[key])
            self._sid += 1
            sid = str(self._sid)
            fact["sid"] = sid
            sink.clear()
            state = self.host.assert_fact(name, fact)  # a catch-all rule handles every fact
            self.host.delete_state(name, sid)
            if isinstance(state, dict) and state.get("exception"):
                raise RuntimeError(f"a rule action failed inside the engine: {state['exception']}")
            fired = {i: held for i, held in sink if i >= 0}
            sink.clear()
            for i, decision in enumerate(decisions):
                if i in fired:
                    out[decision.key] = fired[i]
                elif all(r in env for r in decision.reads):
                    out[decision.key] = False
                else:
                    out[decision.key] = None
        return out


def _appender(sink: list, index: int, held: bool):
    def run(c) -> None:  # one parameter: two would make durable-rules treat it as asynchronous
        sink.append((index, held))
    return run
