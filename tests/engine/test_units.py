"""The engine's small parts: event bus, journal handler, lock, redaction, run ids."""

from __future__ import annotations

import json
import os
import re

import pytest

from orchestrator.engine import events as ev
from orchestrator.engine.lock import EnvironmentLock, break_stale, is_stale, lock_path
from orchestrator.errors import RefusedError
from orchestrator.journal import records as jr
from orchestrator.journal.chain import Journal, first_bad_record, read_records
from orchestrator.journal.runfolder import RUN_ID, RunFolder
from orchestrator.model.redact import Redactor


def test_a_failing_observer_is_detached_and_the_run_goes_on():
    bus = ev.EventBus()
    seen: list[str] = []

    def broken(_event):
        raise RuntimeError("observer bug")

    bus.subscribe(broken)
    bus.subscribe(lambda e: seen.append(e.kind))
    bus.emit(jr.PhaseStart("fault"))
    bus.emit(jr.PhaseEnd("fault"))
    assert seen == ["phase.start", "phase.end"]


def test_a_failing_journal_handler_stops_the_run():
    bus = ev.EventBus()

    def journal(_event):
        raise OSError("disk full")

    bus.subscribe(journal, critical=True)
    with pytest.raises(OSError):
        bus.emit(jr.StepStart("fault", 0))


def test_journal_handler_writes_each_event_as_its_kind_redacted(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl", "run")
    bus = ev.EventBus()
    bus.subscribe(ev.JournalHandler(journal, Redactor(["hunter22secret"])), critical=True)
    bus.emit(jr.ProbeTransition("W000000T", "trading", "ok", "fail", None, "http-json"))
    bus.emit(jr.AnsibleTask("fault[0]", "lab", "t", "cmd", "ok", msg="pw hunter22secret"))
    bus.emit(jr.StepStart("fault", 0, detail={"vars": {"db_password": "x1y2z3w4"}}))
    journal.close()
    recs = list(read_records(tmp_path / "journal.jsonl"))
    assert [r.kind for r in recs] == ["probe.transition", "ansible.task", "step.start"]
    assert recs[0].data["from"] == "ok" and recs[0].data["to"] == "fail"
    assert "hunter22secret" not in (tmp_path / "journal.jsonl").read_text()
    assert recs[2].data["detail"]["vars"]["db_password"] == "<redacted>"
    assert first_bad_record(tmp_path / "journal.jsonl") is None


def test_the_lock_names_its_holder_and_is_released(tmp_path):
    first = EnvironmentLock(tmp_path, "lab")
    first.acquire("20261125T111500Z-carrier-outage-3f9a1c")
    with pytest.raises(RefusedError, match=r"locked by run 20261125T111500Z-carrier-outage-3f9a1c"
                                           r" by \S+@\S+ \(pid \d+\) since"):
        EnvironmentLock(tmp_path, "lab").acquire("other")
    assert not is_stale(lock_path(tmp_path, "lab"))
    assert break_stale(tmp_path, "lab") is None  # a live lock is never broken
    first.release()
    again = EnvironmentLock(tmp_path, "lab")
    again.acquire("next")
    again.release()
    assert not lock_path(tmp_path, "lab").exists()


def test_a_lock_whose_holder_died_is_stale(tmp_path):
    path = lock_path(tmp_path, "lab")
    path.parent.mkdir(parents=True)
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    path.write_text(json.dumps({"run_id": "r", "user": "u", "host": "h", "pid": pid,
                                "since": "2026-11-25T00:00:00Z"}))
    os.utime(path, (0, 0))
    with pytest.raises(RefusedError, match=r"stale lock.*drill recover"):
        EnvironmentLock(tmp_path, "lab").acquire("x")
    assert path.exists()
    assert break_stale(tmp_path, "lab").run_id == "r"
    assert not path.exists()


def test_run_ids_sort_by_time_and_name_the_drill(tmp_path):
    folder = RunFolder.create(tmp_path, "carrier-outage", "Asia/Shanghai",
                              now_ns=1_798_761_600_000_000_000)  # 2027-01-01T00:00Z
    assert RUN_ID.match(folder.run_id)
    assert re.match(r"^20270101T000000Z-carrier-outage-[0-9a-f]{6}$", folder.run_id)
    assert folder.path.parent.name == "2027"
    late = RunFolder.create(tmp_path, "x", "Asia/Shanghai", now_ns=1_798_758_000_000_000_000)
    assert late.path.parent.name == "2027"  # 2026-12-31T23:00Z is already 2027 in Shanghai
    assert late.run_id.startswith("20261231T230000Z-")


def test_redaction_of_vault_values_and_secret_keys():
    r = Redactor(["s3cr3t-value"])
    out = r({"api_token": "abc", "note": "uses s3cr3t-value here",
             "v": "$ANSIBLE_VAULT;1.1;AES256\n6162", "items": [{"password": "p"}], "ok": 1})
    assert out == {"api_token": "<redacted>", "note": "uses <redacted> here", "v": "<redacted>",
                   "items": [{"password": "<redacted>"}], "ok": 1}


def test_inventory_secrets_are_found_in_the_file_and_group_vars(tmp_path):
    from orchestrator.config.secrets import inventory_secrets

    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    gateway_admin_password: Pl41n-Secret-77\n    note: not secret\n"
        "  children:\n    g:\n      hosts:\n        h:\n          api_token: !vault |\n"
        "            $ANSIBLE_VAULT;1.1;AES256\n            6162636465\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("smtp:\n  password: Gr0up-Secret-88\n")
    assert inventory_secrets(tmp_path) == ["Gr0up-Secret-88", "Pl41n-Secret-77"]


def test_a_missed_slot_report_is_not_taken_as_the_first_failing_observation():
    """A loop that fell behind reports `missed` slots (ok false); that says nothing about
    the gateway, so drill's `observed` time must come from a real failing sample."""
    from types import SimpleNamespace

    from orchestrator.engine.observe import Observation
    from orchestrator.engine.safety import Safety
    from orchestrator.engine.state import RunState
    from orchestrator.probes import Sample
    from orchestrator.targets.hosts import HostsTarget

    emitted: list = []
    state = RunState(phase="fault", link_lost_ns=1_000)
    inv = SimpleNamespace(gateway=lambda gid: SimpleNamespace(service_name="trading"),
                          timing=SimpleNamespace(probe_period=0.1), gateways=())
    obs = Observation(inv, HostsTarget(), state, Safety(state, emitted.append), emitted.append,
                      blast_radius=True, progress=False)
    missed = Sample("http-json", "W000000T", 2_000, 0, False, 0.0, {"missed": 3}, "missed samples")
    failing = Sample("http-json", "W000000T", 3_000, 0, False, 1.0, None, "connection refused")
    obs.on_sample(missed)
    assert state.observed == {}
    obs.on_sample(failing)
    assert state.observed == {"W000000T": 3_000}
    assert len(emitted) == 1


def test_a_session_stranded_at_a_down_centre_is_no_second_login():
    """Beijing cutover: Shenzhen is down and its table still holds the gateway's old session
    until it expires; the login at BJ is the only one anybody can use (R-APP-5)."""
    from orchestrator.targets.lab import sessions_by_gateway

    def status(ft_state: str) -> dict:
        return {"centres": [{"id": "FT", "state": ft_state}, {"id": "NF", "state": ft_state},
                            {"id": "BJ", "state": "up"}],
                "sessions": [{"gateway": "W000000T", "centre": "FT", "service": "trading"},
                             {"gateway": "W000000T", "centre": "BJ", "service": "trading"}],
                "gateways": [{"id": "W000000T"}]}

    assert sessions_by_gateway(status("down")) == {"W000000T": 1}
    assert sessions_by_gateway(status("up")) == {"W000000T": 2}


def test_the_failback_is_measured_only_once_its_restarted_gateways_are_heard_again():
    """A failback restarts gateways: their monitor streams reconnect with back-off. Measured
    before drill hears them again, the failback would be "not measured (monitor stream
    lost)"; the engine waits for the streams first (a bounded wait)."""
    import threading
    from types import SimpleNamespace

    from orchestrator.engine.observe import Observation
    from orchestrator.engine.safety import Safety
    from orchestrator.engine.state import RunState
    from orchestrator.probes.monitor import GatewayTracker
    from orchestrator.targets.hosts import HostsTarget

    state = RunState()
    inv = SimpleNamespace(gateways=())
    obs = Observation(inv, HostsTarget(), state, Safety(state, lambda e: None), lambda e: None,
                      blast_radius=True, progress=False)
    obs.tracker = GatewayTracker([("W000000T", "trading"), ("W00001TF", "market_data")])
    for gid in ("W000000T", "W00001TF"):
        obs.tracker.set_connected(gid, True)
        obs.tracker.set_connected(gid, False)  # the failback restarted it
    back = threading.Timer(0.3, lambda: obs.tracker.set_connected("W000000T", True))
    back.start()
    obs.hear_again(["W000000T"], timeout_s=30)
    assert obs.tracker.lost_since("W000000T") is None  # heard again: measurable
    obs.hear_again(["W00001TF"], timeout_s=0.2)  # never back: the wait ends at its bound
    assert obs.tracker.lost_since("W00001TF") is not None  # and it is "not measured"
