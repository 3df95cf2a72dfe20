"""Every file of a sealed run folder is bound: the ansible-runner artifacts through the
manifest run.end binds, later renders through the signed renders.jsonl addendum."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from integrity_sample import make_run, write_key
from test_verify import _json, flip_positions, verify

from orchestrator.cli import main
from orchestrator.integrity import signing
from orchestrator.integrity.index import entry_hash
from orchestrator.journal.chain import canonical

SEED = 20261126


def ansible_files(run) -> list[Path]:
    return sorted(p for p in (run.path / "ansible").rglob("*") if p.is_file())


def flips_fail_naming(run, path: Path, capsys, stride: int = 11) -> int:
    """Flip bytes across `path`: verify exits 1 each time and names the file."""
    rng = random.Random(SEED)
    rel = path.relative_to(run.path).as_posix()
    original = path.read_bytes()
    tried = 0
    for pos in flip_positions(original, stride):
        tampered = bytearray(original)
        tampered[pos] ^= rng.randrange(1, 256)
        path.write_bytes(bytes(tampered))
        try:
            code = verify(run.path)
        finally:
            path.write_bytes(original)
        err = capsys.readouterr().err
        assert code == 1, f"{rel}: byte {pos} went unnoticed"
        assert rel in err, f"{rel}: byte {pos}: the failure does not name the file: {err}"
        tried += 1
    return tried


def test_a_changed_ansible_artifact_fails_verify_naming_it(signed_run, capsys):
    files = ansible_files(signed_run)
    names = {p.name for p in files}
    assert {"manifest.json", "stdout", "rc", "status", "command"} <= names
    assert any(p.parent.name == "job_events" for p in files)
    assert verify(signed_run.path) == 0
    tried = sum(flips_fail_naming(signed_run, p, capsys) for p in files if p.name != "rc")
    assert tried > 50
    assert verify(signed_run.path) == 0


def test_a_changed_manifest_is_the_one_finding(signed_run, capsys):
    manifest = signed_run.path / "ansible" / "manifest.json"
    raw = json.loads(manifest.read_bytes())
    first = sorted(raw["files"])[0]
    raw["files"][first] = "0" * 64  # what an editor of the artifact would also have to do
    manifest.write_bytes(canonical(raw) + b"\n")
    assert verify(signed_run.path) == 1
    out = capsys.readouterr().out
    assert "ansible/manifest.json: sha256 differs from journal record" in out
    assert out.count("FAIL") == 1


def test_added_or_removed_ansible_files_fail(signed_run, capsys):
    planted = signed_run.path / "ansible" / "00-cut-ct-lines" / "env" / "extravars"
    planted.write_text('{"password": "hunter2"}')
    assert verify(signed_run.path) == 1
    assert "env/extravars: not bound by any journal record" in capsys.readouterr().err
    planted.unlink()
    victim = next(p for p in ansible_files(signed_run) if p.parent.name == "job_events")
    data = victim.read_bytes()
    victim.unlink()
    assert verify(signed_run.path) == 1
    assert f"{victim.name}: missing (listed in ansible/manifest.json" in capsys.readouterr().err
    victim.write_bytes(data)
    assert verify(signed_run.path) == 0


def test_any_planted_file_in_the_run_folder_fails(signed_run, capsys):
    for rel in ("notes.txt", "ansible/README", "report.pdf", ".report.html.tmp"):
        p = signed_run.path / rel
        p.write_text("planted\n")
        assert verify(signed_run.path) == 1, rel
        assert f"{rel}: not bound by any journal record" in capsys.readouterr().err
        p.unlink()
    assert verify(signed_run.path) == 0


def report(run, *args) -> int:
    return main(["report", str(run.path), *map(str, args)])


def test_later_renders_are_recorded_signed_and_verified(signed_run, key, capsys):
    fp = signing.load_signer(key).public.fingerprint
    journal_before = (signed_run.path / "journal.jsonl").read_bytes()
    for fmt in ("md", "csv", "junit"):
        assert report(signed_run, "--format", fmt, "--signing-key", key) == 0
    assert report(signed_run, "--format", "md", "--lang", "en", "--out",
                  signed_run.path / "report.en.md", "--signing-key", key) == 0
    capsys.readouterr()
    # The journal stays append-closed after run.end.
    assert (signed_run.path / "journal.jsonl").read_bytes() == journal_before
    lines = (signed_run.path / "renders.jsonl").read_bytes().splitlines()
    recs = [json.loads(line) for line in lines]
    # Markdown: the report and the activity log it links; CSV: one file per table (issue 17)
    assert [r["path"] for r in recs] == [
        "report.md", "report-activity.csv", "report-switches.csv", "report-run.csv",
        "report-lines.csv", "report-objectives.csv", "report-activity.csv", "junit.xml",
        "report.en.md", "report.en-activity.csv"]
    assert all(r["key"] == fp and r["sig"] for r in recs)
    assert verify(signed_run.path, "--key", key, "--require-signature") == 0
    capsys.readouterr()
    tried = 0
    for name in ("report.md", "report-switches.csv", "junit.xml", "report.en.md", "renders.jsonl"):
        tried += flips_fail_naming(signed_run, signed_run.path / name, capsys, stride=17)
    assert tried > 100
    assert verify(signed_run.path, "--key", key, "--require-signature") == 0


def test_rendering_again_rebinds_the_file(signed_run, key, capsys):
    assert report(signed_run, "--format", "md", "--signing-key", key) == 0
    md = signed_run.path / "report.md"
    md.write_text("# edited by hand\n")
    assert verify(signed_run.path) == 1
    assert "report.md: sha256 differs from renders.jsonl record 1" in capsys.readouterr().err
    assert report(signed_run, "--format", "md", "--signing-key", key) == 0
    assert verify(signed_run.path) == 0


def test_a_rechained_addendum_fails_on_its_signature(signed_run, key, tmp_path, capsys):
    """Without the key an editor can recompute the addendum's chain, not its signatures."""
    assert report(signed_run, "--format", "csv", "--signing-key", key) == 0
    csv = signed_run.path / "report-switches.csv"
    csv.write_bytes(csv.read_bytes() + b"W000000T,trading,0.100,pass\r\n")
    for other in signed_run.path.glob("report-*.csv"):  # the other tables (issue 17): only
        if other != csv:                                 # the edited one stays, re-chained
            other.unlink()
    addendum = signed_run.path / "renders.jsonl"
    raw = json.loads(addendum.read_bytes().splitlines()[0])
    raw["sha256"] = signing.hashlib.sha256(csv.read_bytes()).hexdigest()
    raw["hash"] = entry_hash(raw)
    addendum.write_bytes(canonical(raw) + b"\n")
    assert verify(signed_run.path) == 1
    assert "renders.jsonl:1: render report-switches.csv: signature does not verify" in \
        capsys.readouterr().out
    forger = write_key(tmp_path / "forger")
    addendum.unlink()
    assert report(signed_run, "--format", "csv", "--signing-key", forger) == 0
    assert verify(signed_run.path) == 1
    assert "not the run's key" in capsys.readouterr().out


def test_an_unsigned_render_is_noted_and_fails_when_signatures_are_required(signed_run, capsys):
    assert report(signed_run, "--format", "md") == 0
    recs = [json.loads(line) for line in (signed_run.path / "renders.jsonl").read_bytes().splitlines()]
    assert len(recs) == 2 and all(r["key"] is None for r in recs)  # report.md, its activity log
    assert verify(signed_run.path) == 0
    assert "later renders unsigned" in capsys.readouterr().out
    assert verify(signed_run.path, "--require-signature") == 1
    assert "report.md is unsigned" in capsys.readouterr().out


def test_an_addendum_must_start_from_the_final_digest(tmp_path, key, capsys):
    a = make_run(tmp_path / "reports", key=key, n=1)
    b = make_run(tmp_path / "reports", key=key, n=2)
    assert report(a, "--format", "md", "--signing-key", key) == 0
    (b.path / "report.md").write_bytes((a.path / "report.md").read_bytes())
    (b.path / "renders.jsonl").write_bytes((a.path / "renders.jsonl").read_bytes())
    assert verify(b.path) == 1
    assert "renders.jsonl:1: prev does not match the journal's final digest" in \
        capsys.readouterr().out


def test_report_out_never_overwrites_a_sealed_file(signed_run, capsys):
    before = (signed_run.path / "report.html").read_bytes()
    assert report(signed_run, "--format", "html", "--out", signed_run.path / "report.html") == 2
    err = capsys.readouterr().err
    assert "--out: expected a new file" in err and "Traceback" not in err
    assert (signed_run.path / "report.html").read_bytes() == before
    assert not (signed_run.path / "renders.jsonl").exists()


def test_a_render_outside_the_run_folder_is_recorded_not_checked(signed_run, tmp_path, capsys):
    out = tmp_path / "elsewhere" / "drill.csv"
    assert report(signed_run, "--format", "csv", "--out", out) == 0
    rec = json.loads((signed_run.path / "renders.jsonl").read_bytes().splitlines()[0])
    # one file per table beside --out (issue 17), the per-switch table first
    assert rec["outside"] is True and rec["path"] == str((out.parent / "drill-switches.csv").resolve())
    assert verify(signed_run.path) == 0
    assert "outside the run folder: not checked" in capsys.readouterr().out


def test_a_bad_signing_key_for_report_exits_2(signed_run, tmp_path, capsys):
    assert report(signed_run, "--format", "md", "--signing-key", tmp_path / "nope") == 2
    err = capsys.readouterr().err
    assert "--signing-key" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (signed_run.path / "report.md").exists()


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_rechained_addendum_edit_fails_cleanly(signed_run, key, data, capsys):
    """Rewrite any field of a signed render record with any JSON value and recompute its
    hash: verify exits 1 (the signature no longer matches), never with a traceback."""
    addendum = signed_run.path / "renders.jsonl"
    if not addendum.exists():
        assert report(signed_run, "--format", "md", "--signing-key", key) == 0
    original = addendum.read_bytes()
    # the last record (the Markdown's activity log, issue 17): no later record's chain hides it
    *before, last = original.splitlines(keepends=True)
    raw = json.loads(last)
    field = data.draw(st.sampled_from([*sorted(set(raw) - {"hash"}), "extra"]))
    value = data.draw(_json)
    assume(raw.get(field) != value)
    raw[field] = value
    raw["hash"] = entry_hash(raw)
    try:
        addendum.write_bytes(b"".join(before) + canonical(raw) + b"\n")
        assert verify(signed_run.path) == 1
    finally:
        addendum.write_bytes(original)
    err = capsys.readouterr().err
    assert "Traceback" not in err
