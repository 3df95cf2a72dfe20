"""The one reader of gateway profiles (`profiles/*.yaml`, `schemas/profile.schema.json`).

`load_profile` returns a frozen `Profile` or raises `InputError` naming every problem of
the file as `file:line: field: expected` (exit 2). Beyond the schema it checks what a
schema cannot: every regex compiles, the timestamp regex has group `ts`, the identity
regex has group `gateway`, the zone is known. See docs/profiles.md.
"""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.config.yamlsrc import Lines, load_yaml, one_line, schema_problems
from orchestrator.errors import InputError, Problem
from orchestrator.model.profile import EventPattern, Profile, TimestampFormat

FIXED_OFFSET = re.compile(r"^[+-]\d\d:?\d\d$")


def profile_path(name_or_path: str | Path, inventory_path: str | Path | None = None) -> Path:
    """The file of a profile an inventory names: a `.yaml` path (relative to the
    inventory's folder), else `profiles/<name>.yaml` in the first folder above the
    inventory that has one, else the profiles shipped with drill."""
    p = Path(name_or_path)
    base = Path(inventory_path).resolve() if inventory_path is not None else None
    if base is not None and not base.is_dir():
        base = base.parent
    if p.suffix in (".yaml", ".yml"):
        return p if p.is_absolute() or base is None else base / p
    for folder in ([base, *base.parents] if base is not None else []):
        candidate = folder / "profiles" / f"{p.name}.yaml"
        if candidate.is_file():
            return candidate
    from orchestrator.config.project import bundled_root

    root = bundled_root() or Path(__file__).resolve().parents[2]
    return root / "profiles" / f"{p.name}.yaml"


def load_profile(path: str | Path) -> Profile:
    path = Path(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError(Problem(str(path), None, "", "expected a mapping (a gateway profile)"))
    problems = schema_problems(data, "profile.schema.json", lines) + one_line(_meaning(data, lines))
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.line or 0, p.field)))
    ts = data["timestamp"]
    events = []
    for name, spec in data["events"].items():
        if isinstance(spec, dict):
            events.append(EventPattern(name, spec["pattern"], spec.get("service")))
        else:
            events.append(EventPattern(name, spec))
    return Profile(name=data["profile"], description=str(data.get("description") or ""),
                   encoding=data["encoding"],
                   timestamp=TimestampFormat(ts["regex"], ts["format"], ts["zone"]),
                   identity=data["identity"], events=tuple(events), path=str(path))


def _meaning(data: dict, lines: Lines) -> list[Problem]:
    """Checks a schema cannot express; defensive: `data` may be schema-invalid."""
    out: list[Problem] = []

    def regex(path: tuple, text: str, group: str | None = None) -> None:
        try:
            rx = re.compile(text)
        except re.error as e:
            out.append(lines.problem(path, f"expected a Python regex ({e})"))
            return
        if group is not None and group not in rx.groupindex:
            out.append(lines.problem(path, f"expected a regex with a named group (?P<{group}>…)"))

    ts = data.get("timestamp") if isinstance(data.get("timestamp"), dict) else {}
    if isinstance(ts.get("regex"), str):
        regex(("timestamp", "regex"), ts["regex"], "ts")
    if isinstance(ts.get("format"), str) and "%" not in ts["format"]:
        out.append(lines.problem(("timestamp", "format"),
                                 "expected a strptime format such as '%Y-%m-%d %H:%M:%S.%f'"))
    if isinstance(ts.get("zone"), str) and ts["zone"] and not zone_ok(ts["zone"]):
        out.append(lines.problem(("timestamp", "zone"),
                                 f"expected an IANA zone (Asia/Shanghai), UTC or +08:00, got {ts['zone']!r}"))
    if isinstance(data.get("identity"), str):
        regex(("identity",), data["identity"], "gateway")
    events = data.get("events") if isinstance(data.get("events"), dict) else {}
    for name, spec in events.items():
        if isinstance(spec, dict) and isinstance(spec.get("pattern"), str):
            regex(("events", name, "pattern"), spec["pattern"])
        elif isinstance(spec, str):
            regex(("events", name), spec)
    return out


def zone_ok(zone: str) -> bool:
    if zone == "UTC" or FIXED_OFFSET.match(zone):
        return True
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
