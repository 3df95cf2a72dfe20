"""`drill hosts trust` and `drill hosts check` against the test bed."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from hostbed.inventory import fingerprint_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reports"))
from zh_words import foreign_words

from orchestrator.cli import main

pytestmark = pytest.mark.netns


def test_trust_from_inventory_fingerprints_then_check_logs_in(bed, inventory, capsys):
    (inventory / "known_hosts").unlink()
    assert main(["hosts", "trust", "-i", str(inventory), "--yes-fingerprints-from-inventory"]) == 0
    out = capsys.readouterr().out
    assert out.count("added") == 6 and fingerprint_of(bed.host("ct").host_key_pub) in out
    assert main(["hosts", "check", "-i", str(inventory), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {r["host"] for r in report["hosts"]} == {"bastion", "gw", "ct", "cu", "ft", "nf"}
    assert all(abs(r["offset_ms"]) <= r["uncertainty_ms"] + 0.01 for r in report["hosts"])
    # in zh (issue 20): one line a host, in Chinese but for the host names and the paths
    assert main(["hosts", "check", "-i", str(inventory), "--lang", "zh"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and all(ln.startswith("正常 ") and "时钟偏差" in ln for ln in lines), lines
    prose = re.sub(r"`[^`]*`|\S*/\S*|[\w.]+=\S+", " ", "\n".join(lines))
    assert foreign_words(prose, {"bastion", "gw", "ct", "cu", "ft", "nf"}) == [], lines


def test_trust_asks_for_each_host_and_writes_only_confirmed(bed, inventory, monkeypatch, capsys):
    (inventory / "known_hosts").unlink()
    answers = iter(["y", "n"])  # bastion yes, then gw no
    monkeypatch.setattr("click.termui.visible_prompt_func", lambda _prompt: next(answers))
    code = main(["hosts", "trust", "-i", str(inventory), "gw"])
    captured = capsys.readouterr()
    assert code == 1
    assert fingerprint_of(bed.host("gw").host_key_pub) in captured.out
    assert "not trusted: gw" in captured.err
    lines = (inventory / "known_hosts").read_text().splitlines()
    assert [ln.split()[0] for ln in lines] == [bed.bastion_address]


def _give_key_of(bed, known_hosts, host: str, donor: str) -> None:
    """The managed known_hosts now holds `donor`'s key for `host`: its key "changed"."""
    addr = bed.host(host).mgmt_address
    other = bed.host(donor).host_key_pub.read_text().split()[:2]
    kept = [ln for ln in known_hosts.read_text().splitlines() if not ln.startswith(addr + " ")]
    known_hosts.write_text("".join(ln + "\n" for ln in kept) + f"{addr} {other[0]} {other[1]}\n")


def test_check_refuses_a_changed_key_with_exit_4(bed, inventory, capsys):
    _give_key_of(bed, inventory / "known_hosts", "gw", "ct")
    assert main(["hosts", "check", "-i", str(inventory), "gw"]) == 4
    err = capsys.readouterr().err
    assert "HOST KEY CHANGED for gw" in err and fingerprint_of(bed.host("gw").host_key_pub) in err


def test_forward_carries_a_loopback_monitor_through_the_bastion(bed, tmp_path, monkeypatch):
    import os
    import signal
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    from hostbed.bed import wait_for
    from hostbed.inventory import gateway_entries, trust_all, write_inventory

    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inv = write_inventory(bed, tmp_path / "inv", gateways=gateway_entries(bed, {"W000000T": port}))
    trust_all(bed, inv)
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "status").write_text('{"state": "logged_in"}')
    server = bed.spawn("gw", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "-d",
                              str(tmp_path / "www"), str(port)], tmp_path / "http.log")
    env = {**os.environ, "DRILL_HOME": str(tmp_path / "home")}
    drill = str(Path(sys.executable).with_name("drill"))
    proc = subprocess.Popen([drill, "hosts", "forward", "-i", str(inv)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"forwarding 127.0.0.1:{port} → gw:127.0.0.1:{port} (W000000T)"), \
            line + proc.stderr.read() if proc.poll() is not None else line

        def fetch():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as resp:
                    return resp.read()
            except OSError:
                return None

        assert b"logged_in" in wait_for(fetch, 20, "the forwarded monitor to answer")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        server.terminate()
        server.wait(timeout=10)


def test_check_does_not_measure_a_network_router_as_a_linux_host(bed, tmp_path, monkeypatch, capsys):
    """A router (a vendor CLI, password login) is not logged in to with drill's key nor
    sent the shell clock loop: its host key is checked, its clock said not measured; the
    Linux hosts beside it are measured as before, and the run's clock evidence says the same."""
    import json as _json

    from hostbed import routersim

    from orchestrator.adapters.hosts import record_clock_offsets

    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    sim = routersim.start(bed, "ct", "huawei_vrp")
    try:
        inv = routersim.router_inventory(bed, tmp_path / "inv", {"ct": sim})
        assert main(["hosts", "check", "-i", str(inv), "--json", "ct", "gw"]) == 0, capsys.readouterr().err
        rows = {r["host"]: r for r in _json.loads(capsys.readouterr().out)["hosts"]}
        assert main(["hosts", "check", "-i", str(inv), "ct"]) == 0
        text = capsys.readouterr().out
        evidence = {r["host"]: r for r in record_clock_offsets(inv, tmp_path / "clock-offsets.json")}
        # a changed key is still refused, router or not
        _give_key_of(bed, inv / "known_hosts", "ct", "cu")
        assert main(["hosts", "check", "-i", str(inv), "ct"]) == 4
        assert "HOST KEY CHANGED for ct" in capsys.readouterr().err
    finally:
        routersim.stop(bed, "ct")
    assert set(rows) == {"ct", "gw"} and set(evidence) == {"bastion", "gw", "ct", "cu", "ft", "nf"}
    ct_row = rows.pop("ct")
    assert ct_row["platform"] == "huawei_vrp" and ct_row["host_key"] == "trusted"
    assert ct_row["offset_ms"] is None and ct_row["clock"].startswith("not measured")
    assert all(abs(r["offset_ms"]) <= r["uncertainty_ms"] + 0.01 for r in rows.values())
    assert text.startswith("ok  ct ") and "login not tested (huawei_vrp)" in text and "not measured" in text
    assert evidence["ct"]["method"] == "not measured" and "error" not in evidence["ct"], evidence["ct"]
    assert all(abs(r["offset_ms"]) <= r["uncertainty_ms"] + 0.01 for h, r in evidence.items() if h != "ct"), evidence
