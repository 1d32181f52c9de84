"""The rule-engine back end: decisions run in durable_rules, one session per unit.

One host per process, without its background threads (they ran actions after
``assert_fact`` returned and crashed after ``delete_state``).  Each unit's session
is deleted as soon as its stage is decided: at most one session is ever live, so
the 1,024-session limit and the engine's 32-bit session-id hashes cannot bite.
"""
from __future__ import annotations

import json
import locale
from typing import Any, Mapping, Optional

from durable import engine as durable_engine

from engine.backends.compiled import compile_condition
from engine.backends.durable_rules import (FINE_LEAVES, NODE_BUDGET, VERIFY_LEAVES, ZERO, CompileLimit, StageRuleset, VerifyLeaves,
                                     VerifyPlan, combine, compile_stage, compile_verify, leaf_rules, rules_weight, splittable,
                                     verify_leaves, verify_rules)
from engine.compiling.compile import Plan
from engine.compiling.integers import field_name, to_engine
from engine.errors import EngineFault, EnvironmentProblem, RuleSetError


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
    """Decides a plan's decisions in the rule engine, or checks the evaluator's answers; see
    :mod:`engine.backends.durable_rules`."""

    name = "durable_rules"
    integers = False  # decide() reads exact values; decide_engine() and the verifier read engine values

    def __init__(self, plan: Plan):
        self.plan = plan
        self.host = _host()
        self.stages: dict[int, list[tuple[StageRuleset, list, frozenset]]] = {}
        self._sid = 0
        try:
            for stage in (1, 2, 3):
                self.stages[stage] = self._register(stage)
            self.verifier = Verifier(plan, self)
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
        if rules_weight(definition) > NODE_BUDGET:  # the engine would not refuse it: it would hang
            return False
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
        """Outcome of every decision of the stage: True, False, or None (unknown), from native values."""
        return self.decide_engine(stage, {k: to_engine(self.plan, k, v) for k, v in env.items()})

    def decide_engine(self, stage: int, env: Mapping[str, Any]) -> dict[str, Optional[bool]]:
        """The same from engine values (see :mod:`engine.compiling.integers`)."""
        out: dict[str, Optional[bool]] = {}
        for ruleset, sink, reads in self.stages[stage]:
            fact: dict[str, Any] = {"kind": f"s{stage}", ZERO: 0}
            for key in sorted(reads):
                if key in env:
                    value = env[key]
                    fact[field_name(key)] = (1 if value else 0) if isinstance(value, bool) else value
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


class Verifier:
    """Checks the compiled evaluator's answers in the engine: one call per fact, no action when it agrees.

    Each unit's engine values and answers go to durable-rules' core as the JSON text
    its own ``Ruleset.assert_fact`` would send; only a fact that matched a rule (an
    answer the engine does not accept) goes through durable-rules' action machinery,
    which then names the leaves.  A fact that matches nothing leaves no session behind.
    """

    SID = "1"

    def __init__(self, plan: Plan, backend: DurableBackend):
        self.plan = plan
        self.backend = backend
        self.core = durable_engine.durable_rules_engine  # looked up on each call: tests inject faults there
        self._made: dict[frozenset[str], VerifyLeaves] = {}
        split: frozenset[str] = frozenset()
        while True:  # both sizes with the same decisions split into parts
            coarse, more = self._register(split, VERIFY_LEAVES)
            fine, most = self._register(split | more, FINE_LEAVES)
            if most <= split | more:
                break
            split = split | more | most
        self.verify = coarse
        self.parts = {leaf.index: compile_condition(plan, leaf.expr) for leaf in coarse.leaves if leaf.key not in plan.by_key}
        self.coarse, self.fine = self._facts(coarse), self._facts(fine)  # a split decision's parts: same leaves in both

    def _facts(self, verify: VerifyPlan) -> list[tuple]:
        """For each rule set of a size: the rule set, its sink, the function writing a unit's fact as JSON text, its leaves."""
        return [(self.backend.host.get_ruleset(r.name), _REGISTERED[r.name], self._writer(r),
                 tuple((leaf.index, leaf.key) for leaf in r.leaves)) for r in verify.rulesets]

    def _writer(self, ruleset) -> Any:
        """One expression writing a fact's JSON text from a unit's engine values and answers: each value it
        carries (when reported), each answer that is not the usual one.  Made from field names and keys the
        plan holds (``repr``), never from rule or cell text.

        Writing a number is most of the cost, and most fields take few values (flags, codes, counts, dates of
        one year, scores): a field's text is kept by value (:func:`_field_text`) and written again as it was.
        Money is written each time: nearly every amount is another."""
        head = json.dumps({"kind": ruleset.kind, "sid": self.SID, ZERO: 0}, separators=(",", ":"))[:-1]
        pieces = [repr(head)]
        namespace: dict[str, Any] = {"__builtins__": {}, "str": str, "int": int, "dumped": _json, "text": _field_text}
        for n, name in enumerate(ruleset.fields):
            key = "," + json.dumps(field_name(name)) + ":"
            spec = self.plan.fact_types.get(name)
            if spec is not None and spec.type == "vnd":
                pieces.append(f"('' if (v := get({name!r})) is None else "
                              f"{key!r} + (str(v) if v.__class__ is int else dumped(v)))")
            else:
                namespace[f"seen{n}"] = {}
                pieces.append(f"('' if (v := get({name!r})) is None else seen{n}.get(v) or text(seen{n}, {key!r}, v))")
        for leaf in ruleset.leaves:
            if leaf.index in self.parts:
                namespace[f"part{leaf.index}"] = self.parts[leaf.index]
                answer = f"part{leaf.index}(env)"
            else:
                answer = f"outcomes[{leaf.key!r}]"
            key = ',"p' + str(leaf.index) + '":'
            pieces.append(f"('' if (a := {answer}) is {leaf.usual!r} else "  # the usual answer goes unwritten
                          f"{key + '2'!r} if a is None else ({key + '1'!r} if a else {key + '0'!r}))")
        pieces.append("'}'")
        lines = ["def write(env, outcomes):", "    get = env.get", "    return ''.join((", *(f"        {p}," for p in pieces),
                 "    ))"]
        exec(compile("\n".join(lines), f"<engine fact {ruleset.name}>", "exec"), namespace)  # noqa: S102
        return namespace["write"]

    def _register(self, split: frozenset[str], size: int) -> tuple[VerifyPlan, frozenset[str]]:
        """The rule sets of one fact size, registered; and the decisions that had to be split further."""
        more: frozenset[str] = frozenset()
        while True:
            verify = compile_verify(self.plan, split | more, size, self._leaves(split | more))
            too_large: set[str] = set()
            for ruleset in verify.rulesets:
                if ruleset.name in _REGISTERED:
                    continue
                definition = {rule: dict(body, run=(body["run"], True)) for rule, body in ruleset.definition.items()}
                if not self.backend._try_register(ruleset.name, definition):
                    too_large |= self._probe(ruleset)
            if not too_large:
                return verify, more
            more = more | too_large

    def _leaves(self, split: frozenset[str]) -> VerifyLeaves:
        """The leaves and rules of one split, made once for both fact sizes."""
        if split not in self._made:
            self._made[split] = verify_leaves(self.plan, split)
        return self._made[split]

    def _probe(self, ruleset) -> set[str]:
        refused = set()
        for leaf in ruleset.leaves:
            rules = {rule: dict(body, run=(body["run"], True)) for rule, body in verify_rules(self.plan, "probe", leaf).items()}
            if rules and not self.backend._try_register(f"{ruleset.name}_probe{leaf.index}", rules):
                if not splittable(leaf.expr):
                    raise CompileLimit(leaf.key.split("#")[0], f"'{leaf.expr.text}' is too large for one rule of the "
                                       "rule engine; split it into several conditions")
                refused.add(leaf.key)
        return refused

    def answers(self, env: Mapping[str, Any], outcomes: Mapping[str, Optional[bool]]) -> dict[int, Optional[bool]]:
        """Each leaf's answer: the decision's outcome, or for a part of a split decision, the part's own."""
        out = {}
        for leaf in self.verify.leaves:
            part = self.parts.get(leaf.index)
            out[leaf.index] = outcomes[leaf.key] if part is None else part(env)
        return out

    def refused(self, env: Mapping[str, Any], outcomes: Mapping[str, Optional[bool]]) -> list[str]:
        """The decisions whose answers the engine does not accept (empty when it agrees on all).

        ``env`` holds the unit's engine values and the outcomes of earlier stages as the
        evaluator computed them; ``outcomes`` every decision's answer.
        """
        try:
            wrong = self._check(self.coarse, env, outcomes)
        except durable_engine.durable_rules_engine.error as exc:
            if "error code: 303" not in str(exc):
                raise EngineFault(f"the rule engine failed on a fact: {exc}") from None
            wrong = self._check(self.fine, env, outcomes)  # too many nodes matched at once: smaller facts
        if self.parts:
            wrong += self._combinations(env, outcomes)
        return wrong

    def _check(self, facts: list[tuple], env: Mapping[str, Any], outcomes: Mapping[str, Optional[bool]]) -> list[str]:
        wrong: list[str] = []
        core = self.core
        for ruleset, sink, write, leaves in facts:
            result = core.assert_fact(ruleset._handle, write(env, outcomes))
            if result[0] == 1:  # no rule matched: every answer of this fact is the engine's own
                continue
            wrong += self._fired(ruleset, sink, result, leaves)
        return wrong

    def _fired(self, ruleset, sink: list, result, leaves) -> list[str]:
        if result[0] != 0:
            raise EngineFault(f"the rule engine answered code {result[0]} for a fact of '{ruleset._name}'")
        sink.clear()
        errors: list = []
        ruleset.do_actions(result[1], lambda error, state: errors.append(error) if error else None)
        self.core.delete_state(ruleset._handle, self.SID)
        if errors:
            raise EngineFault(f"a rule action failed inside the engine: {errors[0]}")
        fired = {index for index, _ in sink}
        sink.clear()
        keys = [key.split("#")[0] for index, key in leaves if index in fired]
        return keys or [key.split("#")[0] for _, key in leaves]  # matched, but its actions were cut short

    def _combinations(self, env, outcomes) -> list[str]:
        """A split decision's answer must be what its parts' answers combine to."""
        answers = self.answers(env, outcomes)
        leaves = [answers[i] for i in range(len(self.verify.leaves))]
        return [key for key, shape in self.verify.shapes.items()
                if shape.op != "leaf" and combine(shape, leaves) is not outcomes[key]]


FIELD_TEXTS = 1024  # the most values of one field whose text is kept (a bound on the memory, not on what is right)


def _field_text(seen: dict, key: str, value: Any) -> str:
    """``,"field":value`` for a fact's JSON, kept in ``seen`` (while it holds fewer than FIELD_TEXTS) for the next
    unit with the same value.  Only ints and codes are kept, and engine values are nothing else
    (:mod:`engine.compiling.integers`); a bool, equal to 1 or 0, is written 1 or 0 either way."""
    text = key + (str(value) if value.__class__ is int else _json(value))
    if (value.__class__ is int or value.__class__ is str) and len(seen) < FIELD_TEXTS:
        seen[value] = text
    return text


def _json(value: Any) -> str:
    """A value other than an int in a fact's JSON (a bool as 1/0, as the engine compares it)."""
    if value is True or value is False:
        return "1" if value else "0"
    return json.dumps(value, ensure_ascii=False)


def _appender(sink: list, index: int, held: bool):
    def run(c) -> None:  # one parameter: two would make durable-rules treat it as asynchronous
        sink.append((index, held))
    return run
