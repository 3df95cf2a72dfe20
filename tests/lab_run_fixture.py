"""One real `drill run carrier-outage` on a 5-gateway test lab, shared by the whole session.

Several test modules check what a real run leaves behind (tests/reports/test_real_run.py,
tests/reports/test_files_for_tools.py, tests/compliance/test_evidence_lab.py). Each used to
start its own lab and run the same drill (~17 s each in CI); they now share this one run,
made with the union of what they need:

- the inventory holds a password and a token (the secrets test looks for them in every file);
- `--lang zh` (the Chinese reports and CSV headers);
- `--junit FILE` (a JUnit file written beside the run, recorded in renders.jsonl);
- `--rehearsal` (the archive tests: a rehearsal is never evidence for filing);
- `--yes` (carrier-outage has no manual step: it changes nothing journaled).

The run is made once, lazily (only when a test asks for it), and never written to: every
module takes its own COPY of the whole reports root (`SharedRun.copy`), so what one module
renders or reviews into the run folder cannot change what another module reads, in any order.
DRILL_HOME points at the run's own home only while the run is made; each module sets its own
(`drill_home`) for the length of the module and restores it after.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from orchestrator.lab.testing import make_lab_inventory, running_lab

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "Lab-Inv-Pa55w0rd-7f3e"
TOKEN = "tok-9c1d52e8a4b7"
FLAGS = ("--lang", "zh", "--yes", "--rehearsal")


@dataclass(frozen=True)
class RunCopy:
    """A module's own copy of the shared run's reports root."""

    code: int  # the exit code of `drill run`
    inventory: Path  # the shared lab inventory (read only)
    reports: Path  # this module's reports root: one run in it
    run_dir: Path  # the run folder inside `reports`
    junit: Path  # the JUnit file `--junit` wrote (shared, read only)


@dataclass(frozen=True)
class SharedRun:
    code: int
    inventory: Path
    reports: Path  # the original reports root: never handed out, only copied
    run_dir: Path
    junit: Path

    def copy(self, dest: Path) -> RunCopy:
        """A copy of the whole reports root under `dest` (the archive index and the run)."""
        reports = dest / "reports"
        shutil.copytree(self.reports, reports, symlinks=True)
        run_dir = reports / self.run_dir.relative_to(self.reports)
        return RunCopy(self.code, self.inventory, reports, run_dir, self.junit)


@contextmanager
def drill_home(home: Path) -> Iterator[Path]:
    """DRILL_HOME = `home` until the block ends, then what it was before (or unset)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DRILL_HOME", str(home))
        yield home


def _secret_inventory(where: Path) -> Path:
    inv = make_lab_inventory(where, gateways=5)
    doc = yaml.safe_load((inv / "hosts.yml").read_text(encoding="utf-8"))
    doc["all"]["vars"]["gateway_admin_password"] = PASSWORD
    doc["all"]["children"]["drill_control"]["hosts"]["lab"]["monitor_api_token"] = TOKEN
    (inv / "hosts.yml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
                                   encoding="utf-8")
    return inv


@pytest.fixture(scope="session")
def shared_lab_run(tmp_path_factory) -> SharedRun:
    tmp = tmp_path_factory.mktemp("shared-lab-run")
    inv = _secret_inventory(tmp / "inv")
    reports, junit = tmp / "reports", tmp / "junit.xml"
    with drill_home(tmp / "home") as home, running_lab(inv, home):
        code = main(["run", "carrier-outage", "--project", str(REPO), "--inventory", str(inv),
                     "--reports", str(reports), "--junit", str(junit), "--set", "hold=1s", *FLAGS])
    runs = sorted(reports.glob("*/*/journal.jsonl"))
    assert len(runs) == 1, f"one run folder expected in {reports}: {runs}"
    return SharedRun(code, inv, reports, runs[0].parent, junit)
