"""Searches without the words in the URL.

A search's words are often a name or an A-number. In a URL they would land in the web server's and
proxies' access logs and in the browser's history, so search forms are POSTed; the words are kept in
the session, encrypted like the records they point to, under a random token, and the results page
is ``?s=<token>``: pagination, sorting and filters keep working, and the URL says nothing about
anyone. A token is good for ``SEARCH_TOKEN_SECONDS`` and in its own session only. The case list,
the supervisors' search and finance's donor search share these helpers.
"""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from kernel.crypto import DecryptionError, keyring

SEARCH_SESSION_KEY = "amparo.searches"
SEARCH_TOKEN_PARAMETER = "s"
# Associated data of the encrypted words: a ciphertext from elsewhere does not decrypt here.
SEARCH_PLACE = "session.search"
SEARCHES_KEPT = 10


def search_remember(request: HttpRequest, words: str) -> str:
    """Keep ``words`` in the session, encrypted, and return the new random token that names them.

    Side effects: the session holds at most ``SEARCHES_KEPT`` searches; expired ones are dropped.
    """
    now = int(time.time())
    kept = {
        token: entry
        for token, entry in request.session.get(SEARCH_SESSION_KEY, {}).items()
        if now - entry[0] < settings.SEARCH_TOKEN_SECONDS
    }
    token = secrets.token_urlsafe(16)
    kept[token] = [now, keyring().encrypt_text(words, place=SEARCH_PLACE)]
    newest = sorted(kept.items(), key=lambda item: item[1][0])[-SEARCHES_KEPT:]
    request.session[SEARCH_SESSION_KEY] = dict(newest)
    return token


def search_recall(request: HttpRequest, token: str) -> str | None:
    """The words kept under ``token`` in this session; None if there are none or they have expired."""
    entry = request.session.get(SEARCH_SESSION_KEY, {}).get(token) if token else None
    if not entry or int(time.time()) - entry[0] >= settings.SEARCH_TOKEN_SECONDS:
        return None
    try:
        return keyring().decrypt_text(entry[1], place=SEARCH_PLACE)
    except DecryptionError:  # the key was rotated away since: as good as expired
        return None


def see_other(url: str) -> HttpResponseRedirect:
    """303 See Other: the answer to a POST, followed with a GET."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def without_search_words(request: HttpRequest) -> HttpResponse | None:
    """A GET with ``?q=`` (an old bookmark, a hand-made link): not honoured, sent on without the words."""
    if "q" not in request.GET:
        return None
    kept = request.GET.copy()
    del kept["q"]
    return HttpResponseRedirect(f"{request.path}?{kept.urlencode()}" if kept else request.path)
