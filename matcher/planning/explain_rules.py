"""What ``explain`` says about the rules of issue 28: groups, minimum intakes, split practice.

Read off the problem and the final allocation, like the rest of :mod:`matcher.planning.explain`
(no solver code): why a workstation below its minimum did not open, why a group was not placed
(or that it was placed together), and which plan of terms a student's practice follows. Worded
by the catalogue (``explain_rules.po``) in the explanation's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..messages import Lang, label
from ..model import Problem, Student
from ..model.rules import blocks_of

HeldTerms = Mapping[str, tuple[str, tuple[int, ...]]]
"""Student id -> (workstation id, term indices of its practice), for every placed student."""

BLOCK_SEPARATOR: Mapping[str, str] = {"zh": "；", "en": "; "}
"""Between the blocks of a split practice (a block is ``first..last``, itself a list of terms)."""


def not_opened(p: Problem, held: HeldTerms, wid: str, lang: Lang = "en") -> str | None:
    """Why ``wid`` took nobody for want of its minimum intake (None when that is not why)."""
    w = next((x for x in p.workstations if x.workstation_id == wid), None)
    if w is None or w.min_intake <= 1 or any(h[0] == wid for h in held.values()):
        return None
    listed = sum(1 for s in p.students if wid in s.preferences)
    return label("explain.min_intake.not_opened", lang, minimum=w.min_intake, listed=listed)


def plan_text(p: Problem, st: Student, terms: Sequence[int], lang: Lang = "en") -> str | None:
    """Which plan of terms the practice follows, when a split was possible (else None)."""
    allowed = p.max_segments(st)
    if allowed <= 1:
        return None
    blocks = blocks_of(tuple(terms))
    shown = BLOCK_SEPARATOR[lang].join(p.terms[a] if a == b else f"{p.terms[a]}..{p.terms[b]}"
                                       for a, b in blocks)
    if len(blocks) == 1:
        return label("explain.plan.one_block", lang, blocks=shown, allowed=allowed)
    return label("explain.plan.split", lang, count=len(blocks), blocks=shown, allowed=allowed,
                 shortest=p.min_segment_terms)


def group_text(p: Problem, held: HeldTerms, st: Student, lang: Lang = "en") -> str | None:
    """The student's group: placed together (where), or why it was not placed."""
    gid = next((g.group_id for g in p.groups if g.student_id == st.student_id), None)
    if gid is None:
        return None
    mates = tuple(g.student_id for g in p.groups
                  if g.group_id == gid and g.student_id != st.student_id)
    if st.student_id in held:
        wid, terms = held[st.student_id]
        return label("explain.group.together", lang, group=gid, mates=mates, workstation=wid,
                     term=p.terms[terms[0]])
    return label("explain.group.left_out", lang, group=gid, mates=mates)
