"""How long a host keeps its logs, judged from its retention settings (R-SEC-2; pure).

The settings drill reads on a gateway host or the log server (orchestrator/compliance/
log_hosts.py fetches the files over SSH) and what each one says about a log file:

- logrotate: the stanza naming the file; rotation count × period (`daily` 1 day, `weekly`
  7, `monthly` a twelfth of a year, `yearly` 365, `hourly` 1/24), capped by `maxage`. A
  size-only stanza (or none with no period: logrotate then rotates by size) cannot be
  turned into days. `rotate -1` never removes a rotated log; no `rotate` keeps none.
- a cleanup job (crontab, cron.d, cron.daily): `find DIR [-name PAT] -mtime +N` with
  `-delete`, `-exec rm` or `| xargs rm` removes files at N+1 days.
- journald: `MaxRetentionSec` in the [Journal] section (drop-ins later override).
- a retention the firm declares for the log server, with the file that states it.

Days here are the guaranteed minimum a line stays on disk. Anything drill cannot turn into
days is `None`, and a log with no rule that gives days is "not tested", never "pass".
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from orchestrator.compliance.clauses import Msg, Raw, Status, msg

MIN_DAYS = 365
PERIOD_DAYS = {"hourly": 1 / 24, "daily": 1.0, "weekly": 7.0, "monthly": 365 / 12, "yearly": 365.0}
# logrotate's own taboo extensions: files in an included folder it skips
_TABOO = (".rpmsave", ".rpmorig", "~", ".disabled", ".dpkg-old", ".dpkg-dist", ".dpkg-new",
          ".cfsaved", ".ucf-old", ".ucf-dist", ".ucf-new", ".rpmnew", ".swp", ",v")


@dataclass(frozen=True)
class Rule:
    """One setting that bounds how long a log stays: where it was read and what it gives."""

    kind: str              # logrotate | cleanup | journald | declared
    source: str            # file:line
    days: float | None     # the guaranteed minimum kept; None: no number of days follows
    text: str              # what was read, e.g. "rotate 52 × weekly = 364 days"


@dataclass(frozen=True)
class Stanza:
    patterns: tuple[str, ...]
    source: str
    rotate: int            # -1: never removed; 0: none kept
    period: str | None     # PERIOD_DAYS key; None: size-based
    maxage: int | None

    def matches(self, path: str) -> bool:
        return any(_glob_match(path, p) for p in self.patterns)

    def rule(self) -> Rule:
        what = f"rotate {self.rotate} × {self.period or 'size'}"
        if self.rotate < 0:
            days: float | None = math.inf
        elif self.period is None:
            days = None
        else:
            days = _floor(self.rotate * PERIOD_DAYS[self.period])
        if self.maxage is not None:
            what += f", maxage {self.maxage}"
            days = self.maxage if days is None else min(days, self.maxage)
            if self.period is None:  # size rotation may remove it sooner than maxage
                days = None
        if days is None:
            return Rule("logrotate", self.source, None, f"{what}: rotated by size, no number of days")
        return Rule("logrotate", self.source, days, f"{what} = {show_days(days)}")


@dataclass(frozen=True)
class Cleanup:
    root: str
    name: str | None
    days: int
    source: str
    text: str

    def matches(self, path: str) -> bool:
        inside = path == self.root or path.startswith(self.root.rstrip("/") + "/")
        return inside and (self.name is None or _glob_match(PurePosixPath(path).name, self.name))

    def rule(self) -> Rule:
        return Rule("cleanup", self.source, float(self.days),
                    f"{self.text} = {show_days(self.days)}")


@dataclass(frozen=True)
class Verdict:
    """One log (a file, or the journal) on one host, judged."""

    subject: str
    status: Status          # PASS / FAIL / NOT_TESTED
    days: float | None
    rules: tuple[Rule, ...]
    why: str
    message: Msg | None = None  # `why` as a message (zh rendering); the rules' text is Raw

    def describe(self) -> str:
        return f"{self.subject}: {self.why}"

    def described(self) -> Msg:
        """describe() as a message: the same English, in zh the judgement in Chinese."""
        subject = msg("cc_journal") if self.subject == "journal" else self.subject
        return msg("cc_verdict", subject=subject, why=self.message or Raw(self.why))


def show_days(days: float) -> str:
    return "no limit" if days == math.inf else f"{int(days)} days"


def _floor(x: float) -> float:
    return float(math.floor(round(x, 6)))


def _glob_match(path: str, pattern: str) -> bool:
    if path == pattern:
        return True
    try:  # an absolute pattern matches the whole path; `*` stays within one folder
        return PurePosixPath(path).match(pattern)
    except ValueError:
        return False


# --- logrotate ------------------------------------------------------------------------

def logrotate_includes(text: str) -> list[str]:
    """The paths `include` names at the top level of a logrotate file."""
    return [w[1] for w in (_words(ln) for ln in text.splitlines()) if len(w) >= 2 and w[0] == "include"]


def included_files(include: str, files: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The files among `files` an `include` brings in: the file itself, or a folder's files
    in name order without logrotate's taboo extensions."""
    folder = include.rstrip("/") + "/"
    inside = sorted((f for f in files if f[0].startswith(folder) and "/" not in f[0][len(folder):]),
                    key=lambda f: f[0])
    exact = [f for f in files if f[0] == include]
    return exact or [f for f in inside if not f[0].endswith(_TABOO)]


def parse_logrotate(files: Sequence[tuple[str, str]]) -> list[Stanza]:
    """Every stanza, in the order logrotate reads them: the first file, each `include` in
    place. Global directives apply to the stanzas after them, as in logrotate."""
    if not files:
        return []
    out: list[Stanza] = []
    _parse_file(files[0], files, {"rotate": 0, "period": None, "maxage": None}, out, set())
    return out


def _parse_file(file: tuple[str, str], files: Sequence[tuple[str, str]], glob: dict,
                out: list[Stanza], seen: set[str]) -> None:
    name, text = file
    if name in seen:
        return
    seen.add(name)
    pending: list[str] = []
    stanza: dict | None = None
    start = 0
    in_script = False
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if in_script:
            in_script = line != "endscript"
            continue
        if not line or line.startswith("#"):
            continue
        if stanza is None and "{" in line:
            head, _, rest = line.partition("{")
            start = start if pending else n  # the stanza starts at its first pattern
            pending += _words(head)
            stanza = dict(glob)
            line = rest.strip()
            if not line:
                continue
        if stanza is not None:
            body, closed, _ = line.partition("}")
            if body.strip():
                in_script = _directive(_words(body), stanza)
            if closed:
                out.append(Stanza(tuple(pending), f"{name}:{start}", int(stanza["rotate"]),
                                  stanza["period"], stanza["maxage"]))
                pending, stanza = [], None
            continue
        words = _words(line)
        if words[0] == "include" and len(words) > 1:
            for inc in included_files(words[1], files):
                _parse_file(inc, files, glob, out, seen)
        elif words[0].startswith("/") or words[0].startswith('"'):
            start = start if pending else n
            pending += words  # patterns before a `{` on a later line
        else:
            _directive(words, glob)


def _directive(words: list[str], into: dict) -> bool:
    """Apply one directive; True when it opens a script block (until `endscript`)."""
    if not words:
        return False
    key = words[0]
    if key in PERIOD_DAYS:
        into["period"] = key
    elif key == "size":
        into["period"] = None
    elif key == "rotate" and len(words) > 1 and _int(words[1]) is not None:
        into["rotate"] = _int(words[1])
    elif key == "maxage" and len(words) > 1 and _int(words[1]) is not None:
        into["maxage"] = _int(words[1])
    return key in ("postrotate", "prerotate", "firstaction", "lastaction", "preremove")


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return text.split()


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


# --- cleanup jobs -----------------------------------------------------------------------

_DELETES = re.compile(r"(-delete\b|-exec\s+(/\S*/)?rm\b|xargs\s+(-\S+\s+)*(/\S*/)?rm\b)")


def parse_cleanups(files: Iterable[tuple[str, str]]) -> list[Cleanup]:
    """`find DIR … -mtime +N … -delete` (or `-exec rm`, `| xargs rm`) in cron files or scripts."""
    out = []
    for name, text in files:
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if line.startswith("#") or "find" not in line or not _DELETES.search(line):
                continue
            c = _cleanup(line, f"{name}:{n}")
            if c is not None:
                out.append(c)
    return out


def _cleanup(line: str, source: str) -> Cleanup | None:
    words = _words(line)
    try:
        i = next(k for k, w in enumerate(words) if w == "find" or w.endswith("/find"))
    except StopIteration:
        return None
    args = words[i + 1:]
    root = next((w for w in args if not w.startswith("-")), None)
    name = age = None
    for k, w in enumerate(args[:-1]):
        if w in ("-name", "-iname"):
            name = args[k + 1]
        elif w in ("-mtime", "-ctime") and args[k + 1].startswith("+"):
            age = _int(args[k + 1][1:])
    if root is None or not root.startswith("/") or age is None:
        return None
    text = f"find {root}{f' -name {name}' if name else ''} -mtime +{age} (deleted)"
    return Cleanup(root, name, age + 1, source, text)


# --- journald ---------------------------------------------------------------------------

_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]*)")
_UNITS = {
    "": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1, "us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3,
    "m": 60, "min": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800, "weeks": 604800,
    "M": 2629800, "month": 2629800, "months": 2629800, "y": 31557600, "year": 31557600, "years": 31557600,
}


def timespan_s(text: str) -> float | None:
    """A systemd time span ("1year", "12month", "365d", "8760h", "1y 2d", "3600") in seconds."""
    text = text.strip()
    if not text:
        return None
    total, pos = 0.0, 0
    for m in _SPAN.finditer(text):
        if text[pos:m.start()].strip():
            return None
        unit = m.group(2)
        factor = _UNITS.get(unit, _UNITS.get(unit.lower()) if unit != "M" else None)
        if factor is None:
            return None
        total += float(m.group(1)) * factor
        pos = m.end()
    return total if not text[pos:].strip() and pos else None


def journald_rule(files: Sequence[tuple[str, str]]) -> Rule | None:
    """`MaxRetentionSec` of [Journal] (the last file that sets it wins); None when unset."""
    found: Rule | None = None
    for name, text in files:
        section = ""
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, eq, value = line.partition("=")
            if section != "Journal" or not eq or key.strip() != "MaxRetentionSec":
                continue
            secs = timespan_s(value)
            src = f"{name}:{n}"
            if secs is None:
                found = Rule("journald", src, None, f"MaxRetentionSec={value.strip()}: not a time span")
            elif secs == 0:
                found = None  # 0 turns the limit off again
            else:
                days = _floor(secs / 86400)
                found = Rule("journald", src, days, f"MaxRetentionSec={value.strip()} = {show_days(days)}")
    return found


# --- a declared retention --------------------------------------------------------------

def declared_rule(days: int, path: str, text: str | None, why_unread: str = "") -> Rule:
    """The firm's declared retention counts when the file it names states that number."""
    if text is None:
        return Rule("declared", path, None, f"declared {days} days; {path} not read ({why_unread})")
    for n, line in enumerate(text.splitlines(), 1):
        if re.search(rf"(?<![\d.]){days}(?![\d.])", line) and not line.lstrip().startswith("#"):
            return Rule("declared", f"{path}:{n}", float(days), f"declared {days} days ({line.strip()[:80]})")
    return Rule("declared", path, None, f"declared {days} days but {path} does not state {days}")


# --- judging ----------------------------------------------------------------------------

def rules_for(path: str, stanzas: Sequence[Stanza], cleanups: Sequence[Cleanup]) -> list[Rule]:
    """The first stanza naming the log (logrotate uses one), and every cleanup covering it."""
    out = [s.rule() for s in stanzas if s.matches(path)][:1]
    return out + [c.rule() for c in cleanups if c.matches(path)]


def judge(subject: str, rules: Sequence[Rule], min_days: int = MIN_DAYS) -> Verdict:
    """Fail when a rule removes it before `min_days`; pass when every rule gives days and
    none does; otherwise (no rule, or one drill cannot turn into days) not tested."""
    rules = tuple(rules)
    known = [r.days for r in rules if r.days is not None]
    shortest = min(known) if known else None
    said = "; ".join(f"{r.text} ({r.source})" for r in rules)
    raw = Raw(said)  # the settings as drill read them: code, quoted in zh
    if shortest is not None and shortest < min_days:
        m = msg("cc_kept_short", days=_days(shortest), min=str(min_days), said=raw)
        return Verdict(subject, Status.FAIL, shortest, rules, m.render("en"), m)
    if not rules:
        m = msg("cc_no_rule")
        return Verdict(subject, Status.NOT_TESTED, None, rules, m.render("en"), m)
    if shortest is None or len(known) < len(rules):
        m = msg("cc_no_days", said=raw)
        return Verdict(subject, Status.NOT_TESTED, shortest, rules, m.render("en"), m)
    m = msg("cc_kept", days=_days(shortest), said=raw)
    return Verdict(subject, Status.PASS, shortest, rules, m.render("en"), m)


def _days(days: float) -> Msg:
    """show_days() as a message."""
    return msg("cc_no_limit") if days == math.inf else msg("cc_days", n=str(int(days)))
