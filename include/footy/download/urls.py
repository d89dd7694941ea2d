"""Which URLs a clip download may touch.

A clip URL comes from a third-party search result, so it is untrusted input: before any byte
is fetched the URL (and every redirect target, see ``footy.download.fetch``) must be plain
http(s), point at an allow-listed host, and resolve only to public addresses. Loopback,
private, link-local, multicast, reserved and unspecified addresses are refused unless the
policy says ``allow_private`` (tests, local stand-ins).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from footy.errors import PermanentError, TransientError

ALLOWED_SCHEMES = frozenset({"http", "https"})

ENV_ALLOW_PRIVATE = "FOOTY_DOWNLOAD_ALLOW_PRIVATE"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRejectedError(PermanentError):
    """The URL (or a redirect target) is not one we are allowed to fetch."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"URL rejected ({reason}): {_shorten(url)}")


class HostResolutionError(TransientError):
    """The host name did not resolve (DNS trouble is usually temporary)."""

    def __init__(self, host: str, detail: str) -> None:
        self.host = host
        super().__init__(f"cannot resolve host {host!r}: {detail}")


def _shorten(url: str, limit: int = 200) -> str:
    return url if len(url) <= limit else url[: limit - 3] + "..."


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address, or None when it is."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    for flag in (
        "is_unspecified",
        "is_loopback",
        "is_link_local",
        "is_multicast",
        "is_private",
        "is_reserved",
    ):
        if getattr(ip, flag):
            return f"{flag[3:].replace('_', '-')} address {ip}"
    if not ip.is_global:  # e.g. 100.64.0.0/10 shared address space
        return f"non-global address {ip}"
    return None


def _allow_entry(entry: str) -> tuple[str, int | None]:
    """``host``, ``host:port`` or ``[v6 address]:port`` -> (host, port or None)."""
    entry = entry.strip().lower()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:  # a bare name, or a bare IPv6 address
        host, port = entry, ""
    if port and not port.isdigit():
        raise ValueError(f"allow-list entry {entry!r}: port {port!r} is not a number")
    return host.rstrip("."), int(port) if port else None


def _host_matches(host: str, port: int, allowed: Iterable[str]) -> bool:
    """An entry names a host and its subdomains; with a port, only that port of them."""
    for entry in allowed:
        name, entry_port = _allow_entry(entry)
        if not name or (entry_port is not None and entry_port != port):
            continue
        if host == name or host.endswith("." + name):
            return True
    return False


@dataclass(frozen=True)
class UrlPolicy:
    """Allow-list of hosts plus the private-address rule. Immutable and thread-safe.

    Each clip source has its own allow-list (``footy.sources.media_rules``); an empty one
    refuses every URL.
    """

    allowed_hosts: tuple[str, ...] = ()
    allow_private: bool = False

    @classmethod
    def from_env(cls, hosts_variable: str, default_hosts: tuple[str, ...] = (),
                 environ: Mapping[str, str] | None = None) -> UrlPolicy:  # fmt: skip
        """The hosts in ``hosts_variable`` (comma list of ``host`` or ``host:port``; unset:
        ``default_hosts``) and ``FOOTY_DOWNLOAD_ALLOW_PRIVATE=1``. A malformed entry is
        refused here, naming it."""
        env = os.environ if environ is None else environ
        raw_hosts = env.get(hosts_variable, "").strip()
        hosts = (
            tuple(h.strip().lower() for h in raw_hosts.split(",") if h.strip())
            if raw_hosts
            else tuple(default_hosts)
        )
        for entry in hosts:
            _allow_entry(entry)  # ValueError naming the entry
        allow_private = env.get(ENV_ALLOW_PRIVATE, "").strip().lower() in {"1", "true", "yes"}
        return cls(allowed_hosts=hosts, allow_private=allow_private)

    def check_address(self, ip: str | IPAddress) -> None:
        """Refuse a connection target address (used for resolved and connected peers)."""
        if self.allow_private:
            return
        addr = ip if not isinstance(ip, str) else ipaddress.ip_address(ip.split("%", 1)[0])
        problem = address_problem(addr)
        if problem:
            raise UrlRejectedError(str(addr), problem)

    def check(self, url: str, *, resolve: bool = True) -> str:
        """Return ``url`` when it may be fetched; raise :class:`UrlRejectedError` otherwise.

        With ``resolve`` (the default) the host name is resolved and every address must pass
        :meth:`check_address`; a resolution failure raises :class:`HostResolutionError`.
        """
        if not isinstance(url, str) or not url.strip():
            raise UrlRejectedError(str(url), "empty URL")
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise UrlRejectedError(url, f"malformed URL: {exc}") from exc
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise UrlRejectedError(url, f"scheme {scheme or '(none)'!r} is not http/https")
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise UrlRejectedError(url, "no host")
        port = port or (443 if scheme == "https" else 80)
        if not _host_matches(host, port, self.allowed_hosts):
            raise UrlRejectedError(url, f"host {host!r} port {port} is not allow-listed")

        literal: IPAddress | None
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            self._check_addr_for(url, literal)
            return url
        if not resolve:
            return url
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError) as exc:
            raise HostResolutionError(host, str(exc)) from exc
        if not infos:
            raise HostResolutionError(host, "no addresses")
        for info in infos:
            address = str(info[4][0])
            self._check_addr_for(url, ipaddress.ip_address(address.split("%", 1)[0]))
        return url

    def _check_addr_for(self, url: str, ip: IPAddress) -> None:
        if self.allow_private:
            return
        problem = address_problem(ip)
        if problem:
            raise UrlRejectedError(url, f"resolves to {problem}")
