"""Pieces shared by the benchmarks: a real server process, accounts, phones, percentiles.

Benchmarks print what they measure; they never assert.  Each one starts
`python -m relaybox.cli serve` as a separate process on a free port, the way
an operator would run relaybox, and talks to it over HTTP.
"""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


@dataclass
class Server:
    base_url: str
    database_url: str
    workdir: Path
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def cli(self, *args: str) -> str:
        """Run a `relaybox` command against this server's database; returns stdout."""
        return run_cli(self.database_url, *args, cwd=self.workdir)

    def create_account(self, *, balance: str = "100000", currency: str = "EUR", api_key: str | None = None) -> str:
        return create_account(self.database_url, balance=balance, currency=currency, api_key=api_key, cwd=self.workdir)

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=kwargs.pop("timeout", 120), **kwargs)


def run_cli(database_url: str, *args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "relaybox.cli", *args],
        cwd=cwd,
        env={**os.environ, "RELAYBOX_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"relaybox {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


#: `account create` options for a benchmark's account: limits far above what one machine serves, so
#: that a benchmark measures the server (the limiter's checks included), not the limiter's refusals.
UNLIMITED = ("--requests-per-second", "10000000", "--requests-burst", "10000000",
             "--messages-per-second", "100000000", "--messages-burst", "100000000")


def create_account(database_url: str, *, balance: str = "100000", currency: str = "EUR", api_key: str | None = None,
                   cwd: Path | None = None) -> str:
    """`relaybox account create`; returns the API key (the command prints it last)."""
    args = ["account", "create", "--name", "bench", "--balance", balance, "--currency", currency, *UNLIMITED]
    if api_key:
        args += ["--api-key", api_key]
    return run_cli(database_url, *args, cwd=cwd).strip().splitlines()[-1]


def api_up(response: httpx.Response) -> bool:
    """Whether `/healthz` says the API serves: 200, or 503 only for want of an engine (a `--no-engine`
    server before or without its `relaybox worker`s), the database answering."""
    if response.status_code == 200:
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    return body.get("status") == "unavailable" and body.get("database", {}).get("state") == "ok"


def start_server(database_path: Path, *extra: str, workdir: Path | None = None, timeout: float = 120) -> Server:
    """Start `relaybox serve` on a free port with the given SQLite file; wait until /healthz is ok."""
    workdir = Path(workdir or Path(database_path).parent)
    port = free_port()
    database_url = sqlite_url(database_path)
    log_path = workdir / f"server-{port}.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "relaybox.cli", "serve", "--port", str(port), "--database-url", database_url, *extra],
        cwd=workdir,
        env={**os.environ},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{log_path.read_text(errors='replace')}")
        try:
            answer = httpx.get(f"{base}/healthz", timeout=1)
            if answer.status_code == 200 or ("--no-engine" in extra and api_up(answer)):
                return Server(base, database_url, workdir, process, log_path)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not become ready:\n{log_path.read_text(errors='replace')}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@contextmanager
def fresh_server(*extra: str) -> Iterator[Server]:
    """A server on a new SQLite file in a new temporary directory (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="relaybox-bench-") as workdir:
        server = start_server(Path(workdir) / "relaybox.db", *extra, workdir=Path(workdir))
        try:
            yield server
        finally:
            stop_server(server)
            log = server.log_path.read_text(errors="replace").strip()
            if log:
                print(f"--- server log (last lines) ---\n{chr(10).join(log.splitlines()[-int(os.environ.get('BENCH_LOG_LINES', 15)):])}", file=sys.stderr)


@contextmanager
def server_on(database_path: Path, *extra: str) -> Iterator[Server]:
    """A server on an existing SQLite file, run from a temporary working directory."""
    with tempfile.TemporaryDirectory(prefix="relaybox-bench-") as workdir:
        server = start_server(database_path, *extra, workdir=Path(workdir))
        try:
            yield server
        finally:
            stop_server(server)


# -- phones ---------------------------------------------------------------------

#: The simulator's magic endings (undelivered, expired, failed, unknown, not a service user).
MAGIC_ENDINGS = frozenset(range(1, 6))


def ua_phones(count: int, start: int = 0) -> list[int]:
    """`count` distinct valid Ukrainian mobile numbers 38097xxxxxxx, none with a magic ending."""
    phones: list[int] = []
    n = start
    while len(phones) < count:
        suffix = n % 10_000_000
        if suffix % 10_000 not in MAGIC_ENDINGS:
            phones.append(380_970_000_000 + suffix)
        n += 1
    return phones


# -- numbers --------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (0-100) of the values, like numpy's default."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values_s: Sequence[float]) -> dict[str, float]:
    """Latency summary in milliseconds from values in seconds."""
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "min": min(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms),
        "mean": statistics.fmean(ms),
    }


def format_summary(name: str, values_s: Sequence[float], target_ms: float | None = None, key: str = "p95") -> str:
    s = summary(values_s)
    line = (
        f"{name:<48} n={s['n']:<5} min={s['min']:8.2f}  p50={s['p50']:8.2f}  p95={s['p95']:8.2f}  "
        f"p99={s['p99']:8.2f}  max={s['max']:8.2f} ms"
    )
    if target_ms is not None:
        verdict = "PASS" if s[key] <= target_ms else "MISS"
        line += f"   [target {key} <= {target_ms:g} ms: {verdict}]"
    return line


def machine() -> str:
    import sqlite3

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def header(title: str) -> None:
    print(f"== {title} ==")
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")


# -- profiling ------------------------------------------------------------------


@contextmanager
def maybe_profile(server: Server, output: str | None, *, rate: int = 250, idle: bool = False) -> Iterator[None]:
    """With `output`, sample the server process with py-spy while the block runs.

    `output` ending in .svg gives a flame graph, .txt py-spy's collapsed stacks
    (`--format raw`), .json speedscope.  py-spy must be installed
    (`.venv/bin/pip install py-spy`) and allowed to ptrace the server (root, or
    kernel.yama.ptrace_scope=0).
    """
    if not output:
        yield
        return
    import shutil
    import signal

    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    fmt = {".svg": "flamegraph", ".txt": "raw", ".json": "speedscope"}.get(Path(output).suffix, "flamegraph")
    spy = subprocess.Popen(
        [exe, "record", "--pid", str(server.pid), "--rate", str(rate), "--format", fmt, "--output", output,
         "--nonblocking", "--threads", *(["--idle"] if idle else [])],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)  # let py-spy attach
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
        print(f"py-spy profile of the server written to {output}")


# -- other load on the machine ----------------------------------------------------
#
# Benchmarks on a shared machine are only as good as the quiet they ran in.  CpuWatch
# measures how much CPU the rest of the machine used during a measurement (everything
# but this process and its descendants: the server, the load generator), and
# wait_quiet() holds a benchmark back until the machine is idle.

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _system_busy_ticks() -> int:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values[:8]) - idle


def _own_ticks() -> int:
    """CPU ticks of this process and its live descendants (reaped children included via cutime/cstime)."""
    me = os.getpid()
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        rest = raw[raw.rindex(")") + 2:].split()
        pid = int(entry.name)
        parents[pid] = int(rest[1])
        ticks[pid] = sum(int(v) for v in rest[11:15])  # utime stime cutime cstime
    total = 0
    for pid in ticks:
        p = pid
        while p and p != me and p in parents:
            p = parents[p]
        if p == me:
            total += ticks[pid]
    return total


def process_ticks(pid: int) -> int:
    """CPU ticks (user + system) of one process, its threads included, its children not."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    rest = raw[raw.rindex(")") + 2:].split()
    return int(rest[11]) + int(rest[12])


class CpuWatch:
    """`with CpuWatch() as w: ...` then `w.others` = cores used by other processes on average.

    With `pid`, `w.process` is the CPU time (seconds) that one process used in the block.
    """

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid

    def __enter__(self) -> "CpuWatch":
        self.t0 = time.monotonic()
        self.busy0 = _system_busy_ticks()
        self.own0 = _own_ticks()
        self.process0 = process_ticks(self.pid) if self.pid else 0
        return self

    def __exit__(self, *exc) -> None:
        elapsed = max(time.monotonic() - self.t0, 1e-6)
        busy = _system_busy_ticks() - self.busy0
        own = _own_ticks() - self.own0
        self.total = busy / _TICKS / elapsed
        self.mine = own / _TICKS / elapsed
        self.others = max(self.total - self.mine, 0.0)
        self.process = (process_ticks(self.pid) - self.process0) / _TICKS if self.pid else 0.0

    def describe(self) -> str:
        return (f"machine CPU during the measurement: {self.total:.2f} cores busy, {self.mine:.2f} by the benchmark "
                f"and its server, {self.others:.2f} by other processes (of {os.cpu_count()})")


def wait_quiet(threshold: float = 0.15, window: float = 2.0, max_wait: float = 600.0) -> None:
    """Wait until other processes use less than `threshold` cores over `window` seconds."""
    deadline = time.monotonic() + max_wait
    waited = False
    while True:
        with CpuWatch() as w:
            time.sleep(window)
        if w.others < threshold:
            if waited:
                print(f"(the machine is quiet now: {w.others:.2f} cores used by other processes)")
            return
        if time.monotonic() > deadline:
            print(f"WARNING: the machine stayed busy ({w.others:.2f} cores used by other processes); measuring anyway")
            return
        if not waited:
            print(f"(waiting for a quiet machine: other processes use {w.others:.2f} cores)", flush=True)
            waited = True
