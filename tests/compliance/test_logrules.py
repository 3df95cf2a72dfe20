"""R-SEC-2's judge (orchestrator/compliance/logrules.py) on real-looking settings files."""

from __future__ import annotations

import math

import pytest

from orchestrator.compliance.clauses import Status
from orchestrator.compliance.logrules import (
    declared_rule,
    journald_rule,
    judge,
    parse_cleanups,
    parse_logrotate,
    rules_for,
    timespan_s,
)

# Debian's /etc/logrotate.conf and rsyslog's stanza as shipped (bookworm).
DEBIAN_CONF = """\
# see "man logrotate" for details

# global options do not affect preceding include directives

# rotate log files weekly
weekly

# keep 4 weeks worth of backlogs
rotate 4

# create new (empty) log files after rotating old ones
create

# use date as a suffix of the rotated file
#dateext

# uncomment this if you want your log files compressed
#compress

# packages drop log rotation information into this directory
include /etc/logrotate.d

# system-specific logs may also be configured here.
"""
DEBIAN_RSYSLOG = """\
/var/log/syslog
/var/log/mail.log
/var/log/kern.log
/var/log/auth.log
/var/log/user.log
/var/log/cron.log
{
\trotate 4
\tweekly
\tmissingok
\tnotifempty
\tcompress
\tdelaycompress
\tsharedscripts
\tpostrotate
\t\t/usr/lib/rsyslog/rsyslog-rotate
\tendscript
}
"""
# A firm's own stanzas: the gateway's log monthly for a year, the syslog weekly for 52 weeks.
FIRM_GATEWAY = """\
# SSCC gateway logs: kept one year (R-SEC-2)
/opt/sscc/gw/log/*.log {
    monthly
    rotate 12
    compress
    missingok
    copytruncate
    postrotate
        [ -f /run/gw.pid ] && kill -HUP $(cat /run/gw.pid) || true  # } not a stanza end
    endscript
}
"""
FIRM_SYSLOG_52 = """\
/var/log/messages /var/log/secure { weekly
  rotate 52
}
"""
RHEL_CONF = """\
weekly
rotate 4
create
dateext
include /etc/logrotate.d
/var/log/wtmp {
    monthly
    create 0664 root utmp
\tminsize 1M
    rotate 1
}
"""


def stanzas(*files):
    return parse_logrotate(list(files))


def verdict(path, *files, cleanups=()):
    return judge(path, rules_for(path, stanzas(*files), parse_cleanups(cleanups)))


def test_debian_defaults_keep_syslog_four_weeks():
    v = verdict("/var/log/syslog", ("/etc/logrotate.conf", DEBIAN_CONF),
                ("/etc/logrotate.d/rsyslog", DEBIAN_RSYSLOG))
    assert v.status is Status.FAIL and v.days == 28
    assert v.rules[0].source == "/etc/logrotate.d/rsyslog:1"
    assert "rotate 4 × weekly = 28 days" in v.why


def test_twelve_months_is_a_year_and_a_script_brace_does_not_end_the_stanza():
    files = [("/etc/logrotate.conf", DEBIAN_CONF), ("/etc/logrotate.d/rsyslog", DEBIAN_RSYSLOG),
             ("/etc/logrotate.d/sscc-gw", FIRM_GATEWAY)]
    v = verdict("/opt/sscc/gw/log/trade.log", *files)
    assert v.status is Status.PASS and v.days == 365
    assert [s.source for s in stanzas(*files)] == ["/etc/logrotate.d/rsyslog:1", "/etc/logrotate.d/sscc-gw:2"]
    # `*` stays within one folder, as in logrotate's glob
    assert verdict("/opt/sscc/gw/log/old/trade.log", *files).status is Status.NOT_TESTED


def test_fifty_two_weeks_is_364_days_and_fails():
    v = verdict("/var/log/secure", ("/etc/logrotate.conf", RHEL_CONF),
                ("/etc/logrotate.d/syslog", FIRM_SYSLOG_52))
    assert v.status is Status.FAIL and v.days == 364


def test_globals_apply_to_includes_and_a_stanza_overrides_them():
    conf = "daily\nrotate 400\ninclude /etc/logrotate.d\n"
    inc = "/var/log/gw.log {\n  missingok\n}\n/var/log/b.log {\n  rotate 30\n}\n"
    files = [("/etc/logrotate.conf", conf), ("/etc/logrotate.d/gw", inc),
             ("/etc/logrotate.d/gw.dpkg-old", "/var/log/gw.log {\n rotate 1\n}\n")]
    assert verdict("/var/log/gw.log", *files).days == 400   # global daily × 400, taboo file skipped
    assert verdict("/var/log/b.log", *files).days == 30


@pytest.mark.parametrize(("body", "status", "days"), [
    ("daily\nrotate 400\nmaxage 30", Status.FAIL, 30),
    ("daily\nrotate 400\nmaxage 366", Status.PASS, 366),
    ("size 100M\nrotate 10", Status.NOT_TESTED, None),
    ("rotate 10", Status.NOT_TESTED, None),            # no period: logrotate rotates by size
    ("weekly\nrotate -1", Status.PASS, math.inf),      # rotated logs never removed
    ("weekly", Status.FAIL, 0),                        # no rotate: none kept
    ("yearly\nrotate 1", Status.PASS, 365),
    ("hourly\nrotate 24", Status.FAIL, 1),
], ids=["maxage-30", "maxage-366", "size", "no-period", "rotate-1", "rotate-0", "yearly", "hourly"])
def test_stanza_to_days(body, status, days):
    v = verdict("/var/log/x.log", ("/etc/logrotate.conf", "/var/log/x.log {\n" + body + "\n}\n"))
    assert (v.status, v.days) == (status, days)


def test_a_log_nothing_bounds_is_not_tested_never_passed():
    v = verdict("/var/log/gw/trade.log", ("/etc/logrotate.conf", DEBIAN_CONF))
    assert v.status is Status.NOT_TESTED and "not known" in v.why


CRON_D = """\
SHELL=/bin/sh
# keep remote logs 400 days
15 3 * * * root find /srv/log/remote -type f -name '*.log' -mtime +399 -delete
30 3 * * * root /usr/bin/find /srv/log/archive -mtime +29 -exec rm -f {} \\;
#45 3 * * * root find /srv/log/remote -mtime +1 -delete
0 4 * * * root find /srv/log/tmp -mtime +1 -print
"""


def test_cleanup_cron_bounds_the_log_server_files():
    c = parse_cleanups([("/etc/cron.d/log-cleanup", CRON_D)])
    assert [(x.root, x.days, x.source) for x in c] == [
        ("/srv/log/remote", 400, "/etc/cron.d/log-cleanup:3"),
        ("/srv/log/archive", 30, "/etc/cron.d/log-cleanup:4")]
    assert verdict("/srv/log/remote/ct-router.log", cleanups=[("/etc/cron.d/x", CRON_D)]).days == 400
    assert verdict("/srv/log/remote/ct.gz", cleanups=[("/etc/cron.d/x", CRON_D)]).status is Status.NOT_TESTED
    v = verdict("/srv/log/archive/2026/ct.log", cleanups=[("/etc/cron.d/x", CRON_D)])
    assert v.status is Status.FAIL and v.days == 30


def test_the_shortest_rule_wins():
    rot = ("/etc/logrotate.conf", "/srv/log/remote/*.log {\n daily\n rotate 800\n}\n")
    v = verdict("/srv/log/remote/a.log", rot,
                cleanups=[("/etc/cron.daily/clean", "find /srv/log/remote -mtime +89 | xargs rm -f\n")])
    assert v.status is Status.FAIL and v.days == 90 and len(v.rules) == 2


@pytest.mark.parametrize(("text", "seconds"), [
    ("1year", 31557600), ("12month", 12 * 2629800), ("365d", 365 * 86400), ("8760h", 8760 * 3600),
    ("1y 2d", 31557600 + 2 * 86400), ("3600", 3600), ("30 days", 30 * 86400), ("2w", 14 * 86400),
    ("1 fortnight", None), ("", None)])
def test_systemd_time_spans(text, seconds):
    assert timespan_s(text) == seconds


def test_journald_max_retention_and_drop_in_override():
    main = "[Journal]\n#Storage=auto\nStorage=persistent\nMaxRetentionSec=1month\n"
    assert journald_rule([("/etc/systemd/journald.conf", main)]).days == 30
    drop = "[Journal]\nMaxRetentionSec=1y\n"
    rule = journald_rule([("/etc/systemd/journald.conf", main),
                          ("/etc/systemd/journald.conf.d/90-keep.conf", drop)])
    assert rule.days == 365 and rule.source == "/etc/systemd/journald.conf.d/90-keep.conf:2"
    assert judge("journal", [rule]).status is Status.PASS
    assert journald_rule([("/etc/systemd/journald.conf", "[Journal]\n#MaxRetentionSec=\n")]) is None
    assert journald_rule([("j", "[Journal]\nMaxRetentionSec=1y\n"), ("k", "[Journal]\nMaxRetentionSec=0\n")]) is None
    assert journald_rule([("j", "[Other]\nMaxRetentionSec=1d\n")]) is None


def test_declared_retention_counts_only_when_its_file_states_it():
    ok = declared_rule(400, "/etc/log-policy.conf", "# ISMS-LOG-03\nretention_days = 400\n")
    assert ok.days == 400 and ok.source == "/etc/log-policy.conf:2"
    assert declared_rule(400, "/etc/log-policy.conf", "retention_days = 4000\n").days is None
    unread = declared_rule(400, "/etc/log-policy.conf", None, "missing")
    assert unread.days is None and "missing" in unread.text
    assert judge("/srv/log/remote/*.log", [unread]).status is Status.NOT_TESTED
