"""Unattended runs keep the safeguards (issue 18), on inventories/production.example:
no `--yes`, no baked-in confirmation, a recorded standing approval for every production
run, no Beijing cutover (a live confirmation with SSCC), a rotation that covers both
carriers and both centres within a year, and the drills left out named with the reason."""

from __future__ import annotations

import re
import shutil
import types
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from compliance_helpers import REPO, drill_home  # noqa: F401 - drill_home: autouse fixture

from orchestrator.cli import main
from orchestrator.compliance.schedule import plan_schedule
from orchestrator.config.inventory import load_inventory
from orchestrator.config.resolve import resolve
from orchestrator.config.scenario import find_drill, load_drills
from orchestrator.engine import safety
from orchestrator.engine.kinds import ManualKind, StepCall
from orchestrator.engine.options import RunOptions
from orchestrator.errors import RefusedError

SHIPPED = REPO / "inventories" / "production.example"
# production.example's gateways declare the adapters a repoint writes through (issue 15);
# these tests are about approvals and rotation. A copy in which one gateway declares no
# adapter, `_unwritable_production`, shows such drills left out (see the last test).
PRODUCTION = SHIPPED  # replaced by the module fixture below with the writable copy
APPROVAL = "CHG-2026-0412"


def _writable_production(dest: Path) -> Path:
    shutil.copytree(SHIPPED, dest)
    return dest


def _unwritable_production(dest: Path) -> Path:
    """A copy of the example whose W000010T declares no config adapter."""
    shutil.copytree(SHIPPED, dest)
    path = dest / "group_vars" / "all" / "drill.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for gw in doc["drill"]["gateways"]:
        if gw["id"] == "W000010T":
            gw.pop("config_adapter")
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


@pytest.fixture(scope="module", autouse=True)
def _production(tmp_path_factory):
    global PRODUCTION
    PRODUCTION = _writable_production(tmp_path_factory.mktemp("prod") / "production")
    yield
    PRODUCTION = SHIPPED


def _cron(capsys, inventory: Path | None = None, project: Path = REPO) -> tuple[str, str]:
    inventory = inventory or PRODUCTION
    code = main(["schedule", "--emit", "cron", "-i", str(inventory), "--project", str(project)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


def _jobs(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln and not ln.startswith(("#", "CRON_TZ"))]


def _inventory_copy(tmp_path: Path, change) -> Path:
    """The writable production copy with its standing approvals changed by `change(list)`."""
    dest = tmp_path / "production"
    shutil.copytree(PRODUCTION, dest)
    path = dest / "group_vars" / "all" / "drill.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc["drill"].setdefault("standing_approvals", []))
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def test_production_schedule_keeps_the_safeguards(capsys):
    out, err = _cron(capsys)
    jobs = _jobs(out)
    assert jobs
    for job in jobs:
        run = job[job.index(" run "):]
        assert "--yes" not in run and "--confirm-environment" not in run, job
        assert f"--standing-approval {APPROVAL}" in run, job
    assert not any("beijing-cutover" in j for j in jobs)
    assert re.search(r"^left out: beijing-cutover: .*'Confirm SSCC agreed the time of the DR "
                     r"cutover drill' needs a live confirmation", err, re.M), err
    assert "# left out: beijing-cutover:" in out


def test_rotation_covers_every_carrier_centre_and_line_within_a_year(capsys):
    out, _ = _cron(capsys)
    inv = load_inventory(PRODUCTION)
    by_drill: dict[str, dict[int, str]] = {}
    for job in _jobs(out):
        fields = job.split()
        months = range(1, 13) if fields[3] == "*" else [int(m) for m in fields[3].split(",")]
        drill = re.search(r" run ([a-z0-9-]+) ", job).group(1)
        value = (re.search(r"--set \w+=(\S+)", job) or [None, "-"])[1]
        for m in months:
            assert m not in by_drill.setdefault(drill, {}), f"{drill} twice in month {m}"
            by_drill[drill][m] = value
    for drill, months in by_drill.items():
        assert sorted(months) == list(range(1, 13)), f"{drill} misses months"
    quarters = lambda d: [by_drill[d][m] for m in (1, 4, 7, 10)]  # noqa: E731
    assert quarters("carrier-outage") == ["CT", "CU", "CT", "CU"]
    assert quarters("centre-outage") == ["FT", "NF", "FT", "NF"]
    terrestrial = {ln.id for ln in inv.lines if ln.medium != "satellite-oneway"}
    assert set(quarters("single-line")) == terrestrial
    assert {c.id for c in inv.carriers if any(ln.carrier == c.id for ln in inv.lines
                                              if ln.id in terrestrial)} == set(quarters("carrier-outage"))


def test_no_standing_approval_leaves_every_production_drill_out(tmp_path, capsys):
    inv = _inventory_copy(tmp_path, lambda approvals: approvals.clear())
    out, err = _cron(capsys, inv)
    assert _jobs(out) == []
    for d in ("single-line", "carrier-outage", "centre-outage", "md-multicast-fallback"):
        assert re.search(rf"^left out: {d}: a production run needs a standing approval: no "
                         r"standing approval in the inventory", err, re.M), err


def test_an_expired_or_narrow_approval_leaves_drills_out(tmp_path, capsys):
    def change(approvals):
        approvals[0]["valid_until"] = "2020-01-31"
        approvals.append({"change": "CHG-9", "approver": "Li Na", "valid_until": "2099-01-01",
                          "drills": ["single-line"]})

    out, err = _cron(capsys, _inventory_copy(tmp_path, change))
    assert {re.search(r" run ([a-z0-9-]+) ", j).group(1) for j in _jobs(out)} == {"single-line"}
    assert all("--standing-approval CHG-9" in j for j in _jobs(out))
    assert re.search(r"^left out: carrier-outage: .*does not cover carrier-outage", err, re.M) or \
        re.search(r"^left out: carrier-outage: .*expired on 2020-01-31", err, re.M), err


def _project_with_reference_step(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for sub in ("drills", "playbooks", "adapters"):
        shutil.copytree(REPO / sub, root / sub)
    (root / "inventories").mkdir()
    drill = root / "drills" / "centre-outage.yaml"
    text = drill.read_text(encoding="utf-8")
    anchor = "  precheck:\n"
    assert anchor in text
    drill.write_text(text.replace(anchor, anchor + (
        "    - name: Record the SSCC notification of this drill\n"
        "      manual: Give the reference of the notification filed with SSCC.\n"
        "      reference: sscc_notification\n"), 1), encoding="utf-8")
    return root


def test_a_reference_step_is_scheduled_only_with_the_reference(tmp_path, capsys):
    root = _project_with_reference_step(tmp_path)
    out, _ = _cron(capsys, PRODUCTION, root)
    assert any(" run centre-outage " in j for j in _jobs(out))

    def without(approvals):
        approvals[0]["sscc_notification"] = None

    out, err = _cron(capsys, _inventory_copy(tmp_path, without), root)
    assert not any(" run centre-outage " in j for j in _jobs(out))
    assert re.search(r"^left out: centre-outage: .*records no SSCC notification reference", err,
                     re.M), err


# -- drill run --standing-approval: checked again when the unit runs --------------------------

SATURDAY_NOON_SHANGHAI = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)


def _opts(tmp_path: Path, **kw) -> RunOptions:
    return RunOptions(reports_dir=tmp_path / "reports", drill_home=tmp_path / "home",
                      project_root=REPO, **kw)


@pytest.fixture
def saturday(monkeypatch):
    monkeypatch.setattr(safety, "_now_dt", lambda: SATURDAY_NOON_SHANGHAI)


def _resolved(drill_id: str, project: Path = REPO, **sets):
    inv = load_inventory(PRODUCTION)
    return resolve(find_drill(project / "drills", drill_id), inv, sets), inv


def test_run_under_the_standing_approval_needs_no_confirmation(tmp_path, saturday):
    resolved, inv = _resolved("carrier-outage", carrier="CU")
    safety.preflight(resolved, inv, _opts(tmp_path, standing_approval=APPROVAL))
    approval = safety.standing_approval(resolved, inv, _opts(tmp_path, standing_approval=APPROVAL))
    assert approval.change == APPROVAL and approval.approver
    with pytest.raises(RefusedError, match="not a lab: confirm"):  # without it: as before
        safety.preflight(resolved, inv, _opts(tmp_path))


@pytest.mark.parametrize(("drill_id", "change", "kw", "why"), [
    ("beijing-cutover", APPROVAL, {}, "needs a live confirmation"),
    ("carrier-outage", "CHG-NOPE", {}, "no standing approval 'CHG-NOPE'"),
    ("carrier-outage", APPROVAL, {"yes": True, "operator": "x"}, "never goes with --yes"),
])
def test_run_under_a_standing_approval_is_refused_when_it_cannot_stand(tmp_path, saturday,
                                                                       drill_id, change, kw, why):
    resolved, inv = _resolved(drill_id)
    with pytest.raises(RefusedError, match=why):
        safety.preflight(resolved, inv, _opts(tmp_path, standing_approval=change, **kw))


def test_an_expired_approval_is_refused_when_the_unit_runs(tmp_path, monkeypatch):
    resolved, inv = _resolved("carrier-outage")
    monkeypatch.setattr(safety, "_now_dt", lambda: datetime(2028, 1, 1, 4, 0, tzinfo=UTC))
    with pytest.raises(RefusedError, match="expired on 2027-12-31"):
        safety.preflight(resolved, inv, _opts(tmp_path, standing_approval=APPROVAL))


def test_the_approval_answers_a_reference_step_and_says_how(tmp_path, saturday):
    root = _project_with_reference_step(tmp_path)
    resolved, inv = _resolved("centre-outage", project=root)
    opts = _opts(tmp_path, standing_approval=APPROVAL, operator="scheduler")
    approval = safety.standing_approval(resolved, inv, opts)
    step = resolved.phases["precheck"][0]
    assert step.kind == "manual" and step.reference == "sscc_notification"
    emitted = []
    eng = types.SimpleNamespace(opt=opts, approval=approval, emit=emitted.append,
                                target=types.SimpleNamespace(unattended_ack=None))
    assert ManualKind().run(eng, StepCall("precheck", 0, step, "precheck[0]")) is None
    (ack,) = emitted
    assert ack.operator == "scheduler" and ack.unattended
    assert ack.how == f"standing-approval {APPROVAL}: sscc_notification SSCC-NOTICE-2026-118"


def test_plan_schedule_is_pure_given_today():
    inv = load_inventory(PRODUCTION)
    drills = load_drills(REPO / "drills")
    before = plan_schedule(inv, drills, date(2027, 12, 31))
    after = plan_schedule(inv, drills, date(2028, 1, 1))
    assert before.scheduled and not after.scheduled
    # beijing-cutover needs a live confirmation; an organised drill runs on its notice's date
    assert all("expired on 2027-12-31" in lo.reason for lo in after.left_out
               if lo.drill not in ("beijing-cutover", "sscc-organised-drill"))


def test_a_gateway_without_an_adapter_leaves_out_drills_that_rewrite_configs(capsys, tmp_path):
    out, err = _cron(capsys, SHIPPED)  # the shipped example declares its adapters
    for drill in ("carrier-outage", "single-line", "centre-outage"):
        assert "cannot write" not in err and any(f" run {drill} " in j for j in _jobs(out)), drill
    out, err = _cron(capsys, _unwritable_production(tmp_path / "production"))
    for drill in ("carrier-outage", "single-line", "centre-outage"):
        assert not any(f" run {drill} " in j for j in _jobs(out)), drill
        assert re.search(rf"^left out: {drill}: it rewrites gateway configs drill cannot write: "
                         r"W000010T \(declares no config_format", err, re.M), err
