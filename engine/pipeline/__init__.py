"""The one way units are graded: a facts file read in chunks, decided in a pool of
processes, the quota settled in a second pass, results written in input order and,
when asked, recorded.  Every command that grades goes through :mod:`engine.pipeline.run`;
what a command does beyond grading one file (compare two rule sets on it, count it
against targets, check a file, start a rule set's next version) has a module here, so
that the command line only parses arguments, calls one function and shows its result.
May import :mod:`engine.rendering` and what it may.
"""
