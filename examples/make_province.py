#!/usr/bin/env python3
"""Write the fictional Hà Lâm province facts files for 2024.

    python examples/make_province.py

writes ``province_2024.csv`` and ``province_2024.xlsx`` next to this script: one row
per grassroots union (CĐCS) of the fictional "Công đoàn ngành Y tế tỉnh Hà Lâm", with
the facts of ``criteria/catalogue.yaml`` as columns.  THE PROVINCE, ITS UNITS AND
EVERY NUMBER ARE INVENTED; they exist to exercise the 2024 rule set
(``rules/2024/ruleset-2024.1.yaml``) near its thresholds.  See ``README.md`` here for
the designed cases and the score each one is meant to get.

Nothing is random: every unit is written out below.  A unit starts from a "model"
unit (every criterion met in full, every finance check passing) built from a few
size parameters, and its entry lists, fact by fact, where it departs from that model.
The comment on each entry gives the intended 2024 score and grade.
"""
from __future__ import annotations

import csv
import datetime
from pathlib import Path

import yaml
from openpyxl import Workbook

from engine.rendering.render import workbook_bytes

HERE = Path(__file__).resolve().parent
CATALOGUE = HERE.parent / "criteria" / "catalogue.yaml"
CSV_OUT = HERE / "province_2024.csv"
XLSX_OUT = HERE / "province_2024.xlsx"
FIXED_TIME = datetime.datetime(2024, 12, 31, 0, 0, 0)

YEAR = 2024
EMPTY = None  # an empty cell: the fact is not reported

# --- upper-level unions and emulation blocs ---------------------------------------------
HEALTH = "Công đoàn ngành Y tế tỉnh Hà Lâm"
LDLD = "LĐLĐ tỉnh Hà Lâm"

BLOC_MGMT = "Khối Cơ quan quản lý và Đào tạo"
BLOC_HOSP = "Khối Bệnh viện tuyến tỉnh"
BLOC_DIST = "Khối Trung tâm Y tế huyện, thị xã, thành phố"
BLOC_CENTRE = "Khối Trung tâm chuyên khoa tuyến tỉnh"
BLOC_ENT = "Khối Doanh nghiệp ngành Y tế"
BLOC_DOM = "Khối Doanh nghiệp trong nước"
BLOC_FDI = "Khối Doanh nghiệp có vốn đầu tư nước ngoài"

ADMIN, SERVICE = "public_admin", "public_service"
STATE, NONSTATE, FDI = "enterprise_state", "enterprise_nonstate", "fdi"
PUBLIC = (ADMIN, SERVICE)


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def thousand(amount: float) -> int:
    """Round a VND amount to the nearest thousand đồng."""
    return int(round(amount / 1000.0)) * 1000


# Small explicit cycles give the model units some variety without any randomness.
BUDGET_DAYS = (18, 22, 25, 15, 29, 26, 19, 23, 30, 12, 24, 27, 16)        # day in January 2024
SETTLEMENT_DAYS = (20, 24, 17, 28, 22, 15, 27, 21, 29, 16, 23, 25, 18, 26)  # day in January 2025
STAFF_SHARE = (0.21, 0.18, 0.24, 0.20, 0.26, 0.19, 0.23, 0.22, 0.17, 0.25, 0.215)
ADMIN_SHARE = (0.06, 0.07, 0.055, 0.08, 0.065, 0.075, 0.05, 0.085, 0.07)
DUES_PCT = (100, 98, 99, 97, 100, 96, 99, 100, 98.5, 97.5)
KPCD_PCT = (100, 100, 99, 100, 98, 100, 97, 100, 99.5, 100, 96)
FINDINGS = (0, 2, 1, 3, 0, 2, 4, 1, 0, 2)
REFERRED = (2, 1, 3, 1, 2, 4, 1, 2, 1, 3)
PRIOR = ("good", "excellent", "good", "good", "completed", "excellent", "good")
CULTURE = (91, 88, 93, 90.5, 87, 95, 89, 92, 96.5, 86, 94)


def model_unit(k: int, uid: str, name: str, wtype: str, union: str, bloc: str, established: str,
               workers: int, members: int, salary: int, tasks: tuple[int, int]) -> dict:
    """A unit that meets every criterion in full and passes every finance check.

    ``salary`` is the average monthly wage (VND) used for the union fund (KPCĐ, 2% of
    the payroll) and the member dues (about 0.6% of the wage); ``tasks`` is
    (tasks assigned, tasks exceeded).
    """
    assigned, exceeded = tasks
    public = wtype in PUBLIC
    kpcd_due = thousand(workers * salary * 12 * 0.02)
    dues_due = thousand(members * salary * 12 * 0.006)
    kpcd_collected = kpcd_due if public else thousand(kpcd_due * KPCD_PCT[k % len(KPCD_PCT)] / 100)
    dues_collected = thousand(dues_due * DUES_PCT[k % len(DUES_PCT)] / 100)
    remit_due = thousand(kpcd_collected * 0.25 + dues_collected * 0.4)
    spending_total = thousand(kpcd_collected * 0.75 + dues_collected * 0.6 - 0.04 * kpcd_collected)
    findings = FINDINGS[k % len(FINDINGS)]
    return {
        "unit_id": uid,
        "name": name,
        "year": YEAR,
        "workplace_type": wtype,
        "upper_union": union,
        "emulation_bloc": bloc,
        "established_on": d(established),
        "reorganized_on": EMPTY,
        "workers_total": workers,
        "members_total": members,
        "members_new": max(1, workers // 35),
        "exec_meetings_held": 4,
        "exec_meetings_required": 4,
        "has_operating_rules": True,
        "ubkt_status": "committee",
        "officers_trained_pct": 100,
        "staff_conference_held": True,
        "workplace_dialogues": 2,
        "grassroots_democracy_rules_joined": True,
        "cba_status": "none" if wtype == ADMIN else ("signed" if public else "signed_more_favourable"),
        "members_informed_pct": 100,
        "members_referred_to_party": REFERRED[k % len(REFERRED)],
        "social_activities_joined": True,
        "tasks_assigned": assigned,
        "tasks_on_time": assigned,
        "tasks_done": assigned,
        "tasks_exceeded": exceeded,
        "prior_shortcomings_fixed_pct": 100,
        "fatal_work_accidents": 0,
        "members_disciplined_warning_plus": 0,
        "leadership_disciplined": False,
        "disunity_concluded": False,
        "corruption_case": False,
        "corruption_self_detected": False,
        "kpcd_due_vnd": kpcd_due,
        "kpcd_collected_vnd": kpcd_collected,
        "dues_due_vnd": dues_due,
        "dues_collected_vnd": dues_collected,
        "remit_due_vnd": remit_due,
        "remit_paid_vnd": remit_due,
        "spending_total_vnd": spending_total,
        "spending_staff_vnd": thousand(spending_total * STAFF_SHARE[k % len(STAFF_SHARE)]),
        "spending_admin_vnd": thousand(spending_total * ADMIN_SHARE[k % len(ADMIN_SHARE)]),
        "budget_submitted_on": datetime.date(2024, 1, BUDGET_DAYS[k % len(BUDGET_DAYS)]),
        "budget_deadline": d("2024-01-31"),
        "settlement_submitted_on": datetime.date(2025, 1, SETTLEMENT_DAYS[k % len(SETTLEMENT_DAYS)]),
        "settlement_deadline": d("2025-01-31"),
        "internal_spending_rules": True,
        "disclosure_done": True,
        "self_inspection_done": True,
        "inspection_findings": findings,
        "findings_remedied": findings,
        "culture_registered": True,
        "culture_score": CULTURE[k % len(CULTURE)],
        "culture_mandatory_breaches": 0,
        "prior_year_grade": PRIOR[k % len(PRIOR)],
    }


UNITS: list[dict] = []


def unit(uid, name, wtype, union, bloc, established, *, workers, members, salary, tasks, **changes):
    """Add one unit: the model unit, then the listed facts changed (``EMPTY`` = not reported)."""
    row = model_unit(len(UNITS), uid, name, wtype, union, bloc, established, workers, members, salary, tasks)
    for fact, value in changes.items():
        if fact not in row:
            raise KeyError(f"{uid}: unknown fact {fact!r}")
        row[fact] = value
    UNITS.append(row)


# Common departures from the model unit, named for what they cost.
NOT_REGISTERED = dict(culture_registered=False)                      # culture_movement: 0
FINANCE_HALF = dict(self_inspection_done=False)                     # finance_management: 50%
INFORMED_HALF = dict(members_informed_pct=95)                       # members_informed: 50%
TRAINED_HALF = dict(officers_trained_pct=85)                        # officers_trained: 50%
FIXED_HALF = dict(prior_shortcomings_fixed_pct=80)                  # shortcomings_fixed: 50%
EXEC_HALF = dict(exec_meetings_held=3)                              # exec_meetings: 50% (3 of 4)
NO_REFERRAL = dict(members_referred_to_party=0)                     # party_referral: 0
ONE_DIALOGUE = dict(workplace_dialogues=1)                          # workplace_dialogue: 50%
CBA_SIGNED = dict(cba_status="signed")                              # collective_agreement: 60%
NO_CBA = dict(cba_status="none")                                    # collective_agreement: 0

# =====================================================================================
# Upper union: Công đoàn ngành Y tế tỉnh Hà Lâm (48 units)
# =====================================================================================

# --- public administration: the department's agencies -------------------------------------
# 97: membership 90% (-3).  Excellent candidate; budget submitted ON the deadline.
unit("HL-VP01", "Công đoàn Văn phòng Sở Y tế", ADMIN, HEALTH, BLOC_MGMT, "1996-03-12",
     workers=62, members=56, salary=10_500_000, tasks=(12, 3),
     budget_submitted_on=d("2024-01-31"), prior_year_grade="excellent")
# 84: finance half (-6), informed 95% (-5), not registered for the cultural title (-5).  Good.
unit("HL-VP02", "Công đoàn Chi cục Dân số - Kế hoạch hóa gia đình tỉnh Hà Lâm", ADMIN, HEALTH, BLOC_MGMT, "2001-07-05",
     workers=41, members=41, salary=10_500_000, tasks=(10, 1),
     **FINANCE_HALF, **INFORMED_HALF, **NOT_REGISTERED, culture_score=78)
# 83: finance half (-6), no Party referral (-6), trained 85% (-2.5), shortcomings 80% (-2.5).  Good.
unit("HL-VP03", "Công đoàn Chi cục An toàn vệ sinh thực phẩm tỉnh Hà Lâm", ADMIN, HEALTH, BLOC_MGMT, "2009-10-20",
     workers=46, members=45, salary=10_800_000, tasks=(10, 2),
     **FINANCE_HALF, **NO_REFERRAL, **TRAINED_HALF, **FIXED_HALF)

# --- provincial hospitals -------------------------------------------------------------------
# 100, 5 of 15 exceeded.  Excellent candidate, ranked 1st in its cohort.  Dues collected above due (arrears).
unit("HL-BV01", "Công đoàn Bệnh viện Đa khoa tỉnh Hà Lâm", SERVICE, HEALTH, BLOC_HOSP, "1976-09-02",
     workers=540, members=532, salary=10_000_000, tasks=(15, 5),
     dues_collected_vnd=386_200_000, prior_year_grade="excellent")
# 96: executive committee met 3 of 4 times (-4).  Excellent candidate; officer allowances EXACTLY 30% of spending.
unit("HL-BV02", "Công đoàn Bệnh viện Sản - Nhi Hà Lâm", SERVICE, HEALTH, BLOC_HOSP, "2008-05-19",
     workers=385, members=380, salary=9_800_000, tasks=(14, 4),
     **EXEC_HALF, spending_total_vnd=812_400_000, spending_staff_vnd=243_720_000)
# 95: informed 95% (-5).  Would be excellent, but dues collected 94.99% (< 95%) -> finance fails -> good.
unit("HL-BV03", "Công đoàn Bệnh viện Y học cổ truyền Hà Lâm", SERVICE, HEALTH, BLOC_HOSP, "1988-11-15",
     workers=168, members=166, salary=9_000_000, tasks=(12, 3),
     **INFORMED_HALF, dues_due_vnd=108_000_000, dues_collected_vnd=102_589_200)
# 100: would be excellent, but officer allowances 30.01% of spending (just above 30%) -> finance fails -> good.
unit("HL-BV04", "Công đoàn Bệnh viện Lao và Bệnh phổi Hà Lâm", SERVICE, HEALTH, BLOC_HOSP, "1985-04-01",
     workers=196, members=195, salary=9_200_000, tasks=(13, 4),
     spending_total_vnd=325_000_000, spending_staff_vnd=97_532_500)
# 92.5: informed 95% (-5), trained 85% (-2.5).  Excellent candidate, ranked 8th: demoted to good by the quota.
unit("HL-BV05", "Công đoàn Bệnh viện Tâm thần Hà Lâm", SERVICE, HEALTH, BLOC_HOSP, "1994-08-26",
     workers=142, members=140, salary=8_900_000, tasks=(11, 3),
     **INFORMED_HALF, **TRAINED_HALF)
# 89.5: membership 85% (-3), trained 85% (-2.5), informed 95% (-5).  Every excellence condition met but the score: good.
unit("HL-BV06", "Công đoàn Bệnh viện Mắt Hà Lâm", SERVICE, HEALTH, BLOC_HOSP, "2003-02-14",
     workers=118, members=100, salary=9_100_000, tasks=(12, 3),
     **TRAINED_HALF, **INFORMED_HALF)
# EXACTLY 90: informed 95% (-5), trained 85% (-2.5), shortcomings 80% (-2.5); 2 of 10 exceeded = exactly 20%.
# Excellent candidate, ranked 9th: demoted to good by the quota.
unit("HL-BV07", "Công đoàn Bệnh viện Phục hồi chức năng Hà Lâm", SERVICE, HEALTH, BLOC_HOSP, "1999-06-30",
     workers=104, members=103, salary=8_800_000, tasks=(10, 2),
     **INFORMED_HALF, **TRAINED_HALF, **FIXED_HALF)
# 82: finance half (-6), informed 95% (-5), exec 3/4 (-4), membership 88% (-3).
# Corruption case found by the inspectors, NOT by the unit -> veto -> not completed.
unit("HL-BV08", "Công đoàn Bệnh viện Đa khoa khu vực Lâm Giang", SERVICE, HEALTH, BLOC_HOSP, "1979-12-10",
     workers=306, members=270, salary=9_300_000, tasks=(12, 2),
     **FINANCE_HALF, **INFORMED_HALF, **EXEC_HALF,
     corruption_case=True, corruption_self_detected=False, members_disciplined_warning_plus=2,
     prior_year_grade="good")
# Dues collected NOT REPORTED (empty cell).  Score 100 and every other excellence condition met,
# so the finance check 'dues_collected' needs it -> insufficient data.
unit("HL-BV09", "Công đoàn Bệnh viện Nội tiết Hà Lâm", SERVICE, HEALTH, BLOC_HOSP, "2010-03-08",
     workers=92, members=92, salary=9_000_000, tasks=(11, 3),
     dues_collected_vnd=EMPTY)
# 86: exec 3/4 (-4), informed 95% (-5), trained 85% (-2.5), shortcomings 80% (-2.5).  Good.
# Registered for the cultural title, score 92 but ONE mandatory breach -> no title.
unit("HL-BV10", "Công đoàn Bệnh viện Da liễu Hà Lâm", SERVICE, HEALTH, BLOC_HOSP, "1992-01-20",
     workers=76, members=75, salary=8_700_000, tasks=(10, 2),
     **EXEC_HALF, **INFORMED_HALF, **TRAINED_HALF, **FIXED_HALF,
     culture_score=92, culture_mandatory_breaches=1)
# 88: informed 95% (-5), no Party referral (-4), membership 90% (-3).
# Corruption case found and dealt with BY THE UNIT ITSELF -> no veto; two members disciplined -> good (not excellent).
unit("HL-BV11", "Công đoàn Bệnh viện Ung bướu Hà Lâm", SERVICE, HEALTH, BLOC_HOSP, "2012-09-01",
     workers=254, members=229, salary=9_600_000, tasks=(13, 4),
     **INFORMED_HALF, **NO_REFERRAL,
     corruption_case=True, corruption_self_detected=True, members_disciplined_warning_plus=2)
# 80: finance half (-6), informed 95% (-5), no Party referral (-4), trained 85% (-2.5), shortcomings 80% (-2.5).
# Good; cultural score EXACTLY 85 -> cultural unit title.
unit("HL-BV12", "Công đoàn Bệnh viện Đa khoa khu vực Bạch Sơn", SERVICE, HEALTH, BLOC_HOSP, "1982-05-07",
     workers=212, members=208, salary=8_900_000, tasks=(11, 1),
     **FINANCE_HALF, **INFORMED_HALF, **NO_REFERRAL, **TRAINED_HALF, **FIXED_HALF,
     culture_score=85)
# 75: only 10 of 12 tasks done (9 on time) -> tasks criterion 0 (-15); informed 95% (-5); not registered (-5).
# Fails "all tasks done" -> not completed.
unit("HL-BV13", "Công đoàn Bệnh viện Đa khoa khu vực Kim Sơn", SERVICE, HEALTH, BLOC_HOSP, "1981-03-26",
     workers=188, members=184, salary=8_600_000, tasks=(12, 0),
     tasks_done=10, tasks_on_time=9, **INFORMED_HALF, **NOT_REGISTERED, culture_score=72,
     prior_year_grade="completed")

# --- district health centres ----------------------------------------------------------------
# 97.5: shortcomings 85% (-2.5).  Excellent candidate (3rd); dues collected EXACTLY 95%.
unit("HL-TTYT01", "Công đoàn Trung tâm Y tế thành phố Hà Lâm", SERVICE, HEALTH, BLOC_DIST, "1991-10-14",
     workers=236, members=234, salary=8_500_000, tasks=(14, 4),
     prior_shortcomings_fixed_pct=85, dues_due_vnd=143_200_000, dues_collected_vnd=136_040_000)
# 97.5: shortcomings 80% (-2.5).  Would be excellent, but budget submitted 2024-02-01, ONE DAY LATE -> good.
unit("HL-TTYT02", "Công đoàn Trung tâm Y tế thị xã Lâm Giang", SERVICE, HEALTH, BLOC_DIST, "1993-04-22",
     workers=198, members=196, salary=8_400_000, tasks=(12, 3),
     **FIXED_HALF, budget_submitted_on=d("2024-02-01"))
# 95: informed 96% (-5); 3 exceeded.  Excellent candidate tied with HL-TTYT05 (score 95, 3 exceeded):
# unit_id breaks the tie -> HL-TTYT03 takes the 6th and last excellent place.
unit("HL-TTYT03", "Công đoàn Trung tâm Y tế huyện Kim Sơn", SERVICE, HEALTH, BLOC_DIST, "1990-08-17",
     workers=174, members=172, salary=8_300_000, tasks=(12, 3),
     members_informed_pct=96)
# Reorganised (merger) on 2024-09-01, under 6 months before the period end -> not graded.
unit("HL-TTYT04", "Công đoàn Trung tâm Y tế huyện Đông Hòa", SERVICE, HEALTH, BLOC_DIST, "1990-08-17",
     workers=228, members=224, salary=8_300_000, tasks=(10, 2),
     reorganized_on=d("2024-09-01"), prior_year_grade="good")
# 95: trained 90% (-2.5), shortcomings 75% (-2.5); 3 exceeded.  Ties HL-TTYT03; loses on unit_id -> demoted to good.
unit("HL-TTYT05", "Công đoàn Trung tâm Y tế huyện Tây Lâm", SERVICE, HEALTH, BLOC_DIST, "1992-02-03",
     workers=161, members=160, salary=8_200_000, tasks=(13, 3),
     officers_trained_pct=90, prior_shortcomings_fixed_pct=75)
# EXACTLY 70: finance half (-6), not registered (-5), no Party referral (-4), informed 95% (-5),
# exec 3/4 (-4), no social-welfare activity (-6).  Good (all tasks on time, finances disclosed).
unit("HL-TTYT06", "Công đoàn Trung tâm Y tế huyện Vĩnh An", SERVICE, HEALTH, BLOC_DIST, "1995-06-12",
     workers=149, members=147, salary=8_200_000, tasks=(11, 1),
     **FINANCE_HALF, **NOT_REGISTERED, **NO_REFERRAL, **INFORMED_HALF, **EXEC_HALF,
     social_activities_joined=False, culture_score=80, prior_year_grade="completed")
# 88: exec 3/4 (-4), informed 95% (-5), membership 90% (-3).  Reorganised 2024-05-15 (over 6 months) -> eligible; good.
unit("HL-TTYT07", "Công đoàn Trung tâm Y tế huyện Phú Lâm", SERVICE, HEALTH, BLOC_DIST, "1994-01-09",
     workers=210, members=189, salary=8_300_000, tasks=(12, 2),
     **EXEC_HALF, **INFORMED_HALF, reorganized_on=d("2024-05-15"))
# tasks_exceeded NOT REPORTED.  Score 95 (informed 95%) and the other conditions met, so the excellence
# condition "tasks_exceeded >= 20%" needs it -> insufficient data.
unit("HL-TTYT08", "Công đoàn Trung tâm Y tế huyện Ngọc Lâm", SERVICE, HEALTH, BLOC_DIST, "1996-11-28",
     workers=137, members=136, salary=8_100_000, tasks=(12, 0),
     tasks_exceeded=EMPTY, **INFORMED_HALF)
# 77.5: finance half (-6), informed 95% (-5), exec 3/4 (-4), not registered (-5), trained 85% (-2.5).
# The executive committee was disciplined -> veto -> not completed.
unit("HL-TTYT09", "Công đoàn Trung tâm Y tế huyện An Lạc", SERVICE, HEALTH, BLOC_DIST, "1997-05-30",
     workers=158, members=155, salary=8_100_000, tasks=(11, 1),
     **FINANCE_HALF, **INFORMED_HALF, **EXEC_HALF, **NOT_REGISTERED, **TRAINED_HALF, culture_score=83,
     leadership_disciplined=True, members_disciplined_warning_plus=1)
# 85: informed 95% (-5), exec 3/4 (-4), finance half (-6).  Good on points; registered for the cultural
# title but culture_score NOT REPORTED -> the title is insufficient data.
unit("HL-TTYT10", "Công đoàn Trung tâm Y tế huyện Bạch Sơn", SERVICE, HEALTH, BLOC_DIST, "1998-09-15",
     workers=166, members=164, salary=8_100_000, tasks=(11, 2),
     **INFORMED_HALF, **EXEC_HALF, **FINANCE_HALF, culture_score=EMPTY)
# 49.5: membership 85% (-3), trained 85% (-2.5), no staff conference (-10), finance half (-6), informed 95% (-5),
# exec 3/4 (-4), no inspection committee (-5), no Party referral (-4), not registered (-5), no social activity (-6).
# All tasks on time, but half a point under 50 -> not completed.
unit("HL-TTYT11", "Công đoàn Trung tâm Y tế huyện Hưng Lâm", SERVICE, HEALTH, BLOC_DIST, "2000-04-18",
     workers=132, members=112, salary=8_000_000, tasks=(10, 0),
     **TRAINED_HALF, **FINANCE_HALF, **INFORMED_HALF, **EXEC_HALF, **NO_REFERRAL, **NOT_REGISTERED,
     staff_conference_held=False, ubkt_status="none", social_activities_joined=False, culture_score=70,
     prior_year_grade="completed")
# 79: 10 of 12 tasks on time, all done (tasks 60%: -6), informed 95% (-5), exec 3/4 (-4), finance half (-6).
# Late tasks fail "all on time" for good -> completed.  Registered (score 91) but not good -> no title.
unit("HL-TTYT12", "Công đoàn Trung tâm Y tế huyện Sơn Hà", SERVICE, HEALTH, BLOC_DIST, "2002-12-01",
     workers=121, members=119, salary=8_000_000, tasks=(12, 1),
     tasks_on_time=10, **INFORMED_HALF, **EXEC_HALF, **FINANCE_HALF, culture_score=91)

# --- provincial specialist centres ---------------------------------------------------------
# 91: no Party referral (-4), informed 95% (-5).  One member reprimanded -> excellence fails -> good.
unit("HL-TT01", "Công đoàn Trung tâm Kiểm soát bệnh tật tỉnh Hà Lâm", SERVICE, HEALTH, BLOC_CENTRE, "2018-02-01",
     workers=184, members=182, salary=9_000_000, tasks=(13, 4),
     **NO_REFERRAL, **INFORMED_HALF, members_disciplined_warning_plus=1)
# 87.5: finance half (-6), no Party referral (-4), trained 85% (-2.5).  Good; cultural score 84.9 -> no title.
unit("HL-TT02", "Công đoàn Trung tâm Kiểm nghiệm Thuốc - Mỹ phẩm - Thực phẩm Hà Lâm", SERVICE, HEALTH, BLOC_CENTRE, "1997-07-11",
     workers=58, members=58, salary=9_200_000, tasks=(10, 2),
     **FINANCE_HALF, **NO_REFERRAL, **TRAINED_HALF, culture_score=84.9)
# officers_trained_pct NOT REPORTED -> criterion officers_trained, hence the score -> insufficient data.
unit("HL-TT03", "Công đoàn Trung tâm Pháp y tỉnh Hà Lâm", SERVICE, HEALTH, BLOC_CENTRE, "2006-10-05",
     workers=52, members=52, salary=9_400_000, tasks=(10, 2),
     officers_trained_pct=EMPTY)
# 74: finance half (-6), informed 95% (-5), exec 3/4 (-4), not registered (-5), no social activity (-6).
# Internal disunity concluded -> veto -> not completed.
unit("HL-TT04", "Công đoàn Trung tâm Giám định Y khoa tỉnh Hà Lâm", SERVICE, HEALTH, BLOC_CENTRE, "2004-03-17",
     workers=50, members=50, salary=9_300_000, tasks=(10, 1),
     **FINANCE_HALF, **INFORMED_HALF, **EXEC_HALF, **NOT_REGISTERED, social_activities_joined=False,
     culture_score=75, disunity_concluded=True)
# EXACTLY 50: 9 of 10 on time (-6), no staff conference (-10), finance half (-6), informed 90% (-5), exec 3/4 (-4),
# not registered (-5), no Party referral (-4), no inspection committee (-5), trained 85% (-2.5), shortcomings 75% (-2.5).
# All tasks done, 10% late -> completed.
unit("HL-TT05", "Công đoàn Trung tâm Cấp cứu 115 Hà Lâm", SERVICE, HEALTH, BLOC_CENTRE, "2015-06-01",
     workers=64, members=63, salary=9_000_000, tasks=(10, 0),
     tasks_on_time=9, staff_conference_held=False, **FINANCE_HALF, members_informed_pct=90, **EXEC_HALF,
     **NOT_REGISTERED, **NO_REFERRAL, ubkt_status="none", **TRAINED_HALF, prior_shortcomings_fixed_pct=75,
     culture_score=74, prior_year_grade="completed")
# 61: no staff conference (-10), finance half (-6), informed 95% (-5), exec 3/4 (-4), not registered (-5),
# no Party referral (-4), trained 85% (-2.5), shortcomings 80% (-2.5).  Completed.
unit("HL-TT06", "Công đoàn Trung tâm Giám định Pháp y tâm thần Hà Lâm", SERVICE, HEALTH, BLOC_CENTRE, "2011-08-22",
     workers=48, members=48, salary=9_500_000, tasks=(10, 0),
     staff_conference_held=False, **FINANCE_HALF, **INFORMED_HALF, **EXEC_HALF, **NOT_REGISTERED,
     **NO_REFERRAL, **TRAINED_HALF, **FIXED_HALF, culture_score=76, prior_year_grade="completed")
# Established 2024-03-01: under 12 months -> not graded.
unit("HL-TT07", "Công đoàn Trung tâm Truyền máu Hà Lâm", SERVICE, HEALTH, BLOC_CENTRE, "2024-03-01",
     workers=56, members=51, salary=9_000_000, tasks=(6, 1),
     prior_year_grade="not_graded", inspection_findings=0, findings_remedied=0)
# 81: 7 of 10 tasks on time (30% late) -> tasks criterion 0 (-15); exec 3/4 (-4).
# Fails "at most 20% late" -> not completed.
unit("HL-TT08", "Công đoàn Ban Bảo vệ, chăm sóc sức khỏe cán bộ tỉnh Hà Lâm", SERVICE, HEALTH, BLOC_CENTRE, "1993-09-09",
     workers=70, members=70, salary=9_400_000, tasks=(10, 1),
     tasks_on_time=7, **EXEC_HALF)
# 75: 5 of 12 tasks done (4 on time) -> tasks criterion 0 (-15); informed 95% (-5); not registered (-5).
# Under half the targets met -> veto -> not completed.
unit("HL-TT09", "Công đoàn Trung tâm Chăm sóc sức khỏe sinh sản tỉnh Hà Lâm", SERVICE, HEALTH, BLOC_CENTRE, "1999-02-25",
     workers=55, members=54, salary=8_900_000, tasks=(12, 0),
     tasks_done=5, tasks_on_time=4, **INFORMED_HALF, **NOT_REGISTERED, culture_score=79)

# --- schools ----------------------------------------------------------------------------------
# 100, 3 of 12 exceeded.  Excellent candidate, 2nd.
unit("HL-TR01", "Công đoàn Trường Cao đẳng Y tế Hà Lâm", SERVICE, HEALTH, BLOC_MGMT, "1970-10-15",
     workers=128, members=128, salary=9_800_000, tasks=(12, 3),
     prior_year_grade="excellent")
# 75: not registered (-5), finance half (-6), informed 95% (-5), exec 3/4 (-4), trained 85% (-2.5),
# shortcomings 80% (-2.5).  Good.
unit("HL-TR02", "Công đoàn Trường Trung cấp Y Dược Hà Lâm", SERVICE, HEALTH, BLOC_MGMT, "2005-08-30",
     workers=67, members=66, salary=9_000_000, tasks=(10, 1),
     **NOT_REGISTERED, **FINANCE_HALF, **INFORMED_HALF, **EXEC_HALF, **TRAINED_HALF, **FIXED_HALF, culture_score=81)

# --- enterprises under the health union ----------------------------------------------------
# 88: CBA signed, not more favourable (-4), exec 3/4 (-4), no Party referral (-2), trained 85% (-2).  Good.
unit("HL-DN01", "Công đoàn Công ty Cổ phần Dược phẩm Hà Lâm", STATE, HEALTH, BLOC_ENT, "1986-06-18",
     workers=412, members=405, salary=11_500_000, tasks=(12, 2),
     **CBA_SIGNED, **EXEC_HALF, **NO_REFERRAL, **TRAINED_HALF)
# 81.5: one dialogue (-3.5), CBA signed (-4), exec 3/4 (-4), no Party referral (-2), not registered (-5).  Good.
unit("HL-DN02", "Công đoàn Công ty TNHH MTV Thiết bị Y tế Hà Lâm", STATE, HEALTH, BLOC_ENT, "1990-02-27",
     workers=138, members=136, salary=10_200_000, tasks=(11, 1),
     **ONE_DIALOGUE, **CBA_SIGNED, **EXEC_HALF, **NO_REFERRAL, **NOT_REGISTERED, culture_score=80)
# 76.5: one dialogue (-3.5), CBA signed (-4), membership 86% (-4.5), finance half (-4), not registered (-5),
# informed 95% (-2.5).  Good.
unit("HL-DN03", "Công đoàn Công ty Cổ phần Dược - Vật tư y tế Hà Lâm", STATE, HEALTH, BLOC_ENT, "1992-11-04",
     workers=226, members=195, salary=10_000_000, tasks=(10, 1),
     **ONE_DIALOGUE, **CBA_SIGNED, **FINANCE_HALF, **NOT_REGISTERED, **INFORMED_HALF, culture_score=82)
# 93: informed 95% (-2.5), membership 88% (-4.5).  Only 1 of 12 tasks exceeded (< 20%) -> good.
unit("HL-DN04", "Công đoàn Công ty Cổ phần Vắc xin và Sinh phẩm Hà Lâm", STATE, HEALTH, BLOC_ENT, "1997-03-21",
     workers=264, members=232, salary=12_000_000, tasks=(12, 1),
     **INFORMED_HALF)
# 58: no workers' conference (-8), one dialogue (-3.5), no CBA (-10), membership 84% (-4.5), finance half (-4),
# not registered (-5), no Party referral (-2), shortcomings 80% (-2.5), informed 95% (-2.5).  Completed.
unit("HL-DN05", "Công đoàn Công ty Cổ phần Dược liệu Kim Sơn", STATE, HEALTH, BLOC_ENT, "2003-07-07",
     workers=95, members=80, salary=8_200_000, tasks=(10, 0),
     staff_conference_held=False, **ONE_DIALOGUE, **NO_CBA, **FINANCE_HALF, **NOT_REGISTERED, **NO_REFERRAL,
     **FIXED_HALF, **INFORMED_HALF, culture_score=73, prior_year_grade="completed")
# 72.5: no CBA (-10), membership 82% (-4.5), exec 3/4 (-4), no Party referral (-2), trained 85% (-2),
# not registered (-5).  Good.
unit("HL-DN07", "Công đoàn Công ty Cổ phần Bệnh viện Đa khoa An Phúc", NONSTATE, HEALTH, BLOC_ENT, "2014-04-10",
     workers=245, members=201, salary=11_000_000, tasks=(10, 1),
     **NO_CBA, **EXEC_HALF, **NO_REFERRAL, **TRAINED_HALF, **NOT_REGISTERED, culture_score=79)
# 78: CBA signed (-4), membership 85% (-4.5), one dialogue (-3.5), finance half (-4), no Party referral (-2),
# exec 3/4 (-4).  Good; earlier inspection findings not all remedied (finance check fails, no effect on good);
# registered for the cultural title with ONE mandatory breach -> no title.
unit("HL-DN08", "Công đoàn Công ty Cổ phần Trang thiết bị Y tế Minh Tâm", NONSTATE, HEALTH, BLOC_ENT, "2011-09-19",
     workers=160, members=136, salary=10_500_000, tasks=(10, 1),
     **CBA_SIGNED, **ONE_DIALOGUE, **FINANCE_HALF, **NO_REFERRAL, **EXEC_HALF,
     inspection_findings=3, findings_remedied=2, culture_score=89, culture_mandatory_breaches=1)
# 71: no CBA (-10), membership 83% (-4.5), one dialogue (-3.5), informed 95% (-2.5), shortcomings 80% (-2.5),
# exec 3/4 (-4), no Party referral (-2).  Good; union fund only 90% collected (finance fails, no effect on good).
unit("HL-DN09", "Công đoàn Công ty TNHH Chuỗi Nhà thuốc Hà Lâm Xanh", NONSTATE, HEALTH, BLOC_ENT, "2016-01-12",
     workers=180, members=150, salary=8_500_000, tasks=(10, 0),
     **NO_CBA, **ONE_DIALOGUE, **INFORMED_HALF, **FIXED_HALF, **EXEC_HALF, **NO_REFERRAL,
     kpcd_collected_vnd=330_480_000)
# 83: CBA signed (-4), exec 3/4 (-4), no Party referral (-2), trained 85% (-2), not registered (-5).  Good;
# administration spending 11% of the total (finance fails, no effect on good).
unit("HL-DN10", "Công đoàn Công ty Cổ phần Bệnh viện Mắt Sáng Lâm", NONSTATE, HEALTH, BLOC_ENT, "2013-05-23",
     workers=96, members=93, salary=12_500_000, tasks=(10, 2),
     **CBA_SIGNED, **EXEC_HALF, **NO_REFERRAL, **TRAINED_HALF, **NOT_REGISTERED, culture_score=83,
     spending_total_vnd=270_000_000, spending_admin_vnd=29_700_000)

# =====================================================================================
# Upper union: LĐLĐ tỉnh Hà Lâm (12 enterprises)
# =====================================================================================
# 80: CBA signed (-4), one dialogue (-3.5), membership 90% (-4.5), exec 3/4 (-4), no Party referral (-2),
# trained 85% (-2).  Good.
unit("HL-DN06", "Công đoàn Công ty Cổ phần Xuất nhập khẩu Y tế Hà Lâm", STATE, LDLD, BLOC_DOM, "1989-10-30",
     workers=150, members=135, salary=10_800_000, tasks=(10, 1),
     **CBA_SIGNED, **ONE_DIALOGUE, **EXEC_HALF, **NO_REFERRAL, **TRAINED_HALF)
# 60.5: no workers' conference (-8), no CBA (-10), membership 84% (-4.5), one dialogue (-3.5), finance half (-4),
# not registered (-5), no Party referral (-2), informed 95% (-2.5).  Completed.
unit("HL-DN11", "Công đoàn Công ty TNHH Đông dược Phúc Hưng", NONSTATE, LDLD, BLOC_DOM, "2009-03-03",
     workers=88, members=74, salary=7_900_000, tasks=(10, 0),
     staff_conference_held=False, **NO_CBA, **ONE_DIALOGUE, **FINANCE_HALF, **NOT_REGISTERED, **NO_REFERRAL,
     **INFORMED_HALF, culture_score=71, prior_year_grade="completed")
# 95: informed 95% (-2.5), shortcomings 80% (-2.5); 4 of 12 exceeded.  Excellent candidate; ties HL-FDI02 on score
# but has fewer tasks exceeded -> demoted to good (the cohort has 1 excellent place).
unit("HL-DN12", "Công đoàn Công ty Cổ phần Xét nghiệm Y khoa Thành An", NONSTATE, LDLD, BLOC_DOM, "2015-11-16",
     workers=118, members=116, salary=11_800_000, tasks=(12, 4),
     **INFORMED_HALF, **FIXED_HALF)
# 43: no workers' conference (-8), no CBA (-10), membership 60% (-9), no dialogue (-7), finance half (-4),
# not registered (-5), no Party referral (-2), no inspection committee (-5), trained 85% (-2),
# shortcomings 80% (-2.5), informed 95% (-2.5).  Not completed (under 50).
unit("HL-DN13", "Công đoàn Công ty TNHH Bông băng Y tế Kim Sơn", NONSTATE, LDLD, BLOC_DOM, "2017-08-08",
     workers=160, members=96, salary=7_200_000, tasks=(10, 0),
     staff_conference_held=False, **NO_CBA, workplace_dialogues=0, **FINANCE_HALF, **NOT_REGISTERED,
     **NO_REFERRAL, ubkt_status="none", **TRAINED_HALF, **FIXED_HALF, **INFORMED_HALF, culture_score=62,
     dues_collected_vnd=40_000_000, prior_year_grade="not_completed")
# 92: CBA signed (-4), no Party referral (-2), trained 85% (-2); 3 of 11 exceeded.  Excellent candidate, 3rd
# in its cohort -> demoted to good.
unit("HL-DN14", "Công đoàn Công ty Cổ phần Dược mỹ phẩm Ngọc Lâm", NONSTATE, LDLD, BLOC_DOM, "2012-12-12",
     workers=132, members=130, salary=10_600_000, tasks=(11, 3),
     **CBA_SIGNED, **NO_REFERRAL, **TRAINED_HALF)
# 74: established EXACTLY 2023-12-31 (12 months) -> eligible.  No CBA (-10), membership 85% (-4.5), one dialogue
# (-3.5), no Party referral (-2), finance half (-4), trained 85% (-2).  Good.
unit("HL-DN15", "Công đoàn Công ty TNHH Vật tư Y tế Tân Phát", NONSTATE, LDLD, BLOC_DOM, "2023-12-31",
     workers=118, members=100, salary=9_000_000, tasks=(8, 1),
     **NO_CBA, **ONE_DIALOGUE, **NO_REFERRAL, **FINANCE_HALF, **TRAINED_HALF,
     prior_year_grade="not_graded", inspection_findings=0, findings_remedied=0)
# 64: 32 members with only a designated inspection member (30 or more need a committee: -5), no CBA (-10),
# membership 84% (-4.5), one dialogue (-3.5), finance half (-4), no Party referral (-2), not registered (-5),
# trained 85% (-2).  Completed.
unit("HL-DN16", "Công đoàn Công ty TNHH Phòng khám Đa khoa Hoàng Gia", NONSTATE, LDLD, BLOC_DOM, "2018-06-25",
     workers=38, members=32, salary=14_000_000, tasks=(8, 0),
     ubkt_status="designated_member", **NO_CBA, **ONE_DIALOGUE, **FINANCE_HALF, **NO_REFERRAL,
     **NOT_REGISTERED, **TRAINED_HALF, culture_score=77)
# 86: 28 members with a designated inspection member (allowed under 30: full points).  CBA signed (-4), one
# dialogue (-3.5), no Party referral (-2), trained 85% (-2), shortcomings 80% (-2.5).  Good.
unit("HL-DN17", "Công đoàn Công ty TNHH Dược phẩm Lâm Giang", NONSTATE, LDLD, BLOC_DOM, "2010-04-14",
     workers=29, members=28, salary=14_500_000, tasks=(9, 1),
     ubkt_status="designated_member", **CBA_SIGNED, **ONE_DIALOGUE, **NO_REFERRAL, **TRAINED_HALF, **FIXED_HALF)
# 93: informed 95% (-2.5), membership 88% (-4.5); otherwise excellent facts.  A worker died in a work accident
# -> veto caps the grade at completed.
unit("HL-FDI01", "Công đoàn Công ty TNHH Thiết bị Y tế Hanmi Vina", FDI, LDLD, BLOC_FDI, "2007-05-02",
     workers=462, members=406, salary=8_000_000, tasks=(12, 4),
     **INFORMED_HALF, fatal_work_accidents=1, prior_year_grade="excellent")
# 95: informed 95% (-2.5), shortcomings 80% (-2.5); 5 of 13 exceeded.  Excellent candidate, 1st in its cohort
# (beats HL-DN12 on tasks exceeded) -> excellent.
unit("HL-FDI02", "Công đoàn Công ty TNHH Găng tay Y tế Sun Glove Hà Lâm", FDI, LDLD, BLOC_FDI, "2011-02-18",
     workers=438, members=430, salary=7_800_000, tasks=(13, 5),
     **INFORMED_HALF, **FIXED_HALF)
# 76: finances NOT disclosed (-8), CBA signed (-4), membership 86% (-4.5), one dialogue (-3.5),
# no Party referral (-2), trained 85% (-2).  Fails "finances disclosed" for good -> completed.
unit("HL-FDI03", "Công đoàn Công ty TNHH Dụng cụ Y khoa Tokai Việt Nam", FDI, LDLD, BLOC_FDI, "2016-09-27",
     workers=310, members=268, salary=8_300_000, tasks=(10, 1),
     disclosure_done=False, self_inspection_done=False, **CBA_SIGNED, **ONE_DIALOGUE, **NO_REFERRAL,
     **TRAINED_HALF)
# 79.5: CBA signed (-4), membership 87% (-4.5), not registered (-5), no Party referral (-2),
# shortcomings 80% (-2.5), informed 95% (-2.5).  Good.
unit("HL-FDI04", "Công đoàn Công ty TNHH Ống thông Y tế MedTube Việt Nam", FDI, LDLD, BLOC_FDI, "2019-07-15",
     workers=270, members=235, salary=8_100_000, tasks=(10, 1),
     **CBA_SIGNED, **NOT_REGISTERED, **NO_REFERRAL, **FIXED_HALF, **INFORMED_HALF, culture_score=82)


# --- writers ---------------------------------------------------------------------------------

def fact_names(catalogue_path: Path = CATALOGUE) -> list[str]:
    """The catalogue's facts, in its order, after those of the catalogue it extends."""
    catalogue = yaml.safe_load(catalogue_path.read_text(encoding="utf-8"))
    names = fact_names(catalogue_path.parent / catalogue["extends"]) if catalogue.get("extends") else []
    return names + [n for n in catalogue["facts"] if n not in names]


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def write_csv(columns: list[str], rows: list[dict] = UNITS, path: Path = CSV_OUT) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row[c]) for c in columns])


def write_xlsx(columns: list[str], rows: list[dict] = UNITS, path: Path = XLSX_OUT,
               fixed_time: datetime.datetime = FIXED_TIME) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "units"
    sheet.append(columns)
    for row in rows:
        sheet.append([row[c] for c in columns])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "C2"
    book.properties.creator = "examples/make_province.py"
    path.write_bytes(workbook_bytes(book, fixed_time))  # the same rows always give the same bytes


def check_units(columns: list[str], rows: list[dict] = UNITS) -> None:
    """Catch slips in the hand-written rows: ids, columns and the basic orderings."""
    seen = set()
    for row in rows:
        uid = row["unit_id"]
        assert uid not in seen, f"{uid} twice"
        seen.add(uid)
        assert set(row) == set(columns), f"{uid}: columns differ from the catalogue"
        assigned, on_time, done, exceeded = (row[k] for k in ("tasks_assigned", "tasks_on_time", "tasks_done", "tasks_exceeded"))
        assert on_time <= done <= assigned, f"{uid}: tasks"
        assert exceeded is None or exceeded <= assigned, f"{uid}: tasks exceeded"
        assert row["members_total"] <= row["workers_total"], f"{uid}: members"
        assert row["spending_staff_vnd"] + row["spending_admin_vnd"] <= row["spending_total_vnd"], f"{uid}: spending"


def main() -> None:
    columns = fact_names()
    check_units(columns)
    write_csv(columns)
    write_xlsx(columns)
    print(f"wrote {len(UNITS)} units to {CSV_OUT.name} and {XLSX_OUT.name}")


if __name__ == "__main__":
    main()
