"""The `relaybox` command's help is right and the README's commands are real.

- No option shows a bare type as its value (`<str>`, `<int>`, `<bool>`: typer 0.27 and later print
  them, hence the pin in pyproject.toml), and a flag shows none at all: `--no-engine` is a flag.
- Every `relaybox …` line of the README's shell blocks names a command that exists, with options
  and arguments that command accepts (parsed by the command itself, not run).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from relaybox.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"
BARE_TYPE = re.compile(r"<(bool|str|int|float|path|datetime|uuid|int range|float range|text|integer)>", re.I)


def command_paths(group=None, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand of `relaybox`, as the words that name it."""
    group = group or typer.main.get_command(app)
    ctx = group.make_context("relaybox", [], resilient_parsing=True)
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        paths.append((*prefix, name))
        if hasattr(command, "list_commands"):
            paths += command_paths(command, (*prefix, name))
    return paths


def test_every_command_has_help_without_bare_types():
    paths = command_paths()
    assert {("serve",), ("demo",), ("migrate",), ("send",), ("key", "create"), ("account", "limits")} <= set(paths)
    runner = CliRunner()
    for path in [(), *paths]:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        assert not BARE_TYPE.search(result.output), (path, BARE_TYPE.search(result.output).group(0), result.output)


def test_no_engine_is_a_flag():
    help_text = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).output
    assert re.search(r"--no-engine\s+Serve the API only", help_text), help_text  # no value shown after the flag
    group = typer.main.get_command(app)
    ctx = group.make_context("relaybox", ["serve"])
    serve = group.get_command(ctx, "serve")
    assert serve.make_context("serve", ["--no-engine"], parent=ctx).params["no_engine"] is True
    assert serve.make_context("serve", [], parent=ctx).params["no_engine"] is False
    with pytest.raises(Exception, match="unexpected extra argument"):
        serve.make_context("serve", ["--no-engine", "true"], parent=ctx)


def readme_commands() -> list[str]:
    """The `relaybox …` lines of the README's shell blocks, comments and a trailing `&` removed."""
    lines, in_shell = [], False
    for line in README.read_text().splitlines():
        if line.startswith("```"):
            in_shell = line.strip() in ("```sh", "```bash", "```shell")
            continue
        if in_shell and line.strip().startswith("relaybox "):
            words = shlex.split(line, comments=True)
            lines.append(shlex.join(words[:-1] if words[-1] == "&" else words))
    return lines


def test_the_readme_commands_exist_with_their_options(tmp_path, monkeypatch):
    commands = readme_commands()
    assert len(commands) > 30
    monkeypatch.chdir(tmp_path)  # where `--csv numbers.csv`, `--config relaybox.toml` are found
    (tmp_path / "numbers.csv").write_text("phone\n380971234567\n")
    (tmp_path / "relaybox.toml").write_text("")
    group = typer.main.get_command(app)
    for line in commands:
        words = shlex.split(line)[1:]
        command, ctx = group, group.make_context("relaybox", [], resilient_parsing=True)
        while hasattr(command, "list_commands"):  # a group: the next word names its command
            name, words = words[0], words[1:]
            sub = command.get_command(ctx, name)
            assert sub is not None, f"README: no command {name!r} in: {line}"
            if hasattr(sub, "list_commands"):
                ctx = sub.make_context(name, [], parent=ctx, resilient_parsing=True)
            else:
                sub.make_context(name, list(words), parent=ctx)  # UsageError on an unknown option or a bad value
            command = sub
