"""The HTTP client webhooks are sent with: it connects only to addresses a tenant may reach.

The check sits where the connection is made, not before it: httpcore, under
httpx, asks its network backend to open each TCP connection with the URL's host
name, and `GuardedBackend.connect_tcp` resolves that name once, judges every
address it resolves to (domain/webhook_urls.py: loopback, private, link-local,
metadata, unique-local, multicast, reserved, and IPv6 forms of them are
refused unless the operator allows their network), and connects to the checked
address itself.  There is no second lookup, so no DNS-rebinding window between
the check and the connection.  TLS still verifies the certificate for the name
(httpcore starts TLS on the stream with the URL's host as server name) and the
`Host` header stays the name.  A connection that turns out to reach this very
machine (local address = peer address: a public address of the host relaybox
runs on) is closed before anything is sent, unless its network is allowed.

Connections are pooled per name (scheme, host, port), each one checked when it
was opened.  Environment proxies are ignored (a proxy would be the address
connected to) and redirects are not followed (a 3xx is a failed attempt).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import typing

import httpcore
import httpx

from relaybox.domain.webhook_urls import Network, refusal


class RefusedAddress(Exception):
    """The destination is not allowed (an internal address, a bad URL): trying again cannot help."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the destination check of this module's docstring."""

    def __init__(self, allowed: tuple[Network, ...] = ()) -> None:
        self.allowed = allowed
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        for address in addresses:  # every answer must pass: one internal answer refuses the name
            reason = refusal(address, self.allowed)
            if reason:
                raise RefusedAddress(reason if str(address) == host else f"{host} resolves to {reason}")
        error: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
                continue
            await self._refuse_this_machine(stream, address, host)
            return stream
        raise error or httpcore.ConnectError(f"no address to connect to for {host}")

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from exc
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took too long") from exc
        addresses: list = []
        for family, *_, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no IP address")
        return addresses

    async def _refuse_this_machine(self, stream: httpcore.AsyncNetworkStream, address, host: str) -> None:
        # An internal address got here only because the operator allowed its network: not judged again.
        sock = stream.get_extra_info("socket")
        if sock is None or refusal(address, ()) is not None:
            return
        try:
            mine = ipaddress.ip_address(sock.getsockname()[0].split("%", 1)[0])
        except (OSError, ValueError):
            return
        if mine == address:  # a connection to one's own public address comes from that address
            await stream.aclose()
            raise RefusedAddress(f"{host} is this machine's own address {address}")

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover - never asked
        raise RefusedAddress("webhooks are never sent over a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context of webhook deliveries, built once per process: loading the CA
    bundle costs ~70 ms, and nothing in the context depends on the engine that uses it."""
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, its connection pool built on `GuardedBackend`.

    httpx does not take a network backend as an argument; the pool it builds is
    replaced by an identical one that has it (httpx keeps its pool in `_pool`
    and maps httpcore's errors to its own around it, which is what is wanted).
    """

    def __init__(self, allowed: tuple[Network, ...], limits: httpx.Limits) -> None:
        super().__init__(verify=tls_context(), limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allowed),
        )


def guarded_client(allowed: tuple[Network, ...], *, timeout: float, max_connections: int) -> httpx.AsyncClient:
    """The webhook client: guarded connections, no environment proxies, no redirects.

    `timeout` (seconds) bounds each network operation; the sender puts a total
    deadline around each whole attempt as well.
    """
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections,
                          keepalive_expiry=5.0)
    return httpx.AsyncClient(
        transport=GuardedTransport(allowed, limits), timeout=timeout, trust_env=False, follow_redirects=False
    )
