"""The back ends that decide every condition, and the evaluator that keeps them in agreement.

The compiled evaluator (Python written from the plan), durable-rules with the compiler
of its rulesets, and the tracing evaluator that explains; :mod:`engine.backends.evaluate`
decides each unit with the first and checks every answer in the second, stopping on any
disagreement.  May import :mod:`engine.grading` and what it may.
"""
