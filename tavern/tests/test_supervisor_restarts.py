"""`make run`'s supervisor starts a child that died again (L3: a killed worker stopped
the whole site), and stops the group only when one keeps dying."""

import sys
import threading

from tavern import supervisor
from tavern.supervisor import Child, supervise


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_child_that_dies_once_is_started_again_and_stays(tmp_path):
    marker = tmp_path / "first-run"
    child = Child(
        "worker",
        _python(
            "import pathlib, sys, time\n"
            f"marker = pathlib.Path({str(marker)!r})\n"
            "if not marker.exists():\n"
            "    marker.write_text('x'); sys.exit(3)\n"
            "time.sleep(600)\n"
        ),
    )
    stopping = threading.Event()
    child.start(echo=False)
    outcome: list[int] = []
    thread = threading.Thread(target=lambda: outcome.append(supervise([child], stopping, echo=False)))

    thread.start()
    while not child.restarts:  # waits on the restart itself, however long the machine takes
        thread.join(0.05)
        assert thread.is_alive(), "the supervisor gave up"
    stopping.set()
    thread.join()
    child.process.kill()
    child.process.wait()

    assert outcome == [0]
    assert len(child.restarts) == 1


def test_a_child_that_keeps_dying_stops_the_group(monkeypatch):
    monkeypatch.setattr(supervisor, "RESTARTS_ALLOWED", 3)
    child = Child("web", _python("import sys; sys.exit(1)"))
    child.start(echo=False)

    code = supervise([child], threading.Event(), echo=False)

    assert code == 1
    assert len(child.restarts) == 3
