"""What a condition can be, given the catalogue's ranges: interval analysis and implication.

A condition becomes a small formula in negation normal form whose atoms are bounds on
linear forms (``a - 0.8 * b >= 0``), sets of codes, booleans and ``present()``.
Everything here is *sound, not complete*: a verdict of always or never, and an
implication, are claimed only when they hold for every unit that reports the facts
read (a missing fact makes a condition undecided, never false); whatever cannot be
proved is "depends" (``None``) or "not implied" (``False``).
"""
from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Union

from engine import keys
from engine.authoring.diff import canonical  # one spelling per tree, as diff compares conditions
from engine.compiling.compile import GRADE_VALUES, Plan
from engine.expr import ast

Number = Optional[Fraction]  # None: unbounded on that side


@dataclass(frozen=True)
class Span:
    """The values a number (or a date, as a day number) may take."""

    low: Number
    high: Number
    integral: bool


@dataclass(frozen=True)
class Domain:
    """What the catalogue (and the rule set, for score) says every name can be."""

    spans: dict[str, Span]
    codes: dict[str, frozenset[str]]  # enums, and the grade
    always_present: frozenset[str]  # required facts, and facts with a default value
    dates: frozenset[str]


def domain_of(plan: Plan) -> Domain:
    """Ranges of every fact and outcome a condition of ``plan`` may read."""
    spans: dict[str, Span] = {}
    codes: dict[str, frozenset[str]] = {"grade": frozenset(GRADE_VALUES)}
    present: set[str] = set()
    dates: set[str] = set()
    for name, spec in plan.catalogue.facts.items():
        if spec.type in ("int", "vnd", "decimal", "percentage"):
            low, high = spec.bounds  # the facts loader refuses values outside these
            spans[name] = Span(_fraction(low), _fraction(high), spec.type in ("int", "vnd"))
        elif spec.type == "date":
            spans[name] = Span(None, None, True)
            dates.add(name)
        elif spec.type == "enum":
            codes[name] = frozenset(spec.values or {})
        if spec.on_missing == "required" or (spec.on_missing == "default" and spec.default is not None):
            present.add(name)
    scale = Fraction(plan.ruleset.scale)
    spans["score"] = Span(Fraction(0), scale, False)
    for group in plan.catalogue.groups:
        best = max((sum(c.points[t] or 0 for c in plan.criteria if c.group == group) for t in plan.workplace_types),
                   default=0)
        spans[keys.group_score(group)] = Span(Fraction(0), Fraction(best), False)
    return Domain(spans, codes, frozenset(present), frozenset(dates))


def _fraction(value) -> Number:
    return None if value is None else Fraction(value)


# --- intervals --------------------------------------------------------------------

@dataclass(frozen=True)
class Interval:
    low: Number = None
    high: Number = None
    low_open: bool = False
    high_open: bool = False

    def is_empty(self) -> bool:
        if self.low is None or self.high is None:
            return False
        return self.low > self.high or (self.low == self.high and (self.low_open or self.high_open))

    def within(self, other: Interval) -> bool:
        """Every value of ``self`` is in ``other``."""
        if self.is_empty():
            return True
        low_out = other.low is not None and (
            self.low is None or self.low < other.low or (self.low == other.low and other.low_open and not self.low_open))
        high_out = other.high is not None and (
            self.high is None or self.high > other.high or (self.high == other.high and other.high_open and not self.high_open))
        return not (low_out or high_out)

    def meet(self, other: Interval) -> Interval:
        low, low_open = _tighter(self.low, self.low_open, other.low, other.low_open, max)
        high, high_open = _tighter(self.high, self.high_open, other.high, other.high_open, min)
        return Interval(low, high, low_open, high_open)

    def scaled(self, by: Fraction) -> Interval:
        """``by`` (> 0) times every value."""
        return Interval(None if self.low is None else self.low * by, None if self.high is None else self.high * by,
                        self.low_open, self.high_open)

    def plus(self, other: Interval) -> Interval:
        """Every sum of a value of ``self`` and one of ``other``."""
        return Interval(None if self.low is None or other.low is None else self.low + other.low,
                        None if self.high is None or other.high is None else self.high + other.high,
                        self.low_open or other.low_open, self.high_open or other.high_open)

    def whole(self, integral: bool) -> Interval:
        """The same values when only whole numbers are possible: ``x > 1`` is ``x >= 2``."""
        if not integral:
            return self
        low = None if self.low is None else Fraction(math.floor(self.low) + 1 if self.low_open and self.low.denominator == 1
                                                    else math.ceil(self.low))
        high = None if self.high is None else Fraction(math.ceil(self.high) - 1 if self.high_open and self.high.denominator == 1
                                                      else math.floor(self.high))
        return Interval(low, high)


def _tighter(a: Number, a_open: bool, b: Number, b_open: bool, pick) -> tuple[Number, bool]:
    if a is None:
        return b, b_open
    if b is None or a != b:
        chosen = a if b is None or pick(a, b) == a else b
        return chosen, (a_open if chosen == a else b_open)
    return a, a_open or b_open


# --- linear forms -------------------------------------------------------------------

Form = tuple[tuple[str, Fraction], ...]  # sorted (name, coefficient); the first coefficient is 1


def linear(node: ast.Node, domain: Domain) -> Optional[tuple[dict[str, Fraction], Fraction]]:
    """``node`` as coefficients per name plus a constant, or None when it is not a number."""
    if isinstance(node, ast.Literal):
        value = node.value
        if isinstance(value, (bool, str)):
            return None
        if isinstance(value, datetime.date):
            return {}, Fraction(value.toordinal())
        return {}, Fraction(value)
    if isinstance(node, ast.Name):
        return ({node.name: Fraction(1)}, Fraction(0)) if node.name in domain.spans else None
    if isinstance(node, ast.Neg):
        inner = linear(node.operand, domain)
        return None if inner is None else _scaled(inner, Fraction(-1))
    if isinstance(node, ast.Arith):
        left, right = linear(node.left, domain), linear(node.right, domain)
        if left is None or right is None:
            return None
        if node.op in ("+", "-"):
            sign = 1 if node.op == "+" else -1
            coeffs = dict(left[0])
            for name, c in right[0].items():
                coeffs[name] = coeffs.get(name, Fraction(0)) + sign * c
            return {n: c for n, c in coeffs.items() if c != 0}, left[1] + sign * right[1]
        if node.op == "*":
            if not left[0]:
                return _scaled(right, left[1])
            if not right[0]:
                return _scaled(left, right[1])
            return None
        if node.op == "/" and not right[0] and right[1] != 0:
            return _scaled(left, 1 / right[1])
    return None


def _scaled(form: tuple[dict[str, Fraction], Fraction], by: Fraction) -> tuple[dict[str, Fraction], Fraction]:
    return {n: c * by for n, c in form[0].items() if c * by != 0}, form[1] * by


def form_range(form: Form, domain: Domain) -> Interval:
    """The values ``form`` can take when each name ranges over its span independently."""
    low: Number = Fraction(0)
    high: Number = Fraction(0)
    for name, c in form:
        span = domain.spans[name]
        lo, hi = (span.low, span.high) if c > 0 else (span.high, span.low)
        low = None if low is None or lo is None else low + c * lo
        high = None if high is None or hi is None else high + c * hi
    return Interval(low, high).whole(_integral(form, domain))


def _integral(form: Form, domain: Domain) -> bool:
    return all(domain.spans[n].integral and c.denominator == 1 for n, c in form)


# --- atoms and formulas -------------------------------------------------------------

@dataclass(frozen=True)
class Cut:
    """A linear form kept inside an interval: ``tasks_on_time - tasks_assigned >= 0``."""

    form: Form
    allowed: Interval


@dataclass(frozen=True)
class Codes:
    """An enum (or text) fact is one of ``values`` (or, for text, ``negated``: none of them)."""

    name: str
    values: frozenset
    negated: bool = False


@dataclass(frozen=True)
class Truth:
    """A boolean fact or outcome has the value ``value``."""

    name: str
    value: bool


@dataclass(frozen=True)
class Present:
    name: str
    value: bool


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class Opaque:
    """A condition this analysis does not look into (text compared with text); equal only to itself."""

    key: str
    positive: bool = True


Atom = Union[Cut, Codes, Truth, Present, Const, Opaque]


@dataclass(frozen=True)
class Junction:
    op: str  # and | or
    parts: tuple[Formula, ...]


Formula = Union[Atom, Junction]


def formula(node: ast.Node, domain: Domain, negate: bool = False) -> Formula:
    """The condition in negation normal form (``not`` pushed down to the atoms)."""
    if isinstance(node, ast.Not):
        return formula(node.operand, domain, not negate)
    if isinstance(node, ast.BoolOp):
        op = node.op if not negate else {"and": "or", "or": "and"}[node.op]
        return Junction(op, tuple(formula(o, domain, negate) for o in node.operands))
    if isinstance(node, ast.Literal) and isinstance(node.value, bool):
        return Const(node.value != negate)
    if isinstance(node, ast.Name):
        return Truth(node.name, not negate)
    if isinstance(node, ast.Call) and node.func == "present" and isinstance(node.args[0], ast.Name):
        return Present(node.args[0].name, not negate)
    if isinstance(node, ast.Compare):
        return _compare(node, domain, negate)
    if isinstance(node, ast.Member) and isinstance(node.needle, ast.Name):
        values = frozenset(i.value for i in node.items.items if isinstance(i, ast.Literal))
        return _codes(node.needle.name, values, node.negated != negate, domain)
    return Opaque(canonical(node), not negate)


NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _compare(node: ast.Compare, domain: Domain, negate: bool) -> Formula:
    op = NEGATED[node.op] if negate else node.op
    left, right = linear(node.left, domain), linear(node.right, domain)
    if left is not None and right is not None:
        coeffs = dict(left[0])
        for name, c in right[0].items():
            coeffs[name] = coeffs.get(name, Fraction(0)) - c
        return _cut({n: c for n, c in coeffs.items() if c != 0}, left[1] - right[1], op, domain)
    for name_side, value_side, side_op in ((node.left, node.right, op), (node.right, node.left, MIRRORED[op])):
        if isinstance(name_side, ast.Name) and isinstance(value_side, ast.Literal) and side_op in ("==", "!="):
            value = value_side.value
            if isinstance(value, bool):
                return Truth(name_side.name, value == (side_op == "=="))
            if isinstance(value, str):
                return _codes(name_side.name, frozenset([value]), side_op == "!=", domain)
    return Opaque(canonical(node), not negate)


def _codes(name: str, values: frozenset, negated: bool, domain: Domain) -> Codes:
    if name in domain.codes and negated:
        return Codes(name, domain.codes[name] - values)
    return Codes(name, values, negated)


def _cut(coeffs: dict[str, Fraction], constant: Fraction, op: str, domain: Domain) -> Formula:
    """``Σ coeffs·x + constant  op  0``, scaled so that the first coefficient is 1."""
    if not coeffs:
        return Const(_holds(op, constant, Fraction(0)))
    first = coeffs[min(coeffs)]
    if first < 0:
        op = MIRRORED[op]
    form = tuple(sorted((n, c / first) for n, c in coeffs.items()))
    bound = -constant / first
    if op == "!=":
        return Junction("or", (_cut_at(form, "<", bound, domain), _cut_at(form, ">", bound, domain)))
    return _cut_at(form, op, bound, domain)


def _cut_at(form: Form, op: str, bound: Fraction, domain: Domain) -> Cut:
    interval = {">=": Interval(bound), ">": Interval(bound, low_open=True), "<=": Interval(high=bound),
                "<": Interval(high=bound, high_open=True), "==": Interval(bound, bound)}[op]
    return Cut(form, interval.whole(_integral(form, domain)))


def _holds(op: str, a: Fraction, b: Fraction) -> bool:
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]


# --- verdicts ---------------------------------------------------------------------

Verdict = Optional[bool]  # True: always holds; False: never holds; None: depends on the unit


def verdict(f: Formula, domain: Domain) -> tuple[Verdict, str]:
    """Whether ``f`` always or never holds for units that report what it reads, and why."""
    if isinstance(f, Junction):
        results = [verdict(p, domain) for p in f.parts]
        decisive = f.op == "or"  # an `or` is settled by a part that always holds, an `and` by one that never does
        for value, why in results:
            if value is decisive:
                return value, why
        if all(value is not None for value, _ in results):
            return not decisive, "; ".join(dict.fromkeys(why for _, why in results))
        return None, ""
    return _atom_verdict(f, domain)


def _atom_verdict(atom: Atom, domain: Domain) -> tuple[Verdict, str]:
    if isinstance(atom, Const):
        return atom.value, "it compares fixed values only"
    if isinstance(atom, Present) and atom.name in domain.always_present:
        return atom.value, f"every unit has '{atom.name}' (it is required or has a default in the catalogue)"
    if isinstance(atom, Codes) and atom.name in domain.codes:
        if not atom.values:
            return False, f"'{atom.name}' has no other value"
        if atom.values >= domain.codes[atom.name]:
            return True, f"every value of '{atom.name}' is allowed ({', '.join(sorted(domain.codes[atom.name]))})"
    if isinstance(atom, Cut):
        reach = form_range(atom.form, domain)
        if reach.meet(atom.allowed).is_empty():
            return False, _why(atom, reach, False, domain)
        if reach.within(atom.allowed):
            return True, _why(atom, reach, True, domain)
    return None, ""


def _why(atom: Cut, reach: Interval, value: bool, domain: Domain) -> str:
    """The range that decides a comparison, in the words of its facts."""
    subject = _show_form(atom.form)
    if len(atom.form) > 1:
        subject += " (from the ranges of " + ", ".join(n for n, _ in atom.form) + ")"
    date = len(atom.form) == 1 and atom.form[0][0] in domain.dates
    allowed = atom.allowed
    if allowed.is_empty():
        return f"{subject} is a whole number"
    if value is False:
        above = allowed.low is not None and reach.high is not None and reach.high <= allowed.low
        side = "high" if above else "low"
    else:
        side = "high" if allowed.low is None else ("low" if allowed.high is None else "both")
    if side == "both" and reach.low is not None and reach.high is not None:
        return f"{subject} is between {_show(reach.low, date)} and {_show(reach.high, date)}"
    if side == "high":
        return f"{subject} is at most {_show(reach.high, date)}"
    return f"{subject} is at least {_show(reach.low, date)}"


def _show_form(form: Form) -> str:
    text = ""
    for name, c in form:
        sign = " - " if c < 0 else (" + " if text else "")
        size = abs(c)
        text += sign + (name if size == 1 else f"{name} * {_show(size)}")
    return text


def _show(value: Number, date: bool = False) -> str:
    if value is None:
        return "unbounded"
    if date:
        return datetime.date.fromordinal(int(value)).isoformat()
    if value.denominator == 1:
        return str(value.numerator)
    digits = format(value.numerator / value.denominator, "f").rstrip("0")
    return digits if Fraction(digits) == value else f"{value.numerator}/{value.denominator}"


def show_number(value: Fraction) -> str:
    """A score or a bound as a designer writes it: 89.5, not 179/2."""
    return _show(value)


def constant_parts(node: ast.Node, domain: Domain) -> list[tuple[ast.Node, bool, str]]:
    """The outermost parts of a condition (the whole first) that always or never hold."""
    value, why = verdict(formula(node, domain), domain)
    if value is not None:
        return [(node, value, why)]
    if isinstance(node, (ast.BoolOp, ast.Not)):
        return [part for child in ast.children(node) for part in constant_parts(child, domain)]
    return []


# --- implication --------------------------------------------------------------------

def implies(a: Formula, b: Formula, domain: Domain) -> bool:
    """True only if ``b`` holds whenever ``a`` holds (three-valued: ``a`` true makes ``b`` true)."""
    if a == b:
        return True
    if isinstance(b, Junction) and b.op == "and":
        return all(implies(a, p, domain) for p in b.parts)
    if isinstance(a, Junction) and a.op == "or":
        return all(implies(p, b, domain) for p in a.parts)
    if isinstance(a, Junction):
        return any(implies(p, b, domain) for p in a.parts)
    if isinstance(b, Junction):
        return any(implies(a, p, domain) for p in b.parts)
    return _atom_implies(a, b, domain)


def _atom_implies(a: Atom, b: Atom, domain: Domain) -> bool:
    if isinstance(a, Const) or isinstance(b, Const):  # fixed values: no fact is read
        return (isinstance(a, Const) and a.value is False) or (isinstance(b, Const) and b.value is True)
    if isinstance(a, Cut) and isinstance(b, Cut):
        return _cut_implies(a, b, domain)
    if isinstance(a, Codes) and isinstance(b, Codes) and a.name == b.name and a.negated == b.negated:
        return b.values <= a.values if a.negated else a.values <= b.values
    if isinstance(b, Present) and b.value:  # a comparison that holds has read its facts
        return b.name in reads(a)
    return False


def _cut_implies(a: Cut, b: Cut, domain: Domain) -> bool:
    """``b``'s form written as k × ``a``'s form plus a rest (k > 0): when ``a`` holds, ``b``'s form lies in k times
    ``a``'s interval plus the range of the rest over the catalogue's spans; if that is within ``b``'s interval, ``b``
    holds too (``tasks_done < tasks_assigned * 0.5`` makes ``tasks_done < tasks_assigned``, tasks_assigned being
    at least 0).  The rest may only read what ``a`` read or what every unit reports, or ``b`` could be undecided."""
    reach = a.allowed.meet(form_range(a.form, domain))
    coeffs_a, coeffs_b = dict(a.form), dict(b.form)
    for name in sorted(coeffs_a.keys() & coeffs_b.keys()):
        k = coeffs_b[name] / coeffs_a[name]
        if k <= 0:
            continue
        rest = tuple(sorted((n, c) for n in coeffs_a.keys() | coeffs_b.keys()
                            if (c := coeffs_b.get(n, Fraction(0)) - k * coeffs_a.get(n, Fraction(0))) != 0))
        if any(n not in coeffs_a and n not in domain.always_present for n, _ in rest):
            continue
        if reach.scaled(k).plus(form_range(rest, domain)).within(b.allowed):
            return True
    return False


def reads(f: Formula) -> set[str]:
    """The names a formula needs reported to hold (for Present: none)."""
    if isinstance(f, Junction):
        return set().union(*(reads(p) for p in f.parts)) if f.op == "and" else set.intersection(*(reads(p) for p in f.parts))
    if isinstance(f, Cut):
        return {n for n, _ in f.form}
    if isinstance(f, (Codes, Truth)):
        return {f.name}
    return set()
