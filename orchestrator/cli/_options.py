"""Options many commands share, defined once."""

from __future__ import annotations

from pathlib import Path

import click

project_option = click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Drill project folder (drills/, playbooks/, inventories/). Default: found from the "
    "current folder upwards, else the project shipped with drill.",
)
inventory_option = click.option(
    "--inventory",
    "-i",
    default="lab",
    show_default=True,
    help="Inventory: a name under the project's inventories/ or a path.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
reports_option = click.option(
    "--reports",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Archive folder for run folders. Default: the project's reports/.",
)


def inventory_path(project: Path | None, inventory: str) -> Path:
    """The --inventory given: a path as is (no project needed), else a name in the project."""
    from orchestrator.config.project import find_project

    if project is None and Path(inventory).exists():
        return Path(inventory)
    return find_project(project).inventory_path(inventory)


def archive_dir(project: Path | None, reports: Path | None) -> Path:
    """The run archive: --reports, else the project's reports/."""
    if reports is not None:
        return reports
    from orchestrator.config.project import find_project

    return find_project(project).reports_dir
