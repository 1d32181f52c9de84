#!/usr/bin/env python3
"""Write the fictional Hà Lâm province facts files for 2025: the same 60 units, a year on.

    python examples/make_province_2025.py

writes ``province_2025.csv`` and ``province_2025.xlsx`` (the columns of
``criteria/catalogue-2025.yaml``) and ``province_2024_new_facts.csv``: the three facts
the 2025 rule set needs that 2024's reports did not have, for the 2024 units, so that
``cdcs impact examples/province_2024.csv --with examples/province_2024_new_facts.csv``
can grade last year's units under the 2025 rules.  EVERYTHING IS INVENTED.

Each 2025 unit is its 2024 row (``make_province.py``) moved one year on (the year, the
budget and settlement dates and deadlines), with:

- member dues per half-year: the salary base on which dues are paid, 5% above 2024's,
  split evenly between January–June (1%) and July–December (0.5%); what was due and
  what was collected follow, at the share of dues the unit collected in 2024; the
  remittance and spending that depend on dues follow too;
- the share of members recorded in the membership database (``DIGITAL`` below);
- the year-on-year changes in ``CHANGES`` below, each with the reason it is there.
"""
from __future__ import annotations

import datetime

from make_province import HERE, UNITS, check_units, fact_names, thousand, write_csv, write_xlsx

CATALOGUE_2025 = HERE.parent / "criteria" / "catalogue-2025.yaml"
CSV_OUT = HERE / "province_2025.csv"
XLSX_OUT = HERE / "province_2025.xlsx"
NEW_FACTS_OUT = HERE / "province_2024_new_facts.csv"
FIXED_TIME = datetime.datetime(2025, 12, 31, 0, 0, 0)
WAGE_GROWTH = 1.05
DIGITAL = (100, 98, 96, 100, 92, 100, 85, 97, 100, 78, 99, 100, 94)  # members_digital_pct, by unit order
MOVED_DATES = ("budget_submitted_on", "budget_deadline", "settlement_submitted_on", "settlement_deadline")

# Year-on-year changes, by unit: what happened in 2025 that the formulas above do not cover.
CHANGES: dict[str, dict] = {
    # Five of 2024's excellent units answered the 30% bar of 366-QĐ/TW by exceeding more
    # tasks (from 20-29% to 30% or more); the others did not, and fall to good.
    "HL-VP01": {"tasks_exceeded": 4},     # 4 of 12
    "HL-BV01": {"tasks_exceeded": 5},     # 5 of 15
    "HL-BV02": {"tasks_exceeded": 5},     # 5 of 14
    "HL-TTYT03": {"tasks_exceeded": 4},   # 4 of 12
    "HL-TR01": {"tasks_exceeded": 4},     # 4 of 12
    "HL-DN14": {"tasks_exceeded": 4},     # 4 of 11 (a good unit in 2024, demoted by the quota)
    # Exceeded 30% of its tasks, but fixed only 80% of its 2024 shortcomings: not excellent.
    "HL-FDI02": {"tasks_exceeded": 4},    # 4 of 13
    # Fixed only 90% of its 2024 shortcomings: fine for good, no longer enough for excellent.
    "HL-TTYT01": {"prior_shortcomings_fixed_pct": 90},
    # Applied the new 0.5% dues rate from January instead of July: collected 75% of what
    # was due, so its financial self-audit fails on dues.
    "HL-DN09": {"dues_collected_vnd": "half_rate_all_year"},
}


def moved_dues(row: dict) -> dict:
    """Dues per half-year at the 2025 rates, collected at the unit's 2024 share of what was due."""
    due_2024, collected_2024 = row["dues_due_vnd"], row["dues_collected_vnd"]
    base_year = thousand(due_2024 / 0.01 * WAGE_GROWTH)  # 2024's dues were 1% of this base, all year
    h1 = thousand(base_year / 2)
    h2 = base_year - h1
    due = thousand(h1 * 0.01 + h2 * 0.005)
    collected = None if collected_2024 is None else thousand(due * collected_2024 / due_2024)
    return {"dues_salary_h1_vnd": h1, "dues_salary_h2_vnd": h2, "dues_due_vnd": due, "dues_collected_vnd": collected}


def moved_a_year(row: dict) -> dict:
    """The row a year on: its year, and the budget and settlement dates and deadlines."""
    out = dict(row, year=row["year"] + 1)
    for name in MOVED_DATES:
        if out[name] is not None:
            out[name] = out[name].replace(year=out[name].year + 1)
    return out


def follow_dues(out: dict, before: dict) -> None:
    """The remittance and spending that dues fund, moved by the change in dues collected since ``before``."""
    if before["dues_collected_vnd"] is None or out["dues_collected_vnd"] is None:
        return
    less = before["dues_collected_vnd"] - out["dues_collected_vnd"]
    paid_share = before["remit_paid_vnd"] / before["remit_due_vnd"] if before["remit_due_vnd"] else 1
    out["remit_due_vnd"] = thousand(before["remit_due_vnd"] - less * 0.4)
    out["remit_paid_vnd"] = thousand(out["remit_due_vnd"] * paid_share)
    total = thousand(before["spending_total_vnd"] - less * 0.6)
    out["spending_staff_vnd"] = thousand(total * before["spending_staff_vnd"] / before["spending_total_vnd"])
    out["spending_admin_vnd"] = thousand(total * before["spending_admin_vnd"] / before["spending_total_vnd"])
    out["spending_total_vnd"] = total


def unit_2025(k: int, row: dict) -> dict:
    out = moved_a_year(row)
    dues = moved_dues(row)
    change = dict(CHANGES.get(row["unit_id"], {}))
    if change.get("dues_collected_vnd") == "half_rate_all_year":
        change["dues_collected_vnd"] = thousand((dues["dues_salary_h1_vnd"] + dues["dues_salary_h2_vnd"]) * 0.005)
    out.update(dues)
    out.update(change)
    follow_dues(out, row)
    out["members_digital_pct"] = DIGITAL[k % len(DIGITAL)]
    out["prior_year_grade"] = None  # the audit ledger knows it (2025.2 reads it from there)
    return out


def new_facts_2024(k: int, row: dict) -> dict:
    """The 2025 catalogue's new facts as they would have been in 2024 (no wage growth)."""
    base_year = thousand(row["dues_due_vnd"] / 0.01)
    h1 = thousand(base_year / 2)
    return {"unit_id": row["unit_id"], "dues_salary_h1_vnd": h1, "dues_salary_h2_vnd": base_year - h1,
            "members_digital_pct": DIGITAL[k % len(DIGITAL)]}


def main() -> None:
    columns = fact_names(CATALOGUE_2025)
    rows = [unit_2025(k, row) for k, row in enumerate(UNITS)]
    check_units(columns, rows)
    write_csv(columns, rows, CSV_OUT)
    write_xlsx(columns, rows, XLSX_OUT, FIXED_TIME)
    extra = [new_facts_2024(k, row) for k, row in enumerate(UNITS)]
    write_csv(list(extra[0]), extra, NEW_FACTS_OUT)
    print(f"wrote {len(rows)} units to {CSV_OUT.name}, {XLSX_OUT.name} and {NEW_FACTS_OUT.name}")


if __name__ == "__main__":
    main()
