"""Issue 13 on a real lab: honest verdicts (not applicable, not tested, inconclusive) and a
failed pre-check refused with exit 4. The order matters: the first runs need the fresh lab
(ct-nf carries no gateway; carrier CU carries trading and market data, no settlement)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from engine_fixtures import lab_env_fixture  # noqa: F401 - the lab_env fixture
from engine_helpers import newest_run, of_kind, records, run_captured

from orchestrator.archive.runs import scan_runs
from orchestrator.compliance.cadence import DrillCadence, due
from orchestrator.engine.options import RunOptions
from orchestrator.engine.prepare import prepare
from orchestrator.engine.runner import Engine
from orchestrator.model.inventory import Endpoint
from orchestrator.reports import render_report


def _objectives(run: Path) -> dict[str, dict]:
    return {o["name"]: o for o in of_kind(records(run), "objective")}


@pytest.fixture(scope="module", name="no_gateway_line")
def no_gateway_line_fixture(lab_env):
    """single-line ct-nf on the fresh lab: no gateway uses ct-nf."""
    return run_captured(lab_env, "single-line", "--set", "line=ct-nf", "--set", "hold=1s")


@pytest.fixture(scope="module", name="carrier_cu")
def carrier_cu_fixture(lab_env, no_gateway_line):
    """carrier CU after that: trading and market data move, no settlement gateway does."""
    return run_captured(lab_env, "carrier-outage", "--set", "carrier=CU", "--set", "hold=1s")


def test_a_line_no_gateway_uses_gives_not_applicable_rtos_and_is_inconclusive(no_gateway_line):
    ran = no_gateway_line
    assert ran.code == 5, ran.out + ran.err
    objs = _objectives(ran.run)
    for svc in ("trading", "market_data", "settlement"):
        assert objs[f"rto.{svc}"]["state"] == "not_applicable" and objs[f"rto.{svc}"]["passed"] is False
    assert objs["failover_exercised"]["state"] == "not_tested"
    end = records(ran.run)[-1]["data"]
    assert (end["status"], end["exit_code"]) == ("inconclusive", 5)
    last = ran.out.strip().splitlines()[-1]
    assert last.startswith("INCONCLUSIVE: ") and "3 not applicable, 1 not tested" in last
    report = json.loads((ran.run / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "inconclusive" and report["objective_states"]["not_applicable"] == 3
    assert report["verdict"]["zh"].startswith("无法判定：")


def test_a_carrier_without_settlement_gateways_gives_settlement_not_applicable_and_exit_0(carrier_cu):
    ran = carrier_cu
    assert ran.code == 0, ran.out + ran.err
    objs = _objectives(ran.run)
    assert objs["rto.settlement"]["state"] == "not_applicable"
    assert objs["rto.trading"]["state"] == "passed" and objs["rto.market_data"]["state"] == "passed"
    assert objs["no_double_login"]["state"] == "passed"  # the lab shows the session table
    assert ran.out.strip().splitlines()[-1].startswith("PASSED: ")
    report = json.loads((ran.run / "report.json").read_text(encoding="utf-8"))
    states = {o["name"]: o["state_label"] for o in report["objectives"]}
    assert states["rto.settlement"] == {"zh": "不适用", "en": "not applicable"}
    assert states["rto.trading"] == {"zh": "通过", "en": "passed"}


def test_centre_outage_of_the_dr_centre_is_inconclusive_and_never_counted_by_due(lab_env, carrier_cu):
    ran = run_captured(lab_env, "centre-outage", "--set", "centre=BJ", "--set", "hold=1s")
    assert ran.code == 5, ran.out + ran.err
    assert _objectives(ran.run)["failover_exercised"]["state"] == "not_tested"
    centre = DrillCadence("centre-outage", "主中心整体故障演练", "Centre outage", "quarterly")
    runs = scan_runs(lab_env.reports)  # lab runs included
    assert any(r.drill == "centre-outage" and r.status == "inconclusive" for r in runs)
    (v,) = due([centre], runs, timezone="Asia/Shanghai", now=datetime.now(UTC))
    assert v.last_pass is None and v.status == "overdue"


class _Proxy:
    """A TCP forwarder in front of one gateway monitor; `silence()` drops it for good."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def resume(self) -> None:
        """Answer again, on the same port (the monitor comes back)."""
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def silence(self) -> None:
        # shutdown, not close alone: an accept() blocked in the other thread would still
        # take the next connection on a merely closed socket (Linux)
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        with self.lock:
            for s in self.conns:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()


def test_a_monitor_silenced_mid_drill_gives_not_tested_and_exit_5(lab_env, carrier_cu):
    prepared = prepare(lab_env.project, "quick", lab_env.inventory, {"carrier": "CT"},
                       lab_env.home, start_lab=False)
    inv = prepared.inventory
    # a gateway carrier CT leaves alone where the gateways are now (the run predicts from
    # the monitors, and the earlier drills may have left some off their home centre)
    quiet = next(g for g in inv.gateways
                 if g.id not in _on_path_now(prepared, inv) and not g.satellite_only)
    proxy = _Proxy((quiet.monitor.address, quiet.monitor.port))
    gws = tuple(dataclasses.replace(g, monitor=Endpoint("127.0.0.1", proxy.port)) if g.id == quiet.id
                else g for g in inv.gateways)
    watched = dataclasses.replace(inv, gateways=gws)
    opts = RunOptions(reports_dir=lab_env.reports, drill_home=lab_env.home,
                      project_root=lab_env.project, overrides={"carrier": "CT"})
    eng = Engine(prepared.resolved, watched, opts, prepared.target)

    seen: list[str] = []

    def before(step):
        # silent from the first wait (the fault is injected) until restore begins (the
        # failover is measured then): drill never hears the gateway during the failover
        if step.kind == "wait" and not seen:
            proxy.silence()
            seen.append("silenced")
        elif step.kind == "playbook" and seen == ["silenced"]:
            proxy.resume()
            seen.append("resumed")
        return None

    eng.before_step = before
    outcome = eng.run()
    assert seen == ["silenced", "resumed"]
    assert quiet.id not in eng.state.affected, "the run put the silenced gateway on the failed path"
    objs = {o.name: o for o in outcome.objectives}
    assert objs["unaffected_no_interruption"].verdict == "not_tested", objs
    assert quiet.id in objs["unaffected_no_interruption"].detail
    quiet_m = next(m for m in outcome.measurements if m.gateway == quiet.id and m.phase == "failover")
    assert quiet_m.passed is None and "monitor stream" in quiet_m.note
    assert (outcome.status, outcome.exit_code) == ("inconclusive", 5), outcome.summary
    report = json.loads((outcome.run_dir / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "inconclusive"


def _on_path_now(prepared, inv, unseen: str = "") -> set[str]:
    """The drill's failed path from the centres the monitors report now, as the run
    predicts it, `unseen` a gateway whose monitor will not answer (then on its home centre)."""
    from orchestrator.engine.plan import predicted_path
    from orchestrator.probes.monitor import fetch_status_sync

    centres = {g.id: fetch_status_sync(g.monitor.address, g.monitor.port).get("centre")
               for g in inv.gateways if g.id != unseen}
    return set(predicted_path(prepared.resolved, inv, centres))


def test_a_failed_pre_check_is_refused_with_exit_4_before_any_change(lab_env, carrier_cu):
    # a gateway off single-line's failed path where the gateways are now: one on it would
    # be refused earlier, as a gateway drill cannot observe
    prepared = prepare(lab_env.project, "single-line", lab_env.inventory, {}, lab_env.home,
                       start_lab=False)
    gateway = next(g.id for g in prepared.inventory.gateways
                   if g.id not in _on_path_now(prepared, prepared.inventory, unseen=g.id))
    lab_env.lab.client.gateway_stop(gateway)
    try:
        ran = run_captured(lab_env, "single-line")  # its pre-check runs verify.yml
    finally:
        lab_env.lab.client.gateway_start(gateway)
    assert ran.code == 4, ran.out + ran.err
    assert "steady-state gate failed: pre-check" in ran.err
    recs = records(newest_run(lab_env.reports, "single-line"))
    assert not [s for s in of_kind(recs, "step.start") if s["phase"] != "precheck"]
    assert not of_kind(recs, "abort")
    assert (recs[-1]["data"]["status"], recs[-1]["data"]["exit_code"]) == ("refused", 4)
    report = json.loads((newest_run(lab_env.reports, "single-line") / "report.json").read_text("utf-8"))
    assert report["status"] == "refused"


def test_a_drill_that_cuts_every_line_naming_only_market_data_fails_on_trading_and_settlement(
        lab_env, carrier_cu, tmp_path):
    ran = run_captured(lab_env, "md-only")
    assert ran.code == 1, ran.out + ran.err
    objs = _objectives(ran.run)
    assert objs["rto.market_data"]["state"] == "passed"
    for svc in ("trading", "settlement"):
        o = objs[f"unexpected.{svc}"]
        assert o["state"] == "failed" and "neither names this service" in o["detail"]
    # measured through restore, shown in the table, never "pass"
    trading = [m for m in of_kind(records(ran.run), "measure")
               if m["service"] == "trading" and m["phase"] == "failover"]
    assert trading and all(m["interrupted"] and m["interruption_s"] and m["passed"] is False
                           for m in trading)
    md = (ran.run / "report.json").read_text(encoding="utf-8")
    assert json.loads(md)["status"] == "failed"
    first_page = render_report(ran.run, "md", "zh", tmp_path / "report.zh.md").read_text("utf-8")
    findings = first_page.split("\n## ")[0]  # before the first section: the status banner
    assert "重要发现" in findings and "交易业务意外中断" in findings and "结算业务意外中断" in findings


def test_the_same_drill_declaring_those_interruptions_expected_passes(lab_env, carrier_cu):
    ran = run_captured(lab_env, "md-only-declared")
    assert ran.code == 0, ran.out + ran.err
    objs = _objectives(ran.run)
    for svc in ("trading", "settlement"):
        o = objs[f"expected.{svc}"]
        assert o["state"] == "passed" and o["measured"] > 0, o
    assert not [n for n in objs if n.startswith("unexpected.")]
