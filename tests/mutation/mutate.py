"""The project's own small mutation tester: do the tests notice when the deciding code is wrong?

Each *mutant* is the code with one small change a slip of the hand could make: a
comparison turned around or made inclusive, ``and`` for ``or``, a ``not`` dropped, a
number off by one, a rule-engine operator swapped (``$gte`` for ``$gt``), a call or a
``return`` value dropped, a branch negated.  For each mutant, the tests that guard its
module run against a copy of the checkout holding the mutant; a failing test *kills* it.
A mutant that survives is either a gap in the tests or a change that makes no
difference (an *equivalent* mutant): ``KNOWN_EQUIVALENT`` lists the ones reviewed and
why they change nothing.

    python tests/mutation/mutate.py                      # every module, report on stdout
    python tests/mutation/mutate.py --module quota --jobs 2
    python tests/mutation/mutate.py --list               # the mutants, without running them

Each mutant meets its module's quick tests first (``QUICK``) and the module's other tests only if it
survives them.  It is a report, not part of CI: a full run takes hours on two cores.
"""
from __future__ import annotations

import argparse
import ast
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]

# The tests that guard the deciding modules, fastest first (a run stops at its first failure).  The property
# tests are left out: too slow to run a thousand times.
FAST = ["tests/test_engine_checks.py", "tests/test_aggregate.py", "tests/test_compiled_unit.py", "tests/test_quota.py", "tests/test_boundaries.py", "tests/test_rule_cases.py"]
MODULES: dict[str, list[str]] = {
    "engine/backends/durable_rules.py": FAST + ["tests/test_properties.py::test_constants_too_precise_for_exact_arithmetic_"
                                         "are_refused_with_their_place"],
    "engine/backends/compiled.py": FAST,
    "engine/compiling/integers.py": FAST,
    "engine/backends/durable.py": ["tests/test_engine_checks.py", "tests/test_engine_faults.py", "tests/test_cli_faults.py"],
    "engine/backends/trace.py": FAST,
    "engine/backends/evaluate.py": ["tests/test_engine_checks.py", "tests/test_quota.py", "tests/test_cli_faults.py",
                           "tests/test_rule_cases.py"],
    "engine/grading/aggregate.py": FAST,
    "engine/grading/quota.py": FAST,
    "engine/reading/facts.py": ["tests/test_boundaries.py", "tests/test_typist.py", "tests/test_facts_errors.py",
                        "tests/test_rule_cases.py"],
    "engine/ledger/store.py": ["tests/test_ledger_tamper.py", "tests/test_unit_spelling.py", "tests/test_audit.py"],
}
# The quick tests that kill most of a module's mutants: run first, and the module's full list only on what
# survives them (a mutant killed by any test is killed; this only saves time).
QUICK: dict[str, list[str]] = {
    "engine/backends/durable_rules.py": ["tests/test_engine_checks.py"],
    "engine/backends/compiled.py": ["tests/test_engine_checks.py"],
    "engine/compiling/integers.py": ["tests/test_engine_checks.py"],
    "engine/backends/durable.py": ["tests/test_engine_checks.py"],
    "engine/backends/trace.py": ["tests/test_engine_checks.py"],
    "engine/backends/evaluate.py": ["tests/test_engine_checks.py"],
    "engine/grading/aggregate.py": ["tests/test_aggregate.py", "tests/test_rule_cases.py"],
    "engine/grading/quota.py": ["tests/test_quota.py"],
    "engine/reading/facts.py": ["tests/test_boundaries.py"],
    "engine/ledger/store.py": ["tests/test_ledger_tamper.py"],
}
# Where a module also holds code that decides nothing (readers, queries, registration), only these functions are
# mutated.
FUNCTIONS: dict[str, set[str]] = {
    "engine/backends/durable_rules.py": {"nnf", "_or_absent", "_atom", "_equality", "_symbol_value", "_linear_compare",
                                  "_check_magnitude", "_all_present", "_threshold", "_holds", "combine", "leaf_rules",
                                  "verify_rules", "usual_outcome", "_shape", "_offset", "part_keys", "splittable"},
    "engine/backends/durable.py": {"decide", "decide_engine", "refused", "_check", "_fired", "_combinations", "_writer",
                                  "_json", "_field_text", "_appender", "_assert", "run"},
    "engine/reading/facts.py": {"unit_from_row", "parse_value", "_bool", "_enum", "_date", "_integer", "_decimal",
                        "_blank", "to_integer", "from_integer", "_fast", "_fast_reader", "unit"},
    "engine/ledger/store.py": {"canonical_json", "sha256", "digest", "content_hash", "legacy_content_hash", "entry_hash",
                        "add", "add_packed", "finish", "append", "verify", "content_sha", "_ruleset_problem",
                        "pack_unit", "unpack_unit", "packing", "canonical_texts", "_names_spelled", "_primed"},
    "engine/backends/evaluate.py": {"decide_unit", "decide", "trace", "unit", "batch", "_cohort", "_diagnose",
                           "quota_candidate", "_agree"},
}

OPERATOR_SWAPS = {"$gt": "$gte", "$gte": "$gt", "$lt": "$lte", "$lte": "$lt", "$eq": "$neq", "$neq": "$eq",
                  "$and": "$or", "$or": "$and", "$ex": "$nex", "$nex": "$ex"}
COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
BINOP_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.FloorDiv: ast.Div, ast.Div: ast.Mult}

# Reviewed survivors that cannot change a grade, a title, a verdict or a hash, keyed by
# (module, line, description): why each is equivalent.  Lines are those of the code as it is now: an edit
# above one moves it, and the mutant then shows as NOT REVIEWED until its line is updated here.
_SIGN = "a comparison function is read only for its sign"
_SLOTS = "frozen and slots only forbid assigning to a field or adding one, and nothing does"
_ENGINE_INTS = "engine values are already 1 and 0 (engine/compiling/integers.py): a bool never reaches this branch"
_SESSIONS = "session ids only need to differ from one fact to the next"
_SINK = "the sink is emptied both before and after each use: dropping one of the two changes nothing"
_SENTINEL = "only the identity of the one 'unknown' value matters; made once at import, any object (None too) serves"
_FLAG_LITERAL = "a flag compared with true or false is folded to the flag or its negation before it is compiled"
_MESSAGE_HASH = "how many characters of a hash a message shows"
_EXISTS = "the engine's $ex and $nex read only the field's name; the value beside it is ignored"
_FIXED_ITEMS = "the items after 'in' are fixed values (the type checker refuses a field there): none always equals"
_FOLDED = "constant comparisons are folded before this point: a comparison here always reads a field"
_ONE_TYPE = "the type checker gives both sides of a comparison one type: one side symbolic means both are"
_TEMPORARIES = "how the generated code's temporaries are numbered: they only need distinct names"
_NEVER_EMPTY = "an and/or has two parts at least and 'in' refuses an empty list: never reached"
_NO_FLAG_EQUALITY = "a yes/no value is compared as a condition: the equality of codes and texts never meets true or false"
_NO_FLAG_MEMBER = "'in' refuses a yes/no value on its left and items of another type: no item is true or false"
_FALSY = "False and None are alike where it is read: only as a test (if, and, or)"
_FAST_PATH = ("the typist's fast branches only spare the slow path's work: a cell they do not take goes to parse_value, "
              "which reads it the same (tests/test_typist.py compares both on every spelling)")
_KEPT_TEXT = ("which values' texts a fact writer keeps, and how many, changes only how fast it writes: a kept text is "
              "the text written anew (engine values are ints and codes, and a bool equal to 1 or 0 has their text); "
              "tests/test_engine_checks.py compares every fact, first and later times, with the JSON of what it carries")
_FAST_READER = ("the fast reader raises ValueError for whatever it is not sure of, and the cell goes to parse_value: "
                "this only makes it turn more cells away (an edge, a length, a digit test), or take spellings Python's "
                "int reads as parse_value's Decimal does ('+5', '5.', non-ASCII digits); tests/test_typist.py compares "
                "both readers on every spelling and on the edges of every range")
_SPELLED_FAST = ("canonical_texts only spares canonical_json's work for a record of two texts or more: a record it "
                 "turns away (fewer names, a name not a text, no template) is spelled by canonical_json, the same text "
                 "(tests/test_unit_spelling.py compares both); a unit's facts are keyed by text, always")
_CACHE_SIZE = "how many entries a cache keeps: only what is made again, never what it gives"
_PACKING_BUFFERS = ("zlib's memory level sizes its internal buffers: the stream still unpacks to the same text, which is "
                    "what the hashes are of")
# Keyed by Mutant.key: (module, function, the line as written, the change).
KNOWN_EQUIVALENT: dict[tuple[str, str, str, str], str] = {
    ("engine/ledger/store.py", '_names_spelled', 'if len(names) < 2 or not all(n.__class__ is str for n in names):', '2 → 3'): _SPELLED_FAST,
    ("engine/ledger/store.py", '_names_spelled', 'if len(names) < 2 or not all(n.__class__ is str for n in names):', '< → <='): _SPELLED_FAST,
    ("engine/ledger/store.py", '_names_spelled', 'if len(names) < 2 or not all(n.__class__ is str for n in names):', 'is → is not'): _SPELLED_FAST,
    ("engine/ledger/store.py", '_names_spelled', 'if len(names) < 2 or not all(n.__class__ is str for n in names):', 'not x → x'): _SPELLED_FAST,
    ("engine/ledger/store.py", '_names_spelled', 'return operator.itemgetter(*order), "{" + ",".join(_QUOTED(n).replace("%", "%%") + ":%s" for n in order) + "}"', 'return x → return None'): _SPELLED_FAST,
    ("engine/ledger/store.py", '_names_spelled', '@functools.lru_cache(maxsize=64)', '64 → 65'): _CACHE_SIZE,
    ("engine/ledger/store.py", '_primed', '@functools.lru_cache(maxsize=16)', '16 → 17'): _CACHE_SIZE,
    ("engine/ledger/store.py", '_primed', 'return zlib.compressobj(3, zlib.DEFLATED, 13, 5, zlib.Z_DEFAULT_STRATEGY, dictionary)', '5 → 6'): _PACKING_BUFFERS,
    ("engine/reading/facts.py", '_fast_reader.day', 'if raw.__class__ is not str or len(raw) != 10:', '10 → 11'): _FAST_READER,
    ("engine/reading/facts.py", '_fast_reader.day', 'if raw.__class__ is not str or len(raw) != 10:', '!= → =='): _FAST_READER,
    ("engine/reading/facts.py", '_fast_reader', 'least, most = int(low * 10 ** scale), int(high * 10 ** scale)', '10 → 11'): _FAST_READER,
    ("engine/reading/facts.py", '_fast_reader', 'least, most = int(low * 10 ** scale), int(high * 10 ** scale)', '* → + (#2 on the line)'): _FAST_READER,
    ("engine/reading/facts.py", '_fast_reader.scaled', 'if raw.__class__ is not str or not raw.isascii():', 'not x → x'): _FAST_READER,
    ("engine/reading/facts.py", '_fast_reader.scaled', 'if not whole_part.isdigit() or (point and (not fraction.isdigit() or len(fraction) > scale)):', 'not x → x'): _FAST_READER,
    ("engine/reading/facts.py", '_fast_reader.scaled', 'if not whole_part.isdigit() or (point and (not fraction.isdigit() or len(fraction) > scale)):', 'not x → x (#2 on the line)'): _FAST_READER,
    ("engine/reading/facts.py", '_fast_reader.scaled', 'if not whole_part.isdigit() or (point and (not fraction.isdigit() or len(fraction) > scale)):', '> → >='): _FAST_READER,
    ("engine/reading/facts.py", '_fast_reader.scaled', 'if not whole_part.isdigit() or (point and (not fraction.isdigit() or len(fraction) > scale)):', 'and → or'): _FAST_READER,
    ("engine/reading/facts.py", '_fast_reader.scaled', 'if not least <= value <= most:', '<= → <'): _FAST_READER,
    ("engine/reading/facts.py", '_fast_reader.scaled', 'if not least <= value <= most:', '<= → < (#2 on the line)'): _FAST_READER,
    ("engine/grading/aggregate.py", "CriterionScore", '@dataclass(frozen=True, slots=True)', "True → False"): _SLOTS,
    ("engine/grading/aggregate.py", "CriterionScore", '@dataclass(frozen=True, slots=True)', "True → False (#2 on the line)"): _SLOTS,
    ("engine/grading/aggregate.py", "StageOne", '@dataclass(slots=True)', "True → False"): _SLOTS,
    ("engine/grading/aggregate.py", "GradeChoice", '@dataclass(slots=True)', "True → False"): _SLOTS,
    ("engine/ledger/store.py", "EntryWriter.add_packed", 'if self.count == 1:', "1 → 2"): "where the tests' fault hook pauses a recording (to kill it midway): "
                                        "the second unit is as much midway as the first",
    ("engine/ledger/store.py", "Store._ruleset_problem", 'return f"rule set sha256:{sha[:12]} is missing"', "12 → 13"): _MESSAGE_HASH,
    ("engine/ledger/store.py", "Store._ruleset_problem", 'return f"rule set (sha256:{sha[:12]}) was altered: its readable copy no longer matches it"', "12 → 13"): _MESSAGE_HASH,
    ("engine/ledger/store.py", "Store._ruleset_problem", 'return (f"rule set (sha256:{sha[:12]}) was relabelled: stored as {stored[\'id\']} {stored[\'version\']} "', "12 → 13"): _MESSAGE_HASH,
    ("engine/backends/durable.py", "DurableBackend.decide_engine", 'fact[field_name(key)] = (1 if value else 0) if isinstance(value, bool) else value', "1 → 2"): _ENGINE_INTS,
    ("engine/backends/durable.py", "DurableBackend.decide_engine", 'fact[field_name(key)] = (1 if value else 0) if isinstance(value, bool) else value', "0 → 1"): _ENGINE_INTS,
    ("engine/backends/durable.py", "DurableBackend._assert", 'for attempt in range(2):', "2 → 3"): "a third try after the engine twice cut a fact's actions short",
    ("engine/backends/durable.py", "DurableBackend._assert", 'self._sid += 1', "1 → 2"): _SESSIONS,
    ("engine/backends/durable.py", "DurableBackend._assert", 'self._sid += 1', "+= → -="): _SESSIONS,
    ("engine/backends/durable.py", "DurableBackend._assert", 'sink.clear()', "drop the call clear()"): _SINK,
    ("engine/backends/durable.py", "Verifier._fired", 'raise EngineFault(f"the rule engine answered code {result[0]} for a fact of \'{ruleset._name}\'")', "0 → 1"): "the code quoted in a fault's message",
    ("engine/backends/durable.py", "Verifier._fired", 'sink.clear()', "drop the call clear()"): _SINK,
    ("engine/backends/durable.py", "Verifier._fired", 'self.core.delete_state(ruleset._handle, self.SID)', "drop the call delete_state()"): "a session left after a refused answer, which "
                                                                          "ends the run (exit 3)",
    ("engine/backends/durable.py", 'Verifier._writer', 'if spec is not None and spec.type == "vnd":', '== → !='): _KEPT_TEXT,
    ("engine/backends/durable.py", 'Verifier._writer', 'if spec is not None and spec.type == "vnd":', 'if c → if not c'): _KEPT_TEXT,
    ("engine/backends/durable.py", '_field_text', 'if (value.__class__ is int or value.__class__ is str) and len(seen) < FIELD_TEXTS:', 'is → is not'): _KEPT_TEXT,
    ("engine/backends/durable.py", '_field_text', 'if (value.__class__ is int or value.__class__ is str) and len(seen) < FIELD_TEXTS:', 'is → is not (#2 on the line)'): _KEPT_TEXT,
    ("engine/backends/durable.py", '_field_text', 'if (value.__class__ is int or value.__class__ is str) and len(seen) < FIELD_TEXTS:', 'or → and'): _KEPT_TEXT,
    ("engine/backends/durable.py", '_field_text', 'if (value.__class__ is int or value.__class__ is str) and len(seen) < FIELD_TEXTS:', '< → <='): _KEPT_TEXT,
    ("engine/backends/durable.py", '_field_text', 'if (value.__class__ is int or value.__class__ is str) and len(seen) < FIELD_TEXTS:', 'and → or'): _KEPT_TEXT,
    ("engine/backends/durable.py", '_field_text', 'if (value.__class__ is int or value.__class__ is str) and len(seen) < FIELD_TEXTS:', 'if c → if not c'): _KEPT_TEXT,
    ("engine/backends/durable.py", "_json", 'if value is True or value is False:', "True → False"): _ENGINE_INTS,
    ("engine/backends/durable.py", "_json", 'if value is True or value is False:', "False → True"): _ENGINE_INTS,
    ("engine/backends/durable.py", "_json", 'if value is True or value is False:', "or → and"): _ENGINE_INTS,
    ("engine/backends/durable.py", "_json", 'return "1" if value else "0"', "return x → return None"): _ENGINE_INTS,
    ("engine/backends/trace.py", "_Unknown.__new__", 'if cls._instance is None:', "is → is not"): _SENTINEL,
    ("engine/backends/trace.py", "_Unknown.__new__", 'if cls._instance is None:', "if c → if not c"): _SENTINEL,
    ("engine/backends/trace.py", "_Unknown.__new__", 'return cls._instance', "return x → return None"): _SENTINEL,
    ("engine/backends/trace.py", "Trace", '@dataclass(frozen=True, slots=True)', "True → False"): _SLOTS,
    ("engine/backends/trace.py", "Trace", '@dataclass(frozen=True, slots=True)', "True → False (#2 on the line)"): _SLOTS,
    ("engine/backends/trace.py", "Trace.missing", 'if self.kind == "call" and self.op == "present":', "and → or"): "present() is the language's only function: a call is present()",
    ("engine/backends/trace.py", "evaluate", 'if isinstance(node, ast.Call) and node.func == "present":', "and → or"): "present() is the language's only function, and every other "
                                                 "node is handled above",
    ("engine/backends/durable_rules.py", "verify_rules", '"usual": ({"$nex": {answer: 1}}, nnf(plan, leaf.expr, negate=usual, relax=True)),', "1 → 2"): _EXISTS,
    ("engine/backends/durable_rules.py", "leaf_rules", 'guard = [{"$nex": {field_name(n): 1}} for n in sorted(leaf.reads)]', "1 → 2"): _EXISTS,
    ("engine/backends/durable_rules.py", "_equality", 'return {"$and": [{"$ex": {value["$m"]: 1}}, {op: {field_name(left.name): value}}]}', "1 → 2"): _EXISTS,
    ("engine/backends/durable_rules.py", "_all_present", 'guards = [{"$ex": {field_name(n): 1}} for n in names]', "1 → 2"): _EXISTS,
    ("engine/backends/durable_rules.py", "_threshold", 'return {"$ex": {field: 1}}', "1 → 2"): _EXISTS,
    ("engine/backends/durable_rules.py", "_threshold", 'floor = value.numerator // value.denominator', "// → /"): "the engine compares an integer with the quotient as with its floor; "
                                                 "values up to 10^13 are exact in a double",
    ("engine/backends/durable_rules.py", "nnf", 'return {"$nex" if negate else "$ex": {field_name(node.args[0].name): 1}}', "1 → 2"): _EXISTS,
    ("engine/backends/durable_rules.py", "_or_absent", 'absent = [{"$nex": {field_name(n): 1}} for n in names]', "1 → 2"): _EXISTS,
    ("engine/backends/durable_rules.py", "verify_rules", 'parts = [{"kind": kind}, *body, test] if tag == "usual" else [{"kind": kind}, test, *body]', "== → !="): "the order of a rule's tests: which one the engine tries first",
    ("engine/backends/durable_rules.py", "_or_absent", 'absent.insert(0, atom)', "0 → 1"): "the order of the alternatives of an $or",
    ("engine/backends/durable_rules.py", "part_keys", 'return []', "return x → return None"): "only splittable conditions are split: never reached",
    ("engine/backends/durable_rules.py", "nnf", 'return _or_absent(_atom(plan, node, negate, guarded=False), sorted(ast.names(node)))', "False → True"): "presence guards inside 'proven, or a field absent': the "
                                                       "absence alternative already covers what they exclude",
    ("engine/backends/durable_rules.py", "_or_absent", 'return ALWAYS', "return x → return None"): _FOLDED,
    ("engine/backends/durable_rules.py", "_or_absent", 'return NEVER', "return x → return None"): _FOLDED,
    ("engine/backends/durable_rules.py", "_atom", 'if any(p is (ALWAYS if eq == "$eq" else NEVER) for p in parts):', "'$eq' → '$neq'"): _FIXED_ITEMS,
    ("engine/backends/durable_rules.py", "_atom", 'if any(p is (ALWAYS if eq == "$eq" else NEVER) for p in parts):', "== → !="): _FIXED_ITEMS,
    ("engine/backends/durable_rules.py", "_atom", 'return ALWAYS if eq == "$eq" else NEVER', "'$eq' → '$neq'"): _FIXED_ITEMS,
    ("engine/backends/durable_rules.py", "_atom", 'return ALWAYS if eq == "$eq" else NEVER', "== → !="): _FIXED_ITEMS,
    ("engine/backends/durable_rules.py", "_atom", 'return ALWAYS if eq == "$eq" else NEVER', "return x → return None"): _FIXED_ITEMS,
    ("engine/backends/durable_rules.py", "_symbol_value", 'return (1 if value else 0) if isinstance(value, bool) else value', "1 → 2"): _FLAG_LITERAL,
    ("engine/backends/durable_rules.py", "_symbol_value", 'return (1 if value else 0) if isinstance(value, bool) else value', "0 → 1"): _FLAG_LITERAL,
    ("engine/backends/durable_rules.py", "_linear_compare", 'cmp = _threshold(field_name(name), _FLIP[op] if k < 0 else op, -const / k)', "< → <="): "a field whose coefficient is 0 has cancelled out and is not a term",
    ("engine/backends/durable_rules.py", "_linear_compare", 'def _linear_compare(plan: Plan, left: ast.Node, op: str, right: ast.Node, guarded: bool = True) -> Any:', "True → False"): "a default every caller overrides",
    ("engine/backends/durable_rules.py", "_linear_compare", 'return _all_present(read) if read and guarded else ALWAYS', "and → or"): "unguarded only inside 'proven, or a field absent', where "
                                                   "'all present' or 'any absent' is everything",
    ("engine/backends/durable_rules.py", "_atom", 'if is_symbolic(plan, node.left) or is_symbolic(plan, node.right):', "or → and"): _ONE_TYPE,
    ("engine/backends/durable_rules.py", "_equality", 'def _equality(plan: Plan, left: ast.Node, right: ast.Node, op: str, guarded: bool = True) -> dict:', "True → False"): "a default every caller overrides",
    ("engine/backends/durable_rules.py", "_equality", 'if op == "$eq" and not isinstance(value, dict):', "not x → x"): "{field: v} and {'$eq': {field: v}} are the same test in the engine",
    ("engine/backends/compiled.py", "_Writer.__init__", 'self.count = 0', "0 → 1"): _TEMPORARIES,
    ("engine/backends/compiled.py", "_Writer.temporary", 'self.count += 1', "1 → 2"): _TEMPORARIES,
    ("engine/backends/compiled.py", "_Writer.expression", 'if is_symbolic(plan, node.left) or is_symbolic(plan, node.right):', "or → and"): _ONE_TYPE,
    ("engine/backends/compiled.py", "_Writer.logic", 'return "True" if op == "and" else "False"', "== → !="): _NEVER_EMPTY,
    ("engine/backends/compiled.py", "_Writer.logic", 'return "True" if op == "and" else "False"', "return x → return None"): _NEVER_EMPTY,
    ("engine/backends/compiled.py", "_Writer.symbol", 'return repr((1 if value else 0) if isinstance(value, bool) else value)', "1 → 2"): _NO_FLAG_EQUALITY,
    ("engine/backends/compiled.py", "_Writer.symbol", 'return repr((1 if value else 0) if isinstance(value, bool) else value)', "0 → 1"): _NO_FLAG_EQUALITY,
    ("engine/backends/compiled.py", "_Writer.member", 'self.constants[name] = frozenset((1 if i.value else 0) if isinstance(i.value, bool) else i.value', "1 → 2"): _NO_FLAG_MEMBER,
    ("engine/backends/compiled.py", "_Writer.member", 'self.constants[name] = frozenset((1 if i.value else 0) if isinstance(i.value, bool) else i.value', "0 → 1"): _NO_FLAG_MEMBER,
    ("engine/compiling/integers.py", "scale_of", 'return OUTCOME_SCALES.get(name.split(".")[0], 0)', "0 → 1 (#2 on the line)"): "the default scale: only facts and points are numbers, and every other name "
                                         "is a yes/no outcome or the grade, never scaled",
    ("engine/compiling/integers.py", "is_condition", 'return False', "return x → return None"): _FALSY,
    ("engine/compiling/integers.py", "is_symbolic", 'return isinstance(node.value, (str, bool))', "return x → return None"): "a fixed value meets a field of its type, which decides "
                                                         "alone (two fixed values are folded); a fixed text before "
                                                         "'in' fails to compile either way",
    ("engine/compiling/integers.py", "is_symbolic", 'return False', "return x → return None"): _FALSY,
    ("engine/reading/facts.py", "_bool", 'if isinstance(raw, (int, float)) and raw in (0, 1):', "0 → 1"): "a number 0 not taken as a number is taken as the word '0': false either way",
    ("engine/reading/facts.py", "from_integer", 'if kind in ("decimal", "percentage") and spec.scale:', "and → or"): "only decimal and percentage facts have a scale (the catalogue refuses "
                                         "places elsewhere): for every other kind it is 0 either way",
    ("engine/reading/facts.py", "Typist._fast", 'if kind == "enum":', "== → !="): _FAST_PATH,
    ("engine/reading/facts.py", "Typist._fast", 'if kind == "enum":', "if c → if not c"): _FAST_PATH,
    ("engine/reading/facts.py", "Typist._fast", 'namespace[constant] = frozenset(spec.values or {})', "or → and"): _FAST_PATH,
    ("engine/grading/quota.py", "QuotaCandidate", '@dataclass(frozen=True)', "True → False"): _SLOTS,
    ("engine/grading/quota.py", "QuotaEffect", '@dataclass(frozen=True)', "True → False"): _SLOTS,
    ("engine/grading/quota.py", "place", 'count = base.get(cohort, 0)', "0 → 1"): "every candidate is graded in a base level, so its cohort always has a count",
    ("engine/grading/quota.py", "_comparer.compare", 'return 1', "1 → 2"): _SIGN,
    ("engine/grading/quota.py", "_comparer.compare", 'return -1', "1 → 2"): _SIGN,
    ("engine/grading/quota.py", "_comparer.compare", 'smaller = x < y', "< → <="): "equal values never reach it: they are skipped a line above",
    ("engine/grading/quota.py", "_comparer.compare", 'return (1 if smaller else -1) if key.order == "desc" else (-1 if smaller else 1)', "1 → 2"): _SIGN,
    ("engine/grading/quota.py", "_comparer.compare", 'return (1 if smaller else -1) if key.order == "desc" else (-1 if smaller else 1)', "1 → 2 (#2 on the line)"): _SIGN,
    ("engine/grading/quota.py", "_comparer.compare", 'return (1 if smaller else -1) if key.order == "desc" else (-1 if smaller else 1)', "1 → 2 (#3 on the line)"): _SIGN,
    ("engine/grading/quota.py", "_comparer.compare", 'return (1 if smaller else -1) if key.order == "desc" else (-1 if smaller else 1)', "1 → 2 (#4 on the line)"): _SIGN,
    ("engine/grading/quota.py", "_comparer.compare", 'return (a.unit_id > b.unit_id) - (a.unit_id < b.unit_id)', "> → >="): "two candidates never share a unit id (a repeated id makes the unit invalid)",
    ("engine/grading/quota.py", "_comparer.compare", 'return (a.unit_id > b.unit_id) - (a.unit_id < b.unit_id)', "< → <="): "two candidates never share a unit id (a repeated id makes the unit invalid)",
}


@dataclass
class Mutant:
    module: str
    index: int  # the n-th mutation site of the module, in the order of the walk
    line: int
    description: str
    scope: str = ""  # the function (or class) it is in, dotted: Typist._fast
    source: str = ""  # its line as written, stripped
    nth: int = 0  # 1 for the second mutant of the same change on the same line, and so on

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What a review of it names: its module, scope, line as written and change — not its line number, which
        any edit above it moves."""
        change = self.description if not self.nth else f"{self.description} (#{self.nth + 1} on the line)"
        return (self.module, self.scope, self.source, change)


class _Sites(ast.NodeTransformer):
    """Walks a module; counts mutation sites and applies the one numbered ``target``."""

    def __init__(self, target: Optional[int] = None, functions: Optional[set[str]] = None):
        self.target = target
        self.functions = functions
        self._inside = 0  # > 0 while walking a function that may be mutated
        self.count = 0
        self.found: list[tuple[int, str, str]] = []  # (line, description, scope)
        self._docstrings: set[int] = set()
        self._scope: list[str] = []

    def _site(self, node: ast.AST, description: str) -> bool:
        """Registers a site; True when it is the one to mutate."""
        if self.functions is not None and not self._inside:
            return False
        self.found.append((getattr(node, "lineno", 0), description, ".".join(self._scope)))
        self.count += 1
        return self.count - 1 == self.target

    def visit_Module(self, node):
        self._mark_docstrings(node)
        return self.generic_visit(node)

    def visit_FunctionDef(self, node):
        self._mark_docstrings(node)
        if node.name == "__repr__":
            return node
        chosen = self.functions is not None and node.name in self.functions
        self._inside += chosen
        self._scope.append(node.name)
        try:
            return self.generic_visit(node)
        finally:
            self._inside -= chosen
            self._scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self._mark_docstrings(node)
        self._scope.append(node.name)
        try:
            return self.generic_visit(node)
        finally:
            self._scope.pop()

    def _mark_docstrings(self, node) -> None:
        body = getattr(node, "body", [])
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            self._docstrings.add(id(body[0].value))

    def visit_Compare(self, node):
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap and self._site(node, f"{_op(op)} → {_op(swap())}"):
                node.ops[i] = swap()
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        if self._site(node, f"{_op(node.op)} → {_op(other)}"):
            node.op = other
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._site(node, "not x → x"):
            return node.operand
        if isinstance(node.op, ast.USub) and self._site(node, "-x → x"):
            return node.operand
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        swap = BINOP_SWAPS.get(type(node.op))
        if swap and self._site(node, f"{_op(node.op)} → {_op(swap())}"):
            node.op = swap()
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        swap = BINOP_SWAPS.get(type(node.op))
        if swap and self._site(node, f"{_op(node.op)}= → {_op(swap())}="):
            node.op = swap()
        return node

    def visit_Constant(self, node):
        if id(node) in self._docstrings:
            return node
        value = node.value
        if isinstance(value, bool):
            if self._site(node, f"{value} → {not value}"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, int):
            if self._site(node, f"{value} → {value + 1}"):
                return ast.copy_location(ast.Constant(value + 1), node)
        elif isinstance(value, str) and value in OPERATOR_SWAPS:
            if self._site(node, f"'{value}' → '{OPERATOR_SWAPS[value]}'"):
                return ast.copy_location(ast.Constant(OPERATOR_SWAPS[value]), node)
        return node

    def visit_If(self, node):
        self.generic_visit(node)
        if self._site(node, "if c → if not c"):
            node.test = ast.UnaryOp(ast.Not(), node.test)
        return node

    def visit_Return(self, node):
        self.generic_visit(node)
        if node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            if self._site(node, "return x → return None"):
                node.value = None
        return node

    def visit_Expr(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Call) and self._site(node, f"drop the call {_call_name(node.value)}()"):
            return ast.copy_location(ast.Pass(), node)
        return node

    def visit_Break(self, node):
        if self._site(node, "break → continue"):
            return ast.copy_location(ast.Continue(), node)
        return node

    def visit_Continue(self, node):
        if self._site(node, "continue → break"):
            return ast.copy_location(ast.Break(), node)
        return node


def _op(op: ast.AST) -> str:
    return {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is",
            ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.And: "and", ast.Or: "or", ast.Add: "+",
            ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//"}[type(op)]


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "?")


def mutants(module: str) -> list[Mutant]:
    text = (ROOT / module).read_text(encoding="utf-8")
    lines = text.splitlines()
    sites = _Sites(functions=FUNCTIONS.get(module))
    sites.visit(ast.parse(text))
    seen: collections.Counter = collections.Counter()
    out = []
    for i, (line, description, scope) in enumerate(sites.found):
        out.append(Mutant(module, i, line, description, scope, lines[line - 1].strip() if line else "",
                          seen[line, description]))
        seen[line, description] += 1
    return out


def mutated_source(mutant: Mutant) -> str:
    tree = ast.parse((ROOT / mutant.module).read_text(encoding="utf-8"))
    _Sites(mutant.index, FUNCTIONS.get(mutant.module)).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | timeout | broken (the mutant does not even import)
    seconds: float
    killed_by: str = ""


def run_mutant(mutant: Mutant, workdir: Path, timeout: float) -> Outcome:
    target = workdir / mutant.module
    original = target.read_text(encoding="utf-8")
    target.write_text(mutated_source(mutant), encoding="utf-8")
    start = time.monotonic()
    try:
        quick = QUICK.get(mutant.module, [])
        rest = [t for t in MODULES[mutant.module] if t not in quick]
        for tests in (quick, rest):
            if not tests:
                continue
            done = _pytest(tests, workdir, timeout - (time.monotonic() - start))
            if done.returncode != 0:
                status = "broken" if done.returncode in (2, 3, 4) else "killed"
                failed = next((line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))), "")
                return Outcome(mutant, status, time.monotonic() - start, failed[:160])
        return Outcome(mutant, "survived", time.monotonic() - start)
    except subprocess.TimeoutExpired:
        return Outcome(mutant, "timeout", time.monotonic() - start)
    finally:
        target.write_text(original, encoding="utf-8")


def _pytest(tests: list[str], workdir: Path, timeout: float) -> subprocess.CompletedProcess:
    """The tests in one process, stopping at the first failure; plugins these tests do not use are not loaded."""
    return subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "--no-header", "-o", "addopts=",
                           "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:hypothesispytest", *tests],
                          cwd=workdir, capture_output=True, text=True, timeout=max(timeout, 1),
                          env=dict(os.environ, PYTHONPATH=str(workdir)))


def _copy_checkout(into: Path) -> Path:
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".hypothesis", ".pytest_cache", "*.egg-info",
                                    "build", "out")
    shutil.copytree(ROOT, into / "checkout", ignore=ignore)
    return into / "checkout"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", help="a module's file stem (quota) or path; repeatable")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=180, help="seconds a mutant's tests may run (a loop: killed)")
    parser.add_argument("--line", type=int, action="append", help="only the mutants on this line; repeatable")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--json", type=Path, help="also write every outcome here")
    args = parser.parse_args(argv)
    chosen = [m for m in MODULES if not args.module or any(m == s or Path(m).stem == s for s in args.module)]
    if not chosen:
        parser.error(f"no such module; choose from {', '.join(Path(m).stem for m in MODULES)}")
    todo = [m for module in chosen for m in mutants(module) if not args.line or m.line in args.line]
    if args.list:
        for m in todo:
            print(f"{m.module}:{m.line}: #{m.index} {m.description}")
        print(f"{len(todo)} mutants")
        return 0
    with tempfile.TemporaryDirectory(prefix="cdcs-mutants-") as tmp:
        workdirs = [_copy_checkout(Path(tmp) / f"w{i}") for i in range(args.jobs)]
        for tests in {tuple(MODULES[m]) for m in chosen}:  # the unmutated code must pass, or nothing is learnt
            done = _pytest(list(tests), workdirs[0], timeout=3600)
            if done.returncode != 0:
                print(f"the tests fail on the unmutated code: {' '.join(tests)}\n{done.stdout[-2000:]}", file=sys.stderr)
                return 2
        free = list(workdirs)
        outcomes: list[Outcome] = []

        def work(mutant: Mutant) -> Outcome:
            workdir = free.pop()
            try:
                return run_mutant(mutant, workdir, args.timeout)
            finally:
                free.append(workdir)

        with ThreadPoolExecutor(args.jobs) as pool:
            for n, outcome in enumerate(pool.map(work, todo), start=1):
                outcomes.append(outcome)
                m = outcome.mutant
                print(f"[{n}/{len(todo)}] {outcome.status:8} {m.module}:{m.line} {m.description} "
                      f"({outcome.seconds:.0f} s)", file=sys.stderr, flush=True)
    print(report(outcomes))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def report(outcomes: list[Outcome]) -> str:
    lines = ["| module | mutants | killed | survived (equivalent) | timeout | broken |", "|---|---:|---:|---:|---:|---:|"]
    for module in dict.fromkeys(o.mutant.module for o in outcomes):
        mine = [o for o in outcomes if o.mutant.module == module]
        count = {s: sum(1 for o in mine if o.status == s) for s in ("killed", "survived", "timeout", "broken")}
        equivalent = sum(1 for o in mine if o.status == "survived" and _known(o.mutant))
        lines.append(f"| `{module}` | {len(mine)} | {count['killed']} | {count['survived']} ({equivalent}) | "
                     f"{count['timeout']} | {count['broken']} |")
    survivors = [o for o in outcomes if o.status == "survived"]
    if survivors:
        lines += ["", "Surviving mutants:", ""]
        for o in survivors:
            why = _known(o.mutant)
            lines.append(f"- `{o.mutant.module}:{o.mutant.line}` {o.mutant.description}"
                         + (f" — equivalent: {why}" if why else " — NOT REVIEWED"))
    return "\n".join(lines)


def _known(m: Mutant) -> str:
    return KNOWN_EQUIVALENT.get(m.key, "")


if __name__ == "__main__":
    sys.exit(main())
