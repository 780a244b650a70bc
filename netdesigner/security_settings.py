"""Production security settings, from the environment (issue 11 item 5). Star-imported at the end of
settings.py so that one place says what a deployment behind TLS sets; laptop defaults stay plain HTTP.

With `NETDESIGNER_HTTPS=1` every HTTPS setting `manage.py check --deploy` asks for is on (HSTS a year,
secure cookies, SSL redirect); each can still be tuned alone. `TRUSTED_PROXIES` names the proxies whose
X-Forwarded-Proto / X-Forwarded-For are believed (login throttling keys on the client address).
"""

import os


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


HTTPS = _bool("NETDESIGNER_HTTPS", False)
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", HTTPS)
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", HTTPS)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Proxies (their addresses, comma-separated) whose forwarded headers are believed. Only then is
# X-Forwarded-Proto read as the scheme (SECURE_PROXY_SSL_HEADER) and X-Forwarded-For as the client.
TRUSTED_PROXIES = [p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()]
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = _bool("USE_X_FORWARDED_HOST", False)

# Login throttling: this many failed logins per (user name, client address) within the window lock
# that pair out for the rest of the window.
LOGIN_FAILURES_MAX = int(os.environ.get("NETDESIGNER_LOGIN_FAILURES_MAX", "5"))
LOGIN_FAILURES_WINDOW = int(os.environ.get("NETDESIGNER_LOGIN_FAILURES_WINDOW", "900"))

# API tokens expire (days); `lab token USER --days N` overrides it for one token.
API_TOKEN_DAYS = int(os.environ.get("NETDESIGNER_API_TOKEN_DAYS", "90"))

# Websockets: at most this many open at once per user (each web process counts its own, in Redis).
WS_PER_USER_MAX = int(os.environ.get("NETDESIGNER_WS_PER_USER_MAX", "20"))

# Versions kept per lab (the newest K, plus any deployed one) and the stored bytes a user may own.
VERSIONS_KEEP = int(os.environ.get("NETDESIGNER_VERSIONS_KEEP", "50"))
USER_STORAGE_MAX_BYTES = int(os.environ.get("NETDESIGNER_USER_STORAGE_MAX_BYTES", str(200 * 1024 * 1024)))
