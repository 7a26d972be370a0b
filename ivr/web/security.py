"""Who may call our webhooks: Twilio, proven by X-Twilio-Signature.

The signature covers the URL exactly as Twilio requested it, so the URL is
rebuilt from the raw request line (Werkzeug's request.url decodes %27, %40 and
friends, which breaks the check) and from the public scheme and host: a
configured IVR_PUBLIC_URL, or what one trusted proxy hop reported (ProxyFix).
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, urlparse

from twilio.request_validator import RequestValidator, add_port, compare, remove_port


def raw_path(environ: dict) -> str:
    """Path and query string as they arrived on the request line."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if "://" in raw.partition("?")[0]:  # an absolute-form request line
            raw = "/" + raw.split("://", 1)[1].partition("/")[2]
        query = environ.get("QUERY_STRING", "")
        if query and "?" not in raw:  # some servers put only the path in RAW_URI
            raw = f"{raw}?{query}"
        return raw
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~")
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


def public_url(environ: dict, base: str) -> str:
    """The URL Twilio signed: the public base (IVR_PUBLIC_URL, or the proxied host) plus the raw path."""
    return base.rstrip("/") + raw_path(environ)


@lru_cache(maxsize=4)
def _validator(auth_token: str) -> RequestValidator:
    """One validator per auth token, built once, not per webhook."""
    return RequestValidator(auth_token)


def is_from_twilio(auth_token: str, url: str, form, signature: str | None) -> bool:
    """RequestValidator.validate, one HMAC instead of two when the signature is good.

    validate() accepts a signature made for the URL without its port or with it
    (Twilio's back end signs either) and always computes both. Built from the
    validator's own pieces, the same two candidates are tried, the form the URL
    arrived in first, so a genuine webhook costs one HMAC; a forged one still gets
    both, and is refused exactly when validate() refuses it (tests/test_security.py).
    """
    if not signature:
        return False
    validator = _validator(auth_token)
    if form is None or isinstance(form, str):   # a JSON body (bodySHA256): validate() as it is
        return validator.validate(url, form, signature)
    parsed = urlparse(url)
    without_port, with_port = remove_port(parsed), add_port(parsed)
    candidates = (with_port, without_port) if url == with_port else (without_port, with_port)
    return any(compare(validator.compute_signature(candidate, form), signature) for candidate in candidates)
