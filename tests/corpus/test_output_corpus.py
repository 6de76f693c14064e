"""The hostile-input corpus of outputs, signals, concurrency, verify, injection and planning
commands (issue 24 item 7): every case of ``tests/corpus/output/*.yaml``, run as a user would.

A case is a few lines of YAML::

    - id: solve-out-is-its-scenario          # unique name
      why: solve S --out S --force deleted the scenario it was reading
      given: {S: tiny}                       # the workspace (see FIXTURES)
      run: solve S --out S --force --solver greedy
      exit: 2
      says: [is the scenario]                # each appears in stderr (or stdout)
      absent: []                             # paths that must not exist afterwards
      written: []                            # paths that must exist afterwards
      changes: []                            # given paths allowed to change (default none)

Each case runs in a fresh folder (the current folder during the run). The runner checks for
every case: the exit code; no traceback anywhere in the output; on exit 2, every stderr line an
``error:`` (or ``note:``/``warning:``) line; every given path that is not in ``changes``
byte-for-byte unchanged (the input tree hashed before and after); no temporary folder, lock or
probe left anywhere; ``written`` present and ``absent`` absent; and the case's own ``check``
(a named check of :func:`_check`, e.g. that no CSV cell is a formula). ``before`` runs
commands first and ``after`` runs them last (each must exit 0); ``patch`` names an
in-process fault or shortcut (:data:`PATCHES`: a full disk, a write failing midway,
a sweep's points in this process); ``cwd`` runs the
command in a subfolder. Cases with
``process`` run the real command in a subprocess (signals, concurrency): ``signal`` sends
signals at a named moment from inside the process itself (deterministic on any machine),
``concurrent`` starts a second command while the first holds its claim.

The counts per class are in docs/reliability.md (:func:`test_counts_match_the_docs`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from matcher.cli import cli

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "output"
TINY = ROOT / "scenarios" / "tiny"
LEFTOVER = re.compile(r"(^\..*\.(tmp|old)$)|(\.matcher-lock$)|(^\.matcher-probe-)")
PREFIXES = ("error: ", "note: ", "warning: ", "错误：", "提示：", "警告：")
"""The severities of a line in either language."""
CLASSES = ("out-paths", "signals", "concurrency", "verify", "injection", "planning", "options")


def _load_cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(HERE.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            case["file"] = path.name
            cases.append(case)
    return cases


CASES = _load_cases()


# ---- the workspace ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Things several cases copy: a result folder of tiny, tiny as a workbook."""
    base = tmp_path_factory.mktemp("corpus-built")
    result = base / "result"
    r = CliRunner().invoke(cli, ["solve", str(TINY), "--out", str(result), "--solver",
                                 "greedy"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    code = ("import runpy, sys; m = runpy.run_path(sys.argv[1]); "
            "m['convert'](__import__('pathlib').Path(sys.argv[2]), "
            "__import__('pathlib').Path(sys.argv[3]))")
    book = base / "tiny.xlsx"
    subprocess.run([sys.executable, "-c", code, str(ROOT / "scenarios" / "make_xlsx.py"),
                    str(TINY), str(book)], check=True, cwd=ROOT)
    return {"result": result, "workbook": book}


def _content(spec: Any) -> str:
    """A file's text: as given, or ``{parts: [[text, times], ...]}`` for generated bulk."""
    if isinstance(spec, dict):
        return "".join(str(text) * int(times) for text, times in spec["parts"])
    return textwrap.dedent(str(spec))


def _edit(path: Path, spec: Any) -> None:
    """Replace (text), remove (null) or edit (``{replace: [old, new]}``) one file."""
    if spec is None:
        path.unlink()
    elif isinstance(spec, dict) and "replace" in spec:
        old, new = spec["replace"]
        text = path.read_text(encoding="utf-8")
        assert old in text, (path, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    else:
        path.write_text(_content(spec), encoding="utf-8")


def _make(root: Path, name: str, spec: Any, built: dict[str, Path]) -> None:
    """Create one given path (see FIXTURES)."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if spec == "tiny":
        shutil.copytree(TINY, path)
    elif spec == "demo":  # 2,000 students: a solve that takes a while
        shutil.copytree(ROOT / "scenarios" / "heilongjiang-demo", path)
    elif spec in ("result", "workbook"):
        src = built[spec]
        (shutil.copytree if src.is_dir() else shutil.copyfile)(src, path)
    elif spec == "dir":
        path.mkdir()
    elif isinstance(spec, dict) and ("text" in spec or "parts" in spec):
        path.write_text(_content(spec.get("text", spec)), encoding="utf-8")
    elif isinstance(spec, dict) and "bytes" in spec:
        path.write_bytes(bytes.fromhex(spec["bytes"]))
    elif isinstance(spec, dict) and "link" in spec:
        path.symlink_to(root / spec["link"])
    elif isinstance(spec, dict) and "tiny" in spec:  # tiny with edited files
        shutil.copytree(TINY, path)
        for file, edit in spec["tiny"].items():
            _edit(path / file, edit)
    elif isinstance(spec, dict) and "result" in spec:  # a result folder with edited files
        shutil.copytree(built["result"], path)
        for file, edit in spec["result"].items():
            _edit(path / file, edit)
    else:
        raise ValueError(f"unknown fixture {spec!r} for {name}")


FIXTURES = ("tiny", "demo", "result", "workbook", "dir", "{text}", "{parts}", "{bytes}",
            "{link}", "{tiny: {file: edit}}", "{result: {file: edit}}")
"""What ``given`` may map a path to; an edit is a text, null (remove the file),
``{replace: [old, new]}`` or ``{parts: [[text, times], ...]}``."""


def _snapshot(root: Path, names: list[str]) -> dict[str, str]:
    """Every file under the given paths with its hash (links as their target)."""
    out: dict[str, str] = {}
    for name in names:
        top = root / name
        if top.is_symlink():
            out[name] = "link:" + os.readlink(top)
            continue
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for p in files:
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _leftovers(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if LEFTOVER.search(p.name)]


# ---- faults and checks -----------------------------------------------------------------------
def _disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    import matcher.formats.output as output

    usage = shutil.disk_usage("/")
    monkeypatch.setattr(output.shutil, "disk_usage",
                        lambda _p: type(usage)(usage.total, usage.total, 4096))


def _fail_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up while the workbook is written (after the CSVs)."""
    import matcher.reports.folder as folder

    def broken(*_a: Any, **_k: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(folder, "RESULT_WRITERS", (broken,))


PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
"""The smallest PNG: what a plot is replaced with when its drawing does not matter."""


def _points_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep's points run in threads of this process, not a spawned pool, and its plots are
    not drawn (a blank PNG each, the page as before): the CSVs and pages under test are the
    same, without a Python started and 14 figures drawn per case (15 s on a loaded machine)."""
    from concurrent.futures import ThreadPoolExecutor

    from matplotlib.figure import Figure

    from matcher.planning import sweep

    def pool(max_workers: int | None = None, **_kw: object) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=max_workers)

    def blank(_figure: object, path: Any, *_args: object, **_kw: object) -> None:
        Path(path).write_bytes(PNG_1X1)

    monkeypatch.setattr(sweep, "ProcessPoolExecutor", pool)
    monkeypatch.setattr(Figure, "savefig", blank)
    monkeypatch.setattr(Figure, "tight_layout", lambda *_a, **_k: None)  # the other half


PATCHES: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "disk_full": _disk_full, "fail_writing": _fail_writing, "points_here": _points_here}


def _csv_cells(path: Path) -> list[str]:
    import csv

    with path.open(encoding="utf-8-sig", newline="") as f:
        return [cell for row in csv.reader(f) for cell in row]


def _formula_cells(root: Path) -> list[str]:
    """Cells of every CSV and workbook under ``root`` that a spreadsheet would run."""
    bad = []
    for p in root.rglob("*.csv"):
        bad += [f"{p.name}: {c}" for c in _csv_cells(p) if c[:1] in ("=", "+", "@", "\t", "\r")
                or (c[:1] == "-" and not re.fullmatch(r"-[\d.eE+-]+", c))]
    from openpyxl import load_workbook

    for p in root.rglob("*.xlsx"):
        book = load_workbook(p, read_only=True)
        for ws in book:
            for row in ws.iter_rows(values_only=True):
                bad += [f"{p.name}: {c}" for c in row if isinstance(c, str)
                        and c[:1] in ("=", "+", "-", "@")]
    return bad


def _raw_html(root: Path) -> list[str]:
    """Tags a browser would run, in every HTML and Markdown file under ``root`` (matcher's own
    embedded plots, ``<img src="data:image/png;base64,...">``, excepted), and Markdown links
    to javascript: that are not escaped."""
    found = []
    files = [root] if root.is_file() else [*root.rglob("*.html"), *root.rglob("*.md")]
    for p in files:
        text = p.read_text(encoding="utf-8")
        for m in re.findall(r"<(?:script|img|iframe)\b[^>]*>", text, flags=re.I):
            if not re.fullmatch(r'<img alt="[^"<>]*" src="data:image/png;base64,[^"]*">', m):
                found.append(f"{p.name}: {m[:80]}")
        if p.suffix == ".md":
            found += [f"{p.name}: {m}" for m in re.findall(r"(?<!\\)\]\(javascript:", text)]
    return found


def _check(name: str, root: Path, arg: Any) -> None:
    if name == "no_formulas":
        assert _formula_cells(root / arg) == []
    elif name == "no_raw_html":
        assert _raw_html(root / arg) == []
    elif name == "json_finite":
        text = (root / arg).read_text(encoding="utf-8")
        assert "NaN" not in text and "Infinity" not in text
    elif name == "contains":
        for file, wanted in arg.items():
            text = (root / file).read_text(encoding="utf-8-sig")
            for w in wanted if isinstance(wanted, list) else [wanted]:
                assert w in text, (file, w)
    elif name == "lacks":
        for file, unwanted in arg.items():
            text = (root / file).read_text(encoding="utf-8-sig")
            for w in unwanted if isinstance(unwanted, list) else [unwanted]:
                assert w not in text, (file, w)
    elif name == "helpers_gone":  # the helper named in .helper.json ended, its folder gone
        import time

        import psutil

        seen = json.loads((root / ".helper.json").read_text(encoding="utf-8"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                alive = psutil.Process(seen["pid"]).status() != psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                alive = False
            if not alive and not Path(seen["folder"]).exists():
                break
            time.sleep(0.05)
        assert not alive, f"helper {seen['pid']} still running"
        assert not Path(seen["folder"]).exists(), f"{seen['folder']} left behind"
    elif name == "result_valid":
        from matcher import load_scenario
        from matcher.check import check_result_dir

        scenario, folder = arg
        assert check_result_dir(load_scenario(root / scenario), root / folder).violations == []
    else:
        raise ValueError(f"unknown check {name}")


# ---- running ---------------------------------------------------------------------------------
def _in_process(args: list[str]) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, args, catch_exceptions=False, prog_name="matcher")
    return r.exit_code, r.stdout, r.stderr


DRIVER = textwrap.dedent("""
    # Runs `matcher` with a signal sent from inside the process at a named moment.
    import json, os, signal, sys
    plan = json.loads(sys.argv[1])
    sigs = [getattr(signal, s) for s in plan["signals"]]
    def fire():
        for s in sigs:
            os.kill(os.getpid(), s)
    import matcher.formats.resultdir as rd
    import matcher.solvers as solvers
    if plan["at"] == "writing":  # inside the write, after the files, before the rename
        real = rd.recheck_output
        def hooked(*a, **k):
            fire()
            return real(*a, **k)
        rd.recheck_output = hooked
    elif plan["at"] == "helper":  # a HiGHS helper process has just been started
        import matcher.solvers.children as children
        real_watch = children.Guard.watch
        def hooked_watch(self, pid):
            real_watch(self, pid)
            with open(".helper.json", "w") as f:
                json.dump({"pid": pid, "folder": str(self.folder)}, f)
            fire()
        children.Guard.watch = hooked_watch
    elif plan["at"] == "solving":
        real_solve = solvers.solve
        def hooked_solve(*a, **k):
            fire()
            return real_solve(*a, **k)
        solvers.solve = hooked_solve
    from matcher.cli import main
    sys.argv = ["matcher", *plan["args"]]
    main()
""")

HOLD = textwrap.dedent("""
    # Runs `matcher` but holds just before writing until the file named in argv[1] appears.
    import os, sys, time
    from pathlib import Path
    import matcher.formats.resultdir as rd
    gate = Path(sys.argv[1])
    real = rd.atomic_folder
    def held(*a, **k):
        Path(str(gate) + ".ready").write_text("ready")
        deadline = time.monotonic() + 120
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return real(*a, **k)
    rd.atomic_folder = held
    from matcher.cli import main
    sys.argv = ["matcher", *sys.argv[2:]]
    main()
""")


def _process(args: list[str], cwd: Path, signal: dict[str, Any] | None
             ) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    if signal is None:
        cmd = [sys.executable, "-c", "from matcher.cli import main; main()", *args]
    else:
        cmd = [sys.executable, "-c", DRIVER, json.dumps({**signal, "args": args})]
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    return done.returncode, done.stdout, done.stderr


def _concurrent(first: list[str], second: list[str], cwd: Path) -> tuple[int, str, str]:
    """Start ``first``; when it is about to write (its claim held), run ``second`` to the end,
    then let ``first`` finish. The second's exit and output are the case's; the first must
    succeed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    gate = cwd / ".gate"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(gate), *first], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = Path(str(gate) + ".ready")
        for _ in range(6000):
            if ready.exists() or proc.poll() is not None:
                break
            import time

            time.sleep(0.02)
        code, out, err = _process(second, cwd, None)
    finally:
        gate.write_text("go")
        first_out, first_err = proc.communicate(timeout=300)
        gate.unlink(missing_ok=True)
        Path(str(gate) + ".ready").unlink(missing_ok=True)
    assert proc.returncode == 0, first_err
    assert "Traceback" not in first_out + first_err
    return code, out, err


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "w"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.delenv("LANGUAGE", raising=False)
    yield root


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any], workspace: Path, built: dict[str, Path],
              monkeypatch: pytest.MonkeyPatch) -> None:
    """One corpus case (its ``why`` says what it shows): exit code, no traceback, inputs
    untouched, nothing left behind, and what it says it writes."""
    if case.get("posix") and os.name != "posix":
        pytest.skip("POSIX only")
    root = workspace
    given: dict[str, Any] = case.get("given") or {}
    for name, spec in given.items():
        _make(root, name, spec, built)
    for command in case.get("before") or []:
        code, out, err = _in_process(shlex.split(command))
        assert code == 0, f"before: {command}: {out}{err}"
    for name in case.get("patch") or []:
        PATCHES[name](monkeypatch)
    kept = [n for n in given if n not in (case.get("changes") or [])]
    before = _snapshot(root, kept)
    args = shlex.split(case["run"].replace("$HOME", str(Path.home())))
    if case.get("cwd"):
        monkeypatch.chdir(root / case["cwd"])
    if "concurrent" in case:
        code, out, err = _concurrent(shlex.split(case["concurrent"]), args, Path.cwd())
    elif case.get("process") or "signal" in case:
        code, out, err = _process(args, Path.cwd(), case.get("signal"))
    else:
        code, out, err = _in_process(args)
    text = out + err
    assert "Traceback" not in text, text
    assert code == case["exit"], text
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines, "an exit 2 must say why"
        assert all(line.startswith(PREFIXES) for line in lines), err
    for want in case.get("says") or []:
        assert want in text, f"missing {want!r} in:\n{text}"
    for unwanted in case.get("never_says") or []:
        assert unwanted not in text, f"{unwanted!r} in:\n{text}"
    assert _snapshot(root, kept) == before, "an input was changed"
    for name in case.get("written") or []:
        assert (root / name).exists(), name
    for name in case.get("absent") or []:
        assert not os.path.lexists(root / name), name
    for name, arg in (case.get("check") or {}).items():
        _check(name, root, arg)
    for command in case.get("after") or []:  # e.g. the next run after a killed one
        code, out, err = _in_process(shlex.split(command))
        assert code == 0 and "Traceback" not in out + err, f"after: {command}: {out}{err}"
    assert _leftovers(root) == []


def test_cases_are_well_formed() -> None:
    """Every case has a unique id, a known class, a reason, a command and an exit code, and
    names only known keys."""
    keys = {"id", "class", "why", "given", "before", "run", "exit", "says", "never_says",
            "written", "absent", "changes", "check", "patch", "process", "signal",
            "concurrent", "posix", "file", "cwd", "after"}
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for c in CASES:
        assert set(c) <= keys, (c["id"], set(c) - keys)
        assert c.get("class") in CLASSES, c["id"]
        assert c.get("why") and c.get("run") and isinstance(c.get("exit"), int), c["id"]
        for name in c.get("patch") or []:
            assert name in PATCHES, (c["id"], name)


def counts() -> dict[str, int]:
    """Cases per class."""
    out = dict.fromkeys(CLASSES, 0)
    for c in CASES:
        out[c["class"]] += 1
    return out


ROW = re.compile(r"^\| `?([a-z-]+)`? \| (\d+) \|", re.M)
"""A row of a counts table: ``| class | count | ...`` (the class in backquotes or not)."""


def test_counts_match_the_docs() -> None:
    """docs/reliability.md states the number of cases of each class of this corpus, of the
    input corpus (its tests/corpus/input/COUNTS.md) and of the loader's folders
    (tests/data/bad); together they hold at least 250 cases."""
    doc = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    for cls, n in counts().items():
        assert re.search(rf"\| `{cls}` \| {n} \|", doc), f"docs/reliability.md: {cls} {n}"
    counts_md = (ROOT / "tests" / "corpus" / "input" / "COUNTS.md").read_text(encoding="utf-8")
    theirs = {cls: int(n) for cls, n in ROW.findall(counts_md) if cls != "all"}
    for cls, n in theirs.items():
        assert f"| `{cls}` | {n} |" in doc, f"docs/reliability.md: input class {cls} {n}"
    folders = sum(1 for p in (ROOT / "tests" / "data" / "bad").iterdir()
                  if p.is_dir() and not p.name.startswith(("_", ".")))
    assert f"| `bad-folders` | {folders} |" in doc, f"docs/reliability.md: bad-folders {folders}"
    assert sum(counts().values()) + sum(theirs.values()) >= 250
