"""Questions asked of the ledger afterwards: why a unit got its grade, replaying and
verifying recorded runs, appeals and overrides, and the targets report of a recorded
year.  May import :mod:`engine.pipeline` (appeals and replays grade again) and what it
may.
"""
