"""The data-quality rules in a helper process give what they give here, and survive the helper dying."""

from __future__ import annotations

import datetime as dt
import logging
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jingzhun.registry.idcard import make_id_number
from jingzhun.registry.quality.facts import YearFacts
from jingzhun.registry.quality.pool import HouseholdInput, QualityChecks, _error_answer, check_batch

AS_OF = dt.date(2025, 12, 31)


def household(seq: int, *, pupil_labour: str = "4", both_insurances: bool = False) -> HouseholdInput:
    """A household of three; ``pupil_labour`` "1" makes the 14-year-old pupil labour (an error, 2_01_011)
    and ``both_insurances`` gives the head both medical insurances (a warning)."""

    def member(name: str, birth: dt.date, sex: str, relationship: str, **kw: object) -> dict:
        return {
            "name": name,
            "sex": sex,
            "id_number": make_id_number("431102", birth, seq * 10 + len(name), sex),
            "birth_date": birth,
            "relationship": relationship,
            "education": "3",
            "labour": "1",
            "health": "1",
            "has_resident_medical_insurance": True,
            "has_employee_medical_insurance": False,
            **kw,
        }

    members = [
        member("王建国", dt.date(1968, 6, 1), "1", "01", has_employee_medical_insurance=both_insurances),
        member("刘桂兰", dt.date(1970, 6, 1), "2", "02"),
        member("王小虎", dt.date(2011, 6, 1), "1", "03", education="", school_status="08", labour=pupil_labour),
    ]
    data = {"household_number": f"4311021002010{seq:02d}", "village_id": "431102100201", "phone": "13812345678"}
    year = YearFacts.from_data({"year": 2025, "exit_status": "1", "attribute": "05", "member_count": 3})
    return data, members, year, AS_OF


def batches() -> list[list[HouseholdInput]]:
    return [
        [household(1), household(2, pupil_labour="1")],
        [household(3, both_insurances=True)],
        [household(4), household(5, pupil_labour="1", both_insurances=True)],
    ]


def codes(results: list[list]) -> list[list[tuple[str, str, int | None]]]:
    return [sorted((v.rule_code, v.level, v.member_index) for v in found) for found in results]


@pytest.fixture
def inline() -> list[list]:
    return [found for batch in batches() for found in check_batch(batch)]


def test_the_sample_households_trip_the_rules_they_are_built_to(inline):
    found = codes(inline)
    assert ("2_01_011", "error", 2) in found[1] and ("2_01_011", "error", 2) in found[4]
    assert not any(code == "2_01_011" for code, _level, _i in found[0])
    assert any(level == "warning" and i == 0 for _c, level, i in found[2])


def test_the_helper_process_returns_the_same_findings_in_the_same_order(inline):
    with QualityChecks(helper=True) as checks:
        assert checks.uses_helper
        for batch in batches():
            checks.add(batch)
        from_helper = list(checks.results())
    assert from_helper == inline  # the same Violation values, messages included


def test_batches_checked_here_and_by_the_helper_keep_their_order(inline):
    with QualityChecks(helper=True) as checks:
        for i, batch in enumerate(batches()):
            checks.add(batch, here=i == 1)
        first = list(checks.results(wait=False))  # what is back so far: a prefix, never out of order
        rest = list(checks.results())
    assert first + rest == inline


def test_without_a_helper_everything_is_checked_at_once(inline):
    with QualityChecks(helper=False) as checks:
        for batch in batches():
            checks.add(batch)
        assert list(checks.results(wait=False)) == inline  # nothing to wait for


def test_if_the_helper_dies_its_batches_are_checked_here(inline, caplog):
    with QualityChecks(helper=True) as checks:
        checks.add(batches()[0])
        assert len(list(checks.results())) == 2  # the helper is up and has answered
        assert checks._helper is not None
        os.kill(checks._helper.process.pid, signal.SIGKILL)  # as the OOM killer would
        for batch in batches()[1:]:
            checks.add(batch)
        with caplog.at_level(logging.WARNING, logger="jingzhun.registry.quality.pool"):
            rest = list(checks.results())
        assert not checks.uses_helper
    assert rest == inline[2:]
    assert "辅助进程不可用" in caplog.text


def test_a_rule_that_raises_in_the_helper_raises_here_as_inline():
    data, members, year, _as_of = household(1)
    # No reference date (ill-typed on purpose): the age rules cannot compare.
    broken: list[Any] = [(data, members, year, None)]
    with pytest.raises(TypeError) as inline:
        check_batch(broken)
    with QualityChecks(helper=True) as checks:
        checks.add(broken)
        with pytest.raises(TypeError, match=str(inline.value)) as raised:
            list(checks.results())
        assert checks.uses_helper  # the helper answered with the error; it did not die
    assert "Traceback" in str(raised.value.__cause__)  # where in the helper it was raised


class TwoArgumentError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")


def test_an_exception_that_cannot_be_rebuilt_travels_as_its_text():
    """It pickles, but unpickling calls __init__ with one argument: the helper checks before sending, so
    the importing process never receives an answer it cannot read (it would wait for ever)."""
    try:
        raise TwoArgumentError("JZ", "规则出错")
    except TwoArgumentError as exc:
        ok, error, trace = pickle.loads(_error_answer(exc))
    assert not ok and isinstance(error, RuntimeError) and "规则出错" in str(error)
    assert "TwoArgumentError" in trace


def run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    """Run ``body`` as a main script with no ``__name__`` guard, Django set up and QualityChecks and this
    module's ``batches`` imported, as a user's own import script would be."""
    script = tmp_path / "script.py"
    script.write_text(
        "import os, django\n"
        "django.setup()\n"
        "from jingzhun.registry.quality.pool import QualityChecks\n"
        "from jingzhun.registry.tests.test_quality_pool import batches\n" + body
    )
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root), "DJANGO_SETTINGS_MODULE": "jingzhun.settings"}
    return subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)


def test_a_script_without_a_main_guard_runs_once(tmp_path):
    """The helper is a fresh interpreter running this module, not multiprocessing's spawn, which would run
    the caller's main script again inside the helper (an unguarded import script would import twice)."""
    runs = tmp_path / "runs.txt"
    done = run_script(
        tmp_path,
        f"open({str(runs)!r}, 'a').write('ran\\n')\n"
        "with QualityChecks(helper=True) as checks:\n"
        "    for batch in batches():\n"
        "        checks.add(batch)\n"
        "    found = list(checks.results())\n"
        "print(len(found), sum(len(v) for v in found))\n",
    )
    assert done.returncode == 0, done.stderr
    assert runs.read_text() == "ran\n"
    assert done.stdout.split()[0] == "5"
    assert "辅助进程不可用" not in done.stderr


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="reads process states from /proc")
def test_the_helper_exits_when_the_importing_process_dies(tmp_path):
    """An import killed half-way (the worker restarted, the machine short of memory) leaves no helper
    behind: the helper ends when its input pipe closes."""
    done = run_script(
        tmp_path,
        "checks = QualityChecks(helper=True)\n"
        "checks.add(batches()[0])\n"
        "print(checks._helper.process.pid, flush=True)\n"
        "os._exit(9)  # no close(), no cleanup: as if killed\n",
    )
    assert done.returncode == 9, done.stderr
    helper = int(done.stdout.split()[0])
    for _ in range(100):
        if not Path(f"/proc/{helper}").exists() or "Z" in _state(helper):
            break
        time.sleep(0.1)
    else:
        os.kill(helper, signal.SIGKILL)
        pytest.fail("the helper outlived the importing process")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
    except (OSError, IndexError):
        return "Z"
