"""Listening for `relaybox serve` and `relaybox demo`: the port is taken before anything else is
done, so a busy port is one line and exit status 1 (not a traceback, not a server that seems to
start and hangs), and a "listening on http://HOST:PORT" line is printed once requests are
answered.
"""

from __future__ import annotations

import socket

import typer
import uvicorn


def url_of(host: str, port: int) -> str:
    """`http://host:port`, an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def bind(host: str, port: int, command: str) -> socket.socket:
    """A listening TCP socket on host:port (as uvicorn makes it: SO_REUSEADDR, inheritable, so
    that worker processes share it).  A port in use or an address that cannot be had is one line
    on stderr naming `command` and typer.Exit(1)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        hint = "; another server is using it: pick another with --port" if exc.errno == 98 else ""
        typer.echo(f"relaybox {command}: cannot listen on {url_of(host, port)}: {reason.lower()}{hint}", err=True)
        raise typer.Exit(1) from None
    sock.set_inheritable(True)
    return sock


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, printing `line` (flushed, on stdout) once it has started answering."""

    def __init__(self, config: uvicorn.Config, line: str) -> None:
        super().__init__(config)
        self.line = line

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            print(self.line, flush=True)
