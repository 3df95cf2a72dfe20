"""carrier-outage and md-multicast-fallback end to end on the extended bed with the vendor-style
gateway and `observe: host`: drill has no monitor to ask; it measures every affected gateway
from its own log (GB18030, Shanghai time) on its host over SSH through the bastion, the
clock-skewed gw2 included, and from its host's socket table (`host-socket`, the second
source the engine measures beside the log). Both are compared with the exchange's ground
truth.

The shipped carrier-outage declares failback; the failback through the vendor's INI is the
by-hand single-line test below. The carrier-outage here runs from a project copy with
`failback: false`: the fault, recovery, hold, restore and evidence phases as shipped, and a
pre-check made from the gateway host (`ssh-tcp` to FT's trading address from gw, through
the bastion, and an `ssh-command` on gw).
md-multicast-fallback runs from a project copy whose pre-check waits for market data over
TCP (`md_source: tcp`, read from the logs) instead of asking each gateway's monitor (a
`verify` step with a monitor probe reads a monitor, which these gateways do not have)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostbed.vendor_bed import vendor_bed

from orchestrator.cli import main
from orchestrator.journal.gzlines import read_lines
from orchestrator.lab.truth import read_truth

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parents[2]
# Even ids are FT-homed, odd NF-homed (drill's default server order); gw2's clock is skewed.
GATEWAYS = (("W000000T", "trading", "gw", ("FT", "NF")), ("W000001T", "trading", "gw", ("NF", "FT")),
            ("W000002T", "trading", "gw2", ("FT", "NF")))
# md-multicast-fallback: a market-data gateway on each host (gw2's skewed), trading and
# settlement beside them, which must not be interrupted
MD_GATEWAYS = (("W000010T", "trading", "gw", ("FT", "NF")), ("W000012Q", "market_data", "gw", ("FT", "NF")),
               ("W000013Q", "market_data", "gw2", ("NF", "FT")), ("W000015S", "settlement", "gw2", ("NF", "FT")))
SECOND = "failover:host-socket"


def project_copy(dest: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """The project with some shipped drills' text changed (drill file -> (old, new))."""
    dest.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in ("drills", ".git"):
            (dest / entry.name).symlink_to(entry)
    (dest / "drills").mkdir()
    for drill in (ROOT / "drills").glob("*.yaml"):
        text = drill.read_text(encoding="utf-8")
        if drill.name in edits:
            old, new = edits[drill.name]
            assert old in text, (drill.name, old)
            text = text.replace(old, new)
        (dest / "drills" / drill.name).write_text(text, encoding="utf-8")
    return dest


# A pre-check made where the gateways are: SSCC's FT trading address reached FROM gw (through
# the bastion; drill's own host has no route to it) and a command on gw (docs/drill-format.md).
FROM_GATEWAY_HOST = ("""phases:
  precheck:
""", """phases:
  precheck:
    - name: {zh: 从网关主机核对, en: "Pre-check: from the gateway host"}
      verify:
        - probe: ssh-tcp
          host: gw
          address: "{{ inventory.centre('FT').services.trading.address }}"
          port: "{{ inventory.centre('FT').services.trading.port }}"
        - {probe: ssh-command, host: gw, command: "ip -br link", pattern: 'UP'}
""")


def project_checked_from_the_gateway_host(dest: Path) -> Path:
    """carrier-outage as shipped but without failback (the failback through the vendor INI
    is the by-hand test below), its pre-check also made from gw over SSH."""
    text = (ROOT / "drills" / "carrier-outage.yaml").read_text(encoding="utf-8")
    assert "\nfailback: true" in text and FROM_GATEWAY_HOST[0] in text
    text = text.replace("\nfailback: true", "\nfailback: false").replace(*FROM_GATEWAY_HOST)
    return project_copy(dest, {"carrier-outage.yaml": (
        (ROOT / "drills" / "carrier-outage.yaml").read_text(encoding="utf-8"), text)})


MD_PRECHECK = ("""      verify:
        - {probe: monitor, gateways: market_data, expect: {state: logged_in, md.source: tcp}}""",
               """      wait: {until: {md_source: tcp}, timeout: 30s}""")


@pytest.fixture(scope="module")
def vendor_drill(tmp_path_factory):
    yield from vendor_bed(tmp_path_factory.mktemp("vendor-e2e"), GATEWAYS)


@pytest.fixture(scope="module")
def md_drill(tmp_path_factory):
    yield from vendor_bed(tmp_path_factory.mktemp("vendor-md"), MD_GATEWAYS, multicast=True)


def run_drill(bed, inv, project, reports: Path, drill: str, *sets: str) -> int:
    return main(["run", drill, "-i", str(inv), "--project", str(project), "--reports", str(reports),
                 "--confirm-environment", f"hostbed-{bed.prefix}", *[a for s in sets for a in ("--set", s)],
                 "--json"])


def outcome_of(code: int, capsys, reports: Path) -> dict:
    out, err = capsys.readouterr()
    if "{" not in out:  # refused before the JSON outcome: the journal's last word says why
        ends = [ln for j in reports.rglob("journal*") for ln in j.read_text(errors="replace")
                .splitlines() if "run.end" in ln or "steady" in ln]
        pytest.fail(f"exit {code}: {err[-1500:]} {ends[-3:]}")
    return json.loads(out[out.index("{"):])


def ns(stamp) -> int | None:
    return stamp["ns"] if isinstance(stamp, dict) else None


def both_sources(outcome: dict, gid: str) -> tuple[dict, dict]:
    """The gateway's failover measure (its log) and the host-socket one beside it."""
    ms = [m for m in outcome["measurements"] if m["gateway"] == gid]
    log = [m for m in ms if m["phase"] == "failover"]
    sock = [m for m in ms if m["phase"] == SECOND]
    assert len(log) == 1 and len(sock) == 1, ms
    for m, source in ((log[0], "gateway-log"), (sock[0], "host-socket")):
        for what in ("detected", "restored"):
            if m[what] is not None:
                assert m[what]["source"] == source, (gid, what, m)
    return log[0], sock[0]


def figures(label: str, rows: list[tuple[str, int | None, int | None, int]]) -> str:
    """|log − truth| and |socket − truth| per gateway, in ms (printed: informative)."""
    return f"{label}: " + "; ".join(
        f"{gid} |log-truth| {'-' if lg is None else f'{abs(lg - t) / 1e6:.1f}'} ms, "
        f"|socket-truth| {'-' if sk is None else f'{abs(sk - t) / 1e6:.1f}'} ms" for gid, lg, sk, t in rows)


@pytest.mark.slow(group="hostbed-e2e")
def test_carrier_outage_measured_from_vendor_logs_and_sockets(vendor_drill, tmp_path, capsys, monkeypatch):
    bed, inv, _, _ = vendor_drill
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    project = project_checked_from_the_gateway_host(tmp_path / "project")
    reports = tmp_path / "reports"
    code = run_drill(bed, inv, project, reports, "carrier-outage", "mode=shutdown", "hold=2s")
    outcome = outcome_of(code, capsys, reports)
    states = {o["name"]: o["state"] for o in outcome["objectives"]}
    assert code in (0, 5), (code, outcome["status"], outcome.get("summary"), outcome.get("abort_reason"), states)
    records = [json.loads(ln) for ln in (Path(outcome["run_dir"]) / "journal.jsonl").read_text(
        encoding="utf-8").splitlines() if ln.strip()]
    from_gw, = [r["data"] for r in records if r["kind"] == "step.end"
                and (r["data"]["phase"], r["data"]["index"]) == ("precheck", 0)]
    assert from_gw["step_kind"] == "verify" and from_gw["status"] == "ok", from_gw
    assert set(states.values()) <= {"passed", "not_applicable", "not_tested"}, states
    truth = [r for c in ("FT", "NF") for r in read_truth(bed.root / f"truth-{c}.jsonl")
             if r["type"] == "login_accepted"]
    rows = []
    for gid in ("W000000T", "W000002T"):  # FT-homed: their path was CT's line (gw2 skewed)
        m, sock = both_sources(outcome, gid)
        assert m["affected"] is True and m["restored"] is not None and m["detected"] is not None, m
        assert sock["affected"] is True and sock["restored"] is not None and sock["passed"] is None, sock
        assert sock["centre_after"] == "NF" and "sources agree" in sock["note"], sock
        at_nf = [r["ts_ns"] for r in truth if r["gateway"] == gid and r["centre"] == "NF"]
        assert len(at_nf) == 1, at_nf
        # the log's login, offset-corrected, against the exchange's
        assert abs(ns(m["restored"]) - at_nf[0]) < 50_000_000, (gid, m["restored"], at_nf)
        # the socket's, on the runner's clock, within its uncertainty (the poll window)
        unc = sock["restored"]["uncertainty_ms"] * 1e6
        assert abs(ns(sock["restored"]) - at_nf[0]) <= unc + 50_000_000, (gid, sock["restored"], at_nf)
        rows.append((gid, ns(m["restored"]), ns(sock["restored"]), at_nf[0]))
    print(figures("carrier-outage trading restored", rows))
    assert both_sources(outcome, "W000001T")[0]["affected"] is False
    events = list(read_lines(Path(outcome["run_dir"]) / "evidence" / "gateway-events.jsonl.gz"))
    assert {e["source"] for e in events} >= {"gateway-log", "host-socket"}


# By hand (-m slow): under heavy load the linux driver's black-holes, applied router by router,
# land seconds apart, and the gateways ride the other centre's TCP feed in between (see the
# report in docs/observers.md, "On the bed"); the carrier-outage above is CI's sample.
@pytest.mark.slow(sample=False)
def test_md_multicast_fallback_measured_from_vendor_logs_and_sockets(md_drill, tmp_path, capsys, monkeypatch):
    """Only TCP market data is made unreachable (black-holed on both line routers): market
    data moves to the satellite multicast and back, its gap measured from each market-data
    gateway's log and socket table (gw2 skewed), while trading and settlement carry on,
    measured: no interruption in their logs or sockets."""
    bed, inv, _, _ = md_drill
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    project = project_copy(tmp_path / "project", {"md-multicast-fallback.yaml": MD_PRECHECK})
    reports = tmp_path / "reports"
    code = run_drill(bed, inv, project, reports, "md-multicast-fallback", "hold=2s")
    outcome = outcome_of(code, capsys, reports)
    states = {o["name"]: o["state"] for o in outcome["objectives"]}
    events = list(read_lines(Path(outcome["run_dir"]) / "evidence" / "gateway-events.jsonl.gz"))
    ticks = [r for r in read_truth(bed.root / "truth-FT.jsonl") if r["type"] == "mcast_tick"]
    rows = []
    for gid in ("W000012Q", "W000013Q"):  # gw's and the skewed gw2's
        m, sock = both_sources(outcome, gid)
        assert m["affected"] is True and m["interrupted"] is True and m["restored"] is not None, m
        assert sock["affected"] is True and sock["restored"] is not None, sock
        # market data came back over multicast, in the log and in the socket table, then TCP
        flowing = [e for e in events if e["gateway"] == gid and e["type"] == "md_flow"
                   and e["data"].get("state") == "flowing" and e["ts_ns"] >= ns(m["link_lost"])]
        by_log = [e for e in flowing if e["source"] == "gateway-log"]
        by_sock = [e for e in flowing if e["source"] == "host-socket"]
        # (the routers are black-holed one after the other: a gateway may ride the other
        # centre's TCP feed in between, so multicast need not be the first source after the loss)
        assert any(e["data"]["source"] == "multicast" for e in by_sock), flowing
        # its restoration: a multicast tick, whose send time the exchange recorded; then TCP again
        restored, = [e for e in by_log if e["ts_ns"] == ns(m["restored"])]
        assert restored["data"]["source"] == "multicast", restored
        assert any(e["data"].get("source") == "tcp" for e in by_log if e["ts_ns"] > restored["ts_ns"]), flowing
        sent = [r["ts_ns"] for r in ticks if restored["data"]["seq"] in r["seqs"].values()
                and r["ts_ns"] <= ns(m["restored"]) + 1_000_000_000]
        assert sent, (gid, restored)
        assert abs(ns(m["restored"]) - sent[-1]) < 50_000_000, (gid, m["restored"], sent[-1])
        # the socket's figure is printed, not held to a bound here: it flapped by a table after
        # the fallback while gw2's reads failed now and then (docs/observers.md, Limits), and
        # has not been measured often enough since; the carrier-outage test holds its logins
        # to their uncertainty
        rows.append((gid, ns(m["restored"]), ns(sock["restored"]), sent[-1]))
    print(figures("md-multicast-fallback market data restored (multicast)", rows))
    for gid in ("W000010T", "W000015S"):  # trading and settlement: not interrupted (the log, primary)
        m, sock = both_sources(outcome, gid)
        assert m["affected"] is False and m["interrupted"] is False, m
        assert not [e for e in events if e["gateway"] == gid and e["type"] == "link_down"
                    and e["source"] == "gateway-log"], gid
        # the socket source measured them too: should it see an interruption the log did not,
        # both notes flag it (interrupted by one source only), never judged
        assert sock["interrupted"] is False or "sources disagree" in sock["note"], sock
    # the verdict last: market data back within the drill's 10 s
    assert code in (0, 5), (code, outcome["status"], outcome.get("summary"), outcome.get("abort_reason"), states)
    assert states["rto.market_data"] == "passed", states
    assert set(states.values()) <= {"passed", "not_applicable", "not_tested"}, states


@pytest.mark.slow(sample=False)  # by hand (-m slow): the bed's carrier-outage above is CI's sample
def test_single_line_with_failback_through_the_vendor_ini(vendor_drill, tmp_path, capsys, monkeypatch):
    """single-line on cu-nf, as shipped (failback included), with the same vendor gateways:
    each gateway that line carries is measured from its own log within 50 ms of the
    exchange's login at FT, and from its host's socket table beside it; failback rewrites
    the vendor's INI in place and restore puts back the exact bytes."""
    bed, inv, pool, gws = vendor_drill
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    before = {g.id: pool.run(g.host, f"sha256sum {g.config}").stdout.split()[0] for g in gws}
    code = main(["run", "single-line", "-i", str(inv), "--project", str(ROOT), "--reports",
                 str(tmp_path / "reports"), "--confirm-environment", f"hostbed-{bed.prefix}",
                 "--set", "line=cu-nf", "--set", "mode=shutdown", "--set", "hold=2s", "--json"])
    out, err = capsys.readouterr()
    assert "{" in out, (code, err[-1500:])
    outcome = json.loads(out[out.index("{"):])
    assert code in (0, 5), (code, outcome["status"], outcome.get("summary"), outcome.get("abort_reason"))
    truth = [r for c in ("FT", "NF") for r in read_truth(bed.root / f"truth-{c}.jsonl")
             if r["type"] == "login_accepted"]
    affected = [m for m in outcome["measurements"] if m["affected"] and m.get("phase", "failover") == "failover"]
    assert affected, outcome["measurements"]
    for m in affected:
        assert m["restored"] is not None and m["detected"] is not None, m
        lost = m["link_lost"]["ns"] if isinstance(m["link_lost"], dict) else None
        restored = m["restored"]["ns"] if isinstance(m["restored"], dict) else None
        logins = [r["ts_ns"] for r in truth if r["gateway"] == m["gateway"] and r["centre"] == "FT"
                  and (lost is None or r["ts_ns"] >= lost)]
        assert logins, (m, "no login at FT after the line was cut")
        if restored is not None:
            assert abs(restored - logins[0]) < 50_000_000, (m["gateway"], restored, logins[0])
        # and from its host's socket table, beside the log (the second source)
        _, sock = both_sources(outcome, m["gateway"])
        assert sock["affected"] is True and sock["restored"] is not None and sock["passed"] is None, sock
        unc = sock["restored"]["uncertainty_ms"] * 1e6
        assert abs(ns(sock["restored"]) - logins[0]) <= unc + 50_000_000, sock
    after = {g.id: pool.run(g.host, f"sha256sum {g.config}").stdout.split()[0] for g in gws}
    assert after == before  # the vendor's INI, byte for byte
