"""Gateway config formats drill can write (issue 13: never write what drill cannot edit;
issue 15: the vendor's own file, edited in place).

A repoint rewrites a gateway's server list. drill does so only through an adapter that
declares the gateway's config format and where its server entries are:

- `lab-xml`: the lab gateway's own `server_list.xml`, rendered whole by drill (the first
  adapter; the default in a lab environment);
- `ini`, `keyvalue`, `xml`: the vendor's own file, edited in place by the `drill_config`
  Ansible module (playbooks/module_utils/drill_cfgedit.py): only the server entries change;
- `template`: a jinja2 template the firm supplies, under the project.

A gateway declares `config_format` with `config_locator` inline, or `config_adapter: <name>`
naming `adapters/<name>.yaml` in the project (the same two keys; schema
`schemas/config_adapter.schema.json`, errors with file:line). Anything else is refused at
plan and run (exit 4), never guessed at."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from orchestrator.errors import InputError
from orchestrator.model.inventory import Gateway, Inventory

ADAPTERS: dict[str, str] = {
    "lab-xml": "the lab gateway's server_list.xml (<servers><server centre=… address=… port=…/>)",
    "ini": "the vendor's INI file: the server keys of one section, edited in place",
    "keyvalue": "the vendor's key=value file: the server keys, edited in place",
    "xml": "the vendor's own XML schema: the server elements at a path, edited in place",
    "template": "a jinja2 template the firm supplies, under the project",
}
IN_PLACE = ("ini", "keyvalue", "xml")


@dataclass(frozen=True)
class ConfigAdapter:
    format: str
    locator: Mapping[str, Any] = field(default_factory=dict)
    source: str = "inventory"  # "inventory", "default", or the adapter definition's path


def adapters_dir(project: Path | None) -> Path | None:
    return None if project is None else Path(project) / "adapters"


def load_definition(path: Path) -> ConfigAdapter:
    """An adapter definition file, schema-checked; InputError lists every problem with
    file:line (exit 2)."""
    from orchestrator.config.yamlsrc import load_yaml, one_line, schema_problems

    doc, lines = load_yaml(path)
    problems = schema_problems(doc, "config_adapter.schema.json", lines)
    if problems:
        raise InputError(one_line(problems))
    return ConfigAdapter(str(doc["config_format"]), MappingProxyType(dict(doc["config_locator"])), str(path))


def adapter_of(gw: Gateway, project: Path | None) -> ConfigAdapter | None:
    """The adapter a repoint of `gw` writes through, or None when it declares none.
    A named definition that is missing is None too (the caller names why)."""
    if gw.config_adapter is not None:
        folder = adapters_dir(project)
        file = None if folder is None else folder / f"{gw.config_adapter}.yaml"
        if file is None or not file.is_file():
            return None
        return load_definition(file)
    if gw.config_format is None:
        return None
    return ConfigAdapter(gw.config_format, MappingProxyType(dict(gw.config_locator or {})))


def template_problem(adapter: ConfigAdapter, project: Path | None) -> str | None:
    """A template adapter's template must be a file under the project."""
    from orchestrator.config.confine import escapes, lexical_problem

    name = str(adapter.locator.get("template", ""))
    if project is None:
        return "no project to find its template in"
    why = lexical_problem(name, "the project")
    if why is None and escapes(Path(project), name) is not None:
        why = f"template {name!r} leads out of the project"
    if why is None and not (Path(project) / name).is_file():
        why = f"template {name!r} is not a file under the project {project}"
    return why


def _why(gw: Gateway, project: Path | None) -> str | None:
    if gw.config_adapter is not None:
        folder = adapters_dir(project)
        if folder is None or not (folder / f"{gw.config_adapter}.yaml").is_file():
            return f"config_adapter {gw.config_adapter!r}: no adapters/{gw.config_adapter}.yaml in the project"
    adapter = adapter_of(gw, project)
    if adapter is None:
        return "declares no config_format"
    if adapter.format not in ADAPTERS:
        return f"config_format {adapter.format!r} has no adapter"
    if adapter.format == "template":
        return template_problem(adapter, project)
    return None


def unwritable(inv: Inventory, gateway_ids: Iterable[str], project: Path | None = None) -> list[str]:
    """Each gateway among `gateway_ids` whose config drill has no adapter to write."""
    out = []
    for gid in gateway_ids:
        why = _why(inv.gateway(gid), project)
        if why is not None:
            out.append(f"{gid} ({why}; drill writes only {', '.join(sorted(ADAPTERS))})")
    return out


def project_of(resolved) -> Path | None:
    """The project a resolved drill belongs to: the folder its drills/ sits in."""
    path = getattr(resolved.drill, "path", None)
    if path is None:
        return None
    root = Path(path).resolve().parent.parent
    return root if (root / "playbooks").is_dir() else None


def unwritable_configs(resolved, inv: Inventory, project: Path | None = None) -> list[str]:
    """Gateways a run of this resolved drill would rewrite (its repoint steps, and every
    non-satellite gateway when it declares failback) whose config format has no adapter:
    `drill plan`, `drill run` and `drill schedule` refuse or leave such a drill out."""
    ids: set[str] = set()
    for _, step in resolved.steps():
        if step.effect is not None and step.effect.repoint_to:
            ids |= set(step.effect.repoint_gateways)
    if resolved.drill.failback:
        ids |= {g.id for g in inv.gateways if not g.satellite_only}
    return unwritable(inv, sorted(ids), project if project is not None else project_of(resolved))

