"""What ``explain`` says about the rules of issue 28: groups, minimum intakes, split practice.

Read off the problem and the final allocation, like the rest of :mod:`matcher.planning.explain`
(no solver code): why a workstation below its minimum did not open, why a group was not placed
(or that it was placed together), and which plan of terms a student's practice follows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from ..model import Problem, Student
from ..model.rules import blocks_of

HeldTerms = Mapping[str, tuple[str, tuple[int, ...]]]
"""Student id -> (workstation id, term indices of its practice), for every placed student."""


def not_opened(p: Problem, held: HeldTerms, wid: str) -> str | None:
    """Why ``wid`` took nobody for want of its minimum intake (None when that is not why)."""
    w = next((x for x in p.workstations if x.workstation_id == wid), None)
    if w is None or w.min_intake <= 1 or any(h[0] == wid for h in held.values()):
        return None
    listed = sum(1 for s in p.students if wid in s.preferences)
    return (f"did not open: it takes nobody or at least {w.min_intake} students (min_intake), "
            f"and {listed} student(s) list it; placing fewer there would break the minimum, "
            "so its students went elsewhere (lower min_intake or bring more students there)")


def unopened(p: Problem, held: HeldTerms) -> list[str]:
    """Every workstation with a minimum intake that took nobody, with its minimum."""
    count = Counter(h[0] for h in held.values())
    return [f"{w.workstation_id} (min_intake {w.min_intake})" for w in p.workstations
            if w.min_intake > 1 and count[w.workstation_id] == 0]


def plan_text(p: Problem, st: Student, terms: Sequence[int]) -> str | None:
    """Which plan of terms the practice follows, when a split was possible (else None)."""
    allowed = p.max_segments(st)
    if allowed <= 1:
        return None
    blocks = blocks_of(tuple(terms))
    shown = "; ".join(p.terms[a] if a == b else f"{p.terms[a]}..{p.terms[b]}"
                      for a, b in blocks)
    if len(blocks) == 1:
        return (f"The practice is one block ({shown}): a split into up to {allowed} blocks was "
                "allowed, and one block costs the fewest extra segments (the objective's "
                "level after the rank cost).")
    return (f"The practice is split into {len(blocks)} blocks ({shown}; up to {allowed} "
            f"allowed, each at least {p.min_segment_terms} term(s)): no single block of the "
            "same rank or better had room, and a split costs one extra segment per block.")


def group_text(p: Problem, held: HeldTerms, st: Student) -> str | None:
    """The student's group: placed together (where), or why it was not placed."""
    gid = next((g.group_id for g in p.groups if g.student_id == st.student_id), None)
    if gid is None:
        return None
    members = [g.student_id for g in p.groups if g.group_id == gid]
    mates = ", ".join(m for m in members if m != st.student_id)
    if st.student_id in held:
        wid, terms = held[st.student_id]
        return (f"Kept together with group {gid} ({mates}; groups.csv): all at {wid} from "
                f"{p.terms[terms[0]]}, so the group's choices were weighed together.")
    return (f"Placed only together with group {gid} ({mates}; groups.csv): no workstation had "
            "room for all of them from one start term among the options that were better for "
            "the allocation as a whole; add places at a workstation they can share, or split "
            "the group.")
