"""The compiled evaluator: each stage of a plan compiled once into one Python function over integers.

This is the back end that decides every unit of a batch, with the rule engine checking
each of its answers (:mod:`engine.backends.durable`).  It reads a unit's *engine values*
(:mod:`engine.compiling.integers`: scaled numbers, day numbers, 1/0) and builds no object per node:
a comparison of numbers is one linear form in integers, and a whole stage is straight-
line code that fetches each value it reads once.  Logic is three-valued (Kleene),
exactly as in the tracing evaluator; ``None`` is "undecided".

The code is generated from the type-checked syntax tree, never from rule text: every
name in it is one this module makes up (``v3``, ``t12``), every constant is written with
``repr`` of an int, a string or a frozenset built here, and it runs with no builtins.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

from engine.compiling.compile import Plan
from engine.compiling.integers import difference, in_integers, is_condition, is_symbolic, to_engine
from engine.expr import ast
from engine.grading import aggregate
from engine.grading.aggregate import Decided

Outcome = Optional[bool]
Test = Callable[[Mapping[str, Any]], Outcome]


class CompiledBackend:
    """Decides a plan's decisions (and any sub-condition) with compiled code."""

    name = "compiled"
    integers = True  # reads engine values

    def __init__(self, plan: Plan):
        self.plan = plan
        self.keys = {stage: tuple(d.key for d in plan.stage(stage)) for stage in (1, 2, 3)}
        self.stages = {stage: compile_stage(plan, [d.expr for d in plan.stage(stage)]) for stage in (1, 2, 3)}
        self.units: dict[str, Callable[[Mapping[str, Any], Optional[str]], Decided]] = {}  # by workplace type

    def decide(self, stage: int, env: Mapping[str, Any]) -> dict[str, Outcome]:
        """Outcome of every decision of the stage, from engine values (see :mod:`engine.compiling.integers`)."""
        return dict(zip(self.keys[stage], self.stages[stage](env)))

    def unit(self, values: Mapping[str, Any], quota_cap: Optional[str] = None) -> Decided:
        """A unit's whole decision from its engine values: what ``decide_unit`` reaches with this back end, at once."""
        workplace_type = values["workplace_type"]
        whole = self.units.get(workplace_type)
        if whole is None:
            whole = self.units[workplace_type] = self.plan.remembered(
                ("compiled unit", workplace_type), lambda: compile_unit(self.plan, workplace_type))
        return whole(values, quota_cap)

    def decide_native(self, stage: int, env: Mapping[str, Any]) -> dict[str, Outcome]:
        """The same from native values (exact numbers, dates), for callers that hold those."""
        return self.decide(stage, {k: to_engine(self.plan, k, v) for k, v in env.items()})


def compile_condition(plan: Plan, node: ast.Node) -> Test:
    """One condition alone, as a function of engine values giving True, False or None."""
    stage = compile_stage(plan, [node])
    return lambda env: stage(env)[0]


def compile_stage(plan: Plan, conditions: list[ast.Node]) -> Callable[[Mapping[str, Any]], tuple]:
    """Conditions → one function returning their outcomes, in order, for a unit's engine values."""
    writer = _Writer(plan)
    results = [writer.condition(node) for node in conditions]
    lines = ["def stage(env):", "    get = env.get"]
    lines += [f"    {variable} = get({name!r})" for name, variable in writer.names.items()]
    lines += [f"    {line}" for line in writer.lines]
    lines.append(f"    return ({''.join(r + ', ' for r in results)})")
    namespace: dict[str, Any] = {"__builtins__": {}, **writer.constants}
    exec(compile("\n".join(lines), f"<compiled {plan.ruleset.id} {plan.ruleset.version}>", "exec"), namespace)  # noqa: S102
    return namespace["stage"]


def compile_unit(plan: Plan, workplace_type: str) -> Callable[[Mapping[str, Any], Optional[str]], Decided]:
    """A whole unit of one workplace type as one function of its engine values and quota cap.

    Each stage's conditions as :func:`compile_stage` writes them, and after each the arithmetic of
    :mod:`engine.grading.aggregate` written out (:func:`engine.grading.aggregate.unit_code`): no call, dict or dataclass per
    stage, only the ``Decided`` that ``decide_unit`` builds step by step with this back end (the dataclasses
    the explanations, the quota and the ledger read, the dicts in the same order).  A value is read once,
    after the stage before it set what it may read (the type checker refuses a later stage's names earlier).
    """
    writer = _Writer(plan)
    body = ["env = dict(values)", "get = env.get"]
    read: dict[str, str] = {}
    for stage in (1, 2, 3):
        names, lines = len(writer.names), len(writer.lines)
        read.update((d.key, writer.condition(d.expr)) for d in plan.stage(stage))
        body += [f"{variable} = get({name!r})" for name, variable in list(writer.names.items())[names:]]
        body += writer.lines[lines:]
        body += aggregate.unit_code(plan, workplace_type, stage, read.__getitem__)
    keys = [d.key for stage in (1, 2, 3) for d in plan.stage(stage)]
    body.append("outcomes = KEYS.copy()")  # every key in its place, in stage order: a dict that never grows
    body += [f"outcomes[{key!r}] = {read[key]}" for key in keys]
    body.append("return Decided(outcomes, one, choice, titles, env)")
    source = "\n".join(["def unit(values, quota_cap):", *(f"    {line}" for line in body)])
    namespace: dict[str, Any] = {"__builtins__": {}, "dict": dict, "Decided": Decided, "KEYS": dict.fromkeys(keys),
                                 **aggregate.unit_names(plan), **writer.constants}
    where = f"<compiled {plan.ruleset.id} {plan.ruleset.version} {workplace_type}>"
    exec(compile(source, where, "exec"), namespace)  # noqa: S102
    return namespace["unit"]


class _Writer:
    """Writes straight-line code for conditions: each sub-result in a temporary, each read value in a local."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.names: dict[str, str] = {}  # fact or outcome name → its local variable
        self.constants: dict[str, Any] = {}  # frozensets of allowed codes
        self.lines: list[str] = []
        self.count = 0

    def value(self, name: str) -> str:
        if name not in self.names:
            self.names[name] = f"v{len(self.names)}"
        return self.names[name]

    def temporary(self, expression: str) -> str:
        self.count += 1
        name = f"t{self.count}"
        self.lines.append(f"{name} = {expression}")
        return name

    def condition(self, node: ast.Node) -> str:
        """A temporary holding the condition's outcome: True, False or None."""
        return self.temporary(self.expression(node))

    def expression(self, node: ast.Node) -> str:
        plan = self.plan
        if isinstance(node, ast.Literal):
            return repr(bool(node.value))
        if isinstance(node, ast.Name):  # a bool fact or outcome, held as 1/0 (or True/False)
            v = self.value(node.name)
            return f"(None if {v} is None else {v} == 1)"
        if isinstance(node, ast.Call) and node.func == "present":
            return f"({self.value(node.args[0].name)} is not None)"
        if isinstance(node, ast.Not):
            inner = self.condition(node.operand)
            return f"(None if {inner} is None else not {inner})"
        if isinstance(node, ast.BoolOp):
            return self.logic(node.op, [self.condition(o) for o in node.operands])
        if isinstance(node, ast.Member):
            return self.member(node)
        if isinstance(node, ast.Compare):
            if is_condition(plan, node.left):
                a, b = self.condition(node.left), self.condition(node.right)
                same = "==" if node.op == "==" else "!="
                return f"(None if {a} is None or {b} is None else {a} {same} {b})"
            if is_symbolic(plan, node.left) or is_symbolic(plan, node.right):
                return self.equality(node.left, node.op, node.right)
            return self.linear(node.left, node.op, node.right)
        raise TypeError(f"cannot compile {type(node).__name__}: the plan was not type-checked")

    @staticmethod
    def logic(op: str, parts: list[str]) -> str:
        if not parts:
            return "True" if op == "and" else "False"
        decisive, other = ("False", "True") if op == "and" else ("True", "False")
        settled = " or ".join(f"{p} is {decisive}" for p in parts)
        unknown = " or ".join(f"{p} is None" for p in parts)
        return f"({decisive} if ({settled}) else (None if ({unknown}) else {other}))"

    def symbol(self, node: ast.Node) -> str:
        if isinstance(node, ast.Name):
            return self.value(node.name)
        value = node.value
        return repr((1 if value else 0) if isinstance(value, bool) else value)

    def equality(self, left: ast.Node, op: str, right: ast.Node) -> str:
        a, b = self.symbol(left), self.symbol(right)
        names = [s for n, s in ((left, a), (right, b)) if isinstance(n, ast.Name)]
        absent = " or ".join(f"{n} is None" for n in names)
        return f"(None if {absent} else {a} {'==' if op == '==' else '!='} {b})"

    def linear(self, left: ast.Node, op: str, right: ast.Node) -> str:
        """``left op right`` over numbers or dates as ``Σ n·field + n0 op 0`` in integers.

        Every field the comparison reads must be reported, even one that cancels out
        (``a + b - b``): the tracing evaluator calls such a comparison undecided too."""
        terms, const = difference(self.plan, left, right)
        coefficients, constant, _ = in_integers(terms, const)
        reads = sorted(ast.names(left) | ast.names(right))
        absent = " or ".join(f"{self.value(n)} is None" for n in reads)
        comparison = self.comparison(coefficients, constant, op)
        return f"(None if {absent} else {comparison})" if reads else f"({comparison})"

    def comparison(self, coefficients: dict[str, int], constant: int, op: str) -> str:
        """``Σ n·field + n0 op 0`` with nothing that adds nothing: a zero ``n0`` left out, one field alone
        compared with ``-n0`` itself (``v0 >= 9000``).  In integers, each form is exact."""
        if list(coefficients.values()) == [1]:
            (name,) = coefficients
            return f"{self.value(name)} {op} {-constant!r}"
        terms = [f"{k!r} * {self.value(n)}" if k != 1 else self.value(n) for n, k in coefficients.items()]
        if constant or not terms:
            terms.append(repr(constant))
        return f"{' + '.join(terms)} {op} 0"

    def member(self, node: ast.Member) -> str:
        """``x in [a, b]`` is ``x == a or x == b`` (``not in``: ``x != a and x != b``), each exact."""
        plan = self.plan
        if is_symbolic(plan, node.needle) and isinstance(node.needle, ast.Name) and \
                all(isinstance(i, ast.Literal) for i in node.items.items):
            name = f"allowed{len(self.constants)}"
            self.constants[name] = frozenset((1 if i.value else 0) if isinstance(i.value, bool) else i.value
                                             for i in node.items.items)
            v = self.value(node.needle.name)
            return f"(None if {v} is None else ({v} {'not in' if node.negated else 'in'} {name}))"
        op = "!=" if node.negated else "=="
        compare = self.equality if is_symbolic(plan, node.needle) else self.linear
        parts = [self.temporary(compare(node.needle, op, item)) for item in node.items.items]
        return self.logic("and" if node.negated else "or", parts)
