"""What-if variants: a variant's changes applied to a base scenario, and written as a scenario.

:func:`apply_variant` applies the changes of a :class:`~matcher.planning.variant_spec.VariantSpec`
(read from a variant file by :func:`~matcher.planning.variant_spec.read_variant`) to a base
problem's tables, as data: rows removed, added and rewritten; :func:`build_variant` does both
for a file; :func:`write_variant` writes the result as a complete scenario folder that
:func:`matcher.load_scenario` reads, so it can be inspected, solved and compared as is.

The changes apply in this order: remove, scale, add, close, policy, intake, then the
students and mentors changes (remove_students, add_students, mentor_leave). The planning
guide (docs/planning.md, "Variants") gives the full rules, including the rounding of scaled
capacities (largest remainder, :func:`scale_largest_remainder`).
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from ..formats.occupancy import read_occupancy
from ..formats.output import Input
from ..formats.resultdir import atomic_folder
from ..formats.scenario import load_scenario, write_scenario
from ..messages import Lang, Location, Message, label, msg
from ..model import Mentor, Policy, Problem, ScenarioError, Student, TermCapacity, Workstation
from ..model.capacity import Occupancy, apply_occupancy, built_in_code, rebuild
from ..model.errors import error_detail
from ..reports.folder import output_lang
from .variant_spec import CloseRule, ScaleRule, VariantSpec, read_variant

__all__ = ["MAX_CAPACITY", "CloseRule", "ScaleRule", "Variant", "VariantSpec", "apply_variant",
           "build_variant", "draw_students", "new_ids", "read_variant",
           "scale_largest_remainder", "write_variant"]

MAX_CAPACITY = 1_000_000
"""Largest capacity a scaled workstation may get."""


@dataclass(frozen=True)
class Variant:
    """A variant applied to its base.

    Attributes
    ----------
    problem
        The changed scenario, full capacities (validated).
    occupancy
        The base's ``occupancy.csv`` rows that still apply (checked against the new capacities).
    changes
        What was changed, one English line each (``change_messages`` worded in English).
    notes
        Side effects worth a look (locks dropped with a removed workstation, default mentors),
        one English line each.
    description
        The ``description:`` written to ``scenario.yaml``.
    base
        The base scenario folder it was built from, when read from one
        (:func:`build_variant`): an input its output may not touch.
    """

    problem: Problem
    occupancy: tuple[Occupancy, ...] = ()
    changes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    description: str = ""
    base: Path | None = None
    change_messages: tuple[Message, ...] = ()
    """The changes as messages (``variant.change.*``), to word in the user's language."""
    note_messages: tuple[Message, ...] = ()
    """The notes as messages (``variant.note.*``)."""
    description_message: Message | None = None
    """The default description as a message (``variant.description``), when the variant file
    gives none: :meth:`description_in` words it."""

    def description_in(self, lang: Lang) -> str:
        """The ``description:`` of the written ``scenario.yaml`` in ``lang``: the variant
        file's own, or the default one worded in that language.

        Parameters
        ----------
        lang
            ``"zh"`` or ``"en"``.

        Returns
        -------
        str
            The description.
        """
        m = self.description_message
        return m.text(lang) if m is not None else self.description

    def header_lines(self, lang: Lang, source: str = "") -> list[str]:
        """The comment lines at the top of the written ``scenario.yaml``, in ``lang``: where
        the variant came from, then each change and each note.

        Parameters
        ----------
        lang
            ``"zh"`` or ``"en"``.
        source
            The variant file's path, or empty.

        Returns
        -------
        list[str]
            One line each, without the ``#``.
        """
        title = (label("variant.header.title", lang, source=source) if source
                 else label("variant.header.untitled", lang))
        return [title, *(m.text(lang) for m in self.change_messages),
                *(m.text(lang) for m in self.note_messages)]



def scale_largest_remainder(items: Sequence[tuple[str, int]], factor: float | Fraction
                            ) -> dict[str, int]:
    """Scale integer capacities so that their total scales too (largest remainder).

    Every capacity becomes ``floor(capacity x factor)``; then the ones with the largest
    fractional parts (ties by id) get one more place each until the total is the exact total
    times ``factor`` rounded half up. The factor is taken as the decimal it prints as (0.9 is
    9/10), so results do not depend on binary rounding. A capacity of 0 stays 0.

    Parameters
    ----------
    items
        ``(id, capacity)`` pairs.
    factor
        The multiplier (>= 0).

    Returns
    -------
    dict
        id -> scaled capacity.
    """
    f = factor if isinstance(factor, Fraction) else Fraction(repr(float(factor)))
    exact = {i: c * f for i, c in items}
    out = {i: math.floor(x) for i, x in exact.items()}
    total = sum(exact.values(), Fraction(0))
    left = math.floor(total + Fraction(1, 2)) - sum(out.values())
    order = sorted((i for i, x in exact.items() if x != out[i]),
                   key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[:left]:
        out[i] += 1
    return out


def new_ids(taken: set[str], n: int, like: Sequence[str], prefix: str = "") -> list[str]:
    """``n`` new ids in the style of ``like`` that are not in ``taken``.

    The most common ``<letters><zero-padded number>`` pattern of ``like`` is continued after
    the highest number in use (``S02000`` -> ``S02001``, ...), after ``prefix``; ids without a
    number give ``<prefix>NEW-00001``, ...
    """
    patterns: Counter[tuple[str, int]] = Counter()
    for x in like:
        m = re.fullmatch(r"(.*?)(\d+)", x)
        if m:
            patterns[m.group(1), len(m.group(2))] += 1
    stem, width = patterns.most_common(1)[0][0] if patterns else ("NEW-", 5)
    stem = prefix + stem
    start = 0
    for x in taken:
        if x.startswith(stem) and x[len(stem):].isdigit():
            start = max(start, int(x[len(stem):]))
    out: list[str] = []
    k = start
    while len(out) < n:
        k += 1
        candidate = f"{stem}{k:0{width}d}"
        if candidate not in taken:
            out.append(candidate)
    return out


def draw_students(pool: Sequence[Student], n: int, rng: np.random.Generator, *,
                  taken: set[str], prefix: str = "") -> list[Student]:
    """``n`` new students drawn with replacement from ``pool`` (the base distribution).

    Each copies a random pool student's university, discipline, work experience, preferences,
    priority, window and required months; the copy has a new id (see :func:`new_ids`) and no
    given supervisor (new students have none yet).
    """
    picks = rng.integers(0, len(pool), size=n)
    ids = new_ids(taken | {s.student_id for s in pool}, n, [s.student_id for s in pool], prefix)
    return [pool[int(k)].model_copy(update={"student_id": sid, "supervisor_id": None})
            for k, sid in zip(picks.tolist(), ids, strict=True)]


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _known(requested: Sequence[str], present: set[str], key: str, what: Message, file: str,
           bad: Callable[[str, Message], None]) -> set[str]:
    """The requested ids that exist; one error per unknown one."""
    for i, rid in enumerate(requested):
        if rid not in present:
            bad(f"{key}[{i}]", msg("variant.unknown_id", kind=what, value=rid, file=file))
    return set(requested) & present


def apply_variant(base: Problem, spec: VariantSpec,
                  occupancy: Sequence[Occupancy] = ()) -> Variant:
    """Apply a variant's changes to a base problem (full capacities).

    Order: remove workstations, scale capacities, add workstations and mentors, close
    workstations in terms, change the policy, change the intake.

    Parameters
    ----------
    base
        The base scenario, loaded with ``occupancy=False``.
    spec
        The changes.
    occupancy
        The base's ``occupancy.csv`` rows; rows at removed workstations are dropped, the rest
        must still fit the changed capacities.

    Returns
    -------
    Variant

    Raises
    ------
    ScenarioError
        One line per problem, starting with ``spec.source`` and the key.
    """
    src = spec.source
    errors: list[str | Message] = []
    changes: list[Message] = []
    notes: list[Message] = []

    def bad(key: str, message: Message) -> None:
        errors.append(replace(message, location=Location(file=str(src), field=key)))

    def bad_row(key: str, i: int, message: Message) -> None:
        # a row read from a CSV or sheet is named there (file, row, id column), not as key[i]
        errors.append(replace(message, location=spec.row_at(key, i)))

    ws = list(base.workstations)
    mentors = list(base.mentors)
    tcs = list(base.term_capacities)
    pairs, locks, rankings = list(base.pairs), list(base.locks), list(base.rankings)
    quotas = list(base.quotas)
    students = list(base.students)
    occ = list(occupancy)

    # 1. remove
    if spec.remove_workstations:
        ids = {w.workstation_id for w in ws}
        gone = _known(spec.remove_workstations, ids, "remove_workstations",
                      msg("entity.workstation"), "workstations.csv", bad)
        gone_m = {m.mentor_id for m in mentors if m.workstation_id in gone}
        places = sum(w.capacity for w in ws if w.workstation_id in gone)
        ws = [w for w in ws if w.workstation_id not in gone]
        mentors = [m for m in mentors if m.workstation_id not in gone]
        tcs = [tc for tc in tcs if tc.workstation_id not in gone]
        pairs = [pr for pr in pairs if pr.mentor_id not in gone_m]
        rankings = [rk for rk in rankings if rk.workstation_id not in gone]
        dropped = [lk.student_id for lk in locks if lk.workstation_id in gone]
        locks = [lk for lk in locks if lk.workstation_id not in gone]
        if dropped:
            notes.append(msg("variant.note.dropped_locks", students=dropped))
        if any(q.workstation_id in gone for q in quotas):  # issue 29: a quota there goes too
            notes.append(msg("variant.note.dropped_quotas",
                             count=sum(q.workstation_id in gone for q in quotas)))
            quotas = [q for q in quotas if q.workstation_id not in gone]
        n_occ = len(occ)
        occ = [o for o in occ if o.workstation_id not in gone]
        if len(occ) < n_occ:
            notes.append(msg("variant.note.dropped_occupancy", count=n_occ - len(occ)))
        students = [s if not set(s.preferences) & gone else s.without_choices(gone)
                    for s in students]
        if gone:
            changes.append(msg("variant.change.removed_workstations", count=len(gone),
                               ids=sorted(gone), places=places))

    # 2. scale
    for rule in spec.scale_capacity:
        match = [w for w in ws
                 if (rule.discipline is None or rule.discipline in w.disciplines)
                 and (rule.city is None or w.city == rule.city)
                 and (rule.university is None or rule.university in w.partner_universities)]
        if not match:
            hint = _selector_hint(rule, ws)
            bad(rule.key, msg("variant.no_match", selection=_selection(rule), hint=hint))
            continue
        ids_m = {w.workstation_id for w in match}
        before = sum(w.capacity for w in match)
        caps = scale_largest_remainder([(w.workstation_id, w.capacity) for w in match],
                                       rule.factor)
        too_big = [i for i, c in caps.items() if c > MAX_CAPACITY]
        if too_big:
            bad(rule.key, msg("variant.too_big", workstation=too_big[0], maximum=MAX_CAPACITY))
            continue
        ws = [w.model_copy(update={"capacity": caps[w.workstation_id]})
              if w.workstation_id in ids_m else w for w in ws]
        for t in base.terms:
            group = [(tc.workstation_id, tc.capacity) for tc in tcs
                     if tc.term == t and tc.workstation_id in ids_m]
            if group:
                scaled = scale_largest_remainder(group, rule.factor)
                tcs = [tc.model_copy(update={"capacity": scaled[tc.workstation_id]})
                       if tc.term == t and tc.workstation_id in ids_m else tc for tc in tcs]
        m_caps = scale_largest_remainder([(m.mentor_id, m.capacity) for m in mentors
                                          if m.workstation_id in ids_m], rule.factor)
        mentors = [m.model_copy(update={"capacity": m_caps[m.mentor_id]})
                   if m.mentor_id in m_caps else m for m in mentors]
        if rule.min_intake is not None:
            ws = [w.model_copy(update={"min_intake": rule.min_intake})
                  if w.workstation_id in ids_m else w for w in ws]
            changes.append(msg("variant.change.min_intake", minimum=rule.min_intake,
                               count=len(match), selection=_selection(rule)))
        if rule.factor == 1.0 and rule.min_intake is not None:
            continue
        changes.append(msg("variant.change.scaled", factor=f"{rule.factor:g}", count=len(match),
                           selection=_selection(rule), before=before,
                           after=sum(caps.values())))

    # 3. add
    if spec.add_workstations or spec.add_mentors:
        ids = {w.workstation_id for w in ws}
        added = []
        for i, w in enumerate(spec.add_workstations):
            if w.workstation_id in ids:
                bad_row("add_workstations", i, msg("variant.workstation_exists",
                                                   value=w.workstation_id))
            else:
                ids.add(w.workstation_id)
                added.append(w)
        ws += added
        m_ids = {m.mentor_id for m in mentors}
        for i, m in enumerate(spec.add_mentors):
            if m.mentor_id in m_ids:
                bad_row("add_mentors", i, msg("variant.mentor_exists", value=m.mentor_id))
            elif m.workstation_id not in ids:
                bad_row("add_mentors", i, msg("variant.mentor_workstation",
                                              value=m.workstation_id))
            else:
                m_ids.add(m.mentor_id)
                mentors.append(m)
        staffed = {m.workstation_id for m in mentors}
        defaults = []
        for w in added:
            if w.workstation_id not in staffed:
                mid = next(f"{w.workstation_id}-M{k}" for k in range(1, len(m_ids) + 2)
                           if f"{w.workstation_id}-M{k}" not in m_ids)
                m_ids.add(mid)
                mentors.append(Mentor(mentor_id=mid, workstation_id=w.workstation_id,
                                      disciplines=w.disciplines, capacity=w.capacity))
                defaults.append(mid)
        if added:
            changes.append(msg("variant.change.added_workstations", count=len(added),
                               places=sum(w.capacity for w in added)))
        if len(spec.add_mentors):
            changes.append(msg("variant.change.added_mentors", count=len(spec.add_mentors)))
        if defaults:
            notes.append(msg("variant.note.default_mentors", count=len(defaults),
                             mentors=defaults))

    # 4. close
    ids = {w.workstation_id for w in ws}
    for cl in spec.close:
        if cl.workstation_id not in ids:
            bad(f"{cl.key}.workstation_id", msg("variant.close_unknown", value=cl.workstation_id))
            continue
        unknown = [t for t in cl.terms if t not in base.term_index]
        if unknown:
            bad(f"{cl.key}.terms", msg("variant.unknown_term", value=unknown[0],
                                       terms=list(base.terms)))
            continue
        for t in cl.terms:
            at = [k for k, tc in enumerate(tcs)
                  if tc.workstation_id == cl.workstation_id and tc.term == t]
            closed = TermCapacity(workstation_id=cl.workstation_id, term=t, capacity=0)
            if at:
                tcs[at[0]] = closed
            else:
                tcs.append(closed)
        changes.append(msg("variant.change.closed", workstation=cl.workstation_id,
                           terms=list(cl.terms)))

    # 5. policy
    policy = base.policy
    if spec.policy:
        merged = {**base.policy.model_dump(), **dict(spec.policy)}
        try:
            policy = Policy.model_validate(merged)
        except ValidationError as e:
            for err in e.errors():
                loc = ".".join(str(x) for x in err["loc"])
                bad(f"policy.{loc}", error_detail(err))
        else:
            diff = [f"{k} {getattr(base.policy, k)} -> {getattr(policy, k)}"
                    for k, _ in spec.policy if getattr(base.policy, k) != getattr(policy, k)]
            if diff:
                changes.append(msg("variant.change.policy", diff=diff))

    # 6. intake
    if spec.intake_pct:
        n = _round_half_up(len(students) * abs(spec.intake_pct) / 100)
        rng = np.random.default_rng(spec.seed)
        if spec.intake_pct > 0 and n:
            pool = list(students)  # the base cohort, preferences already without removals
            new = draw_students(pool, n, rng, taken={s.student_id for s in students})
            students += new
            changes.append(msg("variant.change.intake_up", pct=f"{spec.intake_pct:g}", count=n,
                               first=new[0].student_id, last=new[-1].student_id,
                               seed=str(spec.seed)))
        elif n:
            locked = {lk.student_id for lk in locks}
            free = [s for s in students if s.student_id not in locked]
            if n > len(free):
                bad("intake_pct", msg("variant.cannot_remove", count=n, free=len(free)))
            else:
                pick = {free[int(k)].student_id
                        for k in rng.choice(len(free), size=n, replace=False)}
                students = [s for s in students if s.student_id not in pick]
                rankings = [rk for rk in rankings if rk.student_id not in pick]
                changes.append(msg("variant.change.intake_down", pct=f"{spec.intake_pct:g}",
                                   count=n, seed=str(spec.seed)))

    # 7. students and mentors (withdrawals, late students, mentors on leave)
    if spec.remove_students:
        ids = {st.student_id for st in students}
        gone = _known(spec.remove_students, ids, "remove_students", msg("entity.student"),
                      "students.csv", bad)
        students = [st for st in students if st.student_id not in gone]
        locks = [lk for lk in locks if lk.student_id not in gone]
        rankings = [rk for rk in rankings if rk.student_id not in gone]
        if gone:
            changes.append(msg("variant.change.removed_students", count=len(gone)))
    if spec.add_students:
        ids = {st.student_id for st in students}
        clash = [i for i, st in enumerate(spec.add_students) if st.student_id in ids]
        if clash:  # the first only: a late list given twice would repeat every row
            bad_row("add_students", clash[0], msg("variant.student_exists",
                                                  value=spec.add_students[clash[0]].student_id))
        students += list(spec.add_students)
        changes.append(msg("variant.change.added_students", count=len(spec.add_students)))
    if spec.mentor_leave:
        ids = {m.mentor_id for m in mentors}
        away = _known(spec.mentor_leave, ids, "mentor_leave", msg("entity.mentor"),
                      "mentors.csv", bad)
        mentors = [m.model_copy(update={"capacity": 0}) if m.mentor_id in away else m
                   for m in mentors]
        dropped = [lk.student_id for lk in locks if lk.mentor_id in away]
        locks = [lk.model_copy(update={"mentor_id": None}) if lk.mentor_id in away else lk
                 for lk in locks]
        if dropped:
            notes.append(msg("variant.note.leave_locks", count=len(dropped)))
        if away:
            changes.append(msg("variant.change.leave", count=len(away)))

    if errors:
        raise ScenarioError(errors)
    name = spec.name or f"{base.name}-variant"
    used = [k for k, given in (
        ("remove_workstations", spec.remove_workstations), ("scale_capacity", spec.scale_capacity),
        ("add_workstations", spec.add_workstations), ("add_mentors", spec.add_mentors),
        ("close", spec.close), ("policy", spec.policy), ("intake_pct", spec.intake_pct),
        ("remove_students", spec.remove_students), ("add_students", spec.add_students),
        ("mentor_leave", spec.mentor_leave)) if given]
    problem = rebuild(base, msg("plan.variant.breaks_rule", source=str(src),
                                changes="/".join(used) or "base"), name=name,
                      workstations=tuple(ws), mentors=tuple(mentors),
                      term_capacities=tuple(tcs), pairs=tuple(pairs), locks=tuple(locks),
                      rankings=tuple(rankings), students=tuple(students), policy=policy,
                      quotas=tuple(quotas), **built_in_code())
    if occ:
        try:
            apply_occupancy(problem, occ)
        except ScenarioError as e:
            raise ScenarioError(list(e.structured), warnings=e.warnings, notes=e.notes,
                                context=msg("plan.variant.after_changes", source=str(src),
                                            changes="/".join(used) or "base")) from None
    default = None if spec.description else msg("variant.description", base=base.name,
                                                   count=len(changes))
    description = spec.description or (default.text("en") if default is not None else "")
    return Variant(problem, tuple(occ), tuple(str(m) for m in changes),
                   tuple(str(m) for m in notes), description, change_messages=tuple(changes),
                   note_messages=tuple(notes), description_message=default)


def _selector_hint(rule: ScaleRule, ws: Sequence[Workstation]) -> Message:
    """What the selectors could be, for a rule that matches nothing."""
    if rule.discipline is not None:
        return msg("variant.hint.discipline", known=sorted({d for w in ws for d in w.disciplines}))
    if rule.city is not None:
        return msg("variant.hint.city", known=sorted({w.city for w in ws if w.city}))
    if rule.university is not None:
        return msg("variant.hint.university",
                   known=sorted({u for w in ws for u in w.partner_universities}))
    return msg("variant.hint.none")


def _selection(rule: ScaleRule) -> list[Message]:
    """The rule's selectors in words (:meth:`ScaleRule.describe`, through the catalogue)."""
    parts = [msg("variant.sel.discipline", value=rule.discipline) if rule.discipline else None,
             msg("variant.sel.city", value=rule.city) if rule.city else None,
             msg("variant.sel.university", value=rule.university) if rule.university else None]
    return [m for m in parts if m is not None] or [msg("variant.sel.every")]


def build_variant(variant_file: str | os.PathLike[str],
                  base: str | os.PathLike[str] | None = None) -> Variant:
    """Read a variant file and apply it to its base scenario.

    Parameters
    ----------
    variant_file
        The variant YAML.
    base
        The base scenario folder; replaces the file's ``base`` when given.

    Raises
    ------
    ScenarioError
        Errors in the variant file (naming it and the key), in the base scenario (prefixed with
        its folder), or in the changed scenario.
    """
    spec = read_variant(variant_file)
    folder = Path(base) if base is not None else spec.base
    if folder is None:
        raise ScenarioError([msg("plan.variant.no_base",
                                 at=Location(file=str(spec.source), field="base"))])
    try:
        problem = load_scenario(folder, occupancy=False)
        occupancy = read_occupancy(folder)
    except ScenarioError as e:
        raise ScenarioError(list(e.structured), warnings=e.warnings, notes=e.notes,
                            context=msg("plan.variant.base", folder=str(folder))) from None
    return replace(apply_variant(problem, spec, occupancy), base=folder)


def write_variant(variant: Variant, out: str | os.PathLike[str], *, force: bool = False,
                  source: str = "", inputs: Iterable[Input] = (),
                  lang: str | None = None) -> Path:
    """Write a variant as a scenario folder, atomically, and check that it loads.

    The folder may not be, hold or lie inside the variant file (``source``), the base scenario
    or ``inputs`` (the tables the variant file names). The comments at the top of
    ``scenario.yaml`` (where the variant came from, what it changed) and its default
    ``description:`` are worded in ``lang`` (``"zh"``/``"en"``; None: the scenario's language,
    see :func:`matcher.reports.folder.output_lang`).

    Raises
    ------
    ResultExistsError
        When ``out`` exists, is not empty and ``force`` is false.
    OutputError
        When ``out`` may not or cannot be written.
    """
    chosen = output_lang(lang, variant.problem)
    header = variant.header_lines(chosen, source)

    def fill(tmp: Path) -> None:
        write_scenario(variant.problem, tmp, occupancy=variant.occupancy, header=header,
                       description=variant.description_in(chosen))
        load_scenario(tmp)  # what we write must load; a failure here is a bug, not bad input

    return atomic_folder(out, force, fill, kind="scenario", inputs=[
        (source or None, "variant"), (variant.base, "base"),
        (variant.problem.source or None, "base"), *inputs])
