"""Decided units made into explanations, as data: each decision with the values it read,
the reasons for the grade and what is missing for the next one.  Sentences are made
here only from codes and numbers, in Vietnamese or English.  May import
:mod:`engine.backends` and what it may.
"""
