"""matcher.formats.lock: one writer per output; a live holder is named, a dead one's lock is
taken over, and a killed writer's leftovers are swept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from matcher.formats.lock import OutputBusy, claim, lock_path
from matcher.formats.resultdir import atomic_folder

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file locks")

HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from matcher.formats.lock import claim
    with claim(Path(sys.argv[1])):
        print("held", flush=True)
        sys.stdin.readline()
""")


def test_claim_is_reentrant_and_leaves_nothing(tmp_path: Path) -> None:
    """The same thread may claim again (the CLI claims, the writer claims); the lock file goes
    when the outer claim ends, and the parents it made for an unwritten output go too."""
    target = tmp_path / "a" / "b" / "out"
    with claim(target):
        assert lock_path(target).is_file()
        info = json.loads(lock_path(target).read_text(encoding="utf-8"))
        assert info["pid"] == os.getpid()
        with claim(target):
            pass
        assert lock_path(target).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_live_holder_is_named(tmp_path: Path) -> None:
    """Another process holding the claim: refused at once, naming its process id."""
    target = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(target)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(OutputBusy) as info, claim(target):
            pass
        assert info.value.items[0].code == "lock.held"  # type: ignore[union-attr]
        assert f"process {proc.pid} " in str(info.value)
        with pytest.raises(OutputBusy):
            atomic_folder(target, False, lambda tmp: None, kind="comparison")
        assert not target.exists()
    finally:
        proc.communicate("\n", timeout=30)
    with claim(target):  # released with its process
        pass


def test_a_dead_holder_s_lock_is_taken_over(tmp_path: Path) -> None:
    """A lock file left by a process that was killed holds no lock: the next writer takes it
    over with a note naming the dead process, and sweeps the temporary folders it left."""
    target = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(target)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    proc.kill()
    proc.wait()
    (tmp_path / ".out.abc123.tmp").mkdir()
    (tmp_path / ".out.abc123.tmp" / "assignments.csv").write_text("x", encoding="utf-8")
    (tmp_path / ".out.def456.old").mkdir()
    assert lock_path(target).is_file()
    with claim(target) as held:
        assert [n.code for n in held.notes] == ["lock.reclaimed"]
        assert str(proc.pid) in str(held.notes[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_claim_in_another_thread_is_refused(tmp_path: Path) -> None:
    """Two threads of one process (a web server) are two writers: the second is refused."""
    import threading

    target = tmp_path / "out"
    seen: list[BaseException] = []

    def second() -> None:
        try:
            with claim(target):
                pass
        except OutputBusy as e:
            seen.append(e)

    with claim(target):
        t = threading.Thread(target=second)
        t.start()
        t.join()
    assert len(seen) == 1
