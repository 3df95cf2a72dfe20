"""Confinement and checks before side effects (issue 18): a path an input file names never
leads out of its root, and a refused `drill run` / `drill lab up` starts and writes nothing.

Fast: every case here is refused before a lab would start (a regression would start one,
and the test then fails on the lab process or state folder it finds)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from orchestrator.lab.testing import make_lab_inventory

REPO = Path(__file__).resolve().parents[2]
SENTINEL_TEXT = "sentinel: must stay as it is\n"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DRILL_HOME", str(home))
    yield home
    from orchestrator.lab.control import lab_down

    for state in (home / "lab").glob("*") if (home / "lab").is_dir() else ():
        lab_down(state)  # only after a regression: the tests here expect no lab


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for name in ("drills", "playbooks"):
        shutil.copytree(REPO / name, root / name)
    (root / "inventories").mkdir()
    return root


def _sentinel(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SENTINEL_TEXT, encoding="utf-8")
    return path


def _lab_inventory(tmp_path: Path, config: str) -> tuple[Path, str]:
    folder = make_lab_inventory(tmp_path / "inv", gateways=2)
    hosts = folder / "hosts.yml"
    doc = yaml.safe_load(hosts.read_text(encoding="utf-8"))
    doc["all"]["vars"]["drill"]["gateways"][1]["config"] = config
    hosts.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return folder, doc["all"]["vars"]["drill"]["environment"]["name"]


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _no_lab_started(home: Path, environment: str) -> None:
    assert not (home / "lab" / environment).exists(), "a lab state folder was created"
    mine = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
    for p in mine:
        try:
            cmd = (p / "cmdline").read_bytes()
        except OSError:
            continue
        assert str(home).encode() not in cmd or int(p.name) == os.getpid(), \
            f"a process of this DRILL_HOME runs: {cmd!r}"


@pytest.mark.parametrize("how", ["absolute", "climbing"])
def test_lab_gateway_config_outside_the_state_folder_is_refused(tmp_path, home, capsys, how):
    sentinel = _sentinel(tmp_path / "elsewhere" / "server_list.xml")
    config = str(sentinel) if how == "absolute" else "../../../elsewhere/server_list.xml"
    inv, env = _lab_inventory(tmp_path, config)
    # `drill lab up` with the state folder at $DRILL_HOME/lab/<env>/: three levels up is
    # tmp_path, where the sentinel lives.
    assert (home / "lab" / env / config).resolve() == sentinel.resolve() or how == "absolute"
    code = main(["lab", "up", "-i", str(inv)])
    err = capsys.readouterr().err
    assert code == 2, err
    line = _line_of(inv / "hosts.yml", config)
    assert f"{inv / 'hosts.yml'}:{line}: drill.gateways[1].config:" in err
    assert "lab state folder" in err and "Traceback" not in err
    assert sentinel.read_text(encoding="utf-8") == SENTINEL_TEXT
    _no_lab_started(home, env)
    # `drill validate -i` says the same
    assert main(["validate", "-i", str(inv), "--project", str(REPO)]) == 2
    assert "drill.gateways[1].config:" in capsys.readouterr().err


def test_lab_gateway_config_through_a_symlink_is_refused(tmp_path, home):
    """A symlink inside the state folder that leads out (planted before a repoint): the
    server list is not written through it."""
    from orchestrator.config.inventory import load_inventory
    from orchestrator.errors import InputError
    from orchestrator.lab import config as lab_config

    sentinel = _sentinel(tmp_path / "elsewhere" / "server_list.xml")
    inv_dir, _ = _lab_inventory(tmp_path, "gateways/evil/server_list.xml")
    inv = load_inventory(inv_dir)
    state = home / "lab" / "x"
    (state / "gateways").mkdir(parents=True)
    (state / "gateways" / "evil").symlink_to(sentinel.parent, target_is_directory=True)
    with pytest.raises(InputError) as e:
        lab_config.render_configs(inv, state, REPO / "playbooks" / "templates" /
                                  lab_config.TEMPLATE_NAME)
    assert "drill.gateways[1].config: expected a path under the lab state folder" in str(e.value)
    assert "through a symlink" in str(e.value)
    assert sentinel.read_text(encoding="utf-8") == SENTINEL_TEXT
    assert not list((state / "gateways").glob("W*")), "nothing is written when one is refused"


OUTSIDE_PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.copy: {content: "overwritten\\n", dest: "{{ sentinel }}"}
"""


@pytest.mark.parametrize("how", ["climbing", "symlink"])
def test_drill_playbook_outside_playbooks_is_refused(tmp_path, home, capsys, how):
    root = _project(tmp_path)
    sentinel = _sentinel(tmp_path / "sentinel.txt")
    (root / "outside.yml").write_text(OUTSIDE_PLAYBOOK.replace("{{ sentinel }}", str(sentinel)))
    if how == "climbing":
        name = "drivers/../../outside.yml"
    else:
        name = "evil.yml"
        (root / "playbooks" / name).symlink_to(root / "outside.yml")
    drill = root / "drills" / "single-line.yaml"
    text = drill.read_text(encoding="utf-8")
    assert "playbook: line.yml" in text
    drill.write_text(text.replace("playbook: line.yml", f"playbook: {name}", 1), encoding="utf-8")
    inv = make_lab_inventory(tmp_path / "inv", gateways=2)
    env = yaml.safe_load((inv / "hosts.yml").read_text())["all"]["vars"]["drill"]["environment"]["name"]
    code = main(["run", "single-line", "-i", str(inv), "--project", str(root),
                 "--reports", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 2, err
    line = _line_of(drill, f"playbook: {name}")
    assert f"{drill}:{line}: phases.fault[0].playbook: expected a" in err, err
    assert "playbooks/" in err and "Traceback" not in err
    assert sentinel.read_text(encoding="utf-8") == SENTINEL_TEXT
    assert not (tmp_path / "reports").exists()
    _no_lab_started(home, env)
    assert main(["validate", str(drill), "-i", str(inv), "--project", str(root)]) == 2
    assert "phases.fault[0].playbook:" in capsys.readouterr().err


def test_run_of_an_unknown_drill_starts_nothing(tmp_path, home, capsys):
    inv = make_lab_inventory(tmp_path / "inv", gateways=2)
    env = yaml.safe_load((inv / "hosts.yml").read_text())["all"]["vars"]["drill"]["environment"]["name"]
    code = main(["run", "no-such-drill", "-i", str(inv), "--project", str(REPO),
                 "--reports", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "no drill 'no-such-drill'" in err and "Starting the lab" not in err
    _no_lab_started(home, env)
    assert not (tmp_path / "reports").exists()
    assert not (home / "locks").exists()


def test_run_with_bad_parameters_and_a_bad_inventory_names_both(tmp_path, home, capsys):
    """Every problem at once, before anything starts."""
    inv, env = _lab_inventory(tmp_path, "/etc/server_list.xml")
    code = main(["run", "single-line", "--set", "line=no-such-line", "-i", str(inv),
                 "--project", str(REPO), "--reports", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "drill.gateways[1].config:" in err
    _no_lab_started(home, env)


def test_run_refused_by_a_held_lock_starts_no_lab(tmp_path, home, capsys):
    inv = make_lab_inventory(tmp_path / "inv", gateways=2)
    env = yaml.safe_load((inv / "hosts.yml").read_text())["all"]["vars"]["drill"]["environment"]["name"]
    lock = home / "locks" / f"{env}.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text('{"run_id": "r", "user": "u", "host": "h", "pid": 1, "since": "s"}\n')
    code = main(["run", "single-line", "-i", str(inv), "--project", str(REPO),
                 "--reports", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 4, err
    assert "lock" in err and "Starting the lab" not in err
    _no_lab_started(home, env)
