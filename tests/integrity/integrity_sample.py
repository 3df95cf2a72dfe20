"""Sample run folders written with the real Journal, shaped like the engine's (journal.md)."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from orchestrator.integrity import verify as integrity
from orchestrator.integrity.manifest import write_ansible_manifest
from orchestrator.journal import runfolder
from orchestrator.journal.chain import Journal, stamp


def write_key(path: Path) -> Path:
    """A fresh Ed25519 signing key in OpenSSH form (what `ssh-keygen -t ed25519` writes)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.OpenSSH,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return path


def write_ansible_artifacts(run_dir: Path, t0: int) -> list[Path]:
    """What ansible-runner leaves in a step's private_data_dir once drill redacted it."""
    art = run_dir / "ansible" / "00-cut-ct-lines" / "artifacts" / "run"
    (art / "job_events").mkdir(parents=True)
    (run_dir / "ansible" / "00-cut-ct-lines" / "env").mkdir()
    files = []
    for i, (event, task) in enumerate([("playbook_on_start", None),
                                       ("runner_on_ok", "断开线路 ct-ft"),
                                       ("playbook_on_stats", None)], 1):
        p = art / "job_events" / f"{i}-0a1b2c3d-{i:04d}.json"
        p.write_text(json.dumps({"event": event, "counter": i, "created": t0 + i,
                                 "event_data": {"task": task, "password": "<redacted>"}},
                                ensure_ascii=False), encoding="utf-8")
        files.append(p)
    for name, text in (("stdout", "PLAY [cut] ***\nok: [lab]\n"), ("rc", "0"),
                       ("status", "successful"), ("command", '{"command": ["ansible-playbook"]}')):
        (art / name).write_text(text, encoding="utf-8")
        files.append(art / name)
    return files


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class SampleRun:
    reports: Path
    path: Path
    run_id: str

    def files(self) -> list[Path]:
        """Every file the seal covers: journal, reports, evidence, signature."""
        return sorted(p for p in self.path.rglob("*") if p.is_file())


def make_run(reports: Path, drill: str = "carrier-outage", key: Path | None = None,
             n: int = 0, year: str = "2026", seal: bool = True,
             inventory: str = "inventories/lab") -> SampleRun:
    """Write a finished run (run.start … run.end) and seal it: sign + archive index."""
    run_id = f"20261125T11150{n % 10}Z-{drill}-{n:06x}"
    run_dir = reports / year / run_id
    (run_dir / "evidence" / "files" / "lab" / "etc").mkdir(parents=True)
    j = Journal(run_dir / "journal.jsonl", run_id)
    t0 = time.time_ns()
    j.append("run.start", {
        "drill": {"id": drill, "title": {"zh": "运营商线路中断演练", "en": "Carrier outage"},
                  "sha256": "ab" * 32, "spec": ["R-DR-1"], "cadence": "quarterly"},
        "params": {"carrier": "CT", "password": "<redacted>"},
        "inventory": {"path": inventory, "environment": "lab", "kind": "lab",
                      "timezone": "Asia/Shanghai", "sha256": "cd" * 32},
        "operator": "张三", "os_user": "ops", "host": "ops-01", "pid": 4242,
        "ticket": "CHG-1", "approver": "李四", "unattended": True,
    })
    j.append("phase.start", {"phase": "fault", "status": "ok"})
    j.append("step.start", {"phase": "fault", "index": 0, "name": {"zh": "断开电信线路",
                                                                    "en": "Cut CT lines"},
                            "step_kind": "playbook", "automated": True})
    j.append("fault.effective", {"step": 0, "effect": "lines down",
                                 "at": stamp(t0, "fault-task", 5.0),
                                 "affected": {"W000000T": ["trading"]}})
    j.append("step.end", {"phase": "fault", "index": 0, "status": "ok", "duration_s": 0.4})
    j.append("phase.end", {"phase": "fault", "status": "ok"})
    ev = run_dir / "evidence"
    with gzip.open(ev / "probes.jsonl.gz", "wt", encoding="utf-8") as fh:
        for i in range(40):
            fh.write(json.dumps({"gw": "W000000T", "t": t0 + i * 50_000_000, "up": i % 7 != 3})
                     + "\n")
    (ev / "gateway-events.jsonl").write_text(
        "".join(json.dumps({"seq": i, "event": "session.up", "centre": "NF"}) + "\n"
                for i in range(5)), encoding="utf-8")
    conf = ev / "files" / "lab" / "etc" / "server_list.xml"
    conf.write_text("<servers>\n  <server centre=\"NF\" address=\"127.50.101.30\"/>\n</servers>\n")
    write_ansible_artifacts(run_dir, t0)
    for p in (ev / "probes.jsonl.gz", ev / "gateway-events.jsonl", conf):
        j.append("evidence.file", {"path": p.relative_to(run_dir).as_posix(), "sha256": _sha(p),
                                   "source": {"host": "lab", "path": "/x"}, "redacted": False,
                                   "original_sha256": _sha(p)}, sync=False)
    j.sync()
    digest = j.digest
    html = run_dir / "report.html"
    html.write_text(f"<!doctype html><html><body><h1>演练报告</h1><p>中止 aborted</p>"
                    f"<p>journal {digest}</p></body></html>\n", encoding="utf-8")
    rep = run_dir / "report.json"
    rep.write_text(json.dumps({"run": run_id, "status": "aborted", "journal_digest": digest},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    for p in (html, rep):
        j.append("report.file", {"path": p.name, "sha256": _sha(p), "journal_digest": digest},
                 sync=False)
    artifacts = {p.relative_to(run_dir).as_posix(): _sha(p)
                 for p in (html, rep, *sorted(q for q in ev.rglob("*") if q.is_file()))}
    artifacts[runfolder.ANSIBLE_MANIFEST] = write_ansible_manifest(run_dir)
    j.append("run.end", {"status": "aborted", "exit_code": 3, "summary": "signal SIGTERM",
                         "artifacts": artifacts})
    j.close()
    if seal:
        integrity.seal(reports, run_dir, key)
    return SampleRun(reports, run_dir, run_id)
