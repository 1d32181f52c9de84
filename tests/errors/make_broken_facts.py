"""Write tests/errors/facts/: a small valid facts file and broken variants of it.

Run from anywhere:  python tests/errors/make_broken_facts.py

``valid.csv`` holds three complete units built from the ``base`` unit of
rules/2024/cases/grading.yaml.  Each broken variant changes one thing; for a cell
defect it is always the second unit (line 3 of a CSV), so that units on both sides
show they are still graded.  Each unit reports to its own upper union, so that the
excellent quota (counted per upper union) never ties one unit's result to another's.
What each file must produce is in tests/test_facts_errors.py.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CASES = REPO / "rules" / "2024" / "cases" / "grading.yaml"
OUT = HERE / "facts"
BAD_UNIT = 1  # index of the unit a cell defect is put in (line 3 of a CSV)

UNITS = [
    {"unit_id": "T-BV01", "name": "Công đoàn Bệnh viện Đa khoa Thử nghiệm", "workplace_type": "public_service",
     "upper_union": "Công đoàn ngành Y tế tỉnh Thử nghiệm"},
    {"unit_id": "T-VP01", "name": "Công đoàn Văn phòng Sở Y tế Thử nghiệm", "workplace_type": "public_admin",
     "upper_union": "Công đoàn Viên chức tỉnh Thử nghiệm",
     "members_informed_pct": 95, "officers_trained_pct": 85, "prior_shortcomings_fixed_pct": 80,
     "exec_meetings_held": 11, "culture_score": 80},
    {"unit_id": "T-DN01", "name": "Công đoàn Công ty Dược Thử nghiệm", "workplace_type": "enterprise_state",
     "upper_union": "Liên đoàn Lao động tỉnh Thử nghiệm",
     "cba_status": "signed", "tasks_on_time": 17, "dues_collected_vnd": 90000000, "self_inspection_done": False},
]

# file name -> (column, new value) put into the second unit
CELL_DEFECTS = {
    "not_a_number.csv": ("workers_total", "many"),
    "percentage_above_100.csv": ("members_informed_pct", "120"),
    "date_wrong_format.csv": ("budget_submitted_on", "2024/01/20"),
    "vnd_with_separators.csv": ("kpcd_due_vnd", "800.000.000"),
    "bool_maybe.csv": ("has_operating_rules", "maybe"),
    "enum_misspelt.csv": ("cba_status", "signd"),
    "wrong_year.csv": ("year", "2023"),
}

# numbers past reason, each in the second unit: the unit is invalid, the file is read
ABSURD_NUMBERS = {
    "number_tiny_exponent.csv": ("members_informed_pct", "1e-999999999"),  # would take hours to compare
    "number_huge_exponent.csv": ("members_informed_pct", "1e99999999"),
    "number_negative_tiny.csv": ("culture_score", "-1e-30"),
    "number_5000_digits.csv": ("workers_total", "9" * 5000),
    "number_41_digits.csv": ("kpcd_due_vnd", "1" * 41),
}

# files a reader could spend for ever on: each is refused whole, at once
ENDLESS = {
    "yaml_recursive_alias.yaml": "units: &r [*r]\n",
    "yaml_alias_bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                            "units: [*f]\n",
    "yaml_nested_100.yaml": "units:\n  - unit_id: A\n    name: " + "[" * 100 + "]" * 100 + "\n",
    "yaml_nested_5000.yaml": "units: " + "[" * 5000 + "]" * 5000 + "\n",
    "json_nested_20000.json": '{"units": ' + "[" * 20000 + "]" * 20000 + "}",
    "json_5000_digit_integer.json": '{"units": [{"unit_id": "A", "workers_total": ' + "9" * 5000 + "}]}",
}


class _PlainDumper(yaml.SafeDumper):
    """No &anchors / *aliases for values that happen to be the same object."""

    def ignore_aliases(self, data) -> bool:
        return True


def units() -> list[dict]:
    base = yaml.safe_load(CASES.read_text(encoding="utf-8"))["base"]
    return [{**base, **changes} for changes in UNITS]


def cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def files() -> dict[str, bytes]:
    """Every file of tests/errors/facts/, by name."""
    records = units()
    header = list(records[0])
    rows = [header] + [[cell(u[c]) for c in header] for u in records]
    out: dict[str, bytes] = {"valid.csv": to_csv(rows).encode("utf-8")}

    for name, (column, value) in CELL_DEFECTS.items():
        broken = [list(r) for r in rows]
        broken[1 + BAD_UNIT][header.index(column)] = value
        out[name] = to_csv(broken).encode("utf-8")

    renamed = [list(r) for r in rows]
    renamed[0][header.index("tasks_exceeded")] = "tasks_exceded"
    out["unknown_column.csv"] = to_csv(renamed).encode("utf-8")

    twice = [list(r) for r in rows]
    twice[3][header.index("unit_id")] = twice[1][header.index("unit_id")]
    out["duplicate_unit_id.csv"] = to_csv(twice).encode("utf-8")

    gone = header.index("workplace_type")
    out["missing_required_column.csv"] = to_csv([r[:gone] + r[gone + 1:] for r in rows]).encode("utf-8")

    out["empty.csv"] = b""

    # a spreadsheet saved as Windows-1252/latin-1: é is one byte, not valid UTF-8
    latin = [list(r) for r in rows]
    latin[1 + BAD_UNIT][header.index("name")] = "Công ty Café Thérèse"
    latin[1][header.index("name")] = "Cong doan Benh vien"
    latin[3][header.index("name")] = "Cong doan Cong ty"
    for r in latin[1:]:
        r[header.index("upper_union")] = "Cong doan nganh Y te"
        r[header.index("emulation_bloc")] = "Khoi benh vien"
    out["not_utf8.csv"] = to_csv(latin).encode("latin-1")

    out["units.txt"] = out["valid.csv"]
    out["not_a_workbook.xlsx"] = b"this is plain text, not a zip archive\n"

    json_units = [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in u.items()} for u in records]
    json_units[BAD_UNIT]["workers_total"] = "many"
    out["bad_value.json"] = (json.dumps({"units": json_units}, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    yaml_units = [dict(u) for u in records]
    yaml_units[BAD_UNIT]["ubkt_status"] = "comittee"
    out["bad_value.yaml"] = yaml.dump({"units": yaml_units}, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False).encode("utf-8")

    # messy spreadsheets: each must be read as the person wrote it, or refused with its place
    short = [list(r) for r in rows]
    short[1 + BAD_UNIT] = short[1 + BAD_UNIT][:-3]
    out["short_row.csv"] = to_csv(short).encode("utf-8")

    quoted = [list(r) for r in rows]
    quoted[1 + BAD_UNIT][header.index("name")] = 'Công đoàn "Văn phòng" Sở Y tế, Thử nghiệm'
    out["doubled_quotes.csv"] = to_csv(quoted).encode("utf-8")

    twice_json = json.dumps({"units": json_units}, ensure_ascii=False, indent=2).replace(
        '"workers_total": "many"', '"workers_total": 120,\n      "workers_total": 12')
    out["duplicate_key.json"] = (twice_json + "\n").encode("utf-8")

    # YAML 1.1 would read 0123 as 83, No as false, off as false and 1:30 as 90
    yaml_text = out["bad_value.yaml"].decode("utf-8")
    second = yaml_text.index("- unit_id: T-VP01")
    yaml_text = (yaml_text[:second] + yaml_text[second:].replace("unit_id: T-VP01", "unit_id: 0123", 1)
                 .replace("name: Công đoàn Văn phòng Sở Y tế Thử nghiệm", "name: No", 1)
                 .replace("ubkt_status: comittee", "ubkt_status: committee", 1))
    out["yaml_1_1_words.yaml"] = yaml_text.encode("utf-8")

    # the readers' limits (engine/limits.py): a text fact of 501 characters, a quote never closed, 1,001 columns
    long_name = [list(r) for r in rows]
    long_name[1 + BAD_UNIT][header.index("name")] = "Công đoàn " + "A" * (501 - len("Công đoàn "))
    out["text_too_long.csv"] = to_csv(long_name).encode("utf-8")

    unclosed = to_csv(rows).splitlines(keepends=True)
    second_name = next(r for r in rows[1 + BAD_UNIT] if r.startswith("Công đoàn"))
    unclosed[1 + BAD_UNIT] = unclosed[1 + BAD_UNIT].replace(second_name, '"' + second_name, 1)
    out["unclosed_quote.csv"] = "".join(unclosed).encode("utf-8")

    wide = [r + [""] * (1001 - len(header)) for r in rows]
    wide[0] = header + [f"extra_{i}" for i in range(1001 - len(header))]
    out["too_many_columns.csv"] = to_csv(wide).encode("utf-8")

    for name, (column, value) in ABSURD_NUMBERS.items():
        broken = [list(r) for r in rows]
        broken[1 + BAD_UNIT][header.index(column)] = value
        out[name] = to_csv(broken).encode("utf-8")
    for name, text in ENDLESS.items():
        out[name] = text.encode("utf-8")
    return out


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, data in files().items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(files())} files to {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
