#!/usr/bin/python
"""Cut or restore a router's lines through its CLI (Huawei VRP, H3C Comware, Cisco IOS),
with netmiko over SSH, in the running configuration only (never saved)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: drill_router_cli
short_description: Cut or restore SSCC lines on a network router through its CLI
description:
  - Connects with netmiko over SSH to the router, through its jump host (C(drill_ssh_via))
    as drill's own SSH does, checking the host key against the inventory's managed
    known_hosts (strict; an unknown or changed key refuses).
  - Raises privilege per platform (C(super) on VRP and Comware, C(enable) on IOS) with
    O(secret), typed at the device's password prompt.
  - C(action=cut) first checks the lines' interfaces are up and that every BFD session /
    track the device shows (the backup path) is up, and fails before any change if not; it
    stores the running and saved configurations (evidence), then sends the lines of
    orchestrator.adapters.routers (the ones C(drill plan) shows).
  - C(action=restore) sends the undo lines of what the running configuration still holds
    (C(undo shutdown), each black-hole route), then fails unless the running configuration
    equals the one stored before the cut and the saved one never changed; the diff and the
    device's log buffer go to evidence.
  - A command the device rejects fails the task with the device's own message.
  - "C(action=inspect) changes nothing: it reads each line's interface (C(display interface) /
    C(show interfaces)) and returns whether it is a routed (L3) or a switched port and its
    bandwidth (C(drill check), R-NET-2a/2b)."
  - Never saves the configuration. Check mode connects to nothing and returns the lines.
options:
  router: {description: Inventory name of the router (for messages and evidence)., type: str, required: true}
  host: {description: The router's management address (ansible_host)., type: str, required: true}
  port: {description: Its SSH port., type: int, default: 22}
  jump:
    description: The jump host (the router's C(drill_ssh_via)), C({address, port, user, key_file}); key
      authentication, its host key checked against O(known_hosts) too. One hop.
    type: dict
  known_hosts: {description: The inventory's managed known_hosts file., type: path, required: true}
  platform: {description: huawei_vrp, h3c_comware or cisco_ios., type: str, required: true}
  action: {description: cut, restore or inspect., type: str, required: true, choices: [cut, restore, inspect]}
  mode: {description: shutdown or blackhole (cut)., type: str, default: blackhole}
  lines:
    description: The router's lines (the inventory's line dicts, C(id), C(interface), C(centre)); a
      pseudo-line may name C(services) (service.yml), then a black-hole covers only those services'
      addresses of its centre (C(settlement) with C(settlement_sm)), refused when one is shared with
      a service that stays up.
    type: list
    elements: dict
    required: true
  centres:
    description: The inventory's centres; a black-hole covers every service address of the line's centre
      (or those of the line's C(services)).
    type: list
    elements: dict
    required: true
  username: {description: Login user., type: str, required: true}
  password: {description: Login password (Vault)., type: str, required: true, no_log: true}
  secret: {description: The super / enable secret (Vault)., type: str, required: true, no_log: true}
  evidence_dir: {description: The run's evidence files folder; none stores nothing., type: path}
  target:
    description: What the change is for, printed as C(target) in the stamp (centre.yml gives the
      centre id, read by drill's timing as the centre's effective time).
    type: str
  require_backup: {description: Fail the cut when a BFD session / track is down., type: bool, default: true}
  timeout: {description: Seconds for the connection and each command., type: float, default: 30}
"""

RETURN = r"""
stdout: {description: 'One JSON object: effective_ns (drill clock, upper bound), uncertainty_ms,
  device_clock_ns, device_offset_ms, router, lines, action, mode.', type: str}
sent: {description: Every line typed (the secret excepted)., type: list}
tracking: {description: The BFD / track state read before the cut., type: list}
interfaces: {description: 'inspect: per line, id, interface, layer3 (true routed, false switched,
  null not said), mbps, admin_up, oper_up, the device''s text.', type: list}
diff: {description: Running configuration before the cut vs after the restore ('' when identical)., type: str}
"""

import json
import os
import time
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule


class Refused(Exception):
    """The device said no, or is not in the state a drill can start from."""


def _connect(p, dialect):
    # Not orchestrator.adapters.hosts.load_topology: it reads the inventory with Ansible's
    # controller code, which must not be imported inside a module.
    from netmiko import ConnectHandler

    from orchestrator.adapters.hosts import SshHost, SshTopology
    from orchestrator.adapters.ssh import SshPool

    hosts = {}
    jump = p["jump"]
    if jump:
        hosts["jump"] = SshHost("jump", jump["address"], int(jump.get("port") or 22),
                                jump.get("user") or "root",
                                Path(os.path.expanduser(jump["key_file"])) if jump.get("key_file") else None)
    hosts[p["router"]] = SshHost(p["router"], p["host"], p["port"], p["username"],
                                 via="jump" if jump else None)
    topo = SshTopology(hosts, Path(p["known_hosts"]))
    pool = SshPool(topo, connect_timeout_s=p["timeout"])
    try:
        sock = pool.open_socket(hosts[p["router"]])  # direct, or a channel through the jump host
        conn = ConnectHandler(
            device_type=dialect.device_type, host=p["host"], port=p["port"],
            username=p["username"], password=p["password"], secret=p["secret"], sock=sock,
            ssh_strict=True, system_host_keys=False, alt_host_keys=True,
            alt_key_file=p["known_hosts"], use_keys=False, allow_agent=False,
            conn_timeout=p["timeout"], auth_timeout=p["timeout"], banner_timeout=p["timeout"])
    except BaseException:
        pool.close()
        raise
    return pool, conn


class Cli:
    def __init__(self, conn, dialect, p):
        self.conn, self.d, self.p = conn, dialect, p
        self.sent = []

    def show(self, command):
        import re

        self.sent.append(command)
        out = self.conn.send_command(command, read_timeout=self.p["timeout"])
        said = [ln.strip() for ln in out.splitlines() if re.match(self.d.error, ln)]
        if said:
            raise Refused(f"the device rejected `{command}`: {said[0]}")
        return out

    def privilege(self):
        self.sent.append(self.d.privilege)
        if self.d.platform == "cisco_ios":
            self.conn.enable()
            if not self.conn.check_enable_mode():
                raise Refused("enable: the secret was not accepted")
            return
        # Raw reads: Comware has no command echo to wait on (netmiko's global_cmd_verify off),
        # so a pattern read could match a prompt left in the buffer.
        self.conn.find_prompt()
        self.conn.write_channel(self.d.privilege + self.conn.RETURN)
        out = self.conn.read_until_pattern(pattern=r"[Pp]assword:|[>\]]\s*$", read_timeout=self.p["timeout"])
        if "assword" in out:
            self.conn.write_channel(self.p["secret"] + self.conn.RETURN)  # typed, never echoed
            out = self.conn.read_until_pattern(pattern=r"[>\]]\s*$", read_timeout=self.p["timeout"])
        errors = [ln for ln in out.splitlines() if _is_error(self.d, ln)]
        if errors:
            raise Refused(f"{self.d.privilege}: {errors[0].strip()}")

    def clock(self):
        """(device clock ns, offset ns, uncertainty ns) against drill's clock."""
        before = time.time_ns()
        out = self.show(self.d.show_clock)
        after = time.time_ns()
        device = self.d.parse_clock(out)
        resolution = 0 if "." in out.split("\n", 1)[0] else 500_000_000  # whole seconds shown
        return device, device - (before + after) // 2, (after - before) // 2 + resolution

    def configure(self, lines):
        """Enter configuration mode, send each line, leave. Each line waits for the prompt;
        the first the device rejects stops the rest and raises Refused with its own text.
        Returns (transcript, drill-clock ns when the last change line's prompt came back)."""
        import re

        transcript = []
        done_ns = None
        typed = (self.d.config_enter, *lines, self.d.config_exit)
        for i, line in enumerate(typed):
            self.sent.append(line)
            out = self.conn.send_command(line, expect_string=PROMPT, read_timeout=self.p["timeout"],
                                         strip_prompt=False, strip_command=False)
            if i < len(typed) - 1:  # the change is in effect once its last line is accepted
                done_ns = time.time_ns()
            transcript.append(out)
            said = [ln.strip() for ln in out.splitlines() if re.match(self.d.error, ln)]
            if said:
                if line != self.d.config_exit:
                    self.sent.append(self.d.config_exit)
                    self.conn.send_command(self.d.config_exit, expect_string=PROMPT,
                                           read_timeout=self.p["timeout"])
                raise Refused(f"the device rejected `{line}`: {said[0]}")
        return "\n".join(transcript), done_ns


# Any view's prompt at the end of the output: <R>, [R], [R-GigabitEthernet0/0/1], R#, R(config-if)#
PROMPT = r"(?:[>\]#])\s*$"


def _is_error(d, line):
    import re

    return re.match(d.error, line) is not None


# Secrets in a device's configuration (hashed or not): VRP/Comware `password cipher|
# irreversible-cipher|simple X`, `super password … X`, IOS `secret 5 X`, `password 7 X`,
# `key-string X`. Replaced before anything is stored; before and after alike, so the
# comparison still holds.
_SECRET = (r"(?i)\b((?:password|secret|cipher|irreversible-cipher|simple|key-string|authentication-key)"
           r"(?:\s+[0-9])?\s+)(?!cipher\b|irreversible-cipher\b|simple\b|[0-9]\s)\S+")


def redact(text):
    import re

    return re.sub(_SECRET, r"\1********", text)


def _store(p, name, text):
    if not p["evidence_dir"]:
        return None
    if name.endswith((".cfg", ".diff", ".txt")):
        text = redact(text)
    folder = os.path.join(p["evidence_dir"], "configs", "routers", p["router"])
    os.makedirs(folder, mode=0o750, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text if text.endswith("\n") else text + "\n")
    return path


def _stored(p, name):
    if not p["evidence_dir"]:
        return None
    path = os.path.join(p["evidence_dir"], "configs", "routers", p["router"], name)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _normal(text):
    """As stored: trailing blanks gone, secrets redacted (so before and after compare alike)."""
    return redact("\n".join(ln.rstrip() for ln in text.strip().splitlines()) + "\n")


def _cut(cli, p, result):
    d = cli.d
    for ln in p["lines"]:
        if ln.get("interface"):
            state = d.parse_interface(cli.show(d.show_interface.format(name=ln["interface"])))
            if not (state.admin_up and state.oper_up):
                raise Refused(f"line {ln['id']}: interface {ln['interface']} is not up before the cut "
                              f"(admin {'up' if state.admin_up else 'down'}, oper "
                              f"{'up' if state.oper_up else 'down'})")
    tracks = d.parse_tracking(cli.show(d.show_tracking))
    result["tracking"] = [{"name": t.name, "up": t.up, "detail": t.detail} for t in tracks]
    down = [t for t in tracks if not t.up]
    if down and p["require_backup"]:
        raise Refused("backup path not ready: " + "; ".join(f"{t.name}: {t.detail}" for t in down)
                      + f" ({d.show_tracking})")
    running = _normal(cli.show(d.show_running))
    if _stored(p, "running-before.cfg") is None:  # the first cut of a run keeps the original
        _store(p, "running-before.cfg", running)
        _store(p, "saved-before.cfg", _normal(cli.show(d.show_startup)))
    body = []
    for ln in p["lines"]:
        body += d.cut_lines(p["mode"], ln.get("interface"), ln["addresses"])
    return body


def _inspect(cli, p):
    """Each line's interface as the device describes it (nothing changed)."""
    out = []
    for ln in p["lines"]:
        if not ln.get("interface"):
            out.append({"id": ln["id"], "interface": None})
            continue
        text = cli.show(cli.d.show_interface.format(name=ln["interface"]))
        state = cli.d.parse_interface(text)
        out.append({"id": ln["id"], "interface": ln["interface"], "layer3": state.layer3,
                    "mbps": state.mbps, "admin_up": state.admin_up, "oper_up": state.oper_up,
                    "text": redact(text)[:2000]})
    return out


def _restore_body(cli, p):
    d = cli.d
    running = cli.show(d.show_running)
    body = []
    for ln in p["lines"]:
        shut = bool(ln.get("interface")) and d.interface_shut(running, ln["interface"])
        body += d.restore_lines(ln.get("interface"), shut, d.blackholes(running, ln["addresses"]))
    return body


def _compare(cli, p, result):
    d = cli.d
    after = _normal(cli.show(d.show_running))
    _store(p, "running-after.cfg", after)
    _store(p, "log.txt", cli.show(d.show_log))
    from orchestrator.adapters.routers import config_diff

    problems = []
    before = _stored(p, "running-before.cfg")
    if before is not None:
        result["diff"] = config_diff(before, after, "running-config")
        _store(p, "running.diff", result["diff"] or "(identical)\n")
        if result["diff"]:
            problems.append("the running configuration after the restore differs from the one "
                            "before the cut:\n" + result["diff"][:1500])
    saved_before = _stored(p, "saved-before.cfg")
    if saved_before is not None:
        saved = _normal(cli.show(d.show_startup))
        _store(p, "saved-after.cfg", saved)
        if saved != saved_before:
            problems.append("the saved (startup) configuration changed during the drill")
    if problems:
        raise Refused("; ".join(problems))


def main():
    module = AnsibleModule(argument_spec=dict(
        router=dict(type="str", required=True), host=dict(type="str", required=True),
        port=dict(type="int", default=22), jump=dict(type="dict"),
        known_hosts=dict(type="path", required=True),
        platform=dict(type="str", required=True),
        action=dict(type="str", required=True, choices=["cut", "restore", "inspect"]),
        mode=dict(type="str", default="blackhole", choices=["blackhole", "shutdown"]),
        lines=dict(type="list", elements="dict", required=True),
        centres=dict(type="list", elements="dict", required=True),
        username=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        secret=dict(type="str", required=True, no_log=True),
        evidence_dir=dict(type="path"), target=dict(type="str"), require_backup=dict(type="bool", default=True),
        timeout=dict(type="float", default=30.0)), supports_check_mode=True)
    p = module.params
    from orchestrator.adapters.routers import dialect, service_addresses

    try:
        d = dialect(p["platform"])
    except ValueError as e:
        module.fail_json(msg=f"{p['router']}: {e}")
    result = {"changed": False, "router": p["router"], "sent": [], "tracking": [], "diff": ""}
    centres = {c["id"]: c for c in p["centres"]}
    for ln in p["lines"]:  # as orchestrator.adapters.routers.line_addresses / planned_service_cli
        services = (centres.get(ln.get("centre")) or {}).get("services") or {}
        if ln.get("services"):  # service.yml: only those services' addresses
            try:
                ln["addresses"] = list(service_addresses(
                    {name: s["address"] for name, s in services.items()}, ln["services"]))
            except ValueError as e:
                module.fail_json(msg=f"{p['router']}: {ln.get('id')}: {e}")
        else:
            ln["addresses"] = list(dict.fromkeys(s["address"] for s in services.values()))
    if module.check_mode:
        body = []
        for ln in p["lines"]:
            body += (d.cut_lines(p["mode"], ln.get("interface"), ln["addresses"]) if p["action"] == "cut"
                     else d.restore_lines(ln.get("interface"), bool(ln.get("interface")), ln["addresses"]))
        module.exit_json(**result, planned=list(d.session(body)))
    pool = conn = cli = None
    try:
        pool, conn = _connect(p, d)
        cli = Cli(conn, d, p)
        cli.privilege()
        if p["action"] == "inspect":
            result["interfaces"] = _inspect(cli, p)
            result["sent"] = list(cli.sent)
            return module.exit_json(**result)
        body = _cut(cli, p, result) if p["action"] == "cut" else _restore_body(cli, p)
        _device, offset, unc = cli.clock()
        started = ended = time.time_ns()
        if body:
            result["output"], ended = cli.configure(body)
            result["changed"] = True
        device_after, _, _ = cli.clock()
        if p["action"] == "restore":
            _compare(cli, p, result)
        stamp = {"effective_ns": ended, "uncertainty_ms": round((ended - started) / 1e6, 3),
                 "device_clock_ns": device_after, "device_offset_ms": round(offset / 1e6, 3),
                 "device_offset_uncertainty_ms": round(unc / 1e6, 3),
                 "router": p["router"], "platform": p["platform"],
                 "lines": [ln["id"] for ln in p["lines"]], "action": p["action"],
                 "mode": p["mode"] if p["action"] == "cut" else "restore"}
        if p["target"]:
            stamp["target"] = p["target"]
        result["stdout"] = json.dumps(stamp)
        result["sent"] = list(cli.sent)
        _store(p, f"{p['action']}-{started}.json", json.dumps({**stamp, "sent": cli.sent,
                                                                "tracking": result["tracking"]}, indent=2))
    except Refused as e:
        module.fail_json(msg=f"{p['router']} ({p['platform']}): {e}",
                         **{**result, "sent": list(cli.sent) if cli else []})
    except Exception as e:  # netmiko / paramiko: say what failed, never the credentials
        module.fail_json(msg=f"{p['router']} ({p['platform']}): {type(e).__name__}: {e}",
                         **{**result, "sent": list(cli.sent) if cli else []})
    finally:
        if conn is not None:
            try:  # log out from user view (netmiko's own cleanup probes the prompt first: slow)
                conn.write_channel(("exit" if d.platform == "cisco_ios" else "quit") + conn.RETURN)
                conn.paramiko_cleanup()
            except Exception:
                pass
        if pool is not None:
            pool.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
