"""How a donor is recognised by e-mail address without the address being readable in the database.

A donor's name and e-mail address are encrypted at rest (``funds.Donor``); an encrypted column cannot
be compared in SQL, so a donor is found by ``Donor.email_index``: a keyed blind index
(``casework.identity.blind_index``, purpose ``"donor-email"``) of the normalised address. Every
lookup of a donor by e-mail, and every stored index, goes through ``donor_email_index``.
"""

from __future__ import annotations

from casework.identity import blind_index

DONOR_EMAIL_PURPOSE = "donor-email"


def normalise_donor_email(email: str) -> str:
    """An e-mail address as it is stored and indexed: without surrounding spaces, in lower case.

    Lower-casing the local part is not what RFC 5321 promises, but it is what donors expect: the
    same person typing ``Maria@Example.org`` and ``maria@example.org`` is one donor.
    """
    return email.strip().lower()


def donor_email_index(email: str) -> str:
    """The blind index (64 hex characters) that finds the donor with this e-mail address, as typed."""
    return blind_index(normalise_donor_email(email), purpose=DONOR_EMAIL_PURPOSE)
