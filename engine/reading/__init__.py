"""Reading what people give: rule sets with their catalogue, and facts files.

A rule set is loaded from YAML and validated (pydantic) with every value's position kept;
facts come from CSV, XLSX, JSON or YAML, typed by the catalogue, text in NFC.  Whatever
is wrong is a located problem (file, line, column, the value, what was expected).
May import the shared words (``errors``, ``limits``, ``keys``, ``nfc``, ``model``,
``yamlpos``) and the condition language (:mod:`engine.expr`); nothing later.
"""
