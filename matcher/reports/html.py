"""``report.html``: one self-contained page a graduate office can open, print and forward.

The page needs no network and runs no script: the styles are inline and every chart is an inline
SVG drawn here, in Python. It shows

* the headline figures: status, placed of total (with the proven maximum), rank cost (with its
  proven lower bound and the gap), first-choice and top-3 shares, time, and the independent
  checker's verdict;
* the rank distribution (a bar chart);
* placement by discipline, by university and by the workstations' city (tables with bars);
* workstation use per term as a heat map (workstations × terms, used/capacity);
* every unassigned student with the reason.

Every piece of data is escaped (:func:`matcher.formats.escape.escape_html`). The page has no
timestamp: the same problem and result always give the same bytes.
"""

from __future__ import annotations

import os
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..check import check
from ..formats.escape import escape_html
from ..formats.interrupt import finish_first
from ..messages import Lang
from ..model import Problem, Result, ScenarioError, Status
from ..model.capacity import capacity_by_term, student_terms

_STATUS_MEANING = {
    Status.OPTIMAL: "every objective level is proven optimal",
    Status.FEASIBLE: "a valid allocation; optimality is not proven",
    Status.INFEASIBLE: "proven: no allocation keeps every rule",
    Status.UNKNOWN: "nothing was found or proven within the limits",
}

_CSS = """
:root { --ink:#1d2430; --muted:#5b6576; --line:#d9dee7; --accent:#2b6cb0; --bad:#c53030;
        --ok:#2f855a; --warn:#b7791f; --bg:#ffffff; --soft:#f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans",
       "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: var(--ink);
       background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px;
     border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.sub, .muted { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px;
         margin-top: 16px; }
.card { background: var(--soft); border: 1px solid var(--line); border-radius: 8px;
        padding: 12px 14px; }
.card .k { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card .v { font-size: 24px; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums; }
.card .d { font-size: 12.5px; color: var(--muted); }
.st-OPTIMAL { color: var(--ok); } .st-FEASIBLE { color: var(--accent); }
.st-INFEASIBLE, .st-UNKNOWN, .bad { color: var(--bad); }
.note { border-left: 4px solid var(--warn); background: #fffaf0; padding: 8px 12px;
        margin: 12px 0; }
.note.bad { border-color: var(--bad); background: #fff5f5; color: var(--ink); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { font-size: 12.5px; color: var(--muted); font-weight: 600; background: var(--soft); }
td.n, th.n { text-align: right; }
td.bar { width: 34%; }
.barbox { display: flex; align-items: center; gap: 8px; }
.barbox svg { flex: 1 1 auto; }
.barbox span { min-width: 3.6em; text-align: right; }
.chart { overflow-x: auto; }
.heat { overflow: auto; max-height: 900px; border: 1px solid var(--line); border-radius: 6px; }
.legend { display: flex; align-items: center; gap: 8px; margin: 6px 0; color: var(--muted);
          font-size: 12.5px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
         padding-top: 8px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
@media print { .heat { max-height: none; overflow: visible; border: 0; } h2 { break-after: avoid; }
               tr { break-inside: avoid; } }
"""


_e = escape_html


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "–"


# ---- figures ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Group:
    """Placement figures for one group of students."""

    name: str
    label: str
    students: int
    placed: int
    first: int
    top3: int
    listed_ranks: tuple[int, ...]

    @property
    def mean_rank(self) -> str:
        if not self.listed_ranks:
            return "–"
        return f"{sum(self.listed_ranks) / len(self.listed_ranks):.2f}"


def _groups(problem: Problem, result: Result, key: str) -> list[_Group]:
    placed = {p.student_id: p for p in result.placements}
    members: dict[str, list[str]] = defaultdict(list)
    for s in problem.students:
        members[getattr(s, key)].append(s.student_id)
    names = {u.university_id: u.name for u in problem.universities if u.name}
    out = []
    for name in sorted(members):
        ids = members[name]
        ps = [placed[i] for i in ids if i in placed]
        ranks = tuple(p.preference_rank for p in ps if p.preference_rank is not None)
        label = names.get(name, "") if key == "university_id" else ""
        out.append(_Group(name, label, len(ids), len(ps), sum(r == 1 for r in ranks),
                          sum(r <= 3 for r in ranks), ranks))
    return out


def _practice_terms(problem: Problem) -> list[str]:
    """Terms inside some student's window, in calendar order."""
    inside = student_terms(problem)
    return [t for t in problem.terms if t in inside]


def _use(problem: Problem, result: Result) -> Counter[tuple[str, str]]:
    terms = list(problem.terms)
    used: Counter[tuple[str, str]] = Counter()
    for p in result.placements:
        if p.start_term in problem.term_index and p.end_term in problem.term_index:
            for k in range(problem.term_index[p.start_term], problem.term_index[p.end_term] + 1):
                used[p.workstation_id, terms[k]] += 1
    return used


# ---- SVG pieces -------------------------------------------------------------------------------
def _hbar(share: float, width: int = 220, color: str = "#2b6cb0") -> str:
    """A small horizontal bar for a share in [0, 1]."""
    share = min(max(share, 0.0), 1.0)
    w = round(share * width, 1)
    return (f'<svg width="{width}" height="12" viewBox="0 0 {width} 12" role="img" '
            f'aria-label="{share:.0%}"><rect x="0" y="1" width="{width}" height="10" rx="2" '
            f'fill="#e6ebf2"/><rect x="0" y="1" width="{w}" height="10" rx="2" '
            f'fill="{color}"/></svg>')


def _bar_cell(part: int, whole: int, color: str = "#2b6cb0") -> str:
    share = part / whole if whole else 0.0
    return (f'<td class="bar"><div class="barbox">{_hbar(share, color=color)}'
            f'<span>{_pct(part, whole)}</span></div></td>')


def _tick_step(top: int) -> int:
    """A round step (1, 2, 5 times a power of ten) giving at most five gridlines up to top."""
    step = 1
    while True:
        for mult in (1, 2, 5):
            if top <= 5 * step * mult:
                return step * mult
        step *= 10


def _rank_chart(problem: Problem, result: Result) -> str:
    longest = max((len(s.preferences) for s in problem.students), default=0)
    counts = Counter(p.preference_rank for p in result.placements)
    cats: list[tuple[str, int, str]] = [(str(r), counts.get(r, 0), "#2b6cb0")
                                        for r in range(1, longest + 1)]
    if counts.get(None) or not problem.policy.preferences_only:
        cats.append(("off list", counts.get(None, 0), "#805ad5"))
    cats.append(("unassigned", len(problem.students) - len(result.placements), "#c53030"))
    step = _tick_step(max((c for _, c, _ in cats), default=0))
    top = step * max(1, -(-max((c for _, c, _ in cats), default=0) // step))
    slot = 64 if len(cats) <= 12 else 44
    left, plot_h, head, foot = 48, 200, 24, 40
    width = left + slot * len(cats) + 16
    height = head + plot_h + foot
    total = len(problem.students)
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             'role="img" aria-labelledby="rank-title" font-size="12" '
             'font-family="system-ui, sans-serif">',
             '<title id="rank-title">Students by preference rank of their placement</title>']
    for tick in range(0, top + 1, step):  # gridlines at round counts
        y = head + plot_h - tick / top * plot_h
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" '
                     f'stroke="#e2e8f0"/><text x="{left - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end" fill="#5b6576">{tick:,}</text>')
    for k, (label, count, color) in enumerate(cats):
        h = count / top * plot_h
        x = left + k * slot + slot * 0.15
        bw = slot * 0.7
        y = head + plot_h - h
        parts.append(
            f'<g><title>{_e(label)}: {count} students ({_pct(count, total)})</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{h:.1f}" rx="2" '
            f'fill="{color}"/>'
            f'<text x="{x + bw / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" '
            f'fill="#1d2430">{count}</text>'
            f'<text x="{x + bw / 2:.1f}" y="{head + plot_h + 16}" text-anchor="middle" '
            f'fill="#1d2430">{_e(label)}</text>'
            f'<text x="{x + bw / 2:.1f}" y="{head + plot_h + 31}" text-anchor="middle" '
            f'fill="#5b6576" font-size="11">{_pct(count, total)}</text></g>')
    parts.append(f'<line x1="{left}" y1="{head + plot_h}" x2="{width - 8}" '
                 f'y2="{head + plot_h}" stroke="#5b6576"/></svg>')
    return "".join(parts)


def _heat_color(ratio: float) -> tuple[str, str]:
    """Fill and text colour for a use ratio: pale blue (empty) to deep blue (full)."""
    if ratio > 1:
        return "#c53030", "#ffffff"
    lo, hi = (0xf1, 0xf5, 0xfb), (0x1a, 0x4f, 0x8b)
    rgb = tuple(round(a + (b - a) * ratio) for a, b in zip(lo, hi, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb), ("#ffffff" if ratio >= 0.55 else "#1d2430")


def _heat_map(problem: Problem, result: Result) -> str:
    cap = capacity_by_term(problem)
    used = _use(problem, result)
    terms = list(problem.terms)
    stations = sorted(problem.workstations, key=lambda w: w.workstation_id)
    label_w = max(90, 8 * max((len(w.workstation_id) + len(w.city or "") + 3
                               for w in stations), default=10))
    cell_w, cell_h, head = 104, 20, 34
    width = label_w + cell_w * len(terms) + 4
    height = head + cell_h * len(stations) + 4
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             'role="img" aria-labelledby="heat-title" font-size="11.5" '
             'font-family="system-ui, sans-serif">',
             '<title id="heat-title">Workstation places used per term (used/capacity)</title>']
    practice = set(_practice_terms(problem))
    for k, t in enumerate(terms):
        x = label_w + k * cell_w + cell_w / 2
        fill = "#1d2430" if t in practice else "#8a94a6"
        parts.append(f'<text x="{x:.1f}" y="{head - 12}" text-anchor="middle" '
                     f'font-weight="600" fill="{fill}">{_e(t)}</text>')
    for r, w in enumerate(stations):
        y = head + r * cell_h
        name = w.workstation_id + (f" · {w.city}" if w.city else "")
        parts.append(f'<text x="4" y="{y + 14}" fill="#1d2430">{_e(name)}</text>')
        for k, t in enumerate(terms):
            x = label_w + k * cell_w
            c, u = cap[w.workstation_id, t], used.get((w.workstation_id, t), 0)
            if c == 0 and u == 0:
                fill, ink, text, tip = "#e2e5ea", "#8a94a6", "closed", "closed"
            else:
                ratio = u / c if c else 2.0
                fill, ink = _heat_color(ratio)
                text = f"{u}/{c}"
                tip = f"{u} of {c} places used"
            parts.append(
                f'<g><title>{_e(w.workstation_id)}, {_e(t)}: {_e(tip)}</title>'
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{fill}"/><text x="{x + cell_w / 2:.1f}" y="{y + 14}" '
                f'text-anchor="middle" fill="{ink}">{_e(text)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _legend() -> str:
    stops = "".join(
        f'<rect x="{k * 24}" y="0" width="24" height="12" fill="{_heat_color(k / 8)[0]}"/>'
        for k in range(9))
    return ('<div class="legend">empty <svg width="216" height="12" viewBox="0 0 216 12" '
            f'role="img" aria-label="colour scale from empty to full">{stops}</svg> full'
            ' &nbsp; <svg width="24" height="12" viewBox="0 0 24 12" role="img" '
            'aria-label="closed"><rect width="24" height="12" fill="#e2e5ea"/></svg> closed'
            ' &nbsp; <svg width="24" height="12" viewBox="0 0 24 12" role="img" '
            'aria-label="over capacity"><rect width="24" height="12" fill="#c53030"/></svg> '
            'over capacity</div>')


# ---- sections ---------------------------------------------------------------------------------
def _card(key: str, value: str, detail: str = "", cls: str = "") -> str:
    return (f'<div class="card"><div class="k">{key}</div><div class="v {cls}">{value}</div>'
            f'<div class="d">{detail}</div></div>')


def _headline(problem: Problem, result: Result, violations: list[str]) -> str:
    total = len(problem.students)
    placed = len(result.placements)
    ub = result.placed_upper_bound
    lb = result.rank_cost_lower_bound
    gap = result.rank_gap
    ranks = [p.preference_rank for p in result.placements]
    first = sum(r == 1 for r in ranks)
    top3 = sum(r is not None and r <= 3 for r in ranks)
    st = result.status
    cards = [
        _card("Status", _e(st.value), _e(_STATUS_MEANING.get(st, "")), f"st-{_e(st.value)}"),
        _card("Placed", f"{placed:,} of {total:,}",
              (f"proven maximum {ub:,}" + (" — reached" if ub == placed else ""))
              if ub is not None else "no maximum proven"),
        _card("Rank cost", f"{result.rank_cost:,}",
              f"lower bound {lb:,}, gap {gap:.2%}" if lb is not None and gap is not None
              else "no lower bound proven"),
        _card("First choice", _pct(first, placed), f"{first:,} of {placed:,} placed"),
        _card("Top 3", _pct(top3, placed), f"{top3:,} of {placed:,} placed"),
        _card("Time", f"{result.wall_seconds:.2f} s",
              f"solver {_e(result.solver)}, seed {result.seed}, {result.workers} worker(s), "
              f"limit {result.time_limit_s:g} s"),
    ]
    if result.pair_weight:
        cards.append(_card("Pair weight", f"{result.pair_weight:g}",
                           "existing supervisor–mentor collaborations rewarded"))
    cards.append(_card("Independent check", "passed" if not violations else
                       f"{len(violations)} violation(s)",
                       "every rule holds and every claim matches" if not violations
                       else "see the list below", "st-OPTIMAL" if not violations else "bad"))
    out = ['<section id="headline"><div class="cards">', *cards, "</div>"]
    if result.message:
        out.append(f'<p class="note">{_e(result.message)}</p>')
    if violations:
        items = "".join(f"<li>{_e(v)}</li>" for v in violations[:50])
        more = (f"<li>… and {len(violations) - 50} more</li>" if len(violations) > 50 else "")
        out.append(f'<div class="note bad"><strong>The checker found problems with this '
                   f'result.</strong><ul>{items}{more}</ul></div>')
    if (result.input_sha256 and problem.input_sha256
            and result.input_sha256 != problem.input_sha256):
        out.append('<p class="note">The scenario files have changed since this result was '
                   'written (the input hashes differ); the figures below compare the result '
                   'with the scenario as it is now.</p>')
    out.append("</section>")
    return "".join(out)


def _group_table(title: str, groups: Iterable[_Group], first_col: str) -> str:
    rows = []
    for g in groups:
        label = f'{_e(g.name)}<div class="muted">{_e(g.label)}</div>' if g.label else _e(g.name)
        rows.append(
            f"<tr><td>{label}</td><td class=\"n\">{g.students:,}</td>"
            f"<td class=\"n\">{g.placed:,}</td>{_bar_cell(g.placed, g.students)}"
            f"<td class=\"n\">{_pct(g.first, g.placed)}</td>"
            f"<td class=\"n\">{_pct(g.top3, g.placed)}</td>"
            f"<td class=\"n\">{g.mean_rank}</td></tr>")
    return (f"<h3>{title}</h3><table><thead><tr><th>{first_col}</th><th class=\"n\">students"
            "</th><th class=\"n\">placed</th><th>share placed</th><th class=\"n\">first choice"
            "</th><th class=\"n\">top 3</th><th class=\"n\">mean rank</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _city_table(problem: Problem, result: Result) -> str:
    cap = capacity_by_term(problem)
    used = _use(problem, result)
    city_of = {w.workstation_id: w.city or "(no city given)" for w in problem.workstations}
    practice = _practice_terms(problem)
    per: dict[str, dict[str, int]] = defaultdict(Counter)
    for w in problem.workstations:
        c = per[city_of[w.workstation_id]]
        c["stations"] += 1
        for t in practice:
            c["cap"] += cap[w.workstation_id, t]
            c["used"] += used.get((w.workstation_id, t), 0)
    for p in result.placements:
        c = per[city_of.get(p.workstation_id, "(unknown workstation)")]
        c["students"] += 1
        c["first"] += p.preference_rank == 1
    rows = []
    for city in sorted(per, key=lambda c: (-per[c]["students"], c)):
        c = per[city]
        rows.append(f"<tr><td>{_e(city)}</td><td class=\"n\">{c['stations']:,}</td>"
                    f"<td class=\"n\">{c['students']:,}</td>"
                    f"<td class=\"n\">{_pct(c['first'], c['students'])}</td>"
                    f"<td class=\"n\">{c['used']:,} / {c['cap']:,}</td>"
                    f"{_bar_cell(c['used'], c['cap'], '#2f855a')}</tr>")
    return ("<h3>By city of the workstation</h3><table><thead><tr><th>city</th>"
            "<th class=\"n\">workstations</th><th class=\"n\">students placed</th>"
            "<th class=\"n\">first choice</th><th class=\"n\">place-terms used</th>"
            "<th>use</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
            "<p class=\"sub\">Place-terms: one place for one term, counted over the terms a "
            f"student may be placed in ({_e(', '.join(practice))}).</p>")


def _unassigned_table(problem: Problem, result: Result, lang: Lang) -> str:
    students = {s.student_id: s for s in problem.students}
    placed = {p.student_id for p in result.placements}
    reasons = dict(result.reasons(lang))
    missing = sorted(set(students) - placed)
    if not missing:
        return ("<h2 id=\"unassigned\">Unassigned students</h2>"
                "<p>Every student is placed.</p>")
    rows = []
    for sid in missing:
        s = students[sid]
        prefs = ", ".join(s.preferences[:3]) + (" …" if len(s.preferences) > 3 else "")
        reason = reasons.get(sid) or ("no allocation (the result is INFEASIBLE)"
                                      if result.status == Status.INFEASIBLE
                                      else "no reason recorded")
        rows.append(f"<tr><td><code>{_e(sid)}</code></td><td>{_e(s.university_id)}</td>"
                    f"<td>{_e(s.discipline)}</td><td>{_e(prefs) or '–'}</td>"
                    f"<td>{_e(reason)}</td></tr>")
    return (f"<h2 id=\"unassigned\">Unassigned students ({len(missing):,})</h2>"
            "<p class=\"sub\">Ask for a single student's full explanation with "
            "<code>matcher explain SCENARIO RESULT_DIR STUDENT_ID</code>.</p>"
            "<table><thead><tr><th>student</th><th>university</th><th>discipline</th>"
            "<th>first choices</th><th>reason</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def render_report(problem: Problem, result: Result, lang: Lang = "en") -> str:
    """The report as one HTML document (see the module docstring).

    Parameters
    ----------
    problem
        The scenario the result is for.
    result
        A solver's result, or one read back with :func:`matcher.read_result`.
    lang
        The page's language, ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        A complete, self-contained HTML5 document.

    Raises
    ------
    ScenarioError
        When the result names students, workstations, mentors, supervisors or terms the
        scenario does not have.
    """
    violations = check(problem, result).violations
    unknown = [v for v in violations if "unknown" in v]
    if unknown:  # figures against the wrong scenario would mislead; other violations are shown
        raise ScenarioError([f"the result does not fit scenario '{problem.name}' ({unknown[0]}); "
                             "give the scenario the result was solved from"])
    title = f"matcher report — {problem.name}"
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{len(problem.students):,} students, {len(problem.workstations):,} '
        f"workstations, {len(problem.mentors):,} mentors, {len(problem.supervisors):,} "
        f"supervisors; terms {_e(problem.terms[0])} to {_e(problem.terms[-1])}.</p>",
        _headline(problem, result, violations),
        '<h2 id="ranks">Rank distribution</h2>',
        '<p class="sub">How many students got their first, second, … choice; "off list" is a '
        "workstation the student did not list.</p>",
        f'<div class="chart">{_rank_chart(problem, result)}</div>',
        '<h2 id="placement">Placement</h2>',
        _group_table("By discipline", _groups(problem, result, "discipline"), "discipline"),
        _group_table("By university", _groups(problem, result, "university_id"), "university"),
        _city_table(problem, result),
        '<h2 id="use">Workstation use per term</h2>',
        '<p class="sub">Places used of the capacity in each term (with '
        "<code>workstation_terms.csv</code> overrides); terms outside every student's "
        "window are greyed in the header.</p>",
        _legend(),
        f'<div class="heat">{_heat_map(problem, result)}</div>',
        _unassigned_table(problem, result, lang),
        f"<footer>Scenario <code>{_e(problem.name)}</code>, input "
        f"<code>{_e((result.input_sha256 or problem.input_sha256)[:16]) or '–'}</code>. "
        "Written by matcher; self-contained: no network is needed to view or print it."
        "</footer>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
            "<body><main>" + "\n".join(body) + "</main></body></html>\n")


REPORT_FILE = "report.html"


def is_html_file(path: Path) -> bool:
    """Whether a file is an HTML page (what ``matcher report --out FILE --force`` may replace)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    except OSError:
        return False
    return head.startswith((b"<!doctype html", b"<html"))


def write_report_into(result: Result, problem: Problem | None, folder: Path, *,
                      lang: Lang = "en") -> None:
    """The result-folder writer of ``report.html`` (see :func:`matcher.write_result`).

    Without the problem there is nothing to report against, so nothing is written; regenerate
    the report later with ``matcher report SCENARIO RESULT_DIR``.
    """
    if problem is not None:
        write_report(problem, result, Path(folder) / REPORT_FILE, lang=lang)


def write_report(problem: Problem, result: Result, path: str | os.PathLike[str], *,
                 lang: Lang = "en") -> Path:
    """Write ``report.html`` atomically (a temporary file renamed into place).

    Parameters
    ----------
    problem
        The scenario the result is for.
    result
        The result to report on.
    path
        The file to write (replaced if it exists).
    lang
        The page's language, ``"zh"`` or ``"en"``.

    Returns
    -------
    Path
        The file written.
    """
    target = Path(path)
    text = render_report(problem, result, lang)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with finish_first(target):  # a signal now: the report is finished first
            tmp.write_text(text, encoding="utf-8", newline="\n")  # plain open: honours umask
            os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
