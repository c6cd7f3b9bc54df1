"""The client's IP address, read the same way by every part of Amparo.

Sign-in throttling (django-axes and allauth), the donor-code limits and the access log all
call ``client_ip``; none reads ``REMOTE_ADDR`` or ``X-Forwarded-For`` itself.

``settings.PROXY_COUNT`` is the number of reverse proxies we run in front of the app. Each
appends the address it received the request from to ``X-Forwarded-For``, and the last one
connects to us (``REMOTE_ADDR``). The client is therefore the ``PROXY_COUNT``-th entry from the
right of that header; anything further left was written by the client and may be forged. With
``PROXY_COUNT = 0`` the header is ignored and only ``REMOTE_ADDR`` counts.

Parsing and validating the addresses is python-ipware's job.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from python_ipware import IpWare

_FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"
_PEER = "REMOTE_ADDR"


@lru_cache(maxsize=8)
def _reader(header: str, listed_proxies: int) -> IpWare:
    # ``listed_proxies``: how many entries must follow the client's in the header. ipware
    # counts only the proxies *listed in* the header; our nearest one is REMOTE_ADDR instead.
    return IpWare(precedence=(header,), proxy_count=listed_proxies, algorithm="modern")


def _address(header: str, value: str, *, listed_proxies: int) -> str | None:
    # strict: every entry must be an address and the count must be exact, or nothing is read.
    ip, _trusted_route = _reader(header, listed_proxies).get_client_ip({header: value}, strict=True)
    return str(ip) if ip is not None else None


def client_ip(request: HttpRequest | None) -> str | None:
    """The address of the client that sent ``request``, or ``None`` when none can be read.

    Behind proxies, an ``X-Forwarded-For`` that is missing, too short, or whose entries from
    our proxies are not addresses (a request that did not pass through all of them) falls back
    to ``REMOTE_ADDR``. The address comes back normalised (no port, IPv4-mapped IPv6
    unwrapped), ready for a ``GenericIPAddressField``. No side effects.
    """
    if request is None:
        return None
    proxies: int = settings.PROXY_COUNT
    forwarded = request.META.get(_FORWARDED_FOR)
    if proxies and isinstance(forwarded, str):
        # Only the rightmost ``proxies`` entries, the ones our proxies appended, are read.
        # What the client wrote to their left is never parsed, so junk there can neither shift
        # the client's position nor make the header unreadable.
        hops = forwarded.split(",")[-proxies:]
        if len(hops) == proxies:
            address = _address(_FORWARDED_FOR, ",".join(hops), listed_proxies=proxies - 1)
            if address is not None:
                return address
    peer = request.META.get(_PEER)
    return _address(_PEER, peer, listed_proxies=0) if isinstance(peer, str) else None
