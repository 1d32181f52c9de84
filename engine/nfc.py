"""Vietnamese text in one spelling.

Most Vietnamese letters can be written composed (one code point) or decomposed (a letter
and its marks), and editors, spreadsheets and terminals write either.  Everything read
is compared, hashed and stored in NFC, the composed form; this module is where text is
put in it.
"""
from __future__ import annotations

import unicodedata
from typing import Any, Mapping


def nfc(text: str) -> str:
    """``text`` in NFC; ASCII, most of what is read, is already in it and is returned without a look-up."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def in_nfc(text: str) -> bool:
    """Whether ``text`` is already in NFC (cheaper to ask of a whole row than to normalise each cell)."""
    return unicodedata.is_normalized("NFC", text)


def nfc_value(value: Any) -> Any:
    """A value read from YAML: text in NFC, anything else as it is."""
    return nfc(value) if isinstance(value, str) else value


def typed(text: str) -> str:
    """Text a person typed (an id, a reason, a name): without the spaces around it, in NFC."""
    return nfc(text.strip())


def unit_id_of(record: Mapping[str, Any]) -> str:
    """A record's unit id as every reader compares it: as text, trimmed, in NFC; '' when it gives none."""
    return typed(str(record.get("unit_id") or ""))
