"""What every reader takes at most, in one place: files come from other people.

Each limit is far above what a real rule set or a real union's facts need, and low
enough that a broken or hostile file is refused quickly, in bounded memory, with the
limit named in the message.  docs/designer.md lists them (Facts files).
"""
from __future__ import annotations

import os
from typing import Optional

# Whole files read into memory (a CSV or XLSX file is streamed and has no size limit).
RULES_FILE_BYTES = 8 * 2 ** 20  # a rule set, a catalogue, a case file: today's are under 100 KB
YAML_FACTS_BYTES = 64 * 2 ** 20  # about 40,000 units; a larger batch belongs in a CSV or XLSX file
JSON_FACTS_BYTES = 256 * 2 ** 20  # about 170,000 units

# Structure
MAX_DEPTH = 64  # YAML levels: a rule set is a few levels deep, a facts file three
MAX_VALUES_PER_CHAR = 4  # YAML values built per character of text: aliases may repeat a value, not explode it
CONDITION_DEPTH = 100  # levels of a condition's syntax tree: about 45 nested parentheses, or 90 nots
CONDITION_VALUES = 256  # fact names, numbers and texts in one condition: past about 400 the rule engine takes
                        # minutes to register it (a list of 450 items: over two minutes)
COLUMNS = 1_000  # header columns of a facts file; the catalogues have under a hundred facts

# Cells
ROW_CHARS = 2 ** 20  # one CSV record (a quote opened and never closed would otherwise read the rest of the file)
TEXT_CHARS = 500  # a text fact: a unit's name, id, upper union (real names are under 200)
NUMBER_CHARS = 40  # a number as written; int() of thousands of digits is refused by Python itself
NUMBER_DIGITS = 20  # a number's magnitude, 10^-20 .. 10^20: 1e-999999999 would take hours to compare


def size_problem(path: os.PathLike, limit: int, what: str) -> Optional[str]:
    """Why a file is too large to read whole, or None; ``what`` says what the file is for."""
    size = os.stat(path).st_size
    if size <= limit:
        return None
    return (f"the file is {size:,} bytes; a {what} is read whole and may be at most {limit:,} bytes "
            f"({limit // 2 ** 20} MiB)")
