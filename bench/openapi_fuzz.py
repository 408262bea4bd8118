"""Fuzz relaybox through its own OpenAPI document with schemathesis, many examples per operation.

    .venv/bin/python bench/openapi_fuzz.py [--examples 300] [--seed N] [--phases examples,coverage,fuzzing]

Starts `relaybox serve` on a fresh SQLite file (simulator at full speed), creates an account with a
test key (its sends go to the simulator and are never charged, so the balance never runs out) and
rate limits far above what the run sends, then runs `st run` against `/openapi.json` with that key
in `X-API-KEY`.  Checks: no 5xx (`not_a_server_error`), every answer's status, content type and
body as the document says (`status_code_conformance`, `content_type_conformance`,
`response_schema_conformance`).  Prints the number of generated test cases per operation and in
all, and exits non-zero on any failure.  `tests/e2e/test_openapi_fuzz.py` runs the same with a
few examples per operation.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import UNLIMITED, fresh_server  # noqa: E402

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
TEST_KEY = "test_" + "F" * 8 + "uzzOpenApiDocument01"


def st_command() -> str:
    """The schemathesis CLI beside this interpreter (a venv's bin), else on PATH."""
    beside = Path(sys.executable).with_name("st")
    return str(beside) if beside.exists() else (shutil.which("st") or "st")


def run_schemathesis(base_url: str, api_key: str, *, examples: int, seed: int, phases: str, workdir: Path,
                     timeout: float, include_path_regex: str | None = None) -> tuple[int, dict, str]:
    """Run `st run` against `base_url`; (exit code, the JSON report, the console output)."""
    report = workdir / "report.json"
    command = [
        st_command(), "run", f"{base_url}/openapi.json", "--url", base_url,
        "-H", f"X-API-KEY: {api_key}",
        "--checks", CHECKS, "--max-examples", str(examples), "--seed", str(seed), "--phases", phases,
        "--workers", "1", "--request-timeout", "30",
        "--suppress-health-check", "all", "--warnings", "off",
        "--report", "json", "--report-json-path", str(report),
    ]
    if include_path_regex:
        command += ["--include-path-regex", include_path_regex]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=workdir,
                            env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"})
    data = json.loads(report.read_text()) if report.exists() else {}
    if os.environ.get("FUZZ_KEEP_REPORT"):
        shutil.copy(report, os.environ["FUZZ_KEEP_REPORT"])
    return result.returncode, data, result.stdout + result.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300, help="maximum test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--include-path-regex", default=None, help="only the operations whose path matches")
    args = parser.parse_args()
    with fresh_server("--sim-speed", "0") as server:
        server.cli("account", "create", "--name", "fuzz", "--balance", "1000000", "--currency", "EUR",
                   "--api-key", TEST_KEY, *UNLIMITED)
        with tempfile.TemporaryDirectory() as tmp:
            # a contact in the account's default list (id 1), which the send-groups examples name
            book = Path(tmp) / "contacts.csv"
            book.write_text("phone,name\n380972000000,Olena\n", encoding="utf-8")
            server.cli("contacts", "import", str(book), "--account", "1", "--create-fields")
            code, report, output = run_schemathesis(server.base_url, TEST_KEY, examples=args.examples, seed=args.seed,
                                                    phases=args.phases, workdir=Path(tmp), timeout=3600,
                                                    include_path_regex=args.include_path_regex)
        crashes = unhandled_errors(server.log_path.read_text(errors="replace"))
    print(output[-4000:])
    print(json.dumps(summary(report), indent=1))
    print(f"unhandled errors in the server log: {len(crashes)}")
    for line in crashes[:20]:
        print("  " + line)
    return code or (1 if crashes else 0)


def unhandled_errors(log: str) -> list[str]:
    """The server's "unhandled error on ..." lines: a crash the legacy family answers as error 5 (HTTP 200)."""
    return [line for line in log.splitlines() if "unhandled error" in line]


def summary(report: dict) -> dict:
    """What a report counts: test cases generated, failures found."""
    return {k: report.get(k) for k in ("total_cases", "statistic", "failures", "errors") if k in report} or report


if __name__ == "__main__":
    raise SystemExit(main())
