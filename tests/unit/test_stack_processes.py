"""The launcher's test of whether a recorded pid is still the process it started."""

import subprocess
import sys
from dataclasses import replace
from datetime import datetime

from gecc.stack import processes


def test_a_process_is_ours_across_a_boot_time_step_but_not_a_later_one() -> None:
    """/proc/stat's boot time is whole seconds and steps with clock adjustments: the same
    process can read a second off its recorded start; one started a minute apart, or with
    another command line, is not ours."""
    command = (sys.executable, "-c", "import time; time.sleep(30)")
    child = subprocess.Popen(command)
    try:
        record = processes.record_of(child.pid, "-", command=command)

        def at(offset: float) -> str:
            return datetime.fromtimestamp(record.started_epoch + offset).astimezone().isoformat()

        assert processes.is_ours(record)
        assert processes.is_ours(replace(record, started_at=at(-1.0)))
        assert processes.is_ours(replace(record, started_at=at(1.0)))
        assert not processes.is_ours(replace(record, started_at=at(-60)))
        assert not processes.is_ours(replace(record, command=("other",)))
    finally:
        child.kill()
        child.wait()
    assert not processes.is_ours(record)
