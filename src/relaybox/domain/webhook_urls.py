"""Webhook URLs: the syntax a tenant's URL must have, and which addresses a delivery may reach.  Pure.

A `callback_url` (or an account's default webhook URL) is hostile input: it
decides where the platform's own engine opens connections.  Two checks guard it.

1. When it is given (`check_webhook_url`): an absolute `http`/`https` URL
   (RFC 3986 §3) with a host, without userinfo credentials (§3.2.1), without
   control characters or spaces (C0, DEL, C1, Unicode line separators: no
   header injection, no request smuggling), at most `MAX_URL_LENGTH`
   characters, with a port in 1-65535.  A host written as an address — in any
   spelling an OS resolver accepts: `2130706433`, `0x7f.1`, `0177.0.0.1`,
   `127.1`, `[::ffff:127.0.0.1]` (`inet_aton(3)`, WHATWG URL §3.5 "ends in a
   number") — is judged at once by the address rule below.
2. When it is delivered (engine/webhook_transport.py): the address actually
   connected to, after DNS resolution, is judged by `refusal`.

The address rule refuses everything that is not a public unicast address:
loopback, "this network" and unspecified, RFC 1918 private, CGNAT (RFC 6598),
link-local (169.254/16 with the cloud metadata address, fe80::/10), unique-local
(fc00::/7), multicast, benchmarking, documentation and other reserved ranges
(RFC 6890 special-purpose registries, as Python's `ipaddress.is_global` knows
them).  An IPv6 address that carries an IPv4 one (IPv4-mapped ::ffff:0:0/96,
IPv4-compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16) is judged by the
IPv4 address it leads to.  The operator may allow named networks
(`RELAYBOX_WEBHOOK_ALLOW_NETWORKS`): an address inside one of them is allowed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from relaybox.domain.rules import RuleViolation

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Longest URL accepted, in characters: the width of the `callback_url` and `webhook_url` columns.
MAX_URL_LENGTH = 500
SCHEMES = ("http", "https")

# C0 controls, space, DEL, C1 controls, and Unicode's line and paragraph separators.
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")
# A DNS name (RFC 1123 labels; punycode for IDNs), or a bracketed IPv6 literal (checked apart).
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_NUMBER_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
_NUMERIC_HOST = re.compile(r"[0-9A-Fa-fXx.]+")

#: Why each family of addresses is refused, in the order they are tried.
_REFUSED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("loopback", ("127.0.0.0/8", "::1/128")),
    ("unspecified or 'this network'", ("0.0.0.0/8", "::/128")),
    ("private (RFC 1918)", ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    ("shared address space (CGNAT, RFC 6598)", ("100.64.0.0/10",)),
    ("link-local (cloud metadata lives here)", ("169.254.0.0/16", "fe80::/10")),
    ("unique-local (RFC 4193)", ("fc00::/7",)),
    ("multicast", ("224.0.0.0/4", "ff00::/8")),
    ("reserved", ("240.0.0.0/4", "255.255.255.255/32")),
)
_REFUSED_NETWORKS = tuple(
    (reason, tuple(ipaddress.ip_network(n) for n in networks)) for reason, networks in _REFUSED
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def check_webhook_url(value: object, allowed: tuple[Network, ...] = ()) -> str:
    """Return `value` unchanged if it is an acceptable webhook URL; raise RuleViolation saying why not.

    `allowed`: the operator's allowed networks (`parse_networks`), which let a
    literal address inside them through.  Names are not resolved here.
    """
    if not isinstance(value, str):
        raise RuleViolation("The callback URL must be a string.")
    if not value:
        raise RuleViolation("The callback URL must not be empty.")
    if len(value) > MAX_URL_LENGTH:
        raise RuleViolation(f"The callback URL must be at most {MAX_URL_LENGTH} characters.")
    if _FORBIDDEN_CHARACTERS.search(value):
        raise RuleViolation("The callback URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a port that is not a number in 0-65535
    except ValueError as exc:
        raise RuleViolation(f"The callback URL is not a valid URL ({exc}).") from None
    if parts.scheme.lower() not in SCHEMES:
        raise RuleViolation("The callback URL must be an http:// or https:// URL.")
    if "@" in parts.netloc:
        raise RuleViolation("The callback URL must not carry a user name or password.")
    host = parts.hostname
    if not host:
        raise RuleViolation("The callback URL must name a host.")
    if port == 0:
        raise RuleViolation("The callback URL's port must be 1-65535.")
    if parts.netloc.startswith("[") or ":" in host:
        address = _ipv6(host)
    else:
        address = literal_address(host)
        if address is None and not _is_dns_name(host):
            raise RuleViolation("The callback URL's host is not a valid host name.")
    if address is not None:
        reason = refusal(address, allowed)
        if reason:
            raise RuleViolation(f"The callback URL must not point at an internal address: {reason}.")
    return value


def _ipv6(host: str) -> ipaddress.IPv6Address:
    try:
        return ipaddress.IPv6Address(host)
    except ValueError:
        raise RuleViolation("The callback URL's host is not a valid IPv6 address.") from None


def _is_dns_name(host: str) -> bool:
    name = host[:-1] if host.endswith(".") else host
    if not name.isascii():
        try:  # an internationalised name is sent as its punycode form (RFC 3490)
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return False
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for, or None for a name.

    IPv4 is read as the C library's resolver reads it (`inet_aton(3)`: one to
    four parts, each decimal, octal with a leading 0, or hexadecimal with 0x),
    since that is what a connection to it reaches.  A host whose last label is
    a number but that is no address at all raises RuleViolation (WHATWG URL:
    such a host is an IPv4 address or invalid, never a name).
    """
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    name = host[:-1] if host.endswith(".") else host
    last = name.rsplit(".", 1)[-1]
    if not _NUMBER_LABEL.fullmatch(last):
        return None
    if not _NUMERIC_HOST.fullmatch(name):
        raise RuleViolation("The callback URL's host looks like an IPv4 address but is not one.")
    try:
        # inet_aton is pure computation (no lookup); the pattern above keeps out the text after
        # a space that glibc would ignore.
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except OSError:
        raise RuleViolation("The callback URL's host looks like an IPv4 address but is not one.") from None


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to (mapped, compatible, NAT64, 6to4), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # ::a.b.c.d, not :: or ::1
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress, allowed: tuple[Network, ...] = ()) -> str | None:
    """Why a delivery must not connect to `address` ("169.254.169.254 is link-local …"), or None.

    An address inside one of the `allowed` networks is allowed; an IPv6 address
    carrying an IPv4 one is judged by that IPv4 address (and allowed by it).
    """
    if _in(address, allowed):
        return None
    inner = embedded_ipv4(address)
    if inner is not None:
        if _in(inner, allowed):
            return None
        reason = _reason(inner)
        return f"{address} leads to {inner}, which is {reason}" if reason else None
    reason = _reason(address)
    return f"{address} is {reason}" if reason else None


def _reason(address: IPAddress) -> str | None:
    for reason, networks in _REFUSED_NETWORKS:
        if any(address.version == n.version and address in n for n in networks):
            return reason
    if not address.is_global or address.is_multicast or address.is_reserved:
        return "a special-purpose address (RFC 6890), not a public one"
    return None


def _in(address: IPAddress, networks: tuple[Network, ...]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


@lru_cache(maxsize=64)
def parse_networks(text: str) -> tuple[Network, ...]:
    """The networks of a comma- or space-separated list of CIDRs ("127.0.0.0/8, ::1/128").

    Host bits are allowed (10.1.2.3/16 is 10.1.0.0/16).  Raises ValueError on
    anything that is not a network.
    """
    networks = []
    for item in re.split(r"[,\s]+", text.strip()):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"not a network (CIDR): {item!r}") from None
    return tuple(networks)
