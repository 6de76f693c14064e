"""Why a student is left out: computed from the data and the final allocation, never guessed.

Each reason names what blocks the student and what a graduate-office clerk can change. First the
rules that exclude the student whatever the others do (discipline, partnership, window, closed
terms, no supervisor); then, if the student had options, what fills each of them in the final
allocation (full workstation terms, fully booked mentors, full supervisors).

A reason is a structured :class:`~matcher.messages.Message` (code ``reason.*``, values such as
the discipline and the workstations), stored in :attr:`matcher.model.Result.unassigned` and
worded in Chinese or English only where it is shown (``unassigned.csv``, ``results.xlsx``,
``report.html``, ``explain``). :data:`REASON_CODES` lists every code a reason can have.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from ..encoding import Encoded
from ..messages import Message, msg

_SHOW = 4  # how many workstations a reason names before summarising

REASON_CODES: tuple[str, ...] = (
    "reason.supervisor_no_capacity", "reason.no_supervisor", "reason.no_workstation",
    "reason.partners_only", "reason.no_mentor", "reason.window_closed",
    "reason.prefs_only_no_choices", "reason.prefs_only_none_fit", "reason.lock",
    "reason.supervisor_full", "reason.supervisors_full", "reason.had_room", "reason.full",
    "reason.full_and_mentors", "reason.mentors_booked", "reason.vetoed", "reason.group_no_room",
    "reason.not_opened", "reason.quota")
"""Every code an unassigned student's reason can have (the catalogue words each in zh and en)."""


def _names(items: Sequence[str | Message], total: int | None = None
           ) -> list[str | Message] | Message:
    """The first few of ``total`` items (default: all given) as a list value, with "and N more"
    when there are more."""
    total = len(items) if total is None else total
    if total <= _SHOW:
        return list(items)
    return msg("reason.and_more", names=list(items[:_SHOW]), more=total - _SHOW)


def _table(enc: Encoded, name: str) -> str | Message:
    """Where the clerk edits a table: the CSV file of a folder, the sheet of a workbook."""
    if enc.problem.source.lower().endswith((".xlsx", ".xlsm")):
        return msg("reason.sheet_supervisors") if name == "supervisors" \
            else msg("reason.sheet_locks")
    return f"{name}.csv"


def _static_reason(enc: Encoded, i: int) -> Message | None:
    """A reason that holds whatever the other students get, or None."""
    u, d, n, first, last, x = enc.profile(i)
    uid, did = enc.university_ids[u], enc.disciplines[d]
    if enc.st_sup[i] >= 0 and enc.s_cap[enc.st_sup[i]] <= 0:
        return msg("reason.supervisor_no_capacity", severity="note",
                   supervisor=enc.supervisor_ids[enc.st_sup[i]])
    if not enc.supervisors_for(i):
        return msg("reason.no_supervisor", severity="note", university=uid, discipline=did,
                   table=_table(enc, "supervisors"))
    if enc.options(i):
        return None  # every rule below leaves the student an option (the usual case: fast)
    n_ws = len(enc.workstation_ids)
    taking = [w for w in range(n_ws) if d in enc.ws_disc[w]]
    if not taking:
        return msg("reason.no_workstation", severity="note", discipline=did)
    partner_ok = [w for w in taking if u in (enc.ws_partners[w] or {u})]
    if not partner_ok:
        return msg("reason.partners_only", severity="note", count=len(taking), discipline=did,
                   university=uid)
    with_mentor = [w for w in partner_ok if enc.mentors_for(w, d)]
    if not with_mentor:
        return msg("reason.no_mentor", severity="note", discipline=did, university=uid,
                   workstations=_names([enc.workstation_ids[w] for w in partner_ok]))
    vetoed, segments = enc.restrictions[x]
    if not enc.profile_options(enc.profile(i)) and any(
            enc.ws_accepts(w, u, d) and enc.starts(w, n, first, last, segments) for w in vetoed):
        return msg("reason.vetoed", severity="note",
                   workstations=_names(sorted(enc.workstation_ids[w] for w in vetoed)))
    if not enc.profile_options(enc.profile(i)):
        return msg("reason.window_closed", severity="note", university=uid, discipline=did, n=n,
                   first=enc.terms[first], last=enc.terms[last])
    if not enc.options(i):
        if enc.preferences_only:
            if not enc.st_prefs[i]:
                return msg("reason.prefs_only_no_choices", severity="note")
            return msg("reason.prefs_only_none_fit", severity="note", discipline=did,
                       university=uid, n=n)
        return msg("reason.lock", severity="note", table=_table(enc, "locks"))
    return None


def unassigned_reasons(enc: Encoded, chosen: dict[int, tuple[int, int, int, int]]
                       ) -> dict[int, Message]:
    """Reason for every student not in ``chosen``.

    Parameters
    ----------
    enc
        The encoded problem.
    chosen
        Placements by student index: ``(workstation, mentor, supervisor, start)``.

    Returns
    -------
    dict
        Student index -> the reason (a message with a ``reason.*`` code).
    """
    ws_load = [[0] * enc.n_terms for _ in enc.workstation_ids]
    m_load = [[0] * enc.n_terms for _ in enc.mentor_ids]
    s_load = [0] * len(enc.supervisor_ids)
    for i, (w, m, s, k) in chosen.items():
        for t in enc.covers(k, enc.st_block[i]):
            ws_load[w][t] += 1
            m_load[m][t] += 1
        s_load[s] += 1

    out: dict[int, Message] = {}
    count = [0] * len(enc.workstation_ids)
    for w, _m, _s, _k in chosen.values():
        count[w] += 1
    quota = _quota_test(enc, chosen) if enc.quotas else None
    # The static reason depends only on these, so it is computed once per key (100,000 students).
    static_of: dict[tuple[object, ...], Message | None] = {}
    scans: dict[tuple[object, ...], _Scan] = {}
    # Supervisor loads do not change here: whether all of a student's are full is known per
    # given supervisor, else per university and discipline.
    sups_full: dict[tuple[int, int, int], bool] = {}
    # Students of one scan naming the same workstations get equal messages: built once (a
    # full province leaves thousands of students of a profile out; messages are immutable).
    said: dict[tuple[object, ...], Message] = {}
    ws_terms: dict[tuple[int, ...], Message] = {}
    for i in range(enc.n_students):
        if i in chosen:
            continue
        key = (enc.profile(i), enc.st_sup[i], enc.st_lock[i],
               tuple(enc.st_prefs[i]) if enc.preferences_only else not enc.st_prefs[i])
        if key not in static_of:
            static_of[key] = _static_reason(enc, i)
        static = static_of[key]
        if static is not None:
            out[i] = static
            continue
        d = enc.st_disc[i]
        g = enc.st_group[i]
        if g >= 0:
            out[i] = msg("reason.group_no_room", severity="note", group=enc.group_ids[g],
                         size=len(enc.groups[g]))
            continue
        sups = enc.supervisors_for(i)
        sup_key = (enc.st_sup[i], enc.st_univ[i], d)
        full = sups_full.get(sup_key)
        if full is None:
            full = sups_full[sup_key] = all(s_load[s] >= enc.s_cap[s] for s in sups)
        if full:
            if enc.st_sup[i] >= 0:
                s = sups[0]
                out[i] = msg("reason.supervisor_full", severity="note",
                             supervisor=enc.supervisor_ids[s], load=s_load[s],
                             capacity=enc.s_cap[s])
            else:
                out[i] = msg("reason.supervisors_full", severity="note", count=len(sups),
                             discipline=enc.disciplines[d],
                             university=enc.university_ids[enc.st_univ[i]])
            continue
        # The scan depends only on the student's options: once per profile (a full province
        # leaves thousands of students of one profile out, each with thousands of options).
        scan_key = (enc.profile(i), enc.st_lock[i],
                    tuple(enc.st_prefs[i]) if enc.preferences_only else None)
        scan = scans.get(scan_key)
        if scan is None:
            scan = scans[scan_key] = _scan(enc, i, ws_load, m_load, count, quota)
        not_opened = scan.not_opened
        if scan.free is not None:
            w, k = scan.free
            out[i] = msg("reason.had_room", severity="note", workstation=enc.workstation_ids[w],
                         term=enc.terms[k])
            continue
        full_terms, mentors_full = scan.full_terms, scan.mentors_full
        # Named first: the student's own choices (by rank), then the others by index.
        ws_sorted = [w for w in enc.st_prefs[i] if w in full_terms]
        listed = set(ws_sorted)
        for w in scan.by_index:
            if len(ws_sorted) >= _SHOW:
                break
            if w not in listed:
                ws_sorted.append(w)
        said_key = (scan_key, tuple(ws_sorted[:_SHOW]))
        known = said.get(said_key)
        if known is not None:
            out[i] = known
            continue
        named = _names([scan.ws_terms(enc, w, ws_terms) for w in ws_sorted[:_SHOW]],
                       len(full_terms))
        booked = _names([enc.workstation_ids[w] for w in sorted(mentors_full)])
        if scan.quota:
            out[i] = msg("reason.quota", severity="note", workstations=_names(
                [enc.workstation_ids[w] for w in sorted(scan.quota)]),
                rows=[str(r + 1) for r in sorted(set(scan.quota.values()))])
        elif not_opened:
            out[i] = msg("reason.not_opened", severity="note", workstations=_names(
                [msg("reason.ws_minimum", workstation=enc.workstation_ids[w],
                     minimum=enc.ws_min[w]) for w in sorted(not_opened)]))
        elif not mentors_full:
            out[i] = msg("reason.full", severity="note", workstations=named)
        elif full_terms:
            out[i] = msg("reason.full_and_mentors", severity="note", workstations=named,
                         discipline=enc.disciplines[d], booked=booked)
        else:
            out[i] = msg("reason.mentors_booked", severity="note",
                         discipline=enc.disciplines[d], booked=booked)
        said[said_key] = out[i]
    return out


def _quota_test(enc: Encoded, chosen: dict[int, tuple[int, int, int, int]]
                ) -> Callable[[int, int, int], int]:
    """``test(u, d, w)``: the row (0-based) of a hard quota that one more student of university
    ``u`` and discipline ``d`` at ``w`` would break while the allocation keeps it, else -1."""
    group: dict[tuple[int, int], int] = defaultdict(int)  # (quota, w or -1) -> group's students
    total: dict[tuple[int, int], int] = defaultdict(int)
    for i, (w, _m, _s, _k) in chosen.items():
        for n, q in enumerate(enc.quotas):
            if q.hard and q.counts_at(w):
                key = (n, q.w)
                total[key] += 1
                group[key] += q.matches(enc.st_univ[i], enc.st_disc[i])
    memo: dict[tuple[int, int, int], int] = {}

    def test(u: int, d: int, w: int) -> int:
        if (u, d, w) not in memo:
            memo[u, d, w] = next((q.row for n, q in enumerate(enc.quotas)
                                  if q.hard and q.counts_at(w)
                                  and q.holds(group[n, q.w], total[n, q.w])
                                  and not q.holds(group[n, q.w] + q.matches(u, d),
                                                  total[n, q.w] + 1)), -1)
        return memo[u, d, w]

    return test


class _Scan:
    """What fills a student's options in the final allocation: the first with room, else the
    full terms of each workstation and the workstations whose mentors are all booked."""

    def __init__(self) -> None:
        self.free: tuple[int, int] | None = None
        self.full_terms: dict[int, set[int]] = defaultdict(set)
        self.mentors_full: set[int] = set()
        self.not_opened: set[int] = set()  # room, but closed for want of its minimum intake
        self.quota: dict[int, int] = {}  # room, but a hard quota (its row) forbids: w -> row
        self.by_index: list[int] = []  # the workstations of full_terms, by index

    def ws_terms(self, enc: Encoded, w: int, built: dict[tuple[int, ...], Message]) -> Message:
        """Workstation ``w`` and its full terms, as named in a reason (built once: ``built``
        keeps them by workstation and terms, across scans)."""
        key = (w, *sorted(self.full_terms[w]))
        got = built.get(key)
        if got is None:
            got = built[key] = msg("reason.ws_terms", workstation=enc.workstation_ids[w],
                                   terms=[enc.terms[t] for t in key[1:]])
        return got


def _scan(enc: Encoded, i: int, ws_load: list[list[int]], m_load: list[list[int]],
          count: list[int], quota: Callable[[int, int, int], int] | None = None) -> _Scan:
    out = _Scan()
    n, d = enc.st_block[i], enc.st_disc[i]
    blocks: dict[int, tuple[int, ...]] = {}
    ws_cap, full_terms = enc.ws_cap, out.full_terms
    for w, k in enc.options(i):
        block = blocks.get(k)
        if block is None:
            block = blocks[k] = tuple(enc.covers(k, n))
        load, cap = ws_load[w], ws_cap[w]
        ws_full = [t for t in block if load[t] >= cap[t]]
        if ws_full:
            full_terms[w].update(ws_full)
            continue
        if all(any(m_load[m][t] >= enc.m_cap[m] for t in block)
               for m in enc.mentors_for(w, d)):
            out.mentors_full.add(w)
            continue
        if count[w] == 0 and enc.ws_min[w] > 1:
            out.not_opened.add(w)
            continue
        row = quota(enc.st_univ[i], d, w) if quota is not None else -1
        if row >= 0:
            out.quota[w] = row
            continue
        out.free = (w, k)
        break  # one option with room is the reason: no need to look further
    out.by_index = sorted(out.full_terms)
    return out
