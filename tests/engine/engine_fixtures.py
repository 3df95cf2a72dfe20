"""Fixtures of the engine tests: one real lab per module, a throw-away drill project."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.lab.control import LabHandle
from orchestrator.lab.testing import make_lab_inventory, running_lab

REPO = Path(__file__).resolve().parents[2]

# carrier-outage without the evidence step and with a short soak: the engine tests run it
# many times. `{rto}` and `{extra_recovery}` are filled in per test.
QUICK = """\
id: {id}
title: {{zh: 测试演练, en: Test drill}}
description: {{zh: 测试, en: test}}
spec: [R-NET-1]
cadence: quarterly
params:
  carrier: {{type: carrier, default: CT}}
  mode: {{type: choice, choices: [blackhole, shutdown], default: blackhole}}
targets:
  trading: {{rto: {rto}}}
  market_data: {{rto: {rto}}}
  settlement: {{rto: {rto}}}
  no_double_login: true
abort: {{blast_radius: true, recovery_margin: {margin}}}
failback: {failback}
phases:
  fault:
    - name: Cut carrier {{{{ carrier }}}}
      playbook: line.yml
      vars: {{lines: "{{{{ lines_of_carrier(carrier) }}}}", state: down, mode: "{{{{ mode }}}}"}}
      effect: {{lines_down: {effect_lines}, mode: "{{{{ mode }}}}"}}
      timeout: 120s
  recovery:
{extra_recovery}    - name: Wait until restored
      wait: {{until: all_restored, timeout: {recovery_timeout}}}
  hold:
    - name: Soak
      wait: {{for: 1s, while: no_new_loss}}
  restore:
{restore}"""

RESTORE = """\
    - name: Restore carrier {{ carrier }}
      playbook: line.yml
      vars: {lines: "{{ lines_of_carrier(carrier) }}", state: up, mode: "{{ mode }}"}
      effect: {lines_up: "{{ lines_of_carrier(carrier) }}"}
      timeout: 120s
    - name: Every gateway logged in
      wait: {until: all_logged_in, timeout: 60s}
"""

# A restore that forgets the lines: the after-check must catch it.
FORGETFUL_RESTORE = """\
    - name: Every gateway logged in
      wait: {until: all_logged_in, timeout: 60s}
"""

FAILING_STEP = """\
    - name: A playbook that fails mid-drill
      playbook: fail.yml
      timeout: 60s
"""

FAIL_PLAYBOOK = """\
- name: Fail on purpose (engine test)
  hosts: drill_control
  gather_facts: false
  tasks:
    - name: This task fails
      ansible.builtin.fail:
        msg: failing on purpose
"""


# beijing-cutover without the manual step, the verify steps and the long waits.
BJ_QUICK = """\
id: bj-quick
title: {zh: 测试异地切换, en: Test DR cutover}
description: {zh: 测试, en: test}
spec: [R-DR-1]
cadence: yearly
params:
  dr: {type: centre, default: BJ}
targets:
  trading: {rto: 60s}
  market_data: {expected_interruption: 60s}
  settlement: {expected_interruption: 60s}
abort: {blast_radius: true, recovery_margin: 10s}
failback: true
phases:
  fault:
    - name: Both Shenzhen centres down
      playbook: centre.yml
      vars: {centres: "{{ centres(role='production') }}", state: down}
      effect: {centres_down: "{{ centres(role='production') }}"}
    - name: Repoint to {{ dr }}
      playbook: repoint.yml
      vars: {gateways: "{{ gateways(satellite_only=false) }}", to: "{{ dr }}"}
      effect: {repoint: {gateways: "{{ gateways(satellite_only=false) }}", to: "{{ dr }}"}}
  recovery:
    - name: On {{ dr }}
      wait: {until: {on_centre: "{{ dr }}"}, timeout: 60s}
  hold:
    - name: Soak
      wait: {for: 1s, while: no_new_loss}
  restore:
    - name: Shenzhen centres up
      playbook: centre.yml
      vars: {centres: "{{ centres(role='production') }}", state: up}
      effect: {centres_up: "{{ centres(role='production') }}"}
    - name: Repoint home
      playbook: repoint.yml
      vars: {gateways: "{{ gateways(satellite_only=false) }}", to: home}
      effect: {repoint: {gateways: "{{ gateways(satellite_only=false) }}", to: home}}
"""


# Every terrestrial line cut, only market data named: trading and settlement go down for
# the whole drill. `{declared}` may declare them expected (issue 13).
MD_ONLY = """\
id: {id}
title: {{zh: 测试行情组播, en: Test market data only}}
description: {{zh: 测试, en: test}}
spec: [R-APP-4]
cadence: quarterly
targets:
  market_data: {{rto: 10s}}
{declared}  no_double_login: true
abort: {{blast_radius: true, recovery_margin: 10s}}
phases:
  fault:
    - name: Cut every terrestrial line
      playbook: line.yml
      vars: {{lines: "{{{{ terrestrial_lines() }}}}", state: down}}
      effect: {{lines_down: "{{{{ terrestrial_lines() }}}}"}}
  recovery:
    - name: Market data on multicast
      wait: {{until: {{md_source: multicast}}, timeout: 30s}}
  hold:
    # No no_new_loss rule: trading and settlement are still being detected down when the
    # soak begins (their heartbeat timeout races market data's switch), and aborting on that
    # would hide the verdict these drills exist to test.
    - name: Soak
      wait: {{for: 1s}}
  restore:
    - name: Lines up
      playbook: line.yml
      vars: {{lines: "{{{{ terrestrial_lines() }}}}", state: up}}
      effect: {{lines_up: "{{{{ terrestrial_lines() }}}}"}}
    - name: Every gateway logged in
      wait: {{until: all_logged_in, timeout: 60s}}
"""


@dataclass(frozen=True)
class LabEnv:
    home: Path
    inventory: Path  # the inventory the user passes (the lab's effective one is in state_dir)
    lab: LabHandle
    project: Path
    reports: Path


def make_project(root: Path) -> Path:
    """A drill project: the shipped drills and playbooks plus the engine's test drills."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "drills", root / "drills")
    shutil.copytree(REPO / "playbooks", root / "playbooks")
    (root / "inventories").mkdir()
    (root / "playbooks" / "fail.yml").write_text(FAIL_PLAYBOOK)
    base = {"rto": "30s", "extra_recovery": "", "margin": "10s", "recovery_timeout": "60s",
            "effect_lines": '"{{ lines_of_carrier(carrier) }}"', "failback": "false",
            "restore": RESTORE}
    variants = {
        "quick": {},
        "impossible": {"rto": "1ms"},
        "fails-mid-drill": {"extra_recovery": FAILING_STEP},
        # The effect claims only the satellite line fails: every gateway that loses
        # service is off the predicted path.
        "wrong-effect": {"effect_lines": "[sat-1]"},
        # Recovery takes a heartbeat timeout (2 s); the deadline plus margin is 0.6 s.
        "late-recovery": {"recovery_timeout": "100ms", "margin": "500ms"},
        # failback declared, not spelled out: the engine repoints whoever is away from home.
        "quick-failback": {"failback": "true"},
        "forgetful": {"restore": FORGETFUL_RESTORE},
    }
    drills = {name: QUICK.format(id=name, **{**base, **v}) for name, v in variants.items()}
    drills["bj-quick"] = BJ_QUICK
    drills["md-only"] = MD_ONLY.format(id="md-only", declared="")
    drills["md-only-declared"] = MD_ONLY.format(
        id="md-only-declared",
        declared="  trading: {expected_interruption: 120s}\n  settlement: {expected_interruption: 120s}\n")
    for name, text in drills.items():
        (root / "drills" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module", name="lab_env")
def lab_env_fixture(tmp_path_factory) -> Iterator[LabEnv]:
    yield from lab_env_with(tmp_path_factory)


def lab_env_with(tmp_path_factory, server_order: dict[str, list[str]] | None = None) -> Iterator[LabEnv]:
    """The engine tests' lab; `server_order`: SSCC-assigned orders of some gateways (issue 15)."""
    tmp = tmp_path_factory.mktemp("engine")
    home = tmp / "home"
    old = os.environ.get("DRILL_HOME")
    os.environ["DRILL_HOME"] = str(home)
    try:
        inv = make_lab_inventory(tmp / "inv", gateways=5)
        if server_order:
            import yaml

            doc = yaml.safe_load((inv / "hosts.yml").read_text(encoding="utf-8"))
            for gw in doc["all"]["vars"]["drill"]["gateways"]:
                if gw["id"] in server_order:
                    gw["server_order"] = server_order[gw["id"]]
            (inv / "hosts.yml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
                                           encoding="utf-8")
        project = make_project(tmp / "project")
        with running_lab(inv, home) as handle:
            yield LabEnv(home, inv, handle, project, tmp / "reports")
    finally:
        if old is None:
            os.environ.pop("DRILL_HOME", None)
        else:
            os.environ["DRILL_HOME"] = old
