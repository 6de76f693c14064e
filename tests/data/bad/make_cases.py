"""Write the bad-input corpus: every case is ``scenarios/tiny`` with one small, named change.

Run from anywhere: ``python tests/data/bad/make_cases.py`` rewrites every case folder next to
this script (and removes none: delete a retired case by hand). Each case folder holds the broken
scenario and ``expected.txt``: lines starting with ``#`` say what is broken; every other line
must appear, as a substring, in the error lines ``matcher validate`` prints, all in one run.
``tests/test_bad_corpus.py`` reads the folders, not this script.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TINY = HERE.parents[2] / "scenarios" / "tiny"
SCENARIO_FILES = ("scenario.yaml", "students.csv", "workstations.csv", "mentors.csv",
                  "supervisors.csv", "universities.csv", "workstation_terms.csv", "pairs.csv")
LOCKS = "student_id,workstation_id,mentor_id,start_term\n"

Edit = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One broken scenario: its folder name, what is wrong, the edits and the expected lines."""

    name: str
    what: str
    edits: tuple[Edit, ...]
    expected: tuple[str, ...]


def rep(file: str, old: str, new: str) -> Edit:
    """Replace the first ``old`` (which must be there) in a UTF-8 file."""
    def edit(folder: Path) -> None:
        text = (folder / file).read_text(encoding="utf-8")
        assert old in text, (file, old)
        (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8", newline="")
    return edit


def put(file: str, content: str | bytes) -> Edit:
    """Write a file (text as UTF-8, exactly as given)."""
    def edit(folder: Path) -> None:
        raw = content.encode("utf-8") if isinstance(content, str) else content
        (folder / file).write_bytes(raw)
    return edit


def rm(*files: str) -> Edit:
    """Delete files."""
    def edit(folder: Path) -> None:
        for f in files:
            (folder / f).unlink()
    return edit


def cut(file: str, after: str, back: int = 0) -> Edit:
    """Truncate a file ``back`` bytes before the end of the first ``after`` (cut off mid-copy)."""
    def edit(folder: Path) -> None:
        raw = (folder / file).read_bytes()
        mark = after.encode("utf-8")
        assert mark in raw, (file, after)
        (folder / file).write_bytes(raw[:raw.index(mark) + len(mark) - back])
    return edit


def cities_in_chinese(folder: Path) -> None:
    """Give workstations.csv Chinese city names (UTF-8), as a Chinese office would."""
    path = folder / "workstations.csv"
    text = path.read_text(encoding="utf-8").replace("Harbin", "哈尔滨").replace("Daqing", "大庆")
    path.write_text(text, encoding="utf-8")


def last_line_gb18030(folder: Path) -> None:
    """Re-encode the last line of workstations.csv as GB18030 (pasted from another file)."""
    path = folder / "workstations.csv"
    *head, last = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    path.write_bytes(("\n".join(head) + "\n").encode("utf-8") + last.encode("gb18030") + b"\n")


BOMB = """description: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]
x1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]
x2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
x3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
x4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]
x5: &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]
x6: &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]
x7: &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]
x8: &a8 [*a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]
name: *a8
"""

LINE_BREAK = "holds a line break; remove it (a stray quote \" may have merged rows"
FORMULA = ("is a spreadsheet formula, not a value; paste the values instead (Paste Special > "
           "Values) and save again")
NOT_INT = "is not a whole number; give a plain number"
WS_UNKNOWN = "(not in workstations.csv)"

CASES: tuple[Case, ...] = (
    # ---- truncated files ------------------------------------------------------------------
    Case("truncated-row", "students.csv cut off in the middle of its last row",
         (cut("students.csv", "S6,HEU,08"),),
         ("students.csv row 6, work_experience_years: empty; give a value",)),
    Case("truncated-header", "workstations.csv cut off inside its header",
         (put("workstations.csv", "workstation_id,discipl"),),
         ("workstations.csv: missing column 'disciplines'; the header must name "
          "workstation_id, disciplines, capacity, partner_universities",
          "workstations.csv: missing column 'capacity'",
          "workstations.csv: missing column 'partner_universities'")),
    Case("truncated-yaml", "scenario.yaml cut off inside the terms list",
         (cut("scenario.yaml", "terms: [2025-autumn, 2026-spr"),),
         ("scenario.yaml line 5: not valid YAML; check indentation and colons",)),
    Case("truncated-utf8-character", "workstations.csv (Chinese city names) cut off inside "
         "the last character",
         (cities_in_chinese, cut("workstations.csv", "W3,0855,1,,大", back=2)),
         ("workstations.csv line 4: not UTF-8 although other lines are (the file mixes "
          "encodings, or was cut off inside a character); save the whole file again as CSV "
          "UTF-8",)),
    Case("stray-quote-merges-rows", "an opening quote in row 2 with no closing quote swallows "
         "every later row into one cell",
         (rep("students.csv", "S2,HIT,0854,0,W1,", 'S2,HIT,0854,0,"W1,'),),
         ("students.csv row 2, preferences: 'W1,,85.5\\nS3,HEU,0854,3,W2,HEU-S1,80.0",
          LINE_BREAK)),
    Case("quote-never-closed", "the last row opens a quote that is never closed (cut off)",
         (cut("students.csv", 'S6,HEU,0856,0,W3'), rep("students.csv", "0,W3", '0,"W3')),
         ("students.csv line 7: a quote (\") is opened but never closed; check the quotes in "
          "that line",)),
    Case("text-after-closing-quote", "a quoted cell followed by more text (\"W1\"W2), which "
         "a lenient reader would glue together",
         (rep("students.csv", "S2,HIT,0854,0,W1,", 'S2,HIT,0854,0,"W1"W2,'),),
         ("students.csv line 3: text follows a closing quote (',' expected after '\"'); check "
          "the quotes in that line",)),
    Case("extra-cells", "row 2 of students.csv has two cells more than the header",
         (rep("students.csv", "S2,HIT,0854,0,W1,,85.5", "S2,HIT,0854,0,W1,,85.5,x,y"),),
         ("students.csv row 2: 9 cells but the header has 7; remove the extra cells or quote "
          "cells with commas",)),
    # ---- wrong types ----------------------------------------------------------------------
    Case("capacity-word", "a workstation capacity written as a word",
         (rep("workstations.csv", "W2,0854;0855,3,", "W2,0854;0855,three,"),),
         ("workstations.csv row 2, capacity: 'three' " + NOT_INT,)),
    Case("capacity-fraction", "a mentor capacity of 1.5",
         (rep("mentors.csv", "W2-M1,W2,0854,2", "W2-M1,W2,0854,1.5"),),
         ("mentors.csv row 2, capacity: '1.5' " + NOT_INT,)),
    Case("years-word", "work experience written as a word",
         (rep("students.csv", "S3,HEU,0854,3,", "S3,HEU,0854,three,"),),
         ("students.csv row 3, work_experience_years: 'three' is not a number; give a plain "
          "number",)),
    Case("yaml-term-months-word", "term_months: six",
         (rep("scenario.yaml", "term_months: 6", "term_months: six"),),
         ("scenario.yaml, term_months: give a whole number of months from 1 to 24",)),
    Case("yaml-terms-not-a-list", "terms given as one text instead of a list",
         (rep("scenario.yaml", "terms: [2025-autumn, 2026-spring, 2026-autumn, 2027-spring]",
              "terms: 2025-autumn"),),
         ("scenario.yaml, terms: give a non-empty list of term labels in calendar order",)),
    Case("yaml-policy-not-a-mapping", "policy: given as a word",
         (rep("scenario.yaml", "policy:\n", "policy: strict\npolicy_was:\n"),),
         ("scenario.yaml, policy: expected a mapping of settings",
          "scenario.yaml, policy_was: unknown key")),
    Case("yaml-bool-word", "preferences_only: sometimes",
         (rep("scenario.yaml", "preferences_only: false", "preferences_only: sometimes"),),
         ("scenario.yaml, policy.preferences_only: is invalid (Input should be a valid "
          "boolean",)),
    Case("yaml-top-level-list", "scenario.yaml is a list, not a mapping",
         (put("scenario.yaml", "- name: tiny\n- terms: [2026-autumn, 2027-spring]\n"),),
         ("scenario.yaml: expected keys such as name, terms, policy; got list",)),
    Case("yaml-name-mapping", "name: given as a mapping",
         (rep("scenario.yaml", "name: tiny", "name: {first: tiny}"),),
         ("scenario.yaml, name: give the scenario's name as one line of text",)),
    # ---- duplicates -----------------------------------------------------------------------
    Case("duplicate-student-id", "two students with id S4",
         (rep("students.csv", "S5,HEU", "S4,HEU"),),
         ("students.csv row 5, student_id: duplicate id 'S4' (also row 4); ids must be "
          "unique",)),
    Case("duplicate-workstation-id", "W3 listed twice",
         (rep("workstations.csv", "W3,0855,1,,Daqing,46.5900,125.1000",
              "W3,0855,1,,Daqing,46.5900,125.1000\nW3,0855,2,,Daqing,,"),),
         ("workstations.csv row 4, workstation_id: duplicate id 'W3' (also row 3); ids must "
          "be unique",)),
    Case("duplicate-term", "a term listed twice in scenario.yaml",
         (rep("scenario.yaml", "2026-autumn, 2027-spring]  #",
              "2026-autumn, 2026-autumn, 2027-spring]  #"),),
         ("scenario.yaml, terms: term '2026-autumn' is listed twice; list each term once",)),
    Case("duplicate-header-column", "students.csv names the discipline column twice",
         (rep("students.csv", "supervisor_id,priority", "supervisor_id,discipline"),),
         ("students.csv: column 'discipline' appears twice in the header; keep one",)),
    Case("duplicate-lock", "S3 locked twice",
         (put("locks.csv", LOCKS + "S3,W2,,\nS3,W2,W2-M1,\n"),),
         ("locks.csv row 2, student_id: student 'S3' is already locked in row 1",)),
    Case("duplicate-yaml-key", "terms: given twice in scenario.yaml (YAML would keep the last)",
         (rep("scenario.yaml", "term_months: 6", "term_months: 6\nterms: [2026-autumn]"),),
         ("scenario.yaml line 7: key 'terms' is given twice; keep one",)),
    Case("duplicate-preference", "W1 listed twice on one student's list",
         (rep("students.csv", "S2,HIT,0854,0,W1,", "S2,HIT,0854,0,W1;W1,"),),
         ("students.csv row 2, preferences: workstation 'W1' is listed twice; list each "
          "choice once",)),
    # ---- dangling references --------------------------------------------------------------
    Case("unknown-preference", "a preference for a workstation that does not exist",
         (rep("students.csv", "W2;W3", "W2;W9"),),
         ("students.csv row 4, preferences: unknown workstation 'W9' " + WS_UNKNOWN,)),
    Case("mentor-unknown-workstation", "a mentor at a workstation that does not exist",
         (rep("mentors.csv", "W3-M1,W3", "W3-M1,W7"),),
         ("mentors.csv row 4, workstation_id: unknown workstation 'W7' " + WS_UNKNOWN,)),
    Case("supervisor-unknown-university", "a supervisor of a university not listed",
         (rep("supervisors.csv", "HEU-S2,HEU", "HEU-S2,NEFU"),),
         ("supervisors.csv row 3, university_id: unknown university 'NEFU' (not in "
          "universities.csv)",)),
    Case("lock-unknown-student", "a lock of a student who does not exist",
         (put("locks.csv", LOCKS + "S9,W2,,\n"),),
         ("locks.csv row 1, student_id: unknown student 'S9' (not in students.csv)",)),
    Case("pair-unknown-supervisor", "a rewarded pair with a supervisor who does not exist",
         (rep("pairs.csv", "HEU-S2,W2-M2", "HEU-S7,W2-M2"),),
         ("pairs.csv row 1, supervisor_id: unknown supervisor 'HEU-S7' (not in "
          "supervisors.csv)",)),
    Case("ranking-unknown-student", "a workstation ranks a student who does not exist",
         (put("rankings.csv", "workstation_id,student_id,rank\nW1,S2,1\nW1,S9,2\n"),),
         ("rankings.csv row 2, student_id: unknown student 'S9' (not in students.csv)",)),
    Case("term-capacity-unknown-workstation", "a term override for a workstation that does "
         "not exist",
         (rep("workstation_terms.csv", "W2,2027-spring", "W8,2027-spring"),),
         ("workstation_terms.csv row 1, workstation_id: unknown workstation 'W8' "
          + WS_UNKNOWN,)),
    Case("given-supervisor-unknown", "a given supervisor who does not exist",
         (rep("students.csv", "W2,HEU-S1", "W2,HEU-S9"),),
         ("students.csv row 3, supervisor_id: unknown supervisor 'HEU-S9' (not in "
          "supervisors.csv)",)),
    # ---- contradictions -------------------------------------------------------------------
    Case("lock-closed-term", "a lock whose block covers a term the workstation is closed",
         (put("workstation_terms.csv", "workstation_id,term,capacity\nW2,2027-spring,0\n"),
          put("locks.csv", LOCKS + "S3,W2,,2027-spring\n")),
         ("locks.csv row 1, start_term: lock of 'S3' at 'W2': the workstation is closed in "
          "2027-spring; choose another start_term or reopen the workstation in "
          "workstation_terms.csv",)),
    Case("lock-without-discipline", "a lock at a workstation without the student's discipline",
         (put("locks.csv", LOCKS + "S3,W3,,\n"),),
         ("locks.csv row 1, workstation_id: lock of 'S3' at 'W3': the workstation does not "
          "take discipline '0854'; lock another workstation or add the discipline",)),
    Case("locks-over-capacity", "two locks put two students at W1 (capacity 1) in the same "
         "terms",
         (put("locks.csv", LOCKS + "S1,W1,,2026-autumn\nS2,W1,,2026-autumn\n"),),
         ("locks.csv row 2, start_term: the locks in rows 1, 2 place 2 students at 'W1' in "
          "2026-autumn, which holds 1 then; remove a lock, change a start_term or raise the "
          "capacity",)),
    Case("locks-without-start-over-capacity", "two locks without a start term put two 12-month "
         "students at W1 (capacity 1): their 2-term window leaves both terms to each",
         (put("locks.csv", LOCKS + "S1,W1,,\nS2,W1,,\n"),),
         ("locks.csv row 2, start_term: the locks in rows 1, 2 place 2 students at 'W1' in "
          "2026-autumn, which holds 1 then",)),
    Case("locks-over-mentor-capacity", "three locks give mentor W2-M1 (capacity 2) three "
         "students in one term",
         (put("locks.csv", LOCKS + "S3,W2,W2-M1,2026-autumn\nS1,W2,W2-M1,2026-autumn\n"
              "S2,W2,W2-M1,2026-autumn\n"),),
         ("locks.csv row 3, mentor_id: the locks in rows 1, 2, 3 give mentor 'W2-M1' 3 "
          "students in 2026-autumn, who takes 2 at once",)),
    Case("locks-over-supervisor-capacity", "two locked students both given supervisor HEU-S2 "
         "(capacity 1)",
         (rep("students.csv", "S4,HEU,0855,0,W2;W3,,", "S4,HEU,0855,0,W2;W3,HEU-S2,"),
          rep("students.csv", "S5,HEU,0855,0,W2,,", "S5,HEU,0855,0,W2,HEU-S2,"),
          put("locks.csv", LOCKS + "S4,W3,,\nS5,W2,,\n")),
         ("locks.csv row 2, student_id: the locked students in rows 1, 2 all have supervisor "
          "'HEU-S2' (students.csv), who takes 1",)),
    Case("lock-no-open-block", "a lock without start_term at a workstation closed in a term "
         "that every block of the student's window covers",
         (put("workstation_terms.csv", "workstation_id,term,capacity\nW2,2026-autumn,0\n"),
          put("locks.csv", LOCKS + "S1,W2,,\n")),
         ("locks.csv row 1, workstation_id: lock of 'S1' at 'W2': the workstation is closed in "
          "some term of every 2-term block inside the student's window "
          "2026-autumn..2027-spring; lock another workstation or reopen it in "
          "workstation_terms.csv",)),
    Case("lock-mentor-capacity-zero", "a lock with a mentor who takes no students",
         (rep("mentors.csv", "W2-M1,W2,0854,2", "W2-M1,W2,0854,0"),
          put("locks.csv", LOCKS + "S3,W2,W2-M1,\n")),
         ("locks.csv row 1, mentor_id: lock of 'S3' at 'W2': mentor 'W2-M1' has capacity 0; "
          "lock another mentor, leave mentor_id empty or raise the capacity",)),
    Case("lock-mentor-elsewhere", "a lock with a mentor of another workstation",
         (put("locks.csv", LOCKS + "S3,W2,W1-M1,\n"),),
         ("locks.csv row 1, mentor_id: mentor 'W1-M1' works at 'W1', not at 'W2'; lock a "
          "mentor of that workstation",)),
    Case("lock-off-list-preferences-only", "preferences_only is on and a lock is off the "
         "student's list",
         (rep("scenario.yaml", "preferences_only: false", "preferences_only: true"),
          put("locks.csv", LOCKS + "S2,W2,,\n")),
         ("locks.csv row 1, workstation_id: lock of 'S2' at 'W2': preferences_only is on and "
          "the workstation is not on the student's list",)),
    Case("supervisor-other-university", "a given supervisor of another university",
         (rep("students.csv", "W2,HEU-S1,80.0", "W2,HIT-S1,80.0"),),
         ("students.csv row 3, supervisor_id: supervisor 'HIT-S1' is at university 'HIT', not "
          "the student's 'HEU'",)),
    # ---- impossible windows ---------------------------------------------------------------
    Case("window-reversed", "the policy window ends before it starts",
         (rep("scenario.yaml", "window: [2026-autumn, 2027-spring]",
              "window: [2027-spring, 2026-autumn]"),),
         ("scenario.yaml, policy.window: window starts after it ends; swap the terms",)),
    Case("window-too-short", "a student's window holds one term but the student needs two",
         (rep("students.csv", "supervisor_id,priority", "supervisor_id,priority,window_start"),
          rep("students.csv", "HIT-S1,92.0", "HIT-S1,92.0,2027-spring")),
         ("students.csv row 1, window_end: window 2027-spring..2027-spring has 1 term(s) but "
          "the student needs 2 (12 months); widen the window or lower required_months",)),
    Case("required-months-too-long", "a student needs 36 months in a two-term window",
         (rep("students.csv", "supervisor_id,priority", "supervisor_id,priority,"
              "required_months"), rep("students.csv", ",,85.5", ",,85.5,36")),
         ("students.csv row 2, required_months: window 2026-autumn..2027-spring has 2 term(s) "
          "but the student needs 6 (36 months)",)),
    Case("window-unknown-term", "a student's window ends in a term not in scenario.yaml",
         (rep("students.csv", "supervisor_id,priority", "supervisor_id,priority,window_end"),
          rep("students.csv", ",,70.0", ",,70.0,2029-autumn")),
         ("students.csv row 6, window_end: unknown term '2029-autumn' (not in terms: "
          "2025-autumn, 2026-spring, 2026-autumn, 2027-spring)",)),
    Case("window-start-after-end", "a student's window starts after it ends",
         (rep("students.csv", "supervisor_id,priority",
              "supervisor_id,priority,window_start,window_end"),
          rep("students.csv", ",,75.5", ",,75.5,2027-spring,2026-autumn")),
         ("students.csv row 5, window_end: window 2027-spring..2026-autumn has 0 term(s) but "
          "the student needs 2 (12 months)",)),
    # ---- numbers --------------------------------------------------------------------------
    Case("nan-years", "work experience NaN", (rep("students.csv", "S3,HEU,0854,3,",
                                                  "S3,HEU,0854,NaN,"),),
         ("students.csv row 3, work_experience_years: 'NaN' is not a finite number; give a "
          "plain number",)),
    Case("inf-capacity", "a workstation capacity of inf",
         (rep("workstations.csv", "W3,0855,1,", "W3,0855,inf,"),),
         ("workstations.csv row 3, capacity: 'inf' " + NOT_INT,)),
    Case("negative-capacity", "a mentor capacity of -1",
         (rep("mentors.csv", "W3-M1,W3,0855,1", "W3-M1,W3,0855,-1"),),
         ("mentors.csv row 4, capacity: '-1' is too small; give a value >= 0",)),
    Case("negative-years", "work experience of -2 years",
         (rep("students.csv", "S3,HEU,0854,3,", "S3,HEU,0854,-2,"),),
         ("students.csv row 3, work_experience_years: '-2' is too small; give a value >= 0",)),
    Case("huge-capacity", "a supervisor capacity of 1e30",
         (rep("supervisors.csv", "HIT-S1,HIT,0854,2", "HIT-S1,HIT,0854,1e30"),),
         ("supervisors.csv row 1, capacity: '1e30' is too large; give a value <= 1000000",)),
    Case("huge-integer", "a workstation capacity with 26 digits",
         (rep("workstations.csv", "W1,0854,1,", "W1,0854,99999999999999999999999999,"),),
         ("workstations.csv row 1, capacity: '99999999999999999999999999' is too large; give "
          "a value <= 1000000",)),
    Case("huge-weight", "a pair weight of 1e300",
         (rep("pairs.csv", "HEU-S2,W2-M2,2", "HEU-S2,W2-M2,1e300"),),
         ("pairs.csv row 1, weight: '1e300' is too large; give a value <= 1000000",)),
    Case("huge-rank", "a workstation's rank of a student of 1e12",
         (put("rankings.csv", "workstation_id,student_id,rank\nW1,S2,1000000000000\n"),),
         ("rankings.csv row 1, rank: '1000000000000' is too large; give a value <= 1000000",)),
    Case("latitude-out-of-range", "a latitude of 123",
         (rep("workstations.csv", "45.7800", "123"),),
         ("workstations.csv row 2, lat: '123' is too large; give a value <= 90",)),
    Case("term-months-zero", "term_months: 0",
         (rep("scenario.yaml", "term_months: 6", "term_months: 0"),),
         ("scenario.yaml, term_months: give a whole number of months from 1 to 24",)),
    Case("yaml-negative-time-limit", "solver time limit of -5 seconds",
         (rep("scenario.yaml", "time_limit_s: 10", "time_limit_s: -5"),),
         ("scenario.yaml, solver.time_limit_s: is too small; give a value > 0",)),
    Case("yaml-nan-setting", "experienced_years: .nan",
         (rep("scenario.yaml", "experienced_years: 2", "experienced_years: .nan"),),
         ("scenario.yaml, policy.experienced_years: is invalid",)),
    # ---- empty things ---------------------------------------------------------------------
    Case("empty-folder", "no scenario files at all",
         (rm(*SCENARIO_FILES),),
         tuple(f"{f}: missing file; every scenario needs {f} in " for f in SCENARIO_FILES[:5])),
    Case("empty-students-file", "students.csv has zero bytes", (put("students.csv", b""),),
         ("students.csv: the file is empty; it needs a header row and data rows",)),
    Case("empty-yaml", "scenario.yaml has only a comment",
         (put("scenario.yaml", "# to do\n"),),
         ("scenario.yaml: the file is empty; give at least name and terms",)),
    Case("header-only-mentors", "mentors.csv has a header and no rows",
         (put("mentors.csv", "mentor_id,workstation_id,disciplines,capacity\n"),),
         ("mentors.csv: no data rows; add at least one row under the header",)),
    Case("empty-disciplines", "a workstation with an empty disciplines cell",
         (rep("workstations.csv", "W3,0855,1,", "W3,,1,"),),
         ("workstations.csv row 3, disciplines: '' is empty; give at least one value",)),
    Case("empty-terms", "terms: []",
         (rep("scenario.yaml", "terms: [2025-autumn, 2026-spring, 2026-autumn, 2027-spring]",
              "terms: []"),),
         ("scenario.yaml, terms: give a non-empty list of term labels",)),
    Case("blank-required-cell", "a student's university left empty",
         (rep("students.csv", "S4,HEU,", "S4,,"),),
         ("students.csv row 4, university_id: empty; give a value",)),
    # ---- whitespace and separators --------------------------------------------------------
    Case("space-inside-id", "'W 1' on a preference list: spaces around a cell are trimmed, "
         "spaces inside an id are part of it",
         (rep("students.csv", "S2,HIT,0854,0,W1,", "S2,HIT,0854,0,  W 1 ,"),),
         ("students.csv row 2, preferences: unknown workstation 'W 1' " + WS_UNKNOWN,)),
    Case("semicolon-separated", "mentors.csv saved with ';' between columns (European Excel)",
         (put("mentors.csv", "mentor_id;workstation_id;disciplines;capacity\n"
              "W1-M1;W1;0854;1\nW2-M1;W2;0854;2\nW2-M2;W2;0855;1\nW3-M1;W3;0855;1\n"),),
         ("mentors.csv: the columns are separated by semicolons, not commas; save it as CSV "
          "UTF-8 (comma-separated)",)),
    Case("tab-separated", "supervisors.csv saved as tab-separated text",
         (put("supervisors.csv", "supervisor_id\tuniversity_id\tdisciplines\tcapacity\n"
              "HIT-S1\tHIT\t0854\t2\nHEU-S1\tHEU\t0854;0855\t2\nHEU-S2\tHEU\t0855;0856\t1\n"),),
         ("supervisors.csv: the columns are separated by tabs, not commas",)),
    # ---- encodings and invisible characters -----------------------------------------------
    Case("mixed-encodings", "workstations.csv is UTF-8 but its last line was pasted in GB18030",
         (cities_in_chinese, last_line_gb18030),
         ("workstations.csv line 4: not UTF-8 although other lines are (the file mixes "
          "encodings",)),
    Case("bom-in-middle", "a byte-order mark at the start of row 3 (two files pasted together)",
         (rep("students.csv", "\nS3,", "\n\ufeffS3,"),),
         ("students.csv row 3, student_id: '\\ufeffS3' holds an invisible character U+FEFF "
          "(ZERO WIDTH NO-BREAK SPACE); retype the cell",)),
    Case("zero-width-space", "an invisible zero-width space inside a preference",
         (rep("students.csv", "W2;W3", "W2;W\u200b3"),),
         ("students.csv row 4, preferences: 'W2;W\\u200b3' holds an invisible character "
          "U+200B (ZERO WIDTH SPACE)",)),
    Case("control-character", "a bell character (0x07) inside a discipline code",
         (rep("mentors.csv", "W2-M2,W2,0855", "W2-M2,W2,08\x0755"),),
         ("mentors.csv row 3, disciplines: '08\\x0755' holds an invisible character U+0007",)),
    Case("binary-garbage", "students.csv replaced by binary data",
         (put("students.csv", bytes(range(256)) * 4),),
         ("students.csv: holds binary data, not CSV text; open it in your spreadsheet program "
          "and save it as CSV UTF-8",)),
    Case("excel-file-renamed", "an .xlsx workbook saved under the name workstations.csv",
         (put("workstations.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"
              b"[Content_Types].xml" + bytes(range(1, 200))),),
         ("workstations.csv: holds a zip or Excel file, not CSV text",)),
    # ---- formulas -------------------------------------------------------------------------
    Case("formula-id", "a student id that is a spreadsheet formula",
         (rep("students.csv", "\nS1,", '\n"=HYPERLINK(""http://example.com"",""S1"")",'),),
         ("students.csv row 1, student_id: '=HYPERLINK(\"http://example.com\",\"S1\")' "
          + FORMULA,)),
    Case("formula-number", "a capacity computed by a formula",
         (rep("workstations.csv", "W2,0854;0855,3,", "W2,0854;0855,=1+2,"),),
         ("workstations.csv row 2, capacity: '=1+2' " + FORMULA,)),
    # ---- files and YAML that try something ------------------------------------------------
    Case("misnamed-table-file", "locks saved as lock.csv, which would be ignored silently",
         (put("lock.csv", LOCKS + "S3,W2,,\n"),),
         ("lock.csv: not a scenario file name; did you mean locks.csv? rename it",)),
    Case("yaml-python-tag", "scenario.yaml asks YAML to run a Python function",
         (rep("scenario.yaml", "name: tiny",
              'name: !!python/object/apply:os.system ["echo pwned"]'),),
         ("scenario.yaml line 3, name: the tag '!!python/object/apply:os.system' is not allowed; "
          "scenario.yaml holds plain text, numbers, lists and mappings only",)),
    Case("yaml-bomb", "nested YAML aliases that would expand to 387 million values",
         (rep("scenario.yaml", "description: Hand-checkable scenario whose optimum README.md "
              "derives (placed 5, rank cost 7, pair weight 2).\n", ""),
          rep("scenario.yaml", "name: tiny\n", BOMB)),
         ("scenario.yaml line 4, x1[0]: aliases (*a0) are not allowed; write the values out",)),
    Case("yaml-deep-nesting", "a value nested 20,000 lists deep (would exhaust the stack)",
         (rep("scenario.yaml", "term_months: 6", "term_months: 6\ncolour: " + "[" * 20000
              + "]" * 20000),),
         ("scenario.yaml: lists or mappings nested too deeply; scenario.yaml holds a few levels "
          "of settings only",)),
    Case("yaml-path-outside", "scenario.yaml tries to point at a file outside the folder",
         (rep("scenario.yaml", "term_months: 6", "term_months: 6\nstudents_file: "
              "../../../../etc/passwd"),),
         ("scenario.yaml, students_file: unknown key; use one of description, name, objective, "
          "policy, solver, term_months, terms",)),
    # ---- several at once ------------------------------------------------------------------
    Case("many-errors-at-once", "errors in four files: every one is reported in one run",
         (rep("students.csv", "S3,HEU,0854,3,", "S3,HEU,0854,abc,"),
          rep("mentors.csv", "W3-M1,W3", "W3-M1,W7"),
          rep("workstations.csv", "W1,0854,1,", "W1,0854,2.5,"),
          rep("scenario.yaml", "term_months: 6", "term_months: 0")),
         ("students.csv row 3, work_experience_years: 'abc' is not a number",
          "workstations.csv row 1, capacity: '2.5' " + NOT_INT,
          "scenario.yaml, term_months: give a whole number of months from 1 to 24")),
)


def write_case(case: Case, root: Path = HERE) -> Path:
    """Write one case folder (replacing it) and return it."""
    folder = root / case.name
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(TINY, folder, ignore=shutil.ignore_patterns("README.md", "expected.json"))
    for edit in case.edits:
        edit(folder)
    lines = [f"# {case.what}", *case.expected]
    (folder / "expected.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def main() -> None:
    """Write every case."""
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    for case in CASES:
        write_case(case)
    print(f"wrote {len(CASES)} cases under {HERE}")


if __name__ == "__main__":
    main()
