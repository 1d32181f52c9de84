"""Questions asked of the ledger afterwards: why a unit got its grade, replaying and
verifying recorded runs, appeals and overrides, facts carried from earlier years, and
the targets report from a recorded run.  May import :mod:`engine.pipeline` (appeals and
replays grade again) and what it may.
"""
