"""Signals that casework sends; apps above it react with receivers they own.

``case_erased``: sent inside the erasure's transaction with ``case`` (its personal data is being
erased by ``casework.services.retention``). A receiver erases what its app holds about the person
(funds: a bond's person-obligor, disbursement attachments) and returns the names of stored files to
delete once the erasure is committed (a list, possibly empty); an exception rolls the erasure back.
"""

from django.dispatch import Signal

case_erased = Signal()
