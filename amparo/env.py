"""Small readers of the environment that fail loudly.

Every setting that comes from the environment goes through one of these. A value
that cannot be understood raises ``ImproperlyConfigured`` at start-up instead of
silently falling back to a default. ``NAME_FILE`` is read in place of ``NAME``
(for secrets mounted as files).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_MISSING = object()


def raw(name: str, default: object = _MISSING) -> str | object:
    """Return ``name`` from the environment, or the contents of ``name_FILE``."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    if name in os.environ:
        return os.environ[name]
    if default is _MISSING:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    return default


def string(name: str, default: str | object = _MISSING) -> str:
    return str(raw(name, default))


def boolean(name: str, default: bool) -> bool:
    value = raw(name, None)
    if value is None:
        return default
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no).")


def integer(name: str, default: int, *, minimum: int | None = None) -> int:
    value = raw(name, None)
    if value is None:
        return default
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def string_list(name: str, default: list[str]) -> list[str]:
    value = raw(name, None)
    if value is None:
        return default
    return [item.strip() for item in str(value).split(",") if item.strip()]


def choice(name: str, default: str, choices: set[str]) -> str:
    value = string(name, default).strip()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {sorted(choices)}.")
    return value


def database(name: str, default: str) -> dict:
    url = string(name, default)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            config = environ.Env.db_url_config(url)
    except (ValueError, KeyError, ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"{name} is not a database URL: {exc}") from exc
    if not config.get("ENGINE"):
        raise ImproperlyConfigured(f"{name} names no database engine we know (postgres://, sqlite:///).")
    return config


def email(name: str, default: str) -> dict:
    url = string(name, default)
    try:
        return environ.Env.email_url_config(url)
    except (ValueError, KeyError, ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"{name} is not an e-mail URL: {exc}") from exc


def cache(name: str, default: str) -> dict:
    url = string(name, default)
    try:
        return environ.Env.cache_url_config(url)
    except (ValueError, KeyError, ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"{name} is not a cache URL: {exc}") from exc
