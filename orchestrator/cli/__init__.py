"""The `drill` command: a thin click layer over the library.

Each module in this package exposes `commands`, a list of click commands. Modules import
only click at load time, so `drill --help` stays fast and never imports Ansible.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from orchestrator import __version__
from orchestrator.errors import DrillError, ExitCode, InputError


class _Drill(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)

    def _load(self) -> None:
        if getattr(self, "_loaded", False):
            return
        self._loaded = True
        for mod in pkgutil.iter_modules(__path__):
            if mod.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__name__}.{mod.name}")
            for cmd in getattr(module, "commands", []):
                self.add_command(cmd)


@click.group(cls=_Drill, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="drill")
def cli() -> None:
    """DR failover drills for SSCC (NEEQ/BSE) access: run, measure, report.

    Quick start on the embedded lab:  drill run carrier-outage
    """


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; the one place library errors become messages and exit codes."""
    try:
        # With standalone_mode=False click *returns* the code of a `click.exceptions.Exit`
        # raised by a command (e.g. `drill run` exiting 3) instead of raising it.
        rv = cli.main(args=argv, prog_name="drill", standalone_mode=False)
        if isinstance(rv, int) and not isinstance(rv, bool):
            return rv
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.UsageError as e:
        e.show()
        return ExitCode.BAD_INPUT
    except click.Abort:
        click.echo("Aborted.", err=True)
        return ExitCode.ABORTED
    except InputError as e:
        for problem in e.problems:
            click.echo(f"error: {problem}", err=True)
        return e.exit_code
    except DrillError as e:
        click.echo(_error_line(str(e)), err=True)
        return e.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return ExitCode.ABORTED
    return rv if isinstance(rv, int) else ExitCode.OK


def _error_line(message: str) -> str:
    """`error: …`; a message a command translated (it has Chinese in it) gets the zh prefix."""
    import re

    from orchestrator.model.i18n import LABELS

    zh = re.search(r"[\u4e00-\u9fff]", message) is not None
    return LABELS["console_error"][0 if zh else 1].format(message=message)


def _entry() -> None:
    code = main()
    _quick_exit(code)
    sys.exit(code)


def _quick_exit(code: int) -> None:
    """End the process without Python's teardown of the heap (about 0.15 s after a drill
    run, issue 19 P4), when nothing is left that the teardown would finish: no thread but
    this one, and no file open for writing but the standard streams. The atexit handlers
    run and the streams are flushed, as in any exit. Else: return, for the standard exit."""
    import atexit
    import gc
    import io
    import os
    import threading

    if threading.active_count() != 1:
        return
    std = {id(s) for f in (sys.stdout, sys.stderr, sys.stdin)
           for s in (f, getattr(f, "buffer", None), getattr(getattr(f, "buffer", None), "raw", None))}
    for obj in gc.get_objects():
        if not isinstance(obj, io.IOBase) or isinstance(obj, (io.StringIO, io.BytesIO)) \
                or id(obj) in std:
            continue
        try:
            writing = not obj.closed and obj.writable()
        except (OSError, ValueError):
            writing = True  # unknown (a detached wrapper): let the standard exit close it
        if writing:
            return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            return  # a closed pipe: the standard exit reports it as it always has
    os._exit(code & 0xFF)
