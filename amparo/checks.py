"""``manage.py check --deploy``: what the deployment must get right around the code.

Every connection that leaves this machine is encrypted and checks the server's certificate: the
database, the Celery broker, the cache, the mail server, Stripe (ASVS 12.3.x). The site's own address
is https, and the code is deployed without its source-control metadata (ASVS 13.4.1). A server on
this machine (localhost, a loopback address, a unix socket) needs no TLS: nothing crosses a network.

Messages name the setting and the host, never a URL (it may hold a password).
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core import checks

from kernel.hosts import is_local_host

# The libpq modes that refuse a server without a certificate signed by the CA we trust; ``prefer``
# (the default) and ``require`` accept anyone, and ``prefer`` falls back to plaintext.
VERIFIED_SSLMODES = frozenset({"verify-full", "verify-ca"})
POSTGRESQL_ENGINES = ("django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis")
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


@checks.register(checks.Tags.security, deploy=True)
def check_database_tls(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """A PostgreSQL server off this machine is reached with ``sslmode`` verify-full or verify-ca."""
    messages: list[checks.CheckMessage] = []
    for alias, database in settings.DATABASES.items():
        if not str(database.get("ENGINE", "")).startswith(POSTGRESQL_ENGINES):
            continue
        remote = [h for h in str(database.get("HOST") or "").split(",") if not is_local_host(h)]
        if not remote:
            continue
        sslmode = (database.get("OPTIONS") or {}).get("sslmode") or os.environ.get("PGSSLMODE", "")
        if sslmode not in VERIFIED_SSLMODES:
            messages.append(
                checks.Warning(
                    f"The database {alias!r} at {', '.join(remote)} is reached with sslmode "
                    f"{sslmode or 'prefer (the default)'}: libpq then accepts any certificate, and "
                    "'prefer' falls back to plaintext.",
                    hint="Add ?sslmode=verify-full&sslrootcert=/path/to/ca.pem to DATABASE_URL "
                    "(or sslmode=verify-ca where the certificate does not name the host).",
                    id="amparo.W001",
                )
            )
    return messages


def _redis_urls(value: Any, separators: str) -> Iterator[str]:
    if isinstance(value, str):
        value = re.split(f"[{separators}]", value)
    for url in value or ():
        if isinstance(url, str) and url.strip().lower().startswith(("redis://", "rediss://")):
            yield url.strip()


def _requires_certificate(value: Any) -> bool:
    if value == ssl.CERT_REQUIRED:
        return True
    return isinstance(value, str) and value.strip().lower() in {"required", "cert_required"}


def _redis_messages(setting: str, urls: Iterable[str], cert_reqs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for url in urls:
        parts = urlsplit(url)
        if is_local_host(parts.hostname):
            continue
        if parts.scheme.lower() == "redis":
            messages.append(
                checks.Warning(
                    f"{setting} connects to Redis at {parts.hostname} without TLS.",
                    hint="Use rediss://…?ssl_cert_reqs=required (Redis with TLS), or run Redis on this machine.",
                    id="amparo.W002",
                )
            )
            continue
        in_url = parse_qs(parts.query).get("ssl_cert_reqs", [])
        if not any(_requires_certificate(v) for v in in_url) and not _requires_certificate(cert_reqs):
            messages.append(
                checks.Warning(
                    f"{setting} connects to Redis at {parts.hostname} over TLS without requiring a valid certificate.",
                    hint="Add ?ssl_cert_reqs=required to the URL (and ssl_ca_certs=/path/to/ca.pem for a private CA).",
                    id="amparo.W003",
                )
            )
    return messages


@checks.register(checks.Tags.security, deploy=True)
def check_redis_tls(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """The Celery broker and the caches reach a Redis off this machine over TLS that checks the
    certificate (``rediss://`` with ``ssl_cert_reqs=required``)."""
    broker_ssl = getattr(settings, "CELERY_BROKER_USE_SSL", None)
    messages = _redis_messages(
        "CELERY_BROKER_URL",
        _redis_urls(getattr(settings, "CELERY_BROKER_URL", ""), ";"),
        broker_ssl.get("ssl_cert_reqs") if isinstance(broker_ssl, dict) else None,
    )
    for alias, cache in settings.CACHES.items():
        options = cache.get("OPTIONS") or {}
        pool = options.get("CONNECTION_POOL_KWARGS") or {}  # django-redis passes them on here
        messages += _redis_messages(
            f"The cache {alias!r}",
            _redis_urls(cache.get("LOCATION", ""), ";,"),
            options.get("ssl_cert_reqs", pool.get("ssl_cert_reqs")),
        )
    return messages


@checks.register(checks.Tags.security, deploy=True)
def check_email_tls(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Mail to an SMTP server off this machine goes over STARTTLS or TLS (Django checks the certificate)."""
    if settings.EMAIL_BACKEND != SMTP_BACKEND or is_local_host(settings.EMAIL_HOST):
        return []
    if settings.EMAIL_USE_TLS or settings.EMAIL_USE_SSL:
        return []
    return [
        checks.Warning(
            f"E-mail goes to the SMTP server {settings.EMAIL_HOST} without TLS: the messages and the "
            "SMTP password cross the network in the clear.",
            hint="Use EMAIL_URL=smtp+tls://… (STARTTLS, port 587) or smtp+ssl://… (port 465).",
            id="amparo.W004",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_public_addresses(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Stripe is called over https (plain http only to a fake server on this machine), and with
    DEBUG off the site's own address, used in e-mailed links, is https."""
    messages: list[checks.CheckMessage] = []
    stripe = urlsplit(settings.STRIPE_API_BASE)
    if stripe.scheme != "https" and not (stripe.scheme == "http" and is_local_host(stripe.hostname)):
        messages.append(
            checks.Error(
                "STRIPE_API_BASE is not an https:// address: the secret key and donors' payments "
                "would cross the network unprotected.",
                hint="Leave STRIPE_API_BASE unset (https://api.stripe.com).",
                id="amparo.E001",
            )
        )
    if not settings.DEBUG and urlsplit(settings.SITE_URL).scheme != "https":
        messages.append(
            checks.Error(
                "SITE_URL is not an https:// address, so links in e-mails (invitations, password "
                "resets, donor sign-in codes) would be followed over plain http.",
                hint="Set SITE_URL to the site's https:// address, e.g. https://amparo.example.org.",
                id="amparo.E002",
            )
        )
    return messages


@checks.register(checks.Tags.security, deploy=True)
def check_source_control(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """With DEBUG off, the deployed tree holds no ``.git`` (its history may hold old secrets)."""
    if settings.DEBUG or not (Path(settings.BASE_DIR) / ".git").exists():
        return []
    return [
        checks.Warning(
            "The application folder holds a .git folder: the whole history of the code, and anything "
            "ever committed by mistake, sits on the server.",
            hint="Deploy a build without source-control metadata (git archive, a container image), "
            "or add amparo.W005 to SILENCED_SYSTEM_CHECKS where a checkout is deployed on purpose.",
            id="amparo.W005",
        )
    ]
