"""The one way units are graded: a facts file read in chunks, decided in a pool of
processes, the quota settled in a second pass, results written in input order and,
when asked, recorded.  Every command that grades goes through :mod:`engine.pipeline.run`.
May import :mod:`engine.rendering` and what it may.
"""
