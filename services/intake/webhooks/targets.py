"""Which webhook targets intake will connect to: https on public addresses only.

A webhook makes intake send requests where a caller says, so an unchecked URL would let a portal
reach intake's own network (cloud metadata at 169.254.169.254, databases on private addresses,
services on loopback). The URL is checked at registration and again before every delivery, since
DNS can change between the two: every address the host resolves to must be public, and the
delivery then connects to the address that was checked (not to a second lookup), so a DNS answer
that changes between check and connection (rebinding) cannot redirect it.

`allow_private` (INTAKE_WEBHOOK_ALLOW_PRIVATE_TARGETS, local development only) lets http and any
address through; other schemes (file, gopher, ftp...) and URLs carrying credentials are refused
whatever the setting.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 prefixes embed an IPv4 address that may be private; nothing public needs them here.
NAT64_NETWORKS = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)
DEFAULT_PORTS = {"https": 443, "http": 80}
MAX_URL_LENGTH = 2048
# A registration waits at most this long for DNS; a delivery attempt has its own deadline.
RESOLVE_TIMEOUT_SECONDS = 5.0


class TargetRefused(Exception):
    """The URL may not be a webhook target; the message says why, without internals."""


@dataclass(frozen=True)
class CheckedTarget:
    """A target that passed the checks, and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    address: IPAddress

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"

    @property
    def host_is_name(self) -> bool:
        """True for a host name (sent as TLS SNI and checked against the certificate)."""
        return _is_name(self.host)


def _is_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return True
    return False


def address_refusal(address: IPAddress) -> str | None:
    """Why an address is not public, or None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if address.sixtofour is not None or address.teredo is not None:
            return "a tunnelled IPv6 address"
        if any(address in network for network in NAT64_NETWORKS):
            return "a NAT64 address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "a non-public address"
    return None


def parse_target(url: str, *, allow_private: bool) -> SplitResult:
    """The URL's parts, if its form may be a target (before any name is resolved)."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises on a port that is not a number or out of range
    except ValueError as error:
        raise TargetRefused("The URL is not valid.") from error
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_private else ("https",)
    if scheme not in allowed:
        raise TargetRefused(
            "Only https URLs may be webhook targets."
            if scheme != "http"
            else "http is refused: webhook targets must use https."
        )
    if not parts.hostname:
        raise TargetRefused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("The URL may not carry credentials.")
    if parts.fragment:
        raise TargetRefused("The URL may not have a fragment.")
    return parts


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (an address literal resolves to itself)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            answers = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, TimeoutError) as error:
        raise TargetRefused(f"The host {host} cannot be resolved.") from error
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused(f"The host {host} cannot be resolved.")
    return addresses


async def check_target(url: str, *, allow_private: bool) -> CheckedTarget:
    """The target to connect to, or TargetRefused. Every resolved address must be public."""
    parts = parse_target(url, allow_private=allow_private)
    scheme = parts.scheme.lower()
    try:
        # The ASCII (IDNA) form, as DNS, the Host header and TLS SNI need it.
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except UnicodeError as error:
        raise TargetRefused("The URL's host is not a valid name.") from error
    port = parts.port or DEFAULT_PORTS[scheme]
    # For a name, one answer whether it does not resolve or resolves to a private address: the
    # refusal must not tell a caller which names exist inside intake's network.
    name_refused = f"The host {host} does not resolve to public addresses only."
    is_name = _is_name(host)
    try:
        addresses = await resolve(host, port)
    except TargetRefused:
        if is_name:
            raise TargetRefused(name_refused) from None
        raise
    if not allow_private:
        for address in addresses:
            refusal = address_refusal(address)
            if refusal is not None:
                raise TargetRefused(name_refused if is_name else f"{host} is {refusal}.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return CheckedTarget(
        url=url.strip(), scheme=scheme, host=host, port=port, path=path, address=addresses[0]
    )
