"""Fault injection for tests: a rule engine that misreads one fact, in every process.

Python imports this module at start-up when its folder is on ``PYTHONPATH``, so the
fault reaches the real ``cdcs`` command and every worker process it starts.  Set
``CDCS_FAULT_FIELD`` (an engine field name) and ``CDCS_FAULT_DELTA`` (an integer added
to it) in the test's environment; without them nothing changes.  The fault is applied
where facts enter the engine's C core, below the project's own code, so that it shows
only if durable-rules really decides.
"""
from __future__ import annotations

import json
import os

FIELD = os.environ.get("CDCS_FAULT_FIELD")
DELTA = int(os.environ.get("CDCS_FAULT_DELTA", "0"))


def _install() -> None:
    from durable import engine

    core = engine.durable_rules_engine

    def misread(fact):
        if isinstance(fact, list):
            return [misread(f) for f in fact]
        if isinstance(fact, dict) and isinstance(fact.get(FIELD), int):
            return dict(fact, **{FIELD: fact[FIELD] + DELTA})
        return fact

    def wrap(name: str) -> None:
        real = getattr(core, name)
        setattr(core, name, lambda handle, text, *rest: real(handle, json.dumps(misread(json.loads(text))), *rest))

    for name in ("assert_fact", "assert_facts", "assert_event", "assert_events"):
        wrap(name)


if FIELD:
    _install()
