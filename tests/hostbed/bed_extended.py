"""The extended test bed (`bed.build(root, extended=True)`): gw2 behind the same lines with a
skewed clock, the Beijing centre and the satellite multicast bridge (see bed.py's module doc)."""

from __future__ import annotations

import sys

from hostbed.bed import (
    BJ_NET,
    SAT_ADDRESS,
    SERVICE_HOSTS,
    BedError,
    BedHost,
    HostBed,
    _link,
    _ns_addr,
    run,
    skew_env,
    wait_for,
)

# libfaketime 0.9.10 keeps a semaphore and shared memory named after the first preloaded
# process of a tree (FAKETIME_SHARED), and any forked copy of that process (a shell's
# `$(...)` or pipeline) removes them when it exits: the tree's later processes then fail to
# start ("sem_open failed and recreation attempts failed", exit 1, no output). On gw2 that
# made a command now and then print nothing (`ss`, `cat /proc/net/tcp`, `date`: a socket
# table with a session missing, a market-data flap). So gw2's sshd and sessions all use one
# pair that a keeper holds for the bed's life, and nothing under it ever created or removes.
_KEEPER = '''
import os, signal, subprocess, sys, time
p = subprocess.Popen(["faketime", "-f", sys.argv[1], "sleep", "infinity"])
children = f"/proc/{p.pid}/task/{p.pid}/children"
while p.poll() is None and not open(children).read().strip():  # its child runs: the state is made
    time.sleep(0.01)
if p.poll() is not None:
    sys.exit(1)  # the wrapper refused (its pid's name was left in /dev/shm): nothing held
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGCHLD})
print(p.pid, flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGCHLD})
p.terminate()
p.wait()
for name in (f"sem.faketime_sem_{p.pid}", f"faketime_shm_{p.pid}"):
    try:
        os.unlink("/dev/shm/" + name)
    except FileNotFoundError:
        pass
'''


def build_extended(bed: HostBed) -> None:
    """gw2 behind the same lines, Beijing on the backbone, the satellite bridge (module doc)."""
    _start_clock_keeper(bed, bed.host("gw2"))
    for gw_if, addr, peer_host, peer in (("ct0", "198.18.1.5/30", "ct", "198.18.1.6/30"),
                                         ("cu0", "198.18.2.5/30", "cu", "198.18.2.6/30")):
        tmp = f"{bed.prefix}{gw_if[:2]}"
        bed.exec("gw", "ip", "link", "add", tmp, "link", gw_if, "type", "macvlan", "mode", "bridge")
        bed.exec("gw", "ip", "link", "set", tmp, "netns", bed.ns("gw2"))
        bed.exec("gw2", "ip", "link", "set", tmp, "name", gw_if)
        _ns_addr(bed, "gw2", gw_if, addr)
        bed.exec(peer_host, "ip", "addr", "add", peer, "dev", "line0")
    _link(bed, "ft", "bb1", "198.18.21.1/30", "bj", "ft0", "198.18.21.2/30")
    _link(bed, "nf", "bb2", "198.18.22.1/30", "bj", "nf0", "198.18.22.2/30")
    for last in SERVICE_HOSTS.values():
        bed.exec("bj", "ip", "addr", "add", f"{BJ_NET}.{last}/32", "dev", "lo")
    routes = {
        "gw": [(f"{BJ_NET}.0/24", "198.18.1.2", 10), (f"{BJ_NET}.0/24", "198.18.2.2", 20)],
        "gw2": [("198.18.101.0/24", "198.18.1.6", 10), ("198.18.101.0/24", "198.18.2.6", 20),
                ("198.18.102.0/24", "198.18.2.6", 10), ("198.18.102.0/24", "198.18.1.6", 20),
                (f"{BJ_NET}.0/24", "198.18.1.6", 10), (f"{BJ_NET}.0/24", "198.18.2.6", 20)],
        "ct": [(f"{BJ_NET}.0/24", "198.18.11.2", 10)],
        "cu": [(f"{BJ_NET}.0/24", "198.18.12.2", 10)],
        "ft": [("198.18.1.4/30", "198.18.11.1", 10), ("198.18.2.4/30", "198.18.20.2", 10),
               (f"{BJ_NET}.0/24", "198.18.21.2", 10)],
        "nf": [("198.18.2.4/30", "198.18.12.1", 10), ("198.18.1.4/30", "198.18.20.1", 10),
               (f"{BJ_NET}.0/24", "198.18.22.2", 10)],
        "bj": [("198.18.1.0/29", "198.18.21.1", 10), ("198.18.2.0/29", "198.18.22.1", 10),
               ("198.18.101.0/24", "198.18.21.1", 10), ("198.18.102.0/24", "198.18.22.1", 10)],
    }
    for host, entries in routes.items():
        for prefix, via, metric in entries:
            bed.exec(host, "ip", "route", "append", prefix, "via", via, "metric", str(metric))
    # The satellite broadcast: a bridge on ft, one port per gateway host.
    run("ip", "-n", bed.ns("ft"), "link", "add", "sat", "type", "bridge")
    _ns_addr(bed, "ft", "sat", f"{SAT_ADDRESS['ft']}/24")
    for host in ("gw", "gw2"):
        port = f"s-{host}"
        run("ip", "link", "add", "sat0", "netns", bed.ns(host), "type", "veth", "peer", "name", port,
            "netns", bed.ns("ft"))
        run("ip", "-n", bed.ns("ft"), "link", "set", port, "master", "sat", "up")
        _ns_addr(bed, host, "sat0", f"{SAT_ADDRESS[host]}/24")


def _start_clock_keeper(bed: HostBed, h: BedHost) -> None:
    """The libfaketime shared state gw2's processes use (`FAKETIME_SHARED`, see _KEEPER's
    note), held by a `faketime` wrapper that lives as long as the bed (the keeper removes it
    when the bed stops it). The wrapper names it after its pid and refuses a name a killed
    run left in /dev/shm: the keeper then exits and is run again."""
    from hostbed.bed import SKEW

    for attempt in range(5):
        log = h.dir / f"faketime-keeper-{attempt}.log"
        proc = bed.spawn(h.name, [sys.executable, "-c", _KEEPER, SKEW], log)

        def held(proc=proc, log=log) -> str | None:
            words = log.read_text().split() if log.exists() else []
            if words and words[0].isdigit():
                return words[0]
            return "refused" if proc.poll() is not None else None

        pid = wait_for(held, 10, "gw2's faketime keeper")
        if pid != "refused":
            (h.dir / "faketime_shared").write_text(f"/faketime_sem_{pid} /faketime_shm_{pid}")
            return
    raise BedError("gw2's faketime keeper could not start (see faketime-keeper-*.log)")


def skew_env_of(h: BedHost) -> dict[str, str]:
    """skew_env() with the keeper's shared state (gw2's sshd and every session under it)."""
    return {**skew_env(), "FAKETIME_SHARED": (h.dir / "faketime_shared").read_text()}


def skew_setenv(h: BedHost) -> str:
    """gw2: every session's commands see the skewed clock, as on a host whose clock is off.

    libfaketime does not reach bash's $EPOCHREALTIME/$EPOCHSECONDS (bash reads them with a
    gettimeofday it does not intercept). gw2's sessions therefore find first on their PATH
    a `bash` that unsets them before running a `-c` command, and a BASH_ENV that does the
    same for scripts: whatever reads the time there falls back to a faked `date`.
    """
    skewbin = h.dir / "skewbin"
    skewbin.mkdir(exist_ok=True)
    wrapper = skewbin / "bash"
    wrapper.write_text('#!/bin/sh\n# the bed\'s skewed host: no clock that libfaketime cannot reach\n'
                       'if [ "$1" = "-c" ] && [ $# -ge 2 ]; then\n'
                       '  cmd=$2; shift 2\n'
                       '  exec /bin/bash -c "unset EPOCHREALTIME EPOCHSECONDS; $cmd" "$@"\n'
                       'fi\nexec /bin/bash "$@"\n')
    wrapper.chmod(0o755)
    bash_env = h.dir / "skew.bashrc"
    bash_env.write_text("unset EPOCHREALTIME EPOCHSECONDS\n")
    env = {**skew_env_of(h), "BASH_ENV": str(bash_env),
           "PATH": f"{skewbin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    return "SetEnv " + " ".join(f'"{k}={v}"' for k, v in env.items()) + "\n"
