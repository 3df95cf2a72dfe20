"""R-SEC-2 live: each gateway host's and the log server's log retention, read over drill's SSH.

A thin reading layer: one shell loop per host prints the settings files (logrotate with its
includes, journald with its drop-ins, the cron files, a declared retention's file) and
`orchestrator.compliance.logrules` judges them. Where each setting lives is a host variable
(docs/inventory.md, "Log retention"); a file drill cannot read is named in the evidence,
and a log nothing bounds is "not tested", never a pass.
"""

from __future__ import annotations

import math
import secrets
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.compliance import logrules
from orchestrator.compliance.clauses import Arg, CheckRow, Msg, Raw, Status, msg, row, seq
from orchestrator.model.inventory import Inventory

CLAUSE = "R-SEC-2"
# Host variables saying where a host keeps its retention settings, and their defaults.
SETTINGS = {
    "drill_logrotate_conf": "/etc/logrotate.conf",
    "drill_journald_conf": "/etc/systemd/journald.conf",
    "drill_cron_files": ["/etc/crontab", "/etc/cron.d", "/etc/cron.daily"],
    "drill_syslog_files": ["/var/log/syslog", "/var/log/messages"],
}
# The reader: $1 a boundary drawn afresh for each call, then paths. Each file (a folder: its
# files) follows a line "<boundary> OK|UNREADABLE|MISSING <path>"; a path written "?path"
# is only looked for: "<boundary> PRESENT <path>" when it exists.
_READ = r"""b=$1; shift
emit() {
  if [ -f "$1" ] && [ -r "$1" ]; then printf '%s OK %s\n' "$b" "$1"; cat -- "$1"; printf '\n'
  elif [ -e "$1" ]; then printf '%s UNREADABLE %s\n' "$b" "$1"
  else printf '%s MISSING %s\n' "$b" "$1"; fi
}
for p in "$@"; do
  case $p in
    \?*) [ -e "${p#?}" ] && printf '%s PRESENT %s\n' "$b" "${p#?}" ;;
    *) if [ -d "$p" ]; then for f in "$p"/*; do [ -f "$f" ] && emit "$f"; done; else emit "$p"; fi ;;
  esac
done
exit 0"""

Run = Callable[[str], tuple[int, str, str]]  # command -> (exit status, stdout, stderr)


@dataclass(frozen=True)
class FileRead:
    path: str
    text: str | None    # None: not read
    why: str = ""       # missing | unreadable


@dataclass(frozen=True)
class Target:
    """One host to judge: the logs that must be judged and those judged when present."""

    host: str
    role: str                               # gateway host | log server
    logs: tuple[str, ...]
    optional: tuple[str, ...] = ()
    declared: tuple[int, str] | None = None  # (days, file that states it)


def read_files(run: Run, paths: Sequence[str]) -> list[FileRead]:
    if not paths:
        return []
    boundary = f"--drill-{secrets.token_hex(12)}--"
    status, out, err = run(_sh(_READ, [boundary, *paths]))
    if status != 0:
        raise OSError(f"reading {', '.join(paths)}: exit {status}: {err.strip()[:200]}")
    reads = []
    for chunk in out.split(boundary + " ")[1:]:
        head, _, body = chunk.partition("\n")
        state, _, path = head.partition(" ")
        if state == "OK":  # the reader added one newline after the file
            reads.append(FileRead(path, body[:-1] if body.endswith("\n") else body))
        else:
            reads.append(FileRead(path, None, state.lower()))
    return reads


def _sh(script: str, args: Sequence[str]) -> str:
    return "sh -c " + shlex.quote(script) + " drill-read " + " ".join(shlex.quote(a) for a in args)


def judge_host(run: Run, target: Target, hv: Mapping[str, Any]) -> CheckRow:
    """Read one host's settings (one command, another per level of logrotate `include`)
    and judge each of its logs (and the journal)."""
    conf = str(hv.get("drill_logrotate_conf") or SETTINGS["drill_logrotate_conf"])
    jconf = str(hv.get("drill_journald_conf") or SETTINGS["drill_journald_conf"])
    cron = _paths(hv.get("drill_cron_files"), SETTINGS["drill_cron_files"])
    policy = [target.declared[1]] if target.declared else []
    first = read_files(run, [conf, jconf, jconf + ".d", *cron, *policy, *(f"?{p}" for p in target.optional)])
    rotate = _of(first, [conf])
    journal = [f for f in _of(first, [jconf, jconf + ".d"]) if f.path == jconf or f.path.endswith(".conf")]
    crons, declared = _of(first, cron), _of(first, policy)
    present = [p for p in target.optional if FileRead(p, None, "present") in first]
    for _ in range(3):  # includes, and includes of included files
        named = [i for f in rotate if f.text is not None for i in logrules.logrotate_includes(f.text)]
        new = [p for p in dict.fromkeys(named) if not _of(rotate, [p])]
        if not new:
            break
        rotate += read_files(run, new)
    stanzas = logrules.parse_logrotate([(f.path, f.text) for f in rotate if f.text is not None])
    cleanups = logrules.parse_cleanups((f.path, f.text) for f in crons if f.text is not None)
    extra = []
    if target.declared:
        d = declared[0] if declared else FileRead(target.declared[1], None, "missing")
        extra.append(logrules.declared_rule(target.declared[0], d.path, d.text, d.why))
    verdicts = [logrules.judge(log, logrules.rules_for(log, stanzas, cleanups) + extra)
                for log in (*target.logs, *present)]
    notes: list[Arg] = [msg(f"cc_file_{f.why}", path=f.path)
                        for f in (*rotate[:1], *journal[:1], *declared) if f.text is None]
    jrule = logrules.journald_rule([(f.path, f.text) for f in journal if f.text is not None])
    if jrule is not None and jrule.days is not None and jrule.days < logrules.MIN_DAYS:
        verdicts.append(logrules.judge("journal", [jrule]))
    elif jrule is not None:  # a limit of a year or more: journald's size limits may still remove it
        notes.append(msg("cc_journal_note", text=Raw(jrule.text), source=jrule.source))
    absent = [p for p in target.optional if p not in present]
    if absent:
        notes.append(msg("cc_absent", paths=seq(absent, ", ")))
    read = tuple(f.path for f in (*rotate, *journal, *crons, *declared) if f.text is not None)
    return _row(target, verdicts, read, notes)


def _of(reads: Sequence[FileRead], asked: Sequence[str]) -> list[FileRead]:
    """The reads answering these paths: the file itself, or a file of that folder."""
    return [f for f in reads if f.why != "present" and any(
        f.path == p or f.path.startswith(p.rstrip("/") + "/") for p in asked)]


def _paths(value: Any, default: list[str]) -> list[str]:
    if value is None:
        return list(default)
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def _row(target: Target, verdicts: Sequence[logrules.Verdict], read: tuple[str, ...],
         notes: list[Arg]) -> CheckRow:
    statuses = {v.status for v in verdicts}
    if Status.FAIL in statuses:
        status = Status.FAIL
    elif not verdicts or Status.NOT_TESTED in statuses:
        status = Status.NOT_TESTED
    else:
        status = Status.PASS
    known = [v.days for v in verdicts if v.days is not None]
    days = min(known) if known else None
    said = seq((v.described() for v in verdicts), "; ", msg("cc_no_log"))
    tail = msg("cc_read_tail", files=seq(read, ", ", msg("cc_nothing")),
               notes=msg("cc_notes", notes=seq(notes)) if notes else "")
    text: Arg = msg("cc_concat", a=said, b=tail)
    return row(CLAUSE, "live", status, msg("cc_host_role", host=target.host, role=_role(target.role), text=text),
               host=target.host, days=None if days is None or days == math.inf else int(days), read=read,
               logs=tuple((v.subject, str(v.status), None if v.days is None or v.days == math.inf else int(v.days))
                          for v in verdicts))


def _role(role: str) -> Msg:
    return msg("cc_role_" + role.replace(" ", "_"))


def _not_tested(host: str, role: str, why: Arg) -> CheckRow:
    return row(CLAUSE, "live", Status.NOT_TESTED,
               msg("cc_host_role", host=host, role=_role(role), text=msg("cc_not_tested", why=why)), host=host)


def targets(inv: Inventory) -> list[Target]:
    """Every gateway host (its gateways' logs; syslog files when present) and the log server."""
    by_host: dict[str, list[str]] = {}
    for gw in inv.gateways:
        by_host.setdefault(gw.host, [])
        if gw.log and gw.log.startswith("/"):
            by_host[gw.host].append(gw.log)
    out = [Target(h, "gateway host", tuple(dict.fromkeys(logs))) for h, logs in sorted(by_host.items())]
    ls = inv.log_server
    if ls is not None:
        declared = (ls.retention_days, ls.declared_in) if ls.retention_days and ls.declared_in else None
        out.append(Target(ls.host, "log server", ls.logs, declared=declared))
    return out


def check_log_retention(inv: Inventory) -> list[CheckRow]:
    """One R-SEC-2 row per gateway host and for the log server (none named: not tested)."""
    from orchestrator.adapters.hosts import load_topology
    from orchestrator.adapters.ssh import SshPool
    from orchestrator.config.ansible_inventory import read_inventory

    source = read_inventory(Path(inv.path))
    topo = load_topology(inv.path)
    manual = ({gw.host for gw in inv.gateways if (gw.driver or inv.driver) == "manual"}
              - {gw.host for gw in inv.gateways if (gw.driver or inv.driver) != "manual"})
    rows = []
    with SshPool(topo) as pool:
        for t in targets(inv):
            hv = dict(source.hosts[t.host].effective) if t.host in source.hosts else {}
            syslog = _paths(hv.get("drill_syslog_files"), SETTINGS["drill_syslog_files"])
            target = Target(t.host, t.role, t.logs,
                            tuple(syslog) if t.role == "gateway host" else (), t.declared)
            if t.role == "gateway host" and t.host in manual:
                rows.append(_not_tested(t.host, t.role, msg("cc_why_manual")))
                continue
            if hv.get("ansible_connection") == "local":
                run: Run = _local
            elif t.host in topo.hosts:
                run = _remote(pool, t.host)
            else:
                rows.append(_not_tested(t.host, t.role, msg("cc_why_not_ssh")))
                continue
            try:
                rows.append(judge_host(run, target, hv))
            except Exception as e:  # any failure to read is reported, not raised
                rows.append(_not_tested(t.host, t.role, msg("cc_why_not_read", error=Raw(str(e)))))
    if inv.log_server is None:
        rows.append(row(CLAUSE, "live", Status.NOT_TESTED, msg("cc_no_log_server")))
    return rows


def _remote(pool: Any, host: str) -> Run:
    def run(command: str) -> tuple[int, str, str]:
        r = pool.run(host, command, timeout_s=30.0)
        return r.exit_status, r.stdout, r.stderr
    return run


def _local(command: str) -> tuple[int, str, str]:
    import subprocess

    p = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr
