"""Fault injection for tests, in every process of the real ``cdcs`` command.

Python imports this module at start-up when its folder is on ``PYTHONPATH``, so what it
changes reaches the command and every worker process it starts.  Without the variables
below it changes nothing.

- ``CDCS_FAULT_FIELD`` and ``CDCS_FAULT_DELTA``: the rule engine misreads one fact (an
  integer added to an engine field), applied where facts enter its C core, below the
  project's own code, so that it shows only if durable-rules really decides.
- ``CDCS_FAULT_ACTIONS``: when a rule matched, the engine's actions ``fail`` (it reports
  an error instead of running them) or are ``skip``-ped (it returns as if they had run).
- ``CDCS_TEST_PAUSE_MID_RECORD`` (seconds): a recording stops with its first unit written
  and nothing committed, says so on stderr, and waits, for a test to kill it there.
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


ACTIONS = os.environ.get("CDCS_FAULT_ACTIONS")


def _break_actions() -> None:
    """Starts the matched rule's action as the engine does, then abandons it unrun."""
    from durable import engine

    core = engine.durable_rules_engine

    def do_actions(self, state_handle, complete) -> None:
        result = core.start_action_for_state(self._handle, state_handle)
        if result:
            message = next(iter(json.loads(result[1]).values()))
            closure = engine.Closure(self._host, self, json.loads(result[0]), message, state_handle)
            core.abandon_action(self._handle, closure._handle)
        complete(RuntimeError("injected: the action failed") if ACTIONS == "fail" else None, None)

    engine.Ruleset.do_actions = do_actions


if ACTIONS:
    _break_actions()


PAUSE = os.environ.get("CDCS_TEST_PAUSE_MID_RECORD")


def _pause_mid_record() -> None:
    """Holds a recording with its first unit written and nothing committed, for a test to kill it there."""
    import sys
    import time

    from engine.ledger.store import Store

    def paused(self) -> None:
        sys.stderr.write("recording: paused mid-transaction\n")
        sys.stderr.flush()
        time.sleep(float(PAUSE))

    Store.paused_mid_entry = paused


if PAUSE:
    _pause_mid_record()
