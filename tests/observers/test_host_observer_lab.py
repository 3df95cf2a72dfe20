"""The `host` observer on the lab (issue 14): gateways measured from their vendor-style log
alone (GB18030, CRLF, local time, rotated), against the lab's ground truth; and a drill
whose affected gateway cannot be observed refused before any change (issue 13)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from support import TOLERANCE_S

from orchestrator.cli import main
from orchestrator.journal.gzlines import read_lines
from orchestrator.lab.testing import make_lab_inventory, running_lab

REPO = Path(__file__).resolve().parents[2]
ROTATE_BYTES = "500"  # small: the settlement gateway's log rotates within the run

# carrier-outage without pre-check, failback and evidence steps: the cheapest drill that
# takes gateways of every service off the air and brings them back.
HOST_OUTAGE = """\
id: host-outage
title: {zh: 日志观测演练, en: Carrier outage observed from the gateways' logs}
description: {zh: 测试, en: test}
spec: [R-NET-1]
cadence: quarterly
params:
  carrier: {type: carrier, default: CT}
targets:
  trading: {rto: 30s}
  market_data: {rto: 10s}
  settlement: {rto: 60s}
  no_double_login: true
abort: {blast_radius: true, recovery_margin: 10s}
phases:
  fault:
    - name: Cut carrier {{ carrier }}
      playbook: line.yml
      vars: {lines: "{{ lines_of_carrier(carrier) }}", state: down, mode: blackhole}
      effect: {lines_down: "{{ lines_of_carrier(carrier) }}", mode: blackhole}
      timeout: 120s
  recovery:
    - name: Wait until restored
      wait: {until: all_restored, timeout: 60s}
  hold:
    - name: Soak
      # long enough for a settlement log to rotate (ROTATE_BYTES) and be followed well
      # before the run ends, however fast the steps around it run
      wait: {for: 4s, while: no_new_loss}
  restore:
    - name: Restore carrier {{ carrier }}
      playbook: line.yml
      vars: {lines: "{{ lines_of_carrier(carrier) }}", state: up, mode: blackhole}
      effect: {lines_up: "{{ lines_of_carrier(carrier) }}"}
      timeout: 120s
    - name: Every gateway logged in
      wait: {until: all_logged_in, timeout: 60s}
"""


@dataclass(frozen=True)
class HostLab:
    home: Path
    inventory: Path
    state_dir: Path
    project: Path
    reports: Path


def _records(run: Path) -> list[dict]:
    with open(run / "journal.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _of_kind(recs: list[dict], kind: str) -> list[dict]:
    return [r["data"] for r in recs if r["kind"] == kind]


def _run(env: HostLab, drill: str, *extra: str) -> tuple[int, str, Path | None]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["run", drill, "--project", str(env.project), "--inventory", str(env.inventory),
                     "--reports", str(env.reports), *extra])
    runs = sorted(p.parent for p in env.reports.glob(f"*/*-{drill}-*/journal.jsonl"))
    return code, out.getvalue(), (runs[-1] if runs else None)


@pytest.fixture(scope="module", name="host_lab")
def host_lab_fixture(tmp_path_factory) -> Iterator[HostLab]:
    """A five-gateway lab whose gateways are all `observe: host` through the lab profile."""
    tmp = tmp_path_factory.mktemp("hostobs")
    saved = {k: os.environ.get(k) for k in ("DRILL_HOME", "DRILL_LAB_VENDOR_LOG_BYTES")}
    os.environ["DRILL_HOME"] = str(tmp / "home")
    os.environ["DRILL_LAB_VENDOR_LOG_BYTES"] = ROTATE_BYTES
    try:
        folder = make_lab_inventory(tmp / "inv", gateways=5)
        hosts = folder / "hosts.yml"
        doc = yaml.safe_load(hosts.read_text(encoding="utf-8"))
        for gw in doc["all"]["vars"]["drill"]["gateways"]:
            gw.update({"observe": "host", "profile": "lab-gateway",
                       "log": f"gateways/{gw['id']}/vendor.log"})
        hosts.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
        project = tmp / "project"
        project.mkdir()
        for sub in ("drills", "playbooks", "profiles"):
            shutil.copytree(REPO / sub, project / sub)
        (project / "inventories").mkdir()
        (project / "drills" / "host-outage.yaml").write_text(HOST_OUTAGE, encoding="utf-8")
        with running_lab(folder, tmp / "home") as handle:
            yield HostLab(tmp / "home", folder, handle.state_dir, project, tmp / "reports")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module", name="outage")
def outage_fixture(host_lab):
    return _run(host_lab, "host-outage")


def test_carrier_outage_measured_from_the_vendor_log_within_tolerance_of_truth(outage):
    code, out, run = outage
    assert run is not None, out
    assert code == 0, out
    truth = list(read_lines(run / "evidence" / "lab-truth.jsonl.gz"))
    measures = [m for m in _of_kind(_records(run), "measure")
                if m["phase"] == "failover" and m["affected"]]
    assert {m["service"] for m in measures} == {"trading", "market_data", "settlement"}
    for m in measures:
        gid = m["gateway"]
        assert m["detected"]["source"] == "gateway-log", m
        assert m["restored"]["source"] == "gateway-log", m
        lost = min(t["ts_ns"] for t in truth if t["type"] == "path_lost" and t["gateway"] == gid)
        if m["service"] == "market_data":
            back = min(t["ts_ns"] for t in truth if t["type"] == "md_first_tick"
                       and t["gateway"] == gid and t["ts_ns"] > lost)
        else:
            back = min(t["ts_ns"] for t in truth if t["type"] == "login_accepted"
                       and t["gateway"] == gid and t["ts_ns"] > lost)
            if m["service"] == "settlement":
                back = min(t["ts_ns"] for t in truth if t["type"] == "transfer" and t["ok"]
                           and t["gateway"] == gid and t["ts_ns"] >= back)
        assert abs(m["interruption_s"] - (back - lost) / 1e9) <= TOLERANCE_S, (m, back - lost)


def test_events_carry_the_log_source_and_the_unaffected_stay_uninterrupted(outage):
    _code, _out, run = outage
    # the gate and the after-check judged every gateway from its log, not its monitor
    for steady in _of_kind(_records(run), "steady_state"):
        assert steady["ok"], steady
        logged_in = [c for c in steady["checks"] if c["check"] == "logged_in"]
        assert len(logged_in) == 5 and all("(gateway-log)" in c["detail"] for c in logged_in)
    events = list(read_lines(run / "evidence" / "gateway-events.jsonl.gz"))
    assert events and all(e["source"] == "gateway-log" for e in events)
    assert {e["type"] for e in events} >= {"login", "link_down", "md_flow", "transfer"}
    unaffected = [m for m in _of_kind(_records(run), "measure") if not m["affected"]]
    assert unaffected and all(not m["interrupted"] for m in unaffected)


def test_the_lab_vendor_log_rotated_while_observed_and_was_followed(host_lab, outage):
    from orchestrator.config.profile import load_profile
    from orchestrator.probes.gateway_log import replay

    _code, _out, run = outage
    recs = _records(run)
    start_ns, end_ns = recs[0]["ts_ns"], recs[-1]["ts_ns"]
    events = list(read_lines(run / "evidence" / "gateway-events.jsonl.gz"))
    prof = load_profile(REPO / "profiles" / "lab-gateway.yaml")
    followed = []
    for old in (host_lab.state_dir / "gateways").glob("*/vendor.log.1"):
        gid = old.parent.name
        before = replay(prof, old.read_bytes())  # the file the last rotation closed
        rotated_ns = before[-1].ts_ns if before else 0
        if not start_ns < rotated_ns < end_ns:
            continue
        # the log rotated during the run: every event of the new file from before the run
        # ended (less a margin for the observer's stop) reached the journal's evidence
        current = replay(prof, old.with_name("vendor.log").read_bytes())
        expected = {(e.type, e.ts_ns) for e in current if rotated_ns < e.ts_ns < end_ns - 2 * 10**9}
        delivered = {(e["type"], e["ts_ns"]) for e in events if e["gateway"] == gid}
        assert expected <= delivered, f"{gid}: not read after its log rotated: {expected - delivered}"
        if expected:
            followed.append(gid)
    assert followed, "no vendor log rotated during the run: rotation was not exercised"
    raw = (host_lab.state_dir / "gateways" / followed[0] / "vendor.log").read_bytes()
    assert b"\r\n" in raw and "网关编号".encode("gb18030") in raw


def test_an_affected_gateway_whose_log_cannot_be_read_is_refused_before_any_change(host_lab, outage):
    inv = yaml.safe_load((host_lab.state_dir / "inventory.yml").read_text(encoding="utf-8"))
    even = [g["id"] for g in inv["all"]["vars"]["drill"]["gateways"]
            if int([c for c in g["id"] if c.isdigit()][-1]) % 2 == 0]
    log = host_lab.state_dir / "gateways" / even[0] / "vendor.log"
    hidden = log.with_name("vendor.hidden")
    log.rename(hidden)
    try:
        code, out, run = _run(host_lab, "host-outage")
    finally:
        hidden.rename(log)
    assert code == 4, out
    assert f"cannot observe affected gateway(s): {even[0]}" in out
    recs = _records(run)
    assert not _of_kind(recs, "fault.effective") and not [r for r in recs if r["kind"] == "step.start"]
    assert recs[-1]["data"]["status"] == "refused"
