#!/usr/bin/env python3
"""Write the fictional Hà Lâm province facts files for 2026: the same 60 units, a year on.

    python examples/make_province_2026.py

writes ``province_2026.csv`` and ``province_2026.xlsx`` (the columns of
``criteria/catalogue-2026.yaml``) and ``province_2025_new_facts.csv``: the facts the
2026 catalogue adds, for the 2025 units, so that
``cdcs impact examples/province_2025.csv --from 2025 --to 2026 --with examples/province_2025_new_facts.csv``
can grade last year's units under the 2026 rules.  EVERYTHING IS INVENTED.

Each 2026 unit is its 2025 row (``make_province_2025.py``) moved one year on (the year,
the budget and settlement dates and deadlines), with:

- member dues at 0.5% of salary all year: the salary base 5% above 2025's, split evenly
  between the half-years; what was due and what was collected follow, at the share of
  dues the unit collected in 2025; the remittance and spending that depend on dues
  follow too;
- the union sections under the unit (``SECTIONS`` below), none of them disciplined, no
  criterion rated poor, no claim to be an outstanding organisation;
- the year-on-year changes in ``CHANGES`` below, each with the reason it is there.
"""
from __future__ import annotations

import datetime

from make_province import HERE, UNITS, check_units, fact_names, thousand, write_csv, write_xlsx
from make_province_2025 import WAGE_GROWTH, follow_dues, moved_a_year, unit_2025

CATALOGUE_2026 = HERE.parent / "criteria" / "catalogue-2026.yaml"
CSV_OUT = HERE / "province_2026.csv"
XLSX_OUT = HERE / "province_2026.xlsx"
NEW_FACTS_OUT = HERE / "province_2025_new_facts.csv"
FIXED_TIME = datetime.datetime(2026, 12, 31, 0, 0, 0)
SECTIONS = {"HL-VP": 2, "HL-BV": 8, "HL-TTYT": 5, "HL-TT": 3, "HL-TR": 4, "HL-DN": 2, "HL-FDI": 3}  # by id prefix

# Year-on-year changes, by unit: what happened in 2026 that the formulas above do not cover.
CHANGES: dict[str, dict] = {
    # One of its 8 sections was disciplined (12.5%): under the 20% of the veto, but
    # excellence needs none disciplined (366-QĐ/TW): good instead of excellent.
    "HL-BV01": {"subordinate_units_disciplined": 1},
    # Recognised as an outstanding organisation: excellent outside the quota, so its
    # cohort's places go to the others.
    "HL-BV02": {"outstanding_organisation": True},
    # The upper level's inspection rated one criterion poor: not completed whatever it scores.
    "HL-TT07": {"criteria_rated_poor": 1},
    # One of its 2 sections disciplined (50%): more than 20%, not completed.
    "HL-DN10": {"subordinate_units_disciplined": 1},
}
# A slip in a report: more tasks on time than tasks done.  The catalogue's constraint
# makes the unit invalid, at both cells, until the report is corrected.
IMPOSSIBLE = ("HL-DN17",)


def sections(unit_id: str) -> int:
    return next(n for prefix, n in sorted(SECTIONS.items(), key=lambda item: -len(item[0])) if unit_id.startswith(prefix))


def unit_2026(row_2025: dict) -> dict:
    out = moved_a_year(row_2025)
    base_2025 = row_2025["dues_salary_h1_vnd"] + row_2025["dues_salary_h2_vnd"]
    base = thousand(base_2025 * WAGE_GROWTH)
    h1 = thousand(base / 2)
    due = thousand(base * 0.005)
    due_2025, collected_2025 = row_2025["dues_due_vnd"], row_2025["dues_collected_vnd"]
    collected = None if collected_2025 is None else thousand(due * collected_2025 / due_2025)
    out.update(dues_salary_h1_vnd=h1, dues_salary_h2_vnd=base - h1, dues_due_vnd=due, dues_collected_vnd=collected)
    follow_dues(out, row_2025)
    out["culture_title_years"] = None  # the audit ledger knows it, as it knows prior_year_grade
    out.update(new_facts(row_2025["unit_id"]))
    out.update(CHANGES.get(row_2025["unit_id"], {}))
    return out


def new_facts(unit_id: str) -> dict:
    """The 2026 catalogue's new facts as a unit without anything to report reports them."""
    return {"criteria_rated_poor": 0, "subordinate_units": sections(unit_id), "subordinate_units_disciplined": 0,
            "outstanding_organisation": False}


def main() -> None:
    columns = fact_names(CATALOGUE_2026)
    rows = [unit_2026(unit_2025(k, row)) for k, row in enumerate(UNITS)]
    check_units(columns, rows)
    for row in rows:
        if row["unit_id"] in IMPOSSIBLE:
            row["tasks_on_time"] = row["tasks_done"] + 1  # after the check, which would refuse it
    write_csv(columns, rows, CSV_OUT)
    write_xlsx(columns, rows, XLSX_OUT, FIXED_TIME)
    extra = [{"unit_id": row["unit_id"], **new_facts(row["unit_id"])} for row in UNITS]
    write_csv(list(extra[0]), extra, NEW_FACTS_OUT)
    print(f"wrote {len(rows)} units to {CSV_OUT.name}, {XLSX_OUT.name} and {NEW_FACTS_OUT.name}")


if __name__ == "__main__":
    main()
