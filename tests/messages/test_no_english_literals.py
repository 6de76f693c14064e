"""No user-facing English outside the catalogue: a new English text handed to the user fails here.

The scan reads ``matcher/**/*.py`` (the catalogue package itself aside) as syntax trees and
looks at what reaches the user as an error: the arguments of ``fail(...)``, click's
``UsageError``/``BadParameter``/``ClickException``, ``ScenarioError``, ``ProblemError``,
``MessageError``, ``OutputError``, ``ExplainError``, the web's ``UserError`` and
``HTTPException``, ``UnknownSolverError`` and ``ProblemIssue``, and what the commands print
(``click.echo``); in the same function, the lists
passed to them (``errors.append("...")``, ``errors += [...]``) and local helpers that fill those
lists (``bad(key, "...")``; a callback named ``bad``, ``err``, ``error`` or ``refuse`` anywhere).
A string literal there with English words, not inside
``msg(...)``/``label(...)``/``render(...)``, is a finding: word it through the catalogue instead
(docs/messages.md).

Not scanned, on purpose: ``ValueError``, ``TypeError`` and ``RuntimeError`` raised for a
library caller's wrong arguments (the command line and the web check their input before the
call, so these never reach a clerk), and log or debug text.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from matcher.messages import po_paths

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "matcher"
USER_ERRORS = {"fail", "UsageError", "BadParameter", "ClickException", "ScenarioError",
               "ProblemError", "MessageError", "OutputError", "ExplainError", "UserError",
               "UnknownSolverError", "ProblemIssue", "HTTPException", "echo", "secho"}
FILLERS = {"bad", "err", "error", "refuse"}
"""By the house's convention, a callback with one of these names adds a user-facing error
(``bad(table, row, column, msg(...))``), in whatever function it was passed to."""
WORDED = {"msg", "label", "render", "Location", "Message"}
ENGLISH = re.compile(r"[A-Za-z]{2,},? [A-Za-z]{2,}")
"""Two words with a space between them: a sentence, not an id, a MIME type or a column name."""

ALLOWED: dict[str, tuple[int, str]] = {
    # file -> (findings it may still have, why). The count may only go down: lower it when
    # you word one of them through the catalogue; a new English text in the file fails.
}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _english(node: ast.AST) -> list[str]:
    """English string constants in ``node`` that are not inside a catalogue call."""
    worded: set[int] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _name(sub.func) in WORDED:
            worded |= {id(x) for x in ast.walk(sub)}
    return [n.value for n in ast.walk(node) if id(n) not in worded
            and isinstance(n, ast.Constant) and isinstance(n.value, str)
            and ENGLISH.search(n.value)]


def _findings_in(fn: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every English literal ``fn``'s body hands to the user as an error."""
    calls = [c for c in ast.walk(fn) if isinstance(c, ast.Call) and (
        _name(c.func) in USER_ERRORS or (isinstance(c.func, ast.Name) and c.func.id in FILLERS))]
    out = [(c.lineno, s) for c in calls for s in _english(c)]
    if isinstance(fn, ast.Module):
        return out
    tracked = {n.id for c in calls for a in [*c.args, *(k.value for k in c.keywords)]
               for n in ast.walk(a) if isinstance(n, ast.Name)}
    helpers = {sub.name for sub in ast.walk(fn) if isinstance(sub, ast.FunctionDef)
               and sub is not fn and any(
                   isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
                   and isinstance(c.func.value, ast.Name) and c.func.value.id in tracked
                   for c in ast.walk(sub))}
    for sub in ast.walk(fn):
        if isinstance(sub, ast.Call) and _fills(sub, tracked, helpers):
            out += [(sub.lineno, s) for s in _english(sub)]
        elif isinstance(sub, ast.Assign | ast.AugAssign | ast.AnnAssign) and sub.value:
            targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
            if any(isinstance(t, ast.Name) and t.id in tracked for t in targets):
                out += [(sub.lineno, s) for s in _english(sub.value)]
    return out


def _fills(call: ast.Call, tracked: set[str], helpers: set[str]) -> bool:
    """Whether ``call`` adds to a list handed to the user (``errors.append``) or calls a local
    helper that does (``bad(...)``)."""
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        return f.value.id in tracked and f.attr in ("append", "extend", "insert")
    return isinstance(f, ast.Name) and f.id in helpers


def findings(source: str) -> list[tuple[int, str]]:
    """Every English literal handed to the user as an error in ``source`` (a module's text)."""
    tree = ast.parse(source)
    scopes = [tree, *(n for n in ast.walk(tree)
                      if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))]
    # A nested function is scanned in its own scope and in its parent's: keep each once.
    return sorted({hit for scope in scopes for hit in _findings_in(scope)})


def test_the_scan_sees_every_form() -> None:
    """The scan finds each way English reaches the user, and passes worded text, so it cannot
    pass vacuously."""
    sample = '''
def a(x):
    fail([f"unknown tier '{x}'; choose one of S, M"])
def b(errors):
    errors = []
    errors.append(f"--vary {x}: no values given")
    errors += ["a value is repeated"]
    def bad(key, text):
        errors.append(f"{key}: {text}")
    bad("base", "missing; name the base folder")
    raise ScenarioError(errors)
def c():
    raise click.UsageError("give at least two folders")
def d(x):
    fail([msg("cli.unknown_tier", tier=x)])
    raise ScenarioError([label("plan.rolling.cohort", "en", cohort=1), "S1", x])
'''
    assert findings(sample) == [
        (3, "'; choose one of S, M"), (3, "unknown tier '"), (6, ": no values given"),
        (7, "a value is repeated"), (10, "missing; name the base folder"),
        (13, "give at least two folders")]


def test_no_user_facing_english_outside_the_catalogue() -> None:
    """No module hands the user an English literal as an error (beyond ``ALLOWED``'s shrinking
    counts); the failure names file, line and text."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("matcher/messages/"):
            continue  # the catalogue's own errors are for programmers (a bad code, a bad value)
        hits = findings(path.read_text(encoding="utf-8"))
        if hits:
            found[rel] = [f"{rel}:{line}: {text!r}" for line, text in hits]
    over = [line for rel, lines in found.items() if len(lines) > ALLOWED.get(rel, (0, ""))[0]
            for line in lines]
    assert over == [], "English handed to the user; word it through the catalogue"
    stale = {rel: (len(found.get(rel, [])), allowed) for rel, (allowed, _why) in ALLOWED.items()
             if len(found.get(rel, [])) < allowed}
    assert stale == {}, "fewer findings than allowed: lower ALLOWED's count"


def test_every_catalogue_file_is_read_in_both_languages() -> None:
    """The "code without zh text" test reads every .po file of both languages (po_paths), the
    files of this guard's areas included."""
    for lang in ("zh", "en"):
        names = {p.name for p in po_paths(lang)}
        assert {"check.po", "cli.po", "results.po", "plan.po", "plot.po",
                "explain_rules.po"} <= names, lang
