"""Every registered command has help text, and `drill --help` imports no heavy library."""

from __future__ import annotations

import subprocess
import sys

import click

from orchestrator.cli import cli


def _walk(group: click.Group, ctx: click.Context, prefix: str = ""):
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        yield f"{prefix}{name}", cmd
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, click.Context(cmd, parent=ctx), f"{prefix}{name} ")


def test_every_command_has_help_text():
    ctx = click.Context(cli)
    commands = list(_walk(cli, ctx))
    assert {"list", "show", "validate", "init"} <= {name for name, _ in commands}
    missing = [name for name, cmd in commands if not (cmd.help or "").strip()]
    assert missing == []


def test_catalog_commands_have_an_example():
    ctx = click.Context(cli)
    for name in ("list", "show", "validate", "init"):
        assert "Example:" in cli.get_command(ctx, name).help


def test_help_imports_no_heavy_library():
    code = ("import sys\nfrom orchestrator.cli import main\n"
            "main(['--help']); main(['validate', '--help'])\n"
            "bad = [m for m in ('jsonschema', 'jinja2', 'ansible_runner', 'paramiko', 'weasyprint')"
            " if m in sys.modules]\nprint(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
