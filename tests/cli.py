"""`relaybox …` one-shot commands for the tests, run in this test process: `run_cli`.

Why in-process: a `python -m relaybox.cli …` subprocess costs ~1.4 s of CPU (interpreter start and
relaybox's imports) before the command does anything, and the e2e tests ran dozens of them
(`account create` for nearly every e2e test, `key …`, `contacts import`, `migrate` …), on a machine
whose two cores run four test processes.  Here the very Typer app the console script runs
(`relaybox.cli:app`) is invoked through typer.testing.CliRunner, with the same arguments, the same
environment (as overrides of os.environ, for the time of the call) and the same working directory,
and its result is handed back as the `subprocess.CompletedProcess` the callers used to get.

What is *not* run here: the long-running processes (`serve`, `worker`, `demo`, `smsc`, a `campaigns
watch` read while it runs), which stay real processes (they are killed, signalled, restarted, bind
ports, print as they go); and a few commands kept as real `python -m relaybox.cli` processes on
purpose, so that the process path (the `__main__` entry, Typer's exception hook, exit statuses as
the shell sees them, the Rich consoles made at import in a fresh interpreter) stays covered:
tests/e2e/test_cli_edges.py (`relaybox(…)`: `connectors` and `webhooks` in an empty folder, busy
ports), the start-up refusals of tests/e2e/test_admin_cli.py (a short JWT secret) and
tests/e2e/test_smpp_cli.py (an invalid relaybox.toml).

A command in-process is also ~1.4 s quicker than a process: a test that only passed because a
spawn took longer than some cache time (tests/e2e/test_admin_cli.py::test_key_rotate) now waits
for what it checks instead.

What differs from a process, and how it is made not to matter:

- a command that raises (a bug) would end a process with exit status 1 and a traceback on stderr;
  here CliRunner catches it: it becomes returncode 1 and the formatted traceback appended to
  stderr, so a failing test still shows it (and "Traceback" not in stderr checks still work);
- `SystemExit`/`typer.Exit(n)` become returncode n, as in a process;
- os.environ is changed only during the call and restored after (CliRunner.isolation); an env value
  of None removes the variable for the call; `clean=True` removes every RELAYBOX_* variable first,
  as the tests that start from "the default configuration" did with their subprocess environment;
- the working directory is changed during the call only (it matters: e.g. the JWT secret file);
- every call runs on a fresh thread, see `run_cli`.

Process-wide state the commands leave behind was checked: the one-shot commands configure no
logging, install no signal handlers and set no environment variables (only `serve`/`worker`/`smsc`
do, and they are not run here); the module-level caches they fill (phone numbers, networks, parsed
CIDR lists) are keyed by their inputs, not by settings; settings are read from the environment on
each call.  relaybox's Rich consoles are made once at import and write to whatever sys.stdout /
sys.stderr are at the time (CliRunner's buffers); their width follows COLUMNS at the time of the
call, as in a process.  One difference remains: the consoles decide at import whether stdout is a
terminal (colours, and the width of `tables` in cli_admin/cli_delivery/cli_inbound); under pytest's
capture it is not, as for a subprocess with captured output, but with `pytest -s` on a terminal the
in-process output may carry colours.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import traceback
from pathlib import Path

from typer.testing import CliRunner

from relaybox.cli import app

#: The program name the commands see (usage lines), as the installed `relaybox` script shows it.
PROG_NAME = "relaybox"


def run_cli(
    *args: str,
    env: dict[str, str | None] | None = None,
    cwd: Path | str | None = None,
    check: bool = False,
    clean: bool = False,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `relaybox *args` in this process, as `subprocess.run([... "relaybox.cli", *args],
    env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, check=check)` did.

    `env`: overrides of os.environ for the call (None: unset).  `clean`: unset every RELAYBOX_*
    variable first.  `check`: raise subprocess.CalledProcessError (CommandFailed, whose message
    shows stderr) on a non-zero status.  `timeout`: TimeoutExpired if the command has not ended
    (it cannot be killed: the failing test then leaves its thread behind).

    The call runs on a thread of its own, always: the commands call `asyncio.run`, which fails in a
    thread whose event loop is running (an async test, or a sync helper called from one), and which
    resets the calling thread's current event loop (set_event_loop(None) as it ends), which
    pytest-asyncio's loops in the main thread should not see.  The
    caller waits for it, so nothing else runs in the test meanwhile; note that CliRunner swaps
    sys.stdout/sys.stderr and os.chdir is process-wide: another thread of the test process printing
    during the call would end up in the command's output.
    """
    overrides: dict[str, str | None] = {}
    if clean:
        overrides.update({name: None for name in os.environ if name.startswith("RELAYBOX_")})
    overrides.update(env or {})
    argv = [str(arg) for arg in args]
    outcome: dict = {}

    def invoke() -> None:
        try:
            with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
                outcome["result"] = CliRunner().invoke(app, argv, env=overrides, prog_name=PROG_NAME)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=invoke, name=f"relaybox {' '.join(argv[:2])}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise subprocess.TimeoutExpired(["relaybox", *argv], timeout)
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # a process would have died of it with status 1 and the traceback on stderr
        stderr += "".join(traceback.format_exception(*result.exc_info))
    completed = subprocess.CompletedProcess(["relaybox", *argv], result.exit_code, result.stdout, stderr)
    if check and completed.returncode:
        raise CommandFailed(completed.returncode, completed.args, completed.stdout, completed.stderr)
    return completed


class CommandFailed(subprocess.CalledProcessError):
    """subprocess.CalledProcessError, its message with the command's stderr (a traceback included)."""

    def __str__(self) -> str:
        return f"{super().__str__()}\n{self.stderr}"
