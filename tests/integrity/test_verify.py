"""`drill verify`: any changed byte of a journal, report or evidence file is caught; a
deleted, truncated or re-chained run is caught through the signature and archive index."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from integrity_sample import make_run, write_key

from orchestrator.cli import main
from orchestrator.errors import DrillError
from orchestrator.integrity import index as archive_index
from orchestrator.integrity import signing
from orchestrator.integrity import verify as integrity
from orchestrator.journal.chain import GENESIS, canonical, record_hash

SEED = 20261125


def drill_exe() -> str:
    """The installed console script (orchestrator.cli:_entry) next to this interpreter."""
    exe = Path(sys.executable).parent / "drill"
    assert exe.is_file(), f"{exe} missing: pip install -e . into the venv"
    return str(exe)


def verify(*args) -> int:
    return main(["verify", *map(str, args)])


def flip_positions(data: bytes, stride: int) -> list[int]:
    """Every `stride`-th offset, plus the first and last byte and every newline byte."""
    pos = set(range(0, len(data), stride)) | {0, len(data) - 1}
    pos |= {i for i, b in enumerate(data) if b == 0x0A}
    return sorted(pos)


def test_drill_verify_passes_on_a_sealed_run_and_names_its_key(signed_run, key):
    fp = signing.load_signer(key).public.fingerprint
    out = subprocess.run([drill_exe(), "verify", str(signed_run.path), "--key", str(key),
                          "--require-signature"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"signed by key {fp[:16]}" in out.stdout
    assert (signed_run.reports / "keys" / f"{fp}.pub").is_file()


def test_every_single_byte_change_in_a_sealed_run_fails_verify(signed_run, capsys):
    """Flip bytes across the journal, both reports, every evidence file and journal.sig."""
    rng = random.Random(SEED)
    targets = [*signed_run.files(), signed_run.reports / "index.jsonl"]
    names = {p.name for p in targets}
    assert {"journal.jsonl", "journal.sig", "report.html", "report.json", "probes.jsonl.gz",
            "gateway-events.jsonl", "server_list.xml", "index.jsonl"} <= names
    assert verify(signed_run.path) == 0
    tried = 0
    for path in targets:
        original = path.read_bytes()
        stride = 7 if path.name == "journal.jsonl" else 23
        for pos in flip_positions(original, stride):
            mask = 0x01 if tried % 2 else rng.randrange(1, 256)
            tampered = bytearray(original)
            tampered[pos] ^= mask
            path.write_bytes(bytes(tampered))
            code = verify(signed_run.path)
            path.write_bytes(original)
            assert code == 1, f"{path.name}: byte {pos} ^ {mask:#04x} went unnoticed"
            tried += 1
    capsys.readouterr()
    assert tried > 1000
    assert verify(signed_run.path) == 0


def test_verify_names_the_first_bad_journal_record(signed_run, capsys):
    journal = signed_run.path / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    assert b'"step.end"' in lines[4] and b'"status":"ok"' in lines[4]
    lines[4] = lines[4].replace(b'"status":"ok"', b'"status":"failed"')
    journal.write_bytes(b"".join(lines))
    assert verify(signed_run.path) == 1
    err = capsys.readouterr().err
    assert "journal.jsonl:5:" in err and "hash does not match" in err


def test_a_changed_report_is_named(signed_run, capsys):
    report = signed_run.path / "report.html"
    report.write_text(report.read_text(encoding="utf-8").replace("中止", "通过"), encoding="utf-8")
    assert verify(signed_run.path) == 1
    assert "report.html: sha256 differs from journal record" in capsys.readouterr().err


def _rechain(journal: Path, edit) -> None:
    """What a forger without the key can do: edit records and recompute the whole chain."""
    raws = [json.loads(line) for line in journal.read_bytes().splitlines()]
    edit(raws)
    prev = GENESIS
    out = b""
    for seq, raw in enumerate(raws):
        raw["seq"], raw["prev"] = seq, prev
        raw["hash"] = record_hash(raw)
        prev = raw["hash"]
        out += canonical(raw) + b"\n"
    journal.write_bytes(out)


def _forge_passed(run_dir: Path):
    def edit(raws):
        end = raws[-1]
        end["data"]["status"], end["data"]["exit_code"] = "passed", 0
    return edit


def test_a_rechained_forgery_fails_on_the_signature(signed_run, capsys):
    journal = signed_run.path / "journal.jsonl"
    _rechain(journal, _forge_passed(signed_run.path))
    assert journal.read_bytes() != b"" and integrity.first_bad_record(journal) is None
    assert verify(signed_run.path) == 1
    err = capsys.readouterr().err
    assert "is not the signed digest" in err


def test_removing_the_signature_of_a_forgery_fails_on_the_index(signed_run, capsys):
    _rechain(signed_run.path / "journal.jsonl", _forge_passed(signed_run.path))
    (signed_run.path / "journal.sig").unlink()
    assert verify(signed_run.path) == 1
    err = capsys.readouterr().out
    assert "does not match the indexed digest" in err
    assert "the archive index says the run was signed" in err


def test_a_forger_with_their_own_key_fails_against_the_firm_key(signed_run, key, tmp_path,
                                                                capsys):
    """Re-chain the journal, re-sign it, rebuild the whole index with a forger's key: only
    the pinned firm key (--key) tells the forgery apart."""
    _rechain(signed_run.path / "journal.jsonl", _forge_passed(signed_run.path))
    (signed_run.reports / "index.jsonl").unlink()
    forger = write_key(tmp_path / "forger_ed25519")
    integrity.seal(signed_run.reports, signed_run.path, forger)
    assert verify(signed_run.path) == 0  # archive-only check: consistent, but whose key?
    assert verify(signed_run.path, "--key", key) == 1
    assert "not a trusted key" in capsys.readouterr().out


def test_a_truncated_journal_fails(signed_run):
    journal = signed_run.path / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-1]))  # chain still sound, run.end gone
    assert integrity.first_bad_record(journal) is None
    assert verify(signed_run.path) == 1


def test_an_unsigned_run_is_still_bound_by_chain_and_index(tmp_path, capsys):
    run = make_run(tmp_path / "reports", key=None)
    assert verify(run.path) == 0
    assert "unsigned" in capsys.readouterr().out
    assert verify(run.path, "--require-signature") == 1
    for name in ("journal.jsonl", "report.json", "evidence/gateway-events.jsonl"):
        path = run.path / name
        original = path.read_bytes()
        for pos in flip_positions(original, 29):
            path.write_bytes(original[:pos] + bytes([original[pos] ^ 0x20]) + original[pos + 1:])
            assert verify(run.path) == 1, f"{name}: byte {pos}"
        path.write_bytes(original)
    _rechain(run.path / "journal.jsonl", _forge_passed(run.path))
    assert verify(run.path) == 1  # the index holds the sealed digest


def test_records_appended_after_the_seal_fail(signed_run, capsys):
    from orchestrator.journal.chain import Journal

    j = Journal(signed_run.path / "journal.jsonl", signed_run.run_id)
    j.append("objective", {"name": "rto", "passed": True})
    j.close()
    assert verify(signed_run.path) == 1
    assert "is not the signed digest" in capsys.readouterr().err


def test_an_added_evidence_file_fails(signed_run, capsys):
    (signed_run.path / "evidence" / "files" / "planted.log").write_text("all fine\n")
    assert verify(signed_run.path) == 1
    assert "planted.log: not bound by any journal record" in capsys.readouterr().err


def test_an_unfinished_run_fails_and_says_recover(tmp_path, capsys):
    from orchestrator.journal.chain import Journal

    run_dir = tmp_path / "reports" / "2026" / "20261125T111500Z-single-line-000001"
    j = Journal(run_dir / "journal.jsonl", run_dir.name)
    j.append("run.start", {"drill": {"id": "single-line"}})
    j.close()
    (tmp_path / "reports" / "index.jsonl").touch()
    assert verify(run_dir) == 1
    assert "drill recover" in capsys.readouterr().out


def test_verify_all_catches_a_deleted_run(tmp_path, key, capsys):
    reports = tmp_path / "reports"
    runs = [make_run(reports, key=key, n=i) for i in range(3)]
    assert verify("--all", "--reports", reports) == 0
    capsys.readouterr()
    shutil.rmtree(runs[1].path)
    assert verify("--all", "--reports", reports) == 1
    assert f"run {runs[1].run_id} is in the archive index but its folder" in capsys.readouterr().out
    # Cutting the run out of the index breaks the index chain.
    index = reports / "index.jsonl"
    lines = index.read_bytes().splitlines(keepends=True)
    index.write_bytes(lines[0] + lines[2])
    assert verify("--all", "--reports", reports) == 1
    assert "index.jsonl:2: sequence number out of order" in capsys.readouterr().out


def test_cutting_off_the_newest_run_is_caught_by_a_pinned_head(tmp_path, key, capsys):
    """Deleting the last run and its index line leaves a sound chain; the index head an
    auditor kept from an earlier `verify --all` shows the cut."""
    reports = tmp_path / "reports"
    runs = [make_run(reports, key=key, n=i) for i in range(2)]
    assert verify("--all", "--reports", reports) == 0
    head = capsys.readouterr().out.split("archive index head: ")[1].split()[0]
    index = reports / "index.jsonl"
    index.write_bytes(index.read_bytes().splitlines(keepends=True)[0])
    shutil.rmtree(runs[1].path)
    assert verify("--all", "--reports", reports) == 0
    assert verify("--all", "--reports", reports, "--head", head) == 1
    assert "is no longer in the index" in capsys.readouterr().out


def test_verify_all_catches_a_run_replaced_by_a_fresh_forgery(tmp_path, key, capsys):
    reports = tmp_path / "reports"
    runs = [make_run(reports, key=key, n=i) for i in range(2)]
    shutil.rmtree(runs[0].path)
    other = tmp_path / "forged"
    forged = make_run(other, key=None, n=0)  # same run id, written anew without the key
    shutil.copytree(forged.path, runs[0].path)
    assert verify("--all", "--reports", reports) == 1
    out = capsys.readouterr().out
    assert "does not match the indexed digest" in out
    assert runs[1].run_id not in "".join(line for line in out.splitlines() if "FAIL" in line)


def test_an_unindexed_run_fails_verify_all(tmp_path, key, capsys):
    reports = tmp_path / "reports"
    make_run(reports, key=key, n=0)
    planted = make_run(tmp_path / "elsewhere", key=key, n=5)
    shutil.copytree(planted.path, reports / "2026" / planted.run_id)
    assert verify("--all", "--reports", reports) == 1
    assert f"{planted.run_id}/journal.jsonl: run is not in the archive index" in capsys.readouterr().out


def test_concurrent_seals_keep_one_index_chain(tmp_path, key):
    """Two processes sealing runs at once into one archive: no entry lost, chain sound."""
    reports = tmp_path / "reports"
    code = (
        "import sys; sys.path.insert(0, sys.argv[3]);"
        "from pathlib import Path; from integrity_sample import make_run;"
        "[make_run(Path(sys.argv[1]), key=Path(sys.argv[2]), n=int(sys.argv[4]) * 10 + i)"
        " for i in range(6)]"
    )
    here = str(Path(__file__).parent)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(reports), str(key), here, str(w)])
             for w in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    entries, problem = archive_index.read_index(reports)
    assert problem is None
    assert len({e.run for e in entries}) == 12
    assert verify("--all", "--reports", reports, "--key", key) == 0


def test_signing_key_comes_from_the_inventory(tmp_path, key):
    import yaml

    from orchestrator.config.inventory import load_inventory
    from orchestrator.lab.testing import make_lab_inventory

    inv = make_lab_inventory(tmp_path, gateways=1)
    doc = yaml.safe_load((inv / "hosts.yml").read_text(encoding="utf-8"))
    doc["all"]["vars"]["drill"]["signing"] = {"key": f"../{key.name}"}
    (inv / "hosts.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    load_inventory(inv)  # the schema accepts drill.signing
    assert signing.key_path_for(inv, None) == inv / f"../{key.name}"
    assert signing.key_path_for(inv, tmp_path / "cli") == tmp_path / "cli"
    assert signing.load_signer(signing.key_path_for(inv, None)).public.fingerprint


def test_the_engine_call_signs_with_the_configured_key(tmp_path, key, monkeypatch):
    """`append_run(reports, run)` (what the engine calls) signs when a key is configured:
    DRILL_SIGNING_KEY, else drill.signing.key of the run's inventory."""
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "hosts.yml").write_text(f"all:\n  vars:\n    drill:\n      signing: {{key: {key}}}\n")
    reports = tmp_path / "reports"
    by_inventory = make_run(reports, n=1, seal=False, inventory=str(inv))
    archive_index.append_run(reports, by_inventory.path)
    monkeypatch.setenv("DRILL_SIGNING_KEY", str(key))
    by_env = make_run(reports, n=2, seal=False, inventory=str(tmp_path / "gone"))
    archive_index.append_run(reports, by_env.path)
    for run in (by_inventory, by_env):
        assert verify(run.path, "--key", key, "--require-signature") == 0
    monkeypatch.setenv("DRILL_SIGNING_KEY", str(tmp_path / "missing-key"))
    broken = make_run(reports, n=3, seal=False)
    with pytest.raises(DrillError, match="indexed UNSIGNED"):
        archive_index.append_run(reports, broken.path)
    assert verify(broken.path) == 0  # indexed, chained, unsigned
    assert verify(broken.path, "--require-signature") == 1


def test_bad_input_exits_2(tmp_path, capsys):
    bad_key = tmp_path / "not-a-key"
    bad_key.write_text("hello\n")
    assert verify("--all", "--reports", tmp_path, "--key", bad_key) == 2
    assert verify("nosuchrun", "--reports", tmp_path) == 2
    assert verify() == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--key" in err


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
    max_leaves=8)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_rechained_edit_fails_cleanly(signed_run, data):
    """A forger may rewrite any field of any record with anything and recompute the chain:
    verify exits 1 every time, and never with a traceback."""
    journal = signed_run.path / "journal.jsonl"
    original = journal.read_bytes()
    raws = [json.loads(line) for line in original.splitlines()]
    victim = data.draw(st.integers(0, len(raws) - 1))
    field = data.draw(st.sampled_from(["kind", "run", "data", "ts_ns", "ts", "mono_ns", "extra"]))
    value = data.draw(_json)
    assume(raws[victim].get(field) != value)

    def edit(rs):
        rs[victim][field] = value

    try:
        _rechain(journal, edit)
        assert verify(signed_run.path) == 1
    finally:
        journal.write_bytes(original)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_rechained_index_edit_fails_cleanly(signed_run, data, capsys):
    """The same for the archive index: edit an entry, recompute the index chain."""
    index = signed_run.reports / "index.jsonl"
    original = index.read_bytes()
    raw = json.loads(original)
    field = data.draw(st.sampled_from(sorted(set(raw) - {"hash", "prev", "sig"})))
    value = data.draw(_json)
    assume(raw[field] != value)
    raw[field] = value
    raw["hash"] = archive_index.entry_hash(raw)
    try:
        index.write_bytes(canonical(raw) + b"\n")
        assert verify("--all", "--reports", signed_run.reports) == 1
        assert verify(signed_run.path) == 1
    finally:
        index.write_bytes(original)
    capsys.readouterr()


def test_an_index_path_with_a_nul_byte_is_a_finding_not_a_crash(signed_run, capsys):
    """Found by the property above: a NUL in an entry's path once raised ValueError."""
    index = signed_run.reports / "index.jsonl"
    original = index.read_bytes()
    raw = json.loads(original)
    raw["path"] = raw["path"] + "\x00"
    raw["hash"] = archive_index.entry_hash(raw)
    try:
        index.write_bytes(canonical(raw) + b"\n")
        assert verify("--all", "--reports", signed_run.reports) == 1
    finally:
        index.write_bytes(original)
    assert "Traceback" not in capsys.readouterr().err


def test_a_run_id_is_found_in_the_archive_and_json_is_printed(signed_run, capsys):
    assert verify(signed_run.run_id, "--reports", signed_run.reports, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["run"] == signed_run.run_id and out["signed_by"]
