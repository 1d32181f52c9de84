"""A unit's evaluation → its explanation, as data (a tree of trace records).

Nothing here decides anything: it reads the outcomes and traces that the
evaluation produced and arranges them: eligibility, each criterion with the facts
it read and the points it gave, every condition of every level and title held or
not with its values and thresholds, vetoes, quota effects, and what is missing for
the next grade up.  Rendering to text or tables is :mod:`engine.rendering.render`'s job.
"""
from __future__ import annotations

import datetime
import functools
from fractions import Fraction
from typing import Any, Optional

from engine import keys
from engine.backends.evaluate import Decided, UnitEvaluation
from engine.backends.trace import UNKNOWN, Trace
from engine.compiling.compile import PLACEHOLDER, Plan
from engine.grading.aggregate import points
from engine.grading.quota import exempt, rounded
from engine.model import GRADE_LABELS, GRADES, Reference
from engine.values import number, points_text

OUTCOME_WORDS = {True: "held", False: "not_held", None: "unknown"}


@functools.lru_cache(maxsize=16384)
def points_number(hundredths: int) -> Any:
    """``number(points(hundredths))``, kept: a batch's scores are a few thousand values, each met many times."""
    return number(points(hundredths))


def plain(value: Any) -> Any:
    if value.__class__ in _AS_THEY_ARE:
        return value
    if value is UNKNOWN:
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    return number(value)


_AS_THEY_ARE = frozenset({int, bool, str, type(None)})


def is_outcome(name: str) -> bool:
    """Names the engine decides (``score``, ``check.x``) as opposed to facts a unit reports."""
    return "." in name or name in ("score", "grade", "finance_passed")


def _is_number_text(text: str) -> bool:
    return text.replace(".", "", 1).replace("%", "").lstrip("-").isdigit()


def trace_data(trace: Trace) -> dict:
    """The trace as JSON-ready data: one record per sub-expression."""
    kind, value = trace.kind, trace.value
    if kind == "name":
        if value is UNKNOWN:  # an unreported fact, or an earlier outcome that could not be decided
            return {"name": trace.text, "value": None, ("undecided" if is_outcome(trace.text) else "missing"): True}
        return {"name": trace.text, "value": plain(value)}
    if kind == "literal":
        return dict(_literal_data(trace.text, value.__class__, value))
    record = {"expr": trace.text, "value": plain(value)}
    if trace.op:
        record["op"] = trace.op
    record["parts"] = [trace_data(c) for c in trace.children]
    return record


@functools.lru_cache(maxsize=4096)
def _literal_data(text: str, kind: type, value: Any) -> dict:
    """A constant's record, the same for every unit (``kind`` keeps ``True`` apart from ``1``); copied when used."""
    shown = plain(value)
    # a folded constant (months_before(period_end, 12)) keeps the words the designer wrote
    if text and text not in (str(shown), f"'{shown}'", f'"{shown}"') and not _is_number_text(text):
        return {"expr": text, "value": shown}
    return {"value": shown}


def label_text(plan: Plan, label: Any, lang: str) -> str:
    """A rule set's label in ``lang``, each ``{parameter}`` in it showing the parameter's value."""
    text = label[lang] if isinstance(label, dict) else getattr(label, lang)
    if "{" not in text or not plan.param_text:
        return text
    return PLACEHOLDER.sub(lambda found: plan.param_text.get(found.group(1), {}).get(lang, found.group(0)), text)


def labels_shown(plan: Plan, label: Any) -> dict[str, str]:
    """A label in both languages as a reader sees it, each ``{parameter}`` showing its value (for data that a
    renderer shows later in either language: a report's findings, a coverage row)."""
    return {lang: label_text(plan, label, lang) for lang in ("vi", "en")}


def _condition(plan: Plan, ev: UnitEvaluation, key: str, ident: str, label: Any, lang: str,
               reference: Optional[Reference] = None) -> dict:
    """``label``: a rule set's Label, or ``{"vi": …, "en": …}``; ``reference``: where the rule comes from."""
    outcome = ev.decided.outcomes[key] if ev.decided else None
    trace = ev.traces.get(key)
    text = label_text(plan, label, lang)
    record = {"id": ident, "label": text, "require": plan.by_key[key].source,
              "outcome": OUTCOME_WORDS[outcome]}
    record.update(sourced(reference))
    record.update(_params_read(plan, key, lang))
    if trace is not None:
        record["trace"] = trace_data(trace)
        missing = trace.missing() if outcome is None else None
        if missing:
            record["missing_facts"] = missing
    return record


def _params_read(plan: Plan, key: str, lang: str) -> dict:
    """The rule set's parameters a decision reads, each with its value in force and its source, so that "where does
    95% come from" is answered beside the comparison that used it (nothing for a decision that reads none)."""
    names = plan.by_key[key].params
    if not names:
        return {}
    params = plan.ruleset.params or {}
    return {"params": [{"name": name, "value": plan.param_text[name][lang],
                        **sourced(params[name].reference)}
                       for name in sorted(names)]}


def sourced(reference: Optional[Reference]) -> dict:
    """A rule's source as data, ``{"reference": {…}}`` with only what the rule set gives; ``{}`` for a rule without
    one (its data has no ``reference`` key, and reads as before sources could be given)."""
    return {} if reference is None else {"reference": reference.model_dump(mode="json", exclude_none=True)}


def explanation(plan: Plan, ev: UnitEvaluation, lang: str = "vi") -> dict:
    """The full decision for one unit, built from the evaluation that made it."""
    rs = plan.ruleset
    out: dict = {"unit_id": ev.unit.unit_id, "status": ev.status}
    if ev.decided is None:
        out["problems"] = [p.render() for p in ev.problems]
        return out
    d = ev.decided
    out["eligibility"] = {
        "outcome": OUTCOME_WORDS[d.one.eligible],
        "requirements": [_condition(plan, ev, keys.eligibility(r.id), r.id, r.label, lang, r.reference)
                         for r in rs.eligibility],
    }
    criteria = []
    scored = d.one.criteria
    tier_keys = plan.remembered("tier keys of each criterion", lambda: {c.id: c.tier_keys for c in plan.criteria})
    for crit_model, crit in zip(rs.criteria, scored):
        record: dict = {"id": crit.id, "group": crit.group, "label": label_text(plan, crit_model.label, lang),
                        "applies": crit.max_points is not None, "max_points": crit.max_points,
                        "points": number(crit.points) if crit.points is not None else None,
                        "tier": crit.tier}
        record.update(sourced(crit_model.reference))
        if crit.max_points is not None:
            record["tiers"] = [
                {"when": tier.when, "award_pct": tier.award_pct, "outcome": OUTCOME_WORDS[d.outcomes[key]],
                 **sourced(tier.reference),
                 **_params_read(plan, key, lang), "trace": trace_data(ev.traces[key])}
                for tier, key in zip(crit_model.tiers, tier_keys[crit.id])]
        criteria.append(record)
    out["criteria"] = criteria
    group_scores = d.one.group_scores
    out["groups"] = [
        {"id": g, "label": getattr(spec.label, lang), "score": number(group_scores[g]) if group_scores[g] is not None else None,
         "max_points": sum(c.max_points or 0 for c in scored if c.group == g)}
        for g, spec in plan.catalogue.groups.items()]
    out["score"] = number(d.one.score) if d.one.score is not None else None
    out["vetoes"] = [dict(_condition(plan, ev, keys.veto(v.id), v.id, v.label, lang, v.reference), cap=v.cap,
                          when=v.when) for v in rs.vetoes]
    for v in out["vetoes"]:
        del v["require"]
    levels = []
    for level in rs.levels:
        conditions = []
        if level.min_score is not None:
            conditions.append(_condition(plan, ev, keys.band(level.id), "band",
                                         {"vi": f"Đạt từ {number(Fraction(level.min_score))} điểm", "en": f"At least {number(Fraction(level.min_score))} points"}, lang,
                                         level.reference))
        conditions += [_condition(plan, ev, keys.level_condition(level.id, c.id), c.id, c.label, lang, c.reference)
                       for c in level.conditions]
        levels.append({"id": level.id, "label": GRADE_LABELS[level.id][lang],
                       "min_score": number(Fraction(level.min_score)) if level.min_score is not None else None,
                       "qualifies": OUTCOME_WORDS[d.choice.qualifies[level.id]], "conditions": conditions})
    out["levels"] = levels
    out["caps"] = {"veto": d.choice.veto_cap, "quota": d.choice.quota_cap}
    out["grade"] = d.choice.grade
    if d.choice.undecided:
        out["undecided_by"] = d.choice.undecided
    out["finance"] = {"verdict": verdict(d.one.finance_passed), "checks": [
        dict(_condition(plan, ev, keys.check(c.id), c.id, c.label, lang, c.reference), severity=c.severity)
        for c in rs.finance.checks]}
    out["titles"] = [
        {"id": t.id, "label": label_text(plan, t.label, lang), "awarded": d.titles[t.id],
         **sourced(t.reference),
         "conditions": [_condition(plan, ev, keys.title_condition(t.id, c.id), c.id, c.label, lang, c.reference)
                        for c in t.conditions]}
        for t in rs.titles]
    out["quota"] = quota_explained(plan, ev)
    out["next_grade"] = next_grade(plan, ev, lang)
    out["missing_facts"] = missing_facts(plan, ev)
    out["defaulted_facts"] = sorted(ev.unit.defaulted)
    if ev.unit.history:  # only then: results without history keep their exact shape
        out["facts_from_history"] = dict(sorted(ev.unit.history.items()))
    return out


def verdict(passed: Optional[bool]) -> Optional[str]:
    return None if passed is None else ("pass" if passed else "fail")


def quota_data(ev: UnitEvaluation) -> Optional[dict]:
    q = ev.quota
    if q is None:
        return None
    return {"cohort": q.cohort, "level": q.level, "base_levels": list(q.base_levels), "base_count": q.base_count,
            "share_pct": q.share_pct, "allowed": q.allowed, "candidates": q.candidates, "rank": q.rank,
            "kept": q.kept, "demoted_to": q.demote_to,
            "rank_by": [{"key": k, "order": o, "value": number(v) if isinstance(v, Fraction) else v} for k, o, v in q.rank_by]}


def quota_explained(plan: Plan, ev: UnitEvaluation) -> Optional[dict]:
    """The quota's effect, with how its places were counted: the cohort's facts, the exact share of the base, and
    how the rule set rounds it (the ledger keeps :func:`quota_data`; this is worked out from it and the rule set)."""
    q = quota_data(ev)
    quota = plan.ruleset.quota
    if q is None and quota is not None and quota.enabled and ev.decided is not None and \
            ev.decided.choice.grade == quota.level and exempt(quota, ev.unit.values):
        return {"exempt_by": quota.exempt_if, "level": quota.level}  # kept outside the quota, and said so
    if q is None or quota is None:
        return q
    out = {**q, "cohort_by": quota.cohort_facts, "share": number(Fraction(q["share_pct"] * q["base_count"], 100)),
           "rounding": quota.rounding or "floor"}
    if quota.at_least_one_from is not None:
        out["at_least_one_from"] = quota.at_least_one_from
        out["raised_to_one"] = q["allowed"] > rounded(quota, q["base_count"])
    return out


def missing_facts(plan: Plan, ev: UnitEvaluation) -> list[str]:
    """Facts whose absence left some decision undecided, in rule-set order (each decision's in reading order)."""
    found: dict[str, None] = {}
    if ev.decided is None:
        return []
    outcomes, env = ev.decided.outcomes, ev.decided.env
    reads = plan.remembered("facts each decision reads", lambda: [
        (d.key, tuple(name for name in d.reading if not is_outcome(name))) for d in plan.decisions])
    for key, names in reads:
        if outcomes.get(key) is None:
            for name in names:
                if name not in env:
                    found.setdefault(name)
    return list(found)


def next_grade(plan: Plan, ev: UnitEvaluation, lang: str) -> Optional[dict]:
    """What keeps a graded unit from the grade above its own."""
    d = ev.decided
    found = _shortfall(plan, d, lang)
    if found is None:
        return None
    above, short, tests = found
    record: dict = {"level": above, "label": GRADE_LABELS[above][lang]}
    if short is not None:
        record["points_short"] = short
    unmet = []
    for ident, key, label, require in tests:
        record_ = {"id": ident, "label": label, "require": require, "outcome": OUTCOME_WORDS[d.outcomes[key]]}
        if key in ev.traces:  # an explanation shows how it failed; a one-line reason needs only its label
            record_["trace"] = trace_data(ev.traces[key])
        unmet.append(record_)
    record["unmet"] = unmet
    blocked = []
    if d.choice.veto_cap is not None and GRADES.index(d.choice.veto_cap) > GRADES.index(above):
        blocked.append({"by": "veto", "vetoes": list(d.one.vetoes_held), "cap": d.choice.veto_cap})
    if d.choice.quota_cap is not None and GRADES.index(d.choice.quota_cap) > GRADES.index(above):
        blocked.append({"by": "quota", "cap": d.choice.quota_cap})
    record["blocked_by"] = blocked
    return record


def _shortfall(plan: Plan, d: Optional[Decided], lang: str) -> Optional[tuple[str, Any, list[tuple[str, str, str, str]]]]:
    """What keeps a graded unit from the level above its own: (that level, the points its score lacks of the
    level's minimum or None without one, its tests not passed as :func:`_level_tests` gives them); None at the
    top or not graded.  What :func:`next_grade` records, and a one-line reason says."""
    if d is None or d.choice.grade is None or d.choice.grade == GRADES[0]:
        return None
    above = GRADES[GRADES.index(d.choice.grade) - 1]
    min_score, tests = plan.remembered(("level above", above, lang), lambda: _level_tests(plan, above, lang))
    short = None
    if min_score is not None and d.one.score_hundredths is not None:
        short = _points_short(min_score, d.one.score_hundredths)
    outcomes = d.outcomes
    return above, short, [test for test in tests if outcomes[test[1]] is not True]


def _points_short(min_score: Fraction, hundredths: int) -> Any:
    """How many points a score falls short of a level's minimum (0 when it does not), as :func:`number` writes it:
    counted in hundredths where the minimum is a whole number of them (what a rule set writes), with no fraction
    made."""
    minimum = min_score.numerator * 100
    if minimum % min_score.denominator == 0:
        short = minimum // min_score.denominator - hundredths
        return points_number(short) if short > 0 else 0
    short = min_score - points(hundredths)
    return number(short) if short > 0 else 0


def score_number(decided: Optional[Decided]) -> Any:
    """A decision's score as :func:`number` writes it; None when not decided."""
    if decided is None or decided.one.score_hundredths is None:
        return None
    return points_number(decided.one.score_hundredths)


def _level_tests(plan: Plan, level_id: str, lang: str) -> tuple[Optional[Fraction], list[tuple[str, str, str, str]]]:
    """A level's minimum score, and each of its tests: (id, decision key, label, the condition as written)."""
    level = next(lv for lv in plan.ruleset.levels if lv.id == level_id)
    labels = {c.id: label_text(plan, c.label, lang) for c in level.conditions}
    labels["band"] = {"vi": "Đạt điểm tối thiểu", "en": "Minimum score"}[lang]
    tests = ([("band", keys.band(level_id))] if level.min_score is not None else []) + \
            [(c.id, keys.level_condition(level_id, c.id)) for c in level.conditions]
    return (None if level.min_score is None else Fraction(level.min_score),
            [(ident, key, labels[ident], plan.by_key[key].source) for ident, key in tests])


def reasons(plan: Plan, ev: UnitEvaluation, lang: str = "vi", first: bool = False) -> list[dict]:
    """Why the unit got its result, most decisive first; the first is the table's one-liner (``first``: only it)."""
    rs = plan.ruleset
    vi = lang == "vi"
    out: list[dict] = []
    if ev.decided is None:
        for p in ev.problems:
            out.append({"code": "invalid_facts", "rule": None, "message": p.render()})
        return out
    d = ev.decided
    if d.one.eligible is False:
        for r in rs.eligibility:
            if d.outcomes[keys.eligibility(r.id)] is False:
                out.append({"code": "not_eligible", "rule": keys.eligibility(r.id),
                            "message": ("Chưa đủ điều kiện xếp loại: " if vi else "Not eligible: ") + label_text(plan, r.label, lang)})
    elif d.choice.status == "invalid":
        missing = missing_facts(plan, ev)
        out.append({"code": "insufficient_data", "rule": ", ".join(d.choice.undecided) or None,
                    "message": ("Thiếu dữ liệu: " if vi else "Insufficient data: ") + ", ".join(missing or d.choice.undecided)})
    for v in rs.vetoes if d.one.vetoes_held else ():
        if v.id in d.one.vetoes_held:
            out.append({"code": "veto", "rule": keys.veto(v.id),
                        "message": ("Vi phạm: " if vi else "Veto: ") + label_text(plan, v.label, lang) +
                        (f" (tối đa: {GRADE_LABELS[v.cap][lang]})" if vi else f" (at most {GRADE_LABELS[v.cap][lang]})")})
    if ev.quota is not None and not ev.quota.kept:
        q = ev.quota
        out.append({"code": "quota_demoted", "rule": "quota",
                    "message": (f"Vượt hạn mức xuất sắc: xếp thứ {q.rank}/{q.candidates}, chỉ {q.allowed} suất ({q.share_pct}% của {q.base_count})"
                                if vi else f"Excellent quota: ranked {q.rank} of {q.candidates}, only {q.allowed} allowed ({q.share_pct}% of {q.base_count})")})
    if first and out:
        return out[:1]
    if d.choice.status == "graded" and not out:
        score = _fmt_score(score_number(d), lang)
        grade_label = GRADE_LABELS[d.choice.grade][lang]
        found = _shortfall(plan, d, lang)
        if found is not None:
            above, short, tests = found
            misses = []
            if short:
                short = _fmt_score(short, lang)
                misses.append(f"thiếu {short} điểm" if vi else f"{points_text(short, lang)} short")
            unmet = [label for ident, _, label, _ in tests if ident != "band"]
            if unmet:
                misses.append(("điều kiện chưa đạt: " if vi else "unmet: ") + ", ".join(unmet))
            label = GRADE_LABELS[above][lang]
            head = f"{score} điểm; chưa đạt {label}: " if vi else f"{score} points; not {label}: "
            out.append({"code": "next_grade_missed", "rule": keys.level(above), "message": head + "; ".join(misses)})
        else:
            out.append({"code": "grade_reached", "rule": keys.level(d.choice.grade),
                        "message": (f"{score} điểm, đạt mọi điều kiện {grade_label}" if vi else f"{score} points, every condition of {grade_label} met")})
    if first and out:
        return out[:1]
    for check, _, finding, _ in _finance_words(plan, lang):
        if d.one.checks[check] is False:
            out.append({"code": "finance_finding", "rule": keys.check(check), "message": finding})
    return out[:1] if first else out


def _fmt_score(value: Any, lang: str) -> str:
    """A score or a number of points (exact, or already as :func:`number` writes it) as a sentence shows it."""
    if value is None:
        return "?"
    text = str(number(value))
    return text.replace(".", ",") if lang == "vi" else text


def facts_used(ev: UnitEvaluation) -> dict:
    """The unit's facts exactly as the evaluation used them, with where they came from."""
    return {"source": ev.unit.source, "record": ev.unit.position,
            "values": {k: plain(v) for k, v in sorted(ev.unit.values.items())},
            "defaulted": sorted(ev.unit.defaulted),
            **({"from_history": dict(sorted(ev.unit.history.items()))} if ev.unit.history else {})}


def result(plan: Plan, ev: UnitEvaluation, lang: str = "vi") -> dict:
    """One unit's result: the stable fields other tools read, then the full explanation."""
    out = summary(plan, ev, lang)
    out["facts"] = facts_used(ev)
    out["explanation"] = explanation(plan, ev, lang)
    return out


def _finance_words(plan: Plan, lang: str) -> tuple[tuple[str, str, str, str], ...]:
    """Each finance check's id, severity, finding, and what a check that could not be decided says; made once."""
    def make() -> tuple[tuple[str, str, str, str], ...]:
        undecided = "Thiếu dữ liệu để kiểm tra: " if lang == "vi" else "Insufficient data to check: "
        return tuple((c.id, c.severity, label_text(plan, c.finding, lang), undecided + label_text(plan, c.label, lang))
                     for c in plan.ruleset.finance.checks)
    return plan.remembered(("finance words", lang), make)


def summary(plan: Plan, ev: UnitEvaluation, lang: str = "vi", brief: bool = False) -> dict:
    """One unit's result without its facts and explanation; ``brief``: only its main reason (a table, a CSV row)."""
    values = ev.unit.values
    d = ev.decided
    findings = []
    if d is not None:
        checks = d.one.checks
        for check, severity, finding, undecided in _finance_words(plan, lang):
            outcome = checks[check]
            if outcome is not True:
                findings.append({"check": check, "severity": severity, "outcome": OUTCOME_WORDS[outcome],
                                 "message": finding if outcome is False else undecided})
    titles = plan.remembered("title ids", lambda: tuple(t.id for t in plan.ruleset.titles))
    return {
        "unit_id": ev.unit.unit_id,
        "name": values.get("name"),
        "year": values.get("year"),
        "workplace_type": values.get("workplace_type"),
        "ruleset_version": plan.ruleset.version,  # every result names the version that decided it, even alone
        "status": ev.status,
        "grade": d.choice.grade if d else None,
        "score": score_number(d),
        "titles": {t: d.titles[t] for t in titles} if d else dict.fromkeys(titles),
        "financial_audit": {"verdict": verdict(d.one.finance_passed) if d else None, "findings": findings},
        "quota": quota_data(ev),
        "reasons": reasons(plan, ev, lang, first=brief),
    }


def ruleset_data(plan: Plan) -> dict:
    rs = plan.ruleset
    return {"id": rs.id, "version": rs.version, "year": rs.year, "sha256": plan.loaded.sha256,
            "catalogue": {"id": plan.catalogue.id, "version": plan.catalogue.version}}


def document(plan: Plan, evaluations: list[UnitEvaluation], lang: str = "vi") -> dict:
    """The whole run as one JSON-ready document (no clock, no host: byte-identical on re-run)."""
    from engine import __version__

    return {"ruleset": ruleset_data(plan), "engine": {"version": __version__}, "lang": lang,
            "results": [result(plan, ev, lang) for ev in evaluations]}
