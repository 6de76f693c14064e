"""Why a student is left out: computed from the data and the final allocation, never guessed.

Each reason names what blocks the student and what a graduate-office clerk can change. First the
rules that exclude the student whatever the others do (discipline, partnership, window, closed
terms, no supervisor); then, if the student had options, what fills each of them in the final
allocation (full workstation terms, fully booked mentors, full supervisors).
"""

from __future__ import annotations

from collections import defaultdict

from ..encoding import Encoded

_SHOW = 4  # how many workstations a reason names before summarising


def _names(items: list[str]) -> str:
    if len(items) <= _SHOW:
        return ", ".join(items)
    return ", ".join(items[:_SHOW]) + f" and {len(items) - _SHOW} more"


def _static_reason(enc: Encoded, i: int) -> str | None:
    """A reason that holds whatever the other students get, or None."""
    u, d, n, first, last = enc.profile(i)
    uid, did = enc.university_ids[u], enc.disciplines[d]
    if enc.st_sup[i] >= 0 and enc.s_cap[enc.st_sup[i]] <= 0:
        return (f"given supervisor {enc.supervisor_ids[enc.st_sup[i]]} has capacity 0; raise "
                "the capacity or leave supervisor_id empty")
    if not enc.supervisors_for(i):
        return (f"no campus supervisor at {uid} takes discipline {did}; add one in "
                "supervisors.csv")
    n_ws = len(enc.workstation_ids)
    taking = [w for w in range(n_ws) if d in enc.ws_disc[w]]
    if not taking:
        return f"no workstation takes discipline {did}; add {did} to a workstation's disciplines"
    partner_ok = [w for w in taking if u in (enc.ws_partners[w] or {u})]
    if not partner_ok:
        return (f"the {len(taking)} workstation(s) taking {did} only take partner universities "
                f"other than {uid}; add {uid} as a partner of one of them")
    with_mentor = [w for w in partner_ok if enc.mentors_for(w, d)]
    if not with_mentor:
        return (f"no enterprise mentor for {did} at the workstations open to {uid} "
                f"({_names([enc.workstation_ids[w] for w in partner_ok])}); add a mentor")
    if not enc.profile_options(enc.profile(i)):
        return (f"every workstation open to {uid} for {did} is closed in some term of each "
                f"{n}-term block inside the window {enc.terms[first]}..{enc.terms[last]}; "
                "widen the window or reopen a term")
    if not enc.options(i):
        if enc.preferences_only:
            if not enc.st_prefs[i]:
                return ("preferences_only is on and the student listed no workstation; "
                        "collect the student's choices")
            return ("preferences_only is on and none of the student's choices takes "
                    f"{did} from {uid} with an open {n}-term block in the window; add a "
                    "fitting choice")
        return "the student's lock cannot be honoured; check locks.csv"
    return None


def unassigned_reasons(enc: Encoded, chosen: dict[int, tuple[int, int, int, int]]) -> dict[int,
                                                                                            str]:
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
        Student index -> one-line reason.
    """
    ws_load = [[0] * enc.n_terms for _ in enc.workstation_ids]
    m_load = [[0] * enc.n_terms for _ in enc.mentor_ids]
    s_load = [0] * len(enc.supervisor_ids)
    for i, (w, m, s, k) in chosen.items():
        for t in enc.covers(k, enc.st_block[i]):
            ws_load[w][t] += 1
            m_load[m][t] += 1
        s_load[s] += 1

    out: dict[int, str] = {}
    # The static reason depends only on these, so it is computed once per key (100,000 students).
    static_of: dict[tuple[object, ...], str | None] = {}
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
        n, d = enc.st_block[i], enc.st_disc[i]
        sups = enc.supervisors_for(i)
        if all(s_load[s] >= enc.s_cap[s] for s in sups):
            if enc.st_sup[i] >= 0:
                s = sups[0]
                out[i] = (f"given supervisor {enc.supervisor_ids[s]} is full ({s_load[s]} of "
                          f"{enc.s_cap[s]} students); raise the capacity or choose another")
            else:
                out[i] = (f"all {len(sups)} campus supervisor(s) for {enc.disciplines[d]} at "
                          f"{enc.university_ids[enc.st_univ[i]]} are full; raise a capacity "
                          "or add a supervisor")
            continue
        full_terms: dict[int, set[int]] = defaultdict(set)
        mentors_full: set[int] = set()
        free: list[tuple[int, int]] = []
        for w, k in enc.options(i):
            block = enc.covers(k, n)
            ws_full = [t for t in block if ws_load[w][t] >= enc.ws_cap[w][t]]
            if ws_full:
                full_terms[w].update(ws_full)
                continue
            if all(any(m_load[m][t] >= enc.m_cap[m] for t in block)
                   for m in enc.mentors_for(w, d)):
                mentors_full.add(w)
                continue
            free.append((w, k))
            break  # one option with room is the reason: no need to look further
        if free:
            w, k = free[0]
            out[i] = (f"not placed although {enc.workstation_ids[w]} had room from "
                      f"{enc.terms[k]} (this result is not proven optimal); re-run with a "
                      "longer time limit or the cpsat solver")
            continue
        parts = []
        listed = set(enc.st_prefs[i])
        ws_sorted = sorted(full_terms, key=lambda w: (w not in listed, enc.cost(i, w), w))
        if ws_sorted:
            named = [enc.workstation_ids[w] + " ("
                     + ", ".join(enc.terms[t] for t in sorted(full_terms[w])) + ")"
                     for w in ws_sorted]
            lead = "every fitting workstation is" if not mentors_full else "workstations"
            parts.append(f"{lead} full in the needed terms: {_names(named)}")
        if mentors_full:
            parts.append(f"mentors for {enc.disciplines[d]} are fully booked at "
                         f"{_names([enc.workstation_ids[w] for w in sorted(mentors_full)])}")
        out[i] = "; ".join(parts) + "; add places or mentors there, or widen the window"
    return out
