"""Real HTTP/1.1 webhook receivers on the loopback interface, each behaving as a test needs:
answering, answering huge, answering with a gzip bomb, or trickling one byte at a time."""

from __future__ import annotations

import asyncio
import socket
import time
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

MB = 1024 * 1024


@lru_cache(maxsize=1)
def gzip_bomb(size: int = 200 * MB) -> bytes:
    """A gzip body of about 200 KB that inflates to `size` bytes of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    chunk = bytes(MB)
    parts = [compressor.compress(chunk) for _ in range(size // MB)]
    parts.append(compressor.flush())
    return b"".join(parts)


@dataclass
class Receiver:
    """`mode`: "ok" (200, empty body), "big" (200 with a `big_size` body), "bomb" (a gzip bomb),
    "trickle" (a status line, then one byte every `interval` seconds for `trickle_for` seconds)."""

    mode: str = "ok"
    host: str = "127.0.0.1"
    big_size: int = 200 * MB
    interval: float = 2.0
    trickle_for: float = 60.0
    connections: int = 0
    requests: list[tuple[dict, bytes, float]] = field(default_factory=list)  # headers, body, monotonic arrival
    closed_after: list[float] = field(default_factory=list)  # trickle: seconds until the sender hung up
    port: int = 0
    server: asyncio.AbstractServer | None = None

    async def start(self) -> Receiver:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.server = await asyncio.start_server(self.handle, self.host, 0, family=family)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/hook"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                self.requests.append((headers, body, time.monotonic()))
                await getattr(self, f"_{self.mode}")(reader, writer)
                if self.mode != "ok":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _ok(self, reader, writer) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()

    async def _big(self, reader, writer) -> None:
        writer.write(f"HTTP/1.1 200 OK\r\ncontent-length: {self.big_size}\r\n\r\n".encode())
        chunk = bytes(256 * 1024)
        for _ in range(self.big_size // len(chunk)):
            writer.write(chunk)
            await writer.drain()

    async def _bomb(self, reader, writer) -> None:
        body = gzip_bomb()
        writer.write(f"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-type: application/json\r\n"
                     f"content-length: {len(body)}\r\n\r\n".encode())
        writer.write(body)
        await writer.drain()

    async def _trickle(self, reader, writer) -> None:
        started = time.monotonic()
        writer.write(b"HTTP/1.1 200 OK\r\n")
        await writer.drain()
        try:
            while time.monotonic() - started < self.trickle_for:
                try:  # a byte every `interval`, watching for the sender hanging up meanwhile
                    if await asyncio.wait_for(reader.read(1), self.interval) == b"":
                        break
                except TimeoutError:
                    pass
                writer.write(b"X")  # the start of a header that never ends
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.closed_after.append(time.monotonic() - started)


def vm_peak_reset() -> None:
    """Reset this process's peak resident set size (Linux: /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def vm(field_name: str) -> int:
    """VmRSS or VmHWM (peak) of this process, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field_name)
