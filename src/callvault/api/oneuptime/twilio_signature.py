"""Twilio's request signature (``X-Twilio-Signature``): base64 HMAC-SHA1, keyed with the
account's auth token, of the full URL Twilio requested followed by every POST parameter name
and value, sorted by name (Twilio's documented algorithm, which its helper libraries follow).

Proxies change what the server sees of the URL, so several candidate URLs are tried: the
configured public base URL with the request's path and query, and the request's own URL with
``X-Forwarded-Proto``/``X-Forwarded-Host`` applied; each with and without the default port.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit


def compute_signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    payload = url + "".join(
        name + value for name in sorted(values) for value in sorted(values[name])
    )
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _port_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        return [url, urlunsplit(parts._replace(netloc=host))]
    port = 443 if parts.scheme == "https" else 80
    return [url, urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))]


def is_valid(
    auth_token: str, urls: Iterable[str], params: Sequence[tuple[str, str]], signature: str | None
) -> bool:
    """True when ``signature`` matches any candidate URL (with or without its port)."""
    if not signature or not auth_token:
        return False
    for url in urls:
        for variant in _port_variants(url):
            expected = compute_signature(auth_token, variant, params)
            if hmac.compare_digest(expected.encode(), signature.strip().encode()):
                return True
    return False
