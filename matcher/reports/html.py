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

The page is written in Chinese or English (``report.po``), declares its language
(``<html lang="zh-CN">``) and uses a font stack with the CJK families of every office system
(PingFang SC, Microsoft YaHei, Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Zen Hei), so that
Chinese names, headers and reasons render with real glyphs in either language. The status card
says exactly what the result proves (:func:`matcher.reports.words.proof`).

Every piece of data is escaped (:func:`matcher.formats.escape.escape_html`). The page has no
timestamp: the same problem and result always give the same bytes.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..formats.escape import escape_html
from ..formats.interrupt import finish_first
from ..messages import LIST_SEPARATOR, Lang, label, msg
from ..messages.catalogue import PlainValue
from ..model import Problem, Result, ScenarioError, Status
from ..model.capacity import capacity_by_term, student_terms
from ..model.result import reason_text
from .fairness_figures import (
    BLOCKING_MAX_STUDENTS,
    Fairness,
    blocking_rows,
    figures,
    outcome_labels,
    quota_rows,
)
from .words import proof, rank_objective_text, status_word

FONT_STACK = ('system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", '
              '"Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", '
              '"Noto Sans", sans-serif')
"""The page's fonts: the system's, then the CJK families of macOS, Windows and Linux."""

HTML_LANG = {"zh": "zh-CN", "en": "en"}
"""The ``lang`` attribute of the page in each language."""

_CSS = """
:root { --ink:#1d2430; --muted:#5b6576; --line:#d9dee7; --accent:#2b6cb0; --bad:#c53030;
        --ok:#2f855a; --warn:#b7791f; --bg:#ffffff; --soft:#f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 """ + FONT_STACK + """; color: var(--ink);
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
:lang(zh) .card .k { letter-spacing: 0; }
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


@dataclass(frozen=True)
class _Use:
    """What the heat map and the city table share, computed once per page."""

    cap: dict[tuple[str, str], int]
    used: Counter[tuple[str, str]]
    practice: list[str]


def _use_of(problem: Problem, result: Result) -> _Use:
    return _Use(capacity_by_term(problem), _use(problem, result), _practice_terms(problem))


def _use(problem: Problem, result: Result) -> Counter[tuple[str, str]]:
    used: Counter[tuple[str, str]] = Counter()
    for p in result.placements:
        for t in p.covered(problem.terms):  # every term held (a split practice has gaps)
            used[p.workstation_id, t] += 1
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


def _rank_chart(problem: Problem, result: Result, lang: Lang) -> str:
    longest = max((len(s.preferences) for s in problem.students), default=0)
    counts = Counter(p.preference_rank for p in result.placements)
    cats: list[tuple[str, int, str]] = [(str(r), counts.get(r, 0), "#2b6cb0")
                                        for r in range(1, longest + 1)]
    if counts.get(None) or not problem.policy.preferences_only:
        cats.append((label("report.rank.off_list", lang), counts.get(None, 0), "#805ad5"))
    cats.append((label("report.rank.unassigned", lang),
                 len(problem.students) - len(result.placements), "#c53030"))
    step = _tick_step(max((c for _, c, _ in cats), default=0))
    top = step * max(1, -(-max((c for _, c, _ in cats), default=0) // step))
    slot = 64 if len(cats) <= 12 else 44
    left, plot_h, head, foot = 48, 200, 24, 40
    width = left + slot * len(cats) + 16
    height = head + plot_h + foot
    total = len(problem.students)
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             'role="img" aria-labelledby="rank-title" font-size="12">',
             f'<title id="rank-title">{_e(label("report.rank_chart_title", lang))}</title>']
    for tick in range(0, top + 1, step):  # gridlines at round counts
        y = head + plot_h - tick / top * plot_h
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" '
                     f'stroke="#e2e8f0"/><text x="{left - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end" fill="#5b6576">{tick:,}</text>')
    for k, (name, count, color) in enumerate(cats):
        h = count / top * plot_h
        x = left + k * slot + slot * 0.15
        bw = slot * 0.7
        y = head + plot_h - h
        tip = label("report.bar_tip", lang, label=name, count=count, share=_pct(count, total))
        parts.append(
            f'<g><title>{_e(tip)}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{h:.1f}" rx="2" '
            f'fill="{color}"/>'
            f'<text x="{x + bw / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" '
            f'fill="#1d2430">{count}</text>'
            f'<text x="{x + bw / 2:.1f}" y="{head + plot_h + 16}" text-anchor="middle" '
            f'fill="#1d2430">{_e(name)}</text>'
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


def _heat_map(problem: Problem, use: _Use, lang: Lang) -> str:
    cap, used = use.cap, use.used
    terms = list(problem.terms)
    stations = sorted(problem.workstations, key=lambda w: w.workstation_id)
    label_w = max(90, 8 * max((len(w.workstation_id) + len(w.city or "") + 3
                               for w in stations), default=10))
    cell_w, cell_h, head = 104, 20, 34
    width = label_w + cell_w * len(terms) + 4
    height = head + cell_h * len(stations) + 4
    closed = _e(label("report.closed", lang))
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             'role="img" aria-labelledby="heat-title" font-size="11.5">',
             f'<title id="heat-title">{_e(label("report.heat_title", lang))}</title>']
    practice = set(use.practice)

    @functools.cache
    def cell(u: int, c: int) -> tuple[str, str, str, str]:
        """Fill, ink, text and tooltip of a cell (a province has few distinct pairs)."""
        if c == 0 and u == 0:
            return "#e2e5ea", "#8a94a6", closed, closed
        fill, ink = _heat_color(u / c if c else 2.0)
        return fill, ink, f"{u}/{c}", _e(label("report.cell_tip", lang, used=u, capacity=c))

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
            fill, ink, text, tip = cell(used.get((w.workstation_id, t), 0),
                                        cap[w.workstation_id, t])
            parts.append(
                f'<g><title>{_e(w.workstation_id)}, {_e(t)}: {tip}</title>'
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{fill}"/><text x="{x + cell_w / 2:.1f}" y="{y + 14}" '
                f'text-anchor="middle" fill="{ink}">{text}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _legend(lang: Lang) -> str:
    stops = "".join(
        f'<rect x="{k * 24}" y="0" width="24" height="12" fill="{_heat_color(k / 8)[0]}"/>'
        for k in range(9))
    closed, over = _e(label("report.closed", lang)), _e(label("report.legend.over", lang))
    return (f'<div class="legend">{_e(label("report.legend.empty", lang))} <svg width="216" '
            f'height="12" viewBox="0 0 216 12" role="img" aria-label="'
            f'{_e(label("report.legend.scale", lang))}">{stops}</svg> '
            f'{_e(label("report.legend.full", lang))}'
            ' &nbsp; <svg width="24" height="12" viewBox="0 0 24 12" role="img" '
            f'aria-label="{closed}"><rect width="24" height="12" fill="#e2e5ea"/></svg> '
            f'{closed} &nbsp; <svg width="24" height="12" viewBox="0 0 24 12" role="img" '
            f'aria-label="{over}"><rect width="24" height="12" fill="#c53030"/></svg> '
            f'{over}</div>')


# ---- sections ---------------------------------------------------------------------------------
def _card(key: str, value: str, detail: str = "", cls: str = "", ident: str = "") -> str:
    at = f' id="{ident}"' if ident else ""
    return (f'<div class="card"{at}><div class="k">{key}</div><div class="v {cls}">{value}</div>'
            f'<div class="d">{detail}</div></div>')


def _headline(problem: Problem, result: Result, violations: list[str], lang: Lang) -> str:
    def t(code: str, **values: PlainValue) -> str:
        return _e(label(code, lang, **values))

    total = len(problem.students)
    placed = len(result.placements)
    ub = result.placed_upper_bound
    lb = result.rank_cost_lower_bound
    gap = result.rank_gap
    ranks = [p.preference_rank for p in result.placements]
    first = sum(r == 1 for r in ranks)
    top3 = sum(r is not None and r <= 3 for r in ranks)
    st = result.status
    if ub is None:
        placed_detail = t("report.no_max")
    else:
        placed_detail = t("report.placed_max_reached" if ub == placed else "report.placed_max",
                          bound=ub)
    cards = [
        _card(t("report.card.status"), _e(status_word(st, lang)),
              _e(proof(result, problem).text(lang)), f"st-{_e(st.value)}", "status-card"),
        _card(t("report.card.placed"), t("report.placed_of", placed=placed, total=total),
              placed_detail),
        _card(t("report.card.rank_cost"), f"{result.rank_cost:,}",
              t("report.rank_bound", bound=lb, gap=f"{gap:.2%}")
              if lb is not None and gap is not None else t("report.no_rank_bound")),
        _card(t("report.card.first"), _pct(first, placed),
              t("report.of_placed", count=first, placed=placed)),
        _card(t("report.card.top3"), _pct(top3, placed),
              t("report.of_placed", count=top3, placed=placed)),
        # A deterministic run shows its counted work: the page is the same on every machine.
        _card(t("report.card.time"), t("report.seconds", seconds=round(
            result.work_seconds if result.deterministic and result.work_seconds is not None
            else result.wall_seconds, 3)),
              t("report.time_detail", solver=result.solver, seed=result.seed,
                workers=result.workers, limit=result.time_limit_s)),
    ]
    ranked = rank_objective_text(result, lang)  # level 2 as a profile or the worst rank
    if ranked is not None:
        cards.insert(3, _card(t("objectives.label.rank"), _e(label(
            f"objectives.form.{result.stats['rank_objective']['form']}", lang)), _e(ranked)))
    if result.pair_weight:
        cards.append(_card(t("report.card.pair_weight"), f"{result.pair_weight:g}",
                           t("report.pair_detail")))
    cards.append(_card(t("report.card.check"), t("report.check_passed") if not violations
                       else t("report.check_violations", count=len(violations)),
                       t("report.check_ok_detail") if not violations
                       else t("report.check_bad_detail"),
                       "st-OPTIMAL" if not violations else "bad"))
    out = [f'<section id="headline" data-status="{_e(st.value)}"><div class="cards">', *cards,
           "</div>"]
    if result.message:
        out.append(f'<p class="note">{_e(result.message)}</p>')
    if violations:
        items = "".join(f"<li>{_e(v)}</li>" for v in violations[:50])
        more = (f"<li>{t('report.and_more', count=len(violations) - 50)}</li>"
                if len(violations) > 50 else "")
        out.append(f'<div class="note bad"><strong>{t("report.checker_found")}</strong>'
                   f"<ul>{items}{more}</ul></div>")
    if (result.input_sha256 and problem.input_sha256
            and result.input_sha256 != problem.input_sha256):
        out.append(f'<p class="note">{t("report.changed_input")}</p>')
    out.append("</section>")
    return "".join(out)


def _group_table(title: str, groups: Iterable[_Group], first_col: str, lang: Lang) -> str:
    def t(code: str) -> str:
        return _e(label(code, lang))

    rows = []
    for g in groups:
        name = f'{_e(g.name)}<div class="muted">{_e(g.label)}</div>' if g.label else _e(g.name)
        rows.append(
            f"<tr><td>{name}</td><td class=\"n\">{g.students:,}</td>"
            f"<td class=\"n\">{g.placed:,}</td>{_bar_cell(g.placed, g.students)}"
            f"<td class=\"n\">{_pct(g.first, g.placed)}</td>"
            f"<td class=\"n\">{_pct(g.top3, g.placed)}</td>"
            f"<td class=\"n\">{g.mean_rank}</td></tr>")
    return (f"<h3>{title}</h3><table><thead><tr><th>{first_col}</th>"
            f"<th class=\"n\">{t('report.col.students')}</th>"
            f"<th class=\"n\">{t('report.col.placed')}</th><th>{t('report.col.share_placed')}"
            f"</th><th class=\"n\">{t('report.col.first_choice')}</th>"
            f"<th class=\"n\">{t('report.col.top3')}</th>"
            f"<th class=\"n\">{t('report.col.mean_rank')}</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _city_table(problem: Problem, result: Result, use: _Use, lang: Lang) -> str:
    def t(code: str, **values: PlainValue) -> str:
        return _e(label(code, lang, **values))

    cap, used, practice = use.cap, use.used, use.practice
    no_city = label("report.no_city", lang)
    city_of = {w.workstation_id: w.city or no_city for w in problem.workstations}
    per: dict[str, dict[str, int]] = defaultdict(Counter)
    for w in problem.workstations:
        c = per[city_of[w.workstation_id]]
        c["stations"] += 1
        for term in practice:
            c["cap"] += cap[w.workstation_id, term]
            c["used"] += used.get((w.workstation_id, term), 0)
    unknown = label("report.unknown_ws", lang)
    for p in result.placements:
        c = per[city_of.get(p.workstation_id, unknown)]
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
    return (f"<h3>{t('report.by_city')}</h3><table><thead><tr><th>{t('report.col.city')}</th>"
            f"<th class=\"n\">{t('report.col.workstations')}</th>"
            f"<th class=\"n\">{t('report.col.students_placed')}</th>"
            f"<th class=\"n\">{t('report.col.first_choice')}</th>"
            f"<th class=\"n\">{t('report.col.place_terms')}</th>"
            f"<th>{t('report.col.use')}</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>"
            f"<p class=\"sub\">{t('report.city_note', terms=tuple(practice))}</p>")


def _with_code(code: str, lang: Lang, **codes: str) -> str:
    """A label whose placeholders are shown as ``<code>`` (escaped like the rest)."""
    marks = {name: f"\x00{k}\x00" for k, name in enumerate(codes)}
    text = _e(label(code, lang, **marks))
    for name, mark in marks.items():
        text = text.replace(mark, f"<code>{_e(codes[name])}</code>")
    return text


def _unassigned_table(problem: Problem, result: Result, lang: Lang) -> str:
    def t(code: str, **values: PlainValue) -> str:
        return _e(label(code, lang, **values))

    students = {s.student_id: s for s in problem.students}
    placed = {p.student_id for p in result.placements}
    reasons = dict(result.unassigned)
    missing = sorted(set(students) - placed)
    if not missing:
        return (f"<h2 id=\"unassigned\">{t('report.h.unassigned')}</h2>"
                f"<p>{t('report.all_placed')}</p>")
    fallback = label("outcome.infeasible" if result.status == Status.INFEASIBLE
                     else "outcome.no_reason", lang)
    sep = LIST_SEPARATOR[lang]
    rows = []
    for sid in missing:
        s = students[sid]
        prefs = sep.join(s.preferences[:3]) + (" …" if len(s.preferences) > 3 else "")
        reason = reasons.get(sid)
        text = reason_text(reason, lang) if reason is not None else fallback
        rows.append(f"<tr><td><code>{_e(sid)}</code></td><td>{_e(s.university_id)}</td>"
                    f"<td>{_e(s.discipline)}</td><td>{_e(prefs) or '–'}</td>"
                    f"<td>{_e(text)}</td></tr>")
    command = "matcher explain SCENARIO RESULT_DIR STUDENT_ID"
    return (f"<h2 id=\"unassigned\">{t('report.h.unassigned_count', count=len(missing))}</h2>"
            f"<p class=\"sub\">{_with_code('report.unassigned_sub', lang, command=command)}</p>"
            f"<table><thead><tr><th>{t('report.col.student')}</th>"
            f"<th>{t('report.col.university')}</th><th>{t('report.col.discipline')}</th>"
            f"<th>{t('report.col.first_choices')}</th><th>{t('report.col.reason')}</th></tr>"
            "</thead><tbody>" + "".join(rows) + "</tbody></table>")


def _not_opened(problem: Problem, result: Result, lang: Lang) -> str:
    """Workstations with a minimum intake that took nobody (issue 28); empty without any."""
    def t(code: str, **values: PlainValue) -> str:
        return _e(label(code, lang, **values))

    minimums = [w for w in problem.workstations if w.min_intake > 1]
    if not minimums:
        return ""
    used = {p.workstation_id for p in result.placements}
    closed = [w for w in minimums if w.workstation_id not in used]
    listed = Counter(wid for s in problem.students for wid in s.preferences)
    if not closed:
        return (f'<h2 id="not-opened">{t("report.h.not_opened")}</h2>'
                f"<p>{t('report.not_opened_none')}</p>")
    rows = "".join(f"<tr><td><code>{_e(w.workstation_id)}</code></td>"
                   f'<td class="n">{w.min_intake}</td>'
                   f'<td class="n">{listed[w.workstation_id]}</td></tr>' for w in closed)
    return (f'<h2 id="not-opened">{t("report.h.not_opened_count", count=len(closed))}</h2>'
            f'<p class="sub">{t("report.not_opened_sub")}</p>'
            f"<table><thead><tr><th>{t('report.col.workstation')}</th>"
            f'<th class="n">{t("report.col.min_intake")}</th>'
            f'<th class="n">{t("report.col.listing")}</th></tr></thead><tbody>'
            + rows + "</tbody></table>")


BLOCKING_ROWS_SHOWN = 100
"""Blocking pairs listed on the page (all of them are in ``results.xlsx``)."""


def _fairness(problem: Problem, result: Result, fair: Fairness, lang: Lang) -> str:
    """Issue 29 item 6: blocking pairs (students and workstations named), the rank
    distribution by university and by discipline, and the quotas' shares against their
    targets."""
    def t(code: str, **values: PlainValue) -> str:
        return _e(label(code, lang, **values))

    out = [f'<h2 id="fairness">{t("quotas.report.h")}</h2>',
           f'<p class="sub">{t("quotas.report.sub")}</p>',
           f'<h3 id="blocking">{t("quotas.report.blocking_h")}</h3>']
    if fair.blocking is None:
        out.append("<p>" + t("quotas.report.blocking_skipped", students=fair.students,
                             limit=BLOCKING_MAX_STUDENTS) + "</p>")
    elif not fair.blocking:
        out.append(f'<p>{t("quotas.report.blocking_none")}</p>')
    else:
        out.append(f'<p>{t("quotas.report.blocking_count", count=len(fair.blocking))}</p>')
        rows = blocking_rows(problem, result, fair.blocking[:BLOCKING_ROWS_SHOWN], lang)
        out.append(
            "<table><thead><tr>" + "".join(f"<th>{t(c)}</th>" for c in (
                "quotas.col.student", "quotas.col.university", "quotas.col.placement",
                "quotas.col.placement_rank", "quotas.col.envied", "quotas.col.envied_rank"))
            + "</tr></thead><tbody>" + "".join(
                f"<tr><td><code>{_e(sid)}</code></td><td>{_e(uni)}</td>"
                f"<td><code>{_e(held)}</code></td><td class=\"n\">{rank or '–'}</td>"
                f"<td><code>{_e(wid)}</code></td><td class=\"n\">{envied or '–'}</td></tr>"
                for sid, uni, held, rank, wid, envied in rows) + "</tbody></table>")
        if len(fair.blocking) > BLOCKING_ROWS_SHOWN:
            more = len(fair.blocking) - BLOCKING_ROWS_SHOWN
            out.append(f'<p class="muted">{t("quotas.report.blocking_more", count=more)}</p>')
    heads = "".join(f'<th class="n">{_e(h)}</th>' for h in outcome_labels(lang))
    for code, rows_of, first in (("quotas.report.ranks_by_university", fair.by_university,
                                  "report.col.university"),
                                 ("quotas.report.ranks_by_discipline", fair.by_discipline,
                                  "report.col.discipline")):
        body = "".join(
            f"<tr><td>{_e(g.name)}" + (f'<div class="muted">{_e(g.label)}</div>' if g.label
                                       else "") + f'</td><td class="n">{g.students:,}</td>'
            + "".join(f'<td class="n">{c:,}</td>' for c in g.counts) + "</tr>"
            for g in rows_of)
        out.append(f"<h3>{t(code)}</h3><table><thead><tr><th>{t(first)}</th>"
                   f'<th class="n">{t("report.col.students")}</th>{heads}</tr></thead>'
                   f"<tbody>{body}</tbody></table>")
    if fair.quotas:
        body = "".join(
            f'<tr><td class="n">{row}</td><td><code>{_e(where)}</code></td><td>{_e(group)}</td>'
            f"<td>{_e(kind)}</td><td>{_e(target)}</td>"
            '<td class="n">' + t("quotas.achieved", count=count, total=total,
                                 share=_pct(count, total)) + "</td>"
            f"<td>{_e(met)}</td></tr>"
            for row, where, group, kind, target, count, total, _share, met
            in quota_rows(fair.quotas, lang))
        out.append(f'<h3 id="quotas">{t("quotas.report.quotas_h")}</h3><table><thead><tr>'
                   + "".join(f"<th>{t(c)}</th>" for c in (
                       "quotas.col.row", "quotas.col.where", "quotas.col.group",
                       "quotas.col.kind", "quotas.col.target", "quotas.col.achieved",
                       "quotas.col.met")) + f"</tr></thead><tbody>{body}</tbody></table>")
    return "".join(out)


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
    def t(code: str, **values: PlainValue) -> str:
        return _e(label(code, lang, **values))

    fair = figures(problem, result)  # the checker's report with the fairness figures
    checked = fair.checked
    unfit = checked.unfit()
    if unfit:  # figures against the wrong scenario would mislead; other violations are shown
        raise ScenarioError([msg("explain.wrong_scenario", scenario=problem.name,
                                 problem=unfit[0])])
    violations = checked.lines(lang)
    title = label("report.title", lang, scenario=problem.name)
    use = _use_of(problem, result)
    digest = (result.input_sha256 or problem.input_sha256)[:16] or "–"
    body = [
        f"<h1>{_e(title)}</h1>",
        '<p class="sub">' + t("report.subtitle", students=len(problem.students),
                              workstations=len(problem.workstations),
                              mentors=len(problem.mentors), supervisors=len(problem.supervisors),
                              first=problem.terms[0], last=problem.terms[-1]) + "</p>",
        _headline(problem, result, violations, lang),
        f'<h2 id="ranks">{t("report.h.ranks")}</h2>',
        f'<p class="sub">{t("report.ranks_sub")}</p>',
        f'<div class="chart">{_rank_chart(problem, result, lang)}</div>',
        f'<h2 id="placement">{t("report.h.placement")}</h2>',
        _group_table(t("report.by_discipline"), _groups(problem, result, "discipline"),
                     t("report.col.discipline"), lang),
        _group_table(t("report.by_university"), _groups(problem, result, "university_id"),
                     t("report.col.university"), lang),
        _city_table(problem, result, use, lang),
        _fairness(problem, result, fair, lang),
        f'<h2 id="use">{t("report.h.use")}</h2>',
        f'<p class="sub">{t("report.use_sub")}</p>',
        _legend(lang),
        f'<div class="heat">{_heat_map(problem, use, lang)}</div>',
        _not_opened(problem, result, lang),
        _unassigned_table(problem, result, lang),
        "<footer>" + _with_code("report.footer", lang, scenario=problem.name, input=digest)
        + "</footer>",
    ]
    return (f"<!DOCTYPE html>\n<html lang=\"{HTML_LANG[lang]}\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
            "<body><main>" + "\n".join(filter(None, body)) + "</main></body></html>\n")


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
