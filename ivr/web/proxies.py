"""Forwarded headers, believed only from the proxies the operator names.

werkzeug's ProxyFix believes X-Forwarded-For, -Proto and -Host from whoever
sends them, and gunicorn's forwarded_allow_ips does not filter them on their way
to the app. TrustedProxies hands a request to ProxyFix only when it comes from
an address in IVR_TRUSTED_PROXIES (default: this host, 127.0.0.1 and ::1, where a
local nginx would run); from anywhere else the X-Forwarded-* headers are
dropped, so the app sees the connection as it is: the client's own address and
the host it asked for.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from werkzeug.middleware.proxy_fix import ProxyFix

from ivr.config import ConfigError

DEFAULT = "127.0.0.1,::1"


def trusted_networks(env: Mapping[str, str]) -> tuple:
    """IVR_TRUSTED_PROXIES: addresses or networks, comma-separated (10.0.0.0/8, 127.0.0.1)."""
    raw = (env.get("IVR_TRUSTED_PROXIES") or DEFAULT).strip()
    networks = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"IVR_TRUSTED_PROXIES: {item!r} is not an IP address or network, "
                              "e.g. 127.0.0.1 or 10.0.0.0/8") from None
    return tuple(networks)


class TrustedProxies:
    """WSGI middleware: ProxyFix for requests from a trusted proxy, no forwarded headers from others."""

    def __init__(self, app, networks, *, x_proto: int, x_host: int):
        self.app = app
        self.networks = networks
        self.proxied = ProxyFix(app, x_for=1, x_proto=x_proto, x_host=x_host)
        # Requests come from a few addresses (the router's, the proxy's): each is parsed once.
        self.trusted = lru_cache(maxsize=256)(self._trusted)

    def _trusted(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address((address or "").split("%")[0])
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.trusted(environ.get("REMOTE_ADDR")):
            return self.proxied(environ, start_response)
        for key in [k for k in environ if k.startswith("HTTP_X_FORWARDED_") or k == "HTTP_FORWARDED"]:
            del environ[key]
        return self.app(environ, start_response)
