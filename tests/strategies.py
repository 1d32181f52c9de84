"""Hypothesis strategies and a seeded condition generator for tests/test_properties.py.

Units are drawn from the fact catalogue: every value inside its declared type, range
and scale, biased toward the thresholds of the 2024 rule set (95 % of dues, 80/90/95/100
percent, deadlines and the day either side) because that is where rounding lives.
"""
from __future__ import annotations

import datetime
import math
import random
import unicodedata
from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional

from hypothesis import strategies as st

from engine.model import Catalogue, FactSpec

YEAR = 2024

# Dates a 2024 rule set cares about: 12 and 6 months before the period end, budget and
# settlement deadlines, the period itself.
DATE_ANCHORS = (
    datetime.date(2023, 12, 31), datetime.date(2024, 6, 30), datetime.date(2024, 1, 31),
    datetime.date(2025, 1, 31), datetime.date(2024, 1, 1), datetime.date(2024, 12, 31),
)
PCT_ANCHORS = ("0", "50", "69.99", "70", "79.99", "80", "89.99", "90", "94.99", "95", "99.99", "100")
INT_ANCHORS = (0, 1, 2, 3, 4, 5, 10, 12, 19, 20, 29, 30, 31, 50, 100, 500)
VND_ANCHORS = (0, 1, 19, 20, 100, 60_000_000, 100_000_000, 800_000_000)

# Cohorts for the quota (upper_union), written in NFC.
COHORTS = ("Công đoàn ngành Y tế tỉnh Thử nghiệm", "LĐLĐ tỉnh Hà Lâm", "Công đoàn Viên chức")
VIETNAMESE = ("aăâbcdđeêghiklmnoôơpqrstuưvxy"
              "áàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")
VIETNAMESE_TEXT = st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " -", min_size=1, max_size=24) \
    .filter(lambda s: s.strip() != "")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --- single values ------------------------------------------------------------------

def _scaled(places: int, low: Decimal, high: Decimal) -> st.SearchStrategy[Fraction]:
    unit = 10 ** places
    return st.integers(int(low * unit), int(high * unit)).map(lambda n: _num(Fraction(n, unit)))


def _num(value: Fraction) -> Fraction | int:
    return int(value) if value.denominator == 1 else value


def near(anchor: datetime.date) -> st.SearchStrategy[datetime.date]:
    return st.integers(-1, 1).map(lambda d: anchor + datetime.timedelta(days=d))


_FACT_VALUES: dict[tuple[str, int], tuple[FactSpec, st.SearchStrategy[Any]]] = {}


def fact_value(name: str, spec: FactSpec) -> st.SearchStrategy[Any]:
    """A typed value for one fact, as :func:`engine.reading.facts.parse_value` would produce it.

    Made once per fact (kept with its spec, whose id is the key): the composite strategies below ask for a fact's
    values at every draw, and making a strategy again (validating it, reading its lambdas' source for its label)
    costs hypothesis far more than drawing from it; the values drawn are the same."""
    key = (name, id(spec))
    if key not in _FACT_VALUES:
        _FACT_VALUES[key] = (spec, _fact_value(name, spec))
    return _FACT_VALUES[key][1]


def _fact_value(name: str, spec: FactSpec) -> st.SearchStrategy[Any]:
    kind = spec.type
    low, high = spec.bounds
    if name == "year":
        return st.just(YEAR)
    if name == "upper_union":
        return st.sampled_from(COHORTS)
    if kind == "string":
        return VIETNAMESE_TEXT.map(lambda s: nfc(s.strip()))
    if kind == "bool":
        return st.booleans()
    if kind == "enum":
        return st.sampled_from(sorted(spec.values or {}))
    if kind == "date":
        return st.one_of(st.sampled_from(DATE_ANCHORS).flatmap(near),
                         st.dates(datetime.date(2000, 1, 1), datetime.date(2030, 12, 31)))
    if kind in ("int", "vnd"):
        lo = int(low) if low is not None else 0
        hi = int(high) if high is not None else None
        anchors = VND_ANCHORS if kind == "vnd" else INT_ANCHORS
        options = [st.sampled_from([a for a in anchors if a >= lo and (hi is None or a <= hi)]),
                   st.integers(lo, lo + 40 if hi is None else min(hi, lo + 40))]
        options.append(st.integers(lo, hi if hi is not None else (10 ** 13 if kind == "vnd" else 10 ** 6)))
        return st.one_of(*options)
    # decimal / percentage: exact to the fact's scale
    lo = low if low is not None else Decimal(0)
    hi = high if high is not None else Decimal(1000)
    anchors = [_num(Fraction(a)) for a in PCT_ANCHORS] if kind == "percentage" else \
        [_num(Fraction(a)) for a in ("0", "84.9", "85", "85.1", "100")]
    anchors = [a for a in anchors if lo <= a <= hi and (Fraction(a) * 10 ** spec.scale).denominator == 1]
    return st.one_of(st.sampled_from(anchors), st.integers(int(lo), int(hi)), _scaled(spec.scale, lo, hi))


def raw(value: Any) -> Any:
    """A typed value → what a facts file would hold (decimals as text, as in a CSV cell)."""
    if isinstance(value, Fraction):
        return format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return value


# --- correlated facts: values on and either side of a rule's threshold ---------------------

def _ceil(x: Fraction) -> int:
    return math.ceil(x)


def _floor(x: Fraction) -> int:
    return math.floor(x)


@st.composite
def _correlate(draw, values: dict[str, Any]) -> dict[str, Any]:
    """Overwrite related facts so that some rule sits exactly on (or one step off) its threshold."""
    out = dict(values)
    step = st.integers(-1, 1)

    def maybe() -> bool:  # one relation in four is put on its threshold
        return draw(st.integers(0, 3)) == 0

    if maybe():  # tasks: 100 % on time, 80 % on time, 50 % done (veto), 20 % exceeded
        n = draw(st.one_of(st.integers(0, 12), st.sampled_from([20, 25, 100])))
        out["tasks_assigned"] = n
        done = draw(st.sampled_from([n, _ceil(Fraction(n, 2)), n - 1])) + draw(step)
        out["tasks_done"] = max(done, 0)
        on_time = draw(st.sampled_from([out["tasks_done"], _ceil(Fraction(4 * n, 5)), n])) + draw(step)
        out["tasks_on_time"] = max(on_time, 0)
        out["tasks_exceeded"] = max(_ceil(Fraction(n, 5)) + draw(step), 0)
    if maybe():  # membership 95 % / 80 % of workers; inspection committee under 30 members
        w = draw(st.one_of(st.integers(0, 40), st.sampled_from([100, 500, 1000])))
        out["workers_total"] = w
        share = draw(st.sampled_from([Fraction(95, 100), Fraction(80, 100), Fraction(1)]))
        out["members_total"] = max(_ceil(share * w) + draw(step), 0)
    if maybe():  # executive meetings: all / 75 % of those required
        r = draw(st.integers(0, 16))
        out["exec_meetings_required"] = r
        out["exec_meetings_held"] = max(draw(st.sampled_from([r, _ceil(Fraction(3 * r, 4))])) + draw(step), 0)
    for due, got, share in (("dues_due_vnd", "dues_collected_vnd", Fraction(95, 100)),
                            ("kpcd_due_vnd", "kpcd_collected_vnd", Fraction(95, 100)),
                            ("remit_due_vnd", "remit_paid_vnd", Fraction(1))):
        if maybe():
            amount = draw(st.one_of(st.integers(0, 100), st.integers(0, 10 ** 12), st.sampled_from(VND_ANCHORS)))
            out[due] = amount
            out[got] = max(_ceil(share * amount) + draw(step), 0)
    for part, share in (("spending_staff_vnd", Fraction(3, 10)), ("spending_admin_vnd", Fraction(1, 10))):
        if maybe():
            total = draw(st.one_of(st.integers(0, 100), st.integers(0, 10 ** 12)))
            out["spending_total_vnd"] = total
            out[part] = max(_floor(share * total) + draw(step), 0)
    if maybe():
        found = draw(st.integers(0, 6))
        out["inspection_findings"] = found
        out["findings_remedied"] = max(found + draw(step), 0)
    for submitted, deadline in (("budget_submitted_on", "budget_deadline"),
                                ("settlement_submitted_on", "settlement_deadline")):
        if maybe():
            out[deadline] = draw(st.sampled_from(DATE_ANCHORS))
            out[submitted] = out[deadline] + datetime.timedelta(days=draw(step))
    return out


# --- whole units -------------------------------------------------------------------------

@st.composite
def unit_values(draw, catalogue: Catalogue, base: Optional[dict] = None, complete: bool = False) -> dict[str, Any]:
    """Typed values of one unit; non-required facts may be missing (unless ``complete``).

    With a ``base`` unit, each fact keeps the base value or is redrawn, at a noise
    level drawn per unit (from none of the facts to all of them), so that every
    grade comes up, not only the low ones that fully random units get.
    """
    noise = draw(st.sampled_from([10, 0, 0, 1, 3, 6])) if base is not None else 10
    values: dict[str, Any] = {"unit_id": "U"}
    for name, spec in catalogue.facts.items():
        if name == "unit_id":
            continue
        if base is not None and (name in base or spec.on_missing == "default") and draw(st.integers(0, 9)) >= noise:
            if base.get(name, spec.default) is not None:  # a fact the base leaves out takes its default
                values[name] = base.get(name, spec.default)
        else:
            values[name] = draw(fact_value(name, spec))
    values = draw(_correlate(values))
    optional = sorted(n for n, s in catalogue.facts.items() if s.on_missing != "required")
    if complete:
        missing: frozenset[str] = frozenset()
    else:
        missing = draw(st.one_of(st.just(frozenset()), st.just(frozenset()),
                                 st.frozensets(st.sampled_from(optional), max_size=3),
                                 st.frozensets(st.sampled_from(optional))))
    for name in missing:
        values.pop(name, None)
    # the nullable defaults (reorganised on, last year's grade) are usually not reported
    for name, spec in catalogue.facts.items():
        if spec.on_missing == "default" and spec.default is None and name in values and not draw(st.booleans()):
            values.pop(name, None)
    return values


def facts_row(values: dict[str, Any]) -> dict[str, Any]:
    """Typed values → a raw facts row (what a row of a facts file holds)."""
    return {k: raw(v) for k, v in values.items()}


# --- random conditions as text (seeded: the same ~200 conditions every run) ---------------

NUMBER_FACTS = ("tasks_assigned", "tasks_done", "workplace_dialogues", "members_total",  # int, scale 0
                "dues_due_vnd", "dues_collected_vnd",  # vnd
                "members_informed_pct", "officers_trained_pct",  # percentage, scale 2
                "culture_score")  # decimal, one place
DATE_FACTS = ("budget_submitted_on", "budget_deadline", "established_on", "reorganized_on")
BOOL_FACTS = ("disclosure_done", "has_operating_rules", "corruption_self_detected")
ENUM_FACTS = {"cba_status": ("none", "signed", "signed_more_favourable"),
              "ubkt_status": ("committee", "designated_member", "none"),
              "workplace_type": ("public_admin", "public_service", "enterprise_state", "enterprise_nonstate", "fdi")}
STRING_FACTS = {"upper_union": COHORTS}
CONDITION_FACTS = NUMBER_FACTS + DATE_FACTS + BOOL_FACTS + tuple(ENUM_FACTS) + tuple(STRING_FACTS)

# Names of earlier outcomes a stage-2 condition (a level) or stage-3 condition (a title) may read.
STAGE2_NUMBERS = ("score", "group_score.representation", "group_score.organisation", "group_score.communication")
STAGE2_BOOLS = ("finance_passed", "check.disclosure", "check.dues_collected", "check.remittance_paid")
GRADE_CODES = ("excellent", "good", "completed", "not_completed", "not_graded")

MULTIPLIERS = ("2", "3", "10", "0.5", "0.8", "0.95", "0.75", "0.2", "0.3", "0.1", "1.5", "12.5%", "95%", "0.333")
DIVISORS = ("2", "3", "4", "7", "100", "0.5")
CONSTANTS = ("0", "1", "2", "3", "5", "10", "20", "50", "70", "80", "85", "90", "95", "100",
             "2.5", "0.5", "33.33", "85.05", "1000000")
DATE_CONSTANTS = ("date('2024-01-31')", "date('2025-01-31')", "period_end", "period_start",
                  "months_before(period_end, 12)", "months_before(period_end, 6)", "days_after(period_start, 30)",
                  "days_before(period_end, 1)")
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


class ConditionGenerator:
    """Random, type-correct conditions over a handful of catalogue facts.

    Besides the ordinary shapes it makes the ones that once split the back ends: a
    fact that cancels out of a comparison (``a + b - a``, ``a * 0``), ``in`` on a fact
    with decimals or with a computed needle, and ``==`` / ``!=`` between conditions.

    Each condition is kept to ``max_cost`` (about one unit per fact compared, double
    under ``==`` between conditions): durable_rules refuses a rule with too many
    expressions (error 113, see test_long_conditions_can_be_graded in the test module),
    and that limit is not what these properties are about.
    """

    def __init__(self, rng: random.Random, stage: int = 1):
        self.rng = rng
        self.numbers = NUMBER_FACTS + (STAGE2_NUMBERS if stage >= 2 else ())
        self.bools = BOOL_FACTS + (STAGE2_BOOLS if stage >= 2 else ())
        self.stage = stage
        self.cost = 0

    def condition(self, max_cost: int = 8) -> str:
        while True:
            self.cost = 0
            text = self._condition(0)
            if self.cost <= max_cost:
                return text

    def _condition(self, depth: int) -> str:
        r = self.rng.random()
        if depth < 2 and r < 0.3:
            op = self.rng.choice(("and", "or"))
            parts = [self._condition(depth + 1) for _ in range(self.rng.randint(2, 3))]
            text = f" {op} ".join(parts)
            return f"({text})" if depth else text
        if depth < 3 and r < 0.4:
            inner = self._condition(depth + 1)
            return f"not ({inner})" if self.rng.random() < 0.7 else f"not {inner}" if inner.startswith("(") else f"not ({inner})"
        return self.atom()

    def atom(self) -> str:
        kinds = ["number"] * 5 + ["date"] * 2 + ["bool"] * 2 + ["present", "enum", "enum", "number_in", "number_in",
                                                                 "string", "literal", "same"]
        if self.stage >= 3:
            kinds += ["grade"] * 2
        kind = self.rng.choice(kinds)
        return getattr(self, f"_{kind}")()

    # --- atoms ---
    def _term(self, fact: str) -> str:
        rng = self.rng
        shape = rng.randrange(7)
        if shape == 0:
            return fact
        if shape == 1:
            return f"{fact} * {rng.choice(MULTIPLIERS + ('0',))}"
        if shape == 2:
            return f"{rng.choice(MULTIPLIERS)} * {fact}"
        if shape == 3:
            return f"{fact} / {rng.choice(DIVISORS)}"
        if shape == 4:
            return f"-{fact}"
        if shape == 5:
            return f"({fact} + {rng.choice(CONSTANTS)}) * {rng.choice(MULTIPLIERS)}"
        return f"({fact} - {rng.choice(CONSTANTS)}) / {rng.choice(DIVISORS)}"

    def _side(self, facts: list[str]) -> str:
        if not facts:
            return self.rng.choice(CONSTANTS)
        text = self._term(facts[0])
        for fact in facts[1:]:
            text += f" {self.rng.choice('+-')} {self._term(fact)}"
        if self.rng.random() < 0.3:
            text += f" {self.rng.choice('+-')} {self.rng.choice(CONSTANTS)}"
        return text

    def _number(self) -> str:
        rng = self.rng
        count = rng.choice((1, 1, 2, 2, 3))
        if rng.random() < 0.15:  # a fact read twice, which may cancel out
            facts = [rng.choice(self.numbers) for _ in range(count + 1)]
        else:
            facts = rng.sample(self.numbers, count)
        self.cost += len(facts)
        cut = rng.randint(1, len(facts))
        left, right = facts[:cut], facts[cut:]
        if rng.random() < 0.3:
            left, right = right, left
        return f"{self._side(left)} {rng.choice(COMPARISONS)} {self._side(right)}"

    def _date(self) -> str:
        rng = self.rng
        a = rng.choice(DATE_FACTS)
        other = rng.choice([d for d in DATE_FACTS if d != a] + list(DATE_CONSTANTS) * 2)
        self.cost += 2 if other in DATE_FACTS else 1
        left, right = (a, other) if rng.random() < 0.7 else (other, a)
        return f"{left} {rng.choice(COMPARISONS)} {right}"

    def _bool(self) -> str:
        rng = self.rng
        a, b = rng.sample(self.bools, 2)
        self.cost += 2
        return rng.choice((a, f"not {a}", f"{a} == true", f"{a} != false", f"false == {a}",
                           f"{a} == {b}", f"{a} != {b}"))

    def _present(self) -> str:
        fact = self.rng.choice(CONDITION_FACTS)
        self.cost += 1
        return self.rng.choice((f"present({fact})", f"not present({fact})"))

    def _enum(self) -> str:
        rng = self.rng
        self.cost += 2
        if rng.random() < 0.15:
            return f"cba_status {rng.choice(('==', '!='))} ubkt_status"  # both have the code 'none'
        fact = rng.choice(sorted(ENUM_FACTS))
        codes = ENUM_FACTS[fact]
        code = rng.choice(codes)
        shape = rng.randrange(4)
        if shape == 0:
            return f"{fact} {rng.choice(('==', '!='))} '{code}'"
        if shape == 1:
            return f"'{code}' {rng.choice(('==', '!='))} {fact}"
        chosen = rng.sample(codes, rng.randint(1, len(codes)))
        items = ", ".join(f"'{c}'" for c in chosen)
        return f"{fact} {'in' if shape == 2 else 'not in'} [{items}]"

    def _number_in(self) -> str:
        rng = self.rng
        fact = rng.choice(self.numbers)
        needle = fact if rng.random() < 0.6 else self._term(fact)
        pool = [str(v) for v in range(6)] + ["2.5", "0.5", "85", "85.05", "90", "95", "100", "33.33", "12.5%"]
        items = ", ".join(rng.sample(pool, rng.randint(1, 3)))
        self.cost += 2 * (items.count(",") + 1)
        return f"{needle} {rng.choice(('in', 'not in'))} [{items}]"

    def _same(self) -> str:
        """Two conditions compared with each other."""
        rng = self.rng
        before = self.cost
        parts = []
        for _ in range(2):
            kind = rng.choice(("bool", "present", "compare", "enum"))
            if kind == "bool":
                parts.append(rng.choice(self.bools))
            elif kind == "present":
                parts.append(f"present({rng.choice(CONDITION_FACTS)})")
            elif kind == "compare":
                parts.append(f"({rng.choice(self.numbers)} {rng.choice(COMPARISONS)} {rng.choice(CONSTANTS)})")
            else:
                parts.append(f"({self._enum()})")
        if all(p in self.bools for p in parts) and parts[0] == parts[1]:
            parts[1] = "true"
        self.cost = before + 2 * (self.cost - before + 2)
        return f"{parts[0]} {rng.choice(('==', '!='))} {parts[1]}"

    def _string(self) -> str:
        rng = self.rng
        self.cost += 2
        if rng.random() < 0.5:
            return f"upper_union {rng.choice(('==', '!='))} '{rng.choice(COHORTS)}'"
        items = ", ".join(f"'{c}'" for c in rng.sample(COHORTS, 2))
        return f"upper_union {rng.choice(('in', 'not in'))} [{items}]"

    def _literal(self) -> str:
        return f"({self._number()} or {self.rng.choice(('true', 'false'))})" if self.rng.random() < 0.5 else \
            f"({self.rng.choice(('true', 'false'))} and {self._bool()})"

    def _grade(self) -> str:
        rng = self.rng
        self.cost += 2
        if rng.random() < 0.5:
            return f"grade {rng.choice(('==', '!='))} '{rng.choice(GRADE_CODES)}'"
        items = ", ".join(f"'{c}'" for c in rng.sample(GRADE_CODES, rng.randint(1, 3)))
        return f"grade {rng.choice(('in', 'not in'))} [{items}]"


def random_conditions(seed: int, stage: int, count: int) -> list[str]:
    rng = random.Random(seed)
    gen = ConditionGenerator(rng, stage)
    return [gen.condition() for _ in range(count)]


# --- environments for one stage of decisions ---------------------------------------------

def _two_places(low: int, high: int) -> st.SearchStrategy[Fraction | int]:
    return st.one_of(st.sampled_from([0, 50, 70, 90, 100, Fraction(179, 2), Fraction(8999, 100)]),
                     st.integers(low * 2, high * 2).map(lambda n: _num(Fraction(n, 2))),
                     st.integers(low * 100, high * 100).map(lambda n: _num(Fraction(n, 100))))


@st.composite
def condition_env(draw, catalogue: Catalogue) -> dict[str, Any]:
    """Values of the condition facts (small numbers, so that thresholds are met exactly,
    and amounts far below the 10^15 where scaled comparisons overflow, which has its own
    test) and of the outcomes a later stage reads; any of them may be absent."""
    env: dict[str, Any] = {}
    small_ints = st.one_of(st.integers(0, 6), st.sampled_from(INT_ANCHORS), st.integers(0, 10 ** 6))
    for name in CONDITION_FACTS + STAGE2_NUMBERS + STAGE2_BOOLS + ("grade",):
        if not draw(st.integers(0, 5)):  # absent one time in six
            continue
        if name in NUMBER_FACTS and catalogue.facts[name].scale == 0:
            env[name] = draw(small_ints)
        elif name in NUMBER_FACTS:
            spec = catalogue.facts[name]
            env[name] = draw(st.one_of(small_ints.filter(lambda n: n <= 100), fact_value(name, spec)))
        elif name in STAGE2_NUMBERS:
            env[name] = draw(_two_places(0, 100))
        elif name in STAGE2_BOOLS:
            env[name] = draw(st.booleans())
        elif name == "grade":
            env[name] = draw(st.sampled_from(GRADE_CODES))
        elif name == "upper_union":
            env[name] = draw(st.sampled_from(COHORTS))
        else:
            env[name] = draw(fact_value(name, catalogue.facts[name]))
    return env


def ranked(grade: Optional[str]) -> int:
    """Grade rank, higher is better: excellent 3 … not_completed 0."""
    return {"excellent": 3, "good": 2, "completed": 1, "not_completed": 0}[grade]  # type: ignore[index]
