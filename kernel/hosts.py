"""Whether a server address is on this machine (the deploy checks ask it of every back end)."""

from __future__ import annotations

import ipaddress
from urllib.parse import unquote


def is_local_host(host: str | None) -> bool:
    """True for a server on this machine: no host (the client's unix-socket default), a socket
    path, ``localhost`` or a loopback address."""
    host = unquote(host or "").strip().strip("[]")
    if not host or host.startswith(("/", "@")):
        return True
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
