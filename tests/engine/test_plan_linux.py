"""`drill plan` on real hosts (issue 20): the linux driver's exact router commands, with
router and interface, from the production example inventory; no lab, nothing run."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestrator.cli import main
from orchestrator.engine.plan import plan

REPO = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path) -> Path:
    """A project copy whose production example's line routers are Linux hosts (the shipped
    example shows one network router of each platform: tests/adapters/test_routers.py)."""
    root = tmp_path / "proj"
    shutil.copytree(REPO / "drills", root / "drills")
    shutil.copytree(REPO / "playbooks", root / "playbooks")
    shutil.copytree(REPO / "inventories", root / "inventories")
    shutil.copytree(REPO / "adapters", root / "adapters")
    drill_yml = root / "inventories" / "production.example" / "group_vars" / "all" / "drill.yml"
    text = drill_yml.read_text(encoding="utf-8")
    for platform in ("huawei_vrp", "h3c_comware", "cisco_ios"):
        text = text.replace(f"platform: {platform}", "platform: linux")
    drill_yml.write_text(text, encoding="utf-8")
    return root


def _production(root: Path) -> Path:
    return root / "inventories" / "production.example"


def _step(shown, key):
    return next(s for s in shown.steps if (s["phase"], s["index"]) == key)


def test_plan_names_router_interface_and_the_commands_the_linux_driver_runs(tmp_path):
    root = _project(tmp_path)
    shown = plan(root, "carrier-outage", _production(root), {}, tmp_path / "home",
                 ansible_check=False)
    fault = _step(shown, ("fault", 0))
    assert "router ct-router interface GigabitEthernet0/0/1 (line ct-ft)" in fault["targets"]
    assert fault["changes"][0] == "ct-router: ip route replace blackhole 172.60.101.30/32"
    restore = _step(shown, ("restore", 0))
    assert "ct-router: ip link set dev GigabitEthernet0/0/1 up" in restore["changes"]
    assert "ct-router: ip route del blackhole 172.60.101.30/32 proto boot" in restore["changes"]
    shut = plan(root, "carrier-outage", _production(root), {"mode": "shutdown"},
                tmp_path / "home", ansible_check=False)
    assert _step(shut, ("fault", 0))["changes"][0] == "ct-router: ip link set dev GigabitEthernet0/0/1 down"


def test_plan_prints_every_step_with_its_change_wait_and_timeout_in_chinese(tmp_path, capsys):
    root = _project(tmp_path)
    code = main(["plan", "carrier-outage", "--project", str(root), "--inventory",
                 str(_production(root)), "--no-check", "--lang", "zh"])
    out = capsys.readouterr().out
    assert code == 0
    for text in ("对象：路由器 ct-router 接口 GigabitEthernet0/0/1（线路 ct-ft）",
                 "变更：ct-router: ip route replace blackhole 172.60.101.30/32",
                 "超时：60 秒", "故障路径上的网关："):
        assert text in out, text
    for word in ("targets", "change:", "waits for", "timeout", "measure ", "on the failed path"):
        assert word not in out, word


def test_plan_shows_the_server_lines_the_repoint_template_writes(tmp_path):
    """The config diff of a repoint: the <server> lines playbooks/templates/server_list.xml.j2
    renders for the new order, the home order's lines removed."""
    import jinja2

    from orchestrator.config.inventory import load_inventory

    root = _project(tmp_path)
    lab = REPO / "inventories" / "lab"
    shown = plan(root, "beijing-cutover", lab, {}, tmp_path / "home", ansible_check=False)
    diff = _step(shown, ("fault", 1))["config_diff"]
    inv = load_inventory(lab)
    template = jinja2.Environment(loader=jinja2.FileSystemLoader(REPO / "playbooks" / "templates"),
                                  autoescape=False).get_template("server_list.xml.j2")
    for g in (g for g in inv.gateways if not g.satellite_only):
        servers = [{"centre": c, "address": ep.address, "port": ep.port}
                   for c, ep in inv.server_order(g, dr=True)]
        rendered = template.render(gateway={"id": g.id, "kind": g.kind, "monitor": {
            "address": g.monitor.address, "port": g.monitor.port}}, timing=inv.timing.__dict__,
            servers=servers)
        written = [ln.strip() for ln in rendered.splitlines() if ln.strip().startswith("<server ")]
        start = diff.index(f"--- {g.config} ({g.id})")
        block = diff[start + 1:start + 1 + len(written) + 2]
        assert [ln[2:] for ln in block if ln.startswith("+ ")] == written
        assert [ln for ln in block if ln.startswith("- ")] == [
            f'- <server centre="{c}" address="{ep.address}" port="{ep.port}"/>'
            for c, ep in inv.server_order(g)]
