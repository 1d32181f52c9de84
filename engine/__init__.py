"""Grading engine for grassroots trade unions (CĐCS): YAML rule sets in, explained grades out.

The packages follow the pipeline, and each imports only its own step or earlier ones
(``tests/test_layering.py``): the shared words at the top (``errors``, ``limits``,
``keys``, ``nfc``, ``values``, ``model``, ``yamlpos``), then :mod:`engine.expr` (the condition
language), :mod:`engine.reading`, :mod:`engine.compiling`, :mod:`engine.grading`,
:mod:`engine.backends`, :mod:`engine.explaining`, :mod:`engine.authoring`,
:mod:`engine.ledger`, :mod:`engine.rendering`, :mod:`engine.pipeline`,
:mod:`engine.review`, and the command line, :mod:`engine.cli`.
"""

__version__ = "0.1.0"
