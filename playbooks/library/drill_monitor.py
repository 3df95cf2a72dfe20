#!/usr/bin/python
"""Read many gateways' monitors at once (docs/monitor-api.md), optionally until each is
logged in where expected. One module run for every gateway, instead of one `uri` run per
gateway: the shipped playbooks' per-step cost stays flat as the number of gateways grows.
On the control host it runs inside Ansible's worker (action_plugins/drill_inprocess.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: drill_monitor
short_description: Read gateway monitors concurrently and check they are logged in
description:
  - GETs C(/status) of every gateway's monitor concurrently (threads, no proxy).
  - With O(wait_s) > 0, polls the gateways not yet as expected every O(interval) seconds
    until each is, or the deadline passes.
  - Fails with one message naming every gateway that is not as expected.
  - Read-only; runs in check mode too.
options:
  gateways:
    description:
      - "Gateways to read, each C({id, monitor: {address, port}}) (other keys are ignored),
        optionally with C(expect_centres), the centres this gateway may be logged in at."
      - "Or repoint.yml's plan items C({gateway: {id, monitor, ...}, servers: [{centre, ...}]}),
        each expected at one of its servers' centres."
    type: list
    elements: dict
    required: true
  expect_state:
    description: The state each gateway must show; empty to only read.
    type: str
    default: logged_in
  expect_centre:
    description: A centre every gateway must be logged in at (instead of its own C(expect_centres)).
    type: str
  wait_s:
    description: How long to wait for every gateway to be as expected; 0 reads once.
    type: float
    default: 0
  interval:
    description: Seconds between polls of the gateways still pending.
    type: float
    default: 0.1
  timeout:
    description: Seconds for each HTTP request.
    type: float
    default: 5
  workers:
    description: Requests in flight at once, at most.
    type: int
    default: 32
"""

RETURN = r"""
gateways:
  description: Per gateway id, the last status read (state, centre, session_id, login_time)
    or the error.
  type: dict
  returned: always
bad:
  description: Ids of the gateways not as expected at the end.
  type: list
  returned: always
elapsed_s:
  description: Seconds spent.
  type: float
  returned: always
"""

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

_KEEP = ("state", "centre", "address", "session_id", "login_time", "login_time_ns")


def _read(opener, gw, timeout):
    mon = gw.get("monitor") or {}
    url = "http://{}:{}/status".format(mon.get("address"), mon.get("port"))
    try:
        with opener.open(url, timeout=timeout) as resp:
            doc = json.loads(resp.read())
    except Exception as e:  # any failure is this gateway's answer, not the module's
        return {"error": "{}: {}".format(url, getattr(e, "reason", None) or e)}
    if not isinstance(doc, dict):
        return {"error": f"{url}: not a JSON object"}
    return {k: doc.get(k) for k in _KEEP}


def _normal(item):
    """A plan item {gateway, servers} as {id, monitor, expect_centres}."""
    if isinstance(item.get("gateway"), dict) and "servers" in item:
        gw = item["gateway"]
        return {"id": gw.get("id"), "monitor": gw.get("monitor"),
                "expect_centres": [s.get("centre") for s in item.get("servers") or []]}
    return item


def _problem(gw, st, expect_state, expect_centre):
    """Why this gateway is not as expected, or None."""
    if "error" in st and not expect_state:
        return "{}: no answer ({})".format(gw["id"], st["error"])
    if not expect_state:
        return None
    centres = [expect_centre] if expect_centre else list(gw.get("expect_centres") or [])
    want = expect_state + (" at " + " or ".join(centres) if centres else "")
    if "error" in st:
        return "{}: no answer ({}), expected {}".format(gw["id"], st["error"], want)
    if st.get("state") != expect_state or (centres and st.get("centre") not in centres):
        return "{}: state {} at {}, expected {}".format(
            gw["id"], st.get("state"), st.get("centre") or "none", want)
    return None


ARGUMENT_SPEC = {
    "gateways": {"type": "list", "elements": "dict", "required": True},
    "expect_state": {"type": "str", "default": "logged_in"},
    "expect_centre": {"type": "str"},
    "wait_s": {"type": "float", "default": 0.0},
    "interval": {"type": "float", "default": 0.1},
    "timeout": {"type": "float", "default": 5.0},
    "workers": {"type": "int", "default": 32},
}


def run(p, check_mode):
    """The module's result for params `p` (a GET: check mode reads too, for drill plan)."""
    gateways = [_normal(gw) for gw in p["gateways"]]
    for gw in gateways:
        if not gw.get("id") or not isinstance(gw.get("monitor"), dict):
            return {"failed": True, "changed": False,
                    "msg": f"drill_monitor: each gateway needs id and monitor {{address, port}}; got {gw!r}"}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    started = time.monotonic()
    deadline = started + max(0.0, p["wait_s"])
    last = {}
    pending = list(gateways)
    workers = max(1, min(p["workers"], len(gateways) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while pending:
            round_start = time.monotonic()
            # A request never runs past the deadline by more than its own timeout.
            timeout = p["timeout"] if p["wait_s"] <= 0 else max(
                0.5, min(p["timeout"], deadline - round_start))
            answers = list(pool.map(lambda g, t=timeout: _read(opener, g, t), pending))
            still = []
            for gw, st in zip(pending, answers, strict=True):
                last[gw["id"]] = st
                if _problem(gw, st, p["expect_state"], p["expect_centre"]):
                    still.append(gw)
            pending = still
            if not pending or time.monotonic() + p["interval"] > deadline:
                break
            time.sleep(max(0.0, round_start + p["interval"] - time.monotonic()))
    problems = [_problem(gw, last[gw["id"]], p["expect_state"], p["expect_centre"]) for gw in pending]
    result = {"changed": False, "gateways": last, "bad": [gw["id"] for gw in pending],
              "elapsed_s": round(time.monotonic() - started, 3)}
    if problems:
        waited = " after waiting {:g}s".format(p["wait_s"]) if p["wait_s"] > 0 else ""
        result.update(failed=True, msg=f"{len(problems)} of {len(gateways)} gateway(s) not as expected{waited}: "
                      + "; ".join(problems))
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = run(module.params, module.check_mode)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
