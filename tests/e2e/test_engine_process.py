"""`relaybox serve` runs its engine in a child process, which goes when the server goes."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import httpx

from tests.e2e.conftest import start_server


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by a parent that is gone) counts as gone
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(state) and not state.startswith("Z")


def test_the_engine_child_delivers_and_dies_with_a_killed_server(tmp_path):
    server = start_server(tmp_path, "--sim-speed", "0")
    try:
        children = children_of(server.process.pid)
        assert len(children) == 1, "one engine process under the API process"
        key = server.create_account()
        with httpx.Client(base_url=server.base_url, headers={"X-API-KEY": key}) as client:
            sent = client.post("/api/messages/send", json={
                "channels": ["sms"], "phone": {"number": 380971234567}, "sms": {"sender": "relaybox", "text": "hi"},
            })
            assert sent.status_code == 200, sent.text
            deadline = time.monotonic() + 20
            while client.get("/api/messages").json()["data"][0]["status"] != "delivered":
                assert time.monotonic() < deadline, "the engine child did not deliver the message"
                time.sleep(0.1)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        deadline = time.monotonic() + 10
        while alive(children[0]):
            assert time.monotonic() < deadline, "the engine child outlived its server"
            time.sleep(0.1)
    finally:
        if server.process.poll() is None:
            server.process.kill()
