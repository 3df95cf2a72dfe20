"""One redaction policy (model.redact) for the journal and the Ansible artifacts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orchestrator.journal.chain import Journal, read_records
from orchestrator.model.redact import REDACTED, Redactor, is_secret_key, secret_values

# The two policies before issue 12: the journal's and the Ansible artifacts'.
JOURNAL_BEFORE = re.compile(r"(password|passwd|secret|token|(?<![a-z])key$|_key|private_key|vault)", re.I)
ARTIFACTS_BEFORE = re.compile(r"pass|secret|token|vault|private_key|api_key|credential", re.I)
# Words that start with "pass" but name results, not credentials (the journal's `passed`).
NOT_CREDENTIALS = {"passed", "passing"}

NAMES = ["ansible_become_pass", "ansible_ssh_pass", "ansible_password", "become_password",
         "ssh_key", "private_key", "api_key", "ansible_ssh_private_key_file", "key",
         "vault_password_file", "vault_token", "client_secret", "credentials", "passwd",
         "passed", "passing", "gateway", "keys", "monkey", "centre", "status"]
FIXTURES = sorted((Path(__file__).parents[1] / "fixtures" / "runs" / "2026").iterdir())


@pytest.mark.parametrize("name", NAMES)
def test_the_policy_is_the_union_of_both_old_ones(name: str) -> None:
    before = bool(JOURNAL_BEFORE.search(name) or ARTIFACTS_BEFORE.search(name))
    assert is_secret_key(name) == (before and name not in NOT_CREDENTIALS)


def test_become_pass_and_ssh_key_are_secret_everywhere() -> None:
    for name in ("ansible_become_pass", "ssh_key"):
        assert is_secret_key(name)
    inventory = {"all": {"vars": {"ansible_become_pass": "s3cr3t-become", "ssh_key": "/keys/id_x",
                                  "passed": True}}}
    redact = Redactor(secret_values(inventory))
    assert redact(inventory) == {"all": {"vars": {"ansible_become_pass": REDACTED,
                                                  "ssh_key": REDACTED, "passed": True}}}
    assert redact({"msg": "sudo -S <<< s3cr3t-become; ssh -i /keys/id_x"}) == \
        {"msg": f"sudo -S <<< {REDACTED}; ssh -i {REDACTED}"}


def test_journal_with_the_policy_writes_the_become_pass_redacted(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl", "run-x")
    journal.append("note", Redactor()({"message": "vars", "detail": {"ansible_become_pass": "pw12"}}))
    journal.close()
    (rec,) = read_records(tmp_path / "journal.jsonl")
    assert rec.data["detail"] == {"ansible_become_pass": REDACTED}


@pytest.mark.parametrize("run", FIXTURES, ids=lambda p: p.name)
def test_the_union_changes_no_field_of_a_recorded_run(run: Path) -> None:
    """Only credentials are newly secret: every record of the fixture runs redacts to itself."""
    redact = Redactor()
    for line in (run / "journal.jsonl").read_bytes().splitlines():
        data = json.loads(line)["data"]
        assert redact(data) == data
