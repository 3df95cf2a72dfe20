"""Options many commands share, defined once."""

from __future__ import annotations

from pathlib import Path

import click

project_option = click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="DRILL_PROJECT",
    show_envvar=True,
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
    envvar="DRILL_REPORTS",
    show_envvar=True,
    help="Archive folder for run folders. Default: the project's reports/ (the project found "
    "from the current folder upwards, else the shipped one), the same from any folder.",
)


def inventory_path(project: Path | None, inventory: str) -> Path:
    """The --inventory given: a path as is (no project needed), else a name in the project."""
    from orchestrator.config.project import find_project

    if project is None and Path(inventory).exists():
        return Path(inventory)
    return find_project(project).inventory_path(inventory)


def archive_dir(project: Path | None, reports: Path | None, *, name_it: bool = True,
                lang: str = "en") -> Path:
    """The run archive: --reports (or DRILL_REPORTS), else the project's reports/; named
    on stderr (`archive: PATH`, in zh `归档目录：PATH`) so a reader always knows which
    archive it looked in."""
    if reports is not None:
        path = Path(reports)
    else:
        from orchestrator.config.project import find_project

        path = find_project(project).reports_dir
    path = path.resolve()
    if name_it:
        from orchestrator.model.i18n import LABELS

        click.echo(LABELS["console_archive"][0 if lang == "zh" else 1].format(path=path), err=True)
    return path


lang_option = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of everything the command prints and renders. Default: the inventory's "
    "environment.language, else the locale (LC_ALL, LC_MESSAGES, LANG: zh_* is zh), else en.",
)


def locale_lang() -> str:
    """zh when the locale is Chinese, else en."""
    import os

    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def resolve_lang(lang: str | None, inventory: Path | None = None) -> str:
    """--lang, else the inventory's environment.language, else the locale: one rule for
    every command, so a run and its report speak the same language."""
    if lang:
        return lang
    if inventory is not None:
        from orchestrator.config.inventory import load_inventory
        from orchestrator.errors import DrillError

        try:
            language = load_inventory(inventory).environment.language
        except (DrillError, OSError):  # the command reports a bad inventory itself
            language = None
        if language:
            return language
    return locale_lang()


def report_lang(lang: str | None, run_dir: Path) -> str:
    """A report's language: --lang, else the language the run ran in (its journal's
    `plan` record, which came from --lang, the inventory or the locale), else the locale."""
    if lang:
        return lang
    from orchestrator.archive.runs import run_language

    return run_language(run_dir) or locale_lang()
