"""Signals that accounts sends; other apps react to them with receivers they own.

accounts is below casework in the layers (docs/architecture.md), so it may not call casework.
A reaction to a staff change (a leaver's cases flagged for reassignment) is therefore a
receiver in the reacting app, connected in its ``AppConfig.ready``.
"""

from django.dispatch import Signal

# Sent inside the deactivation's transaction, with ``user`` (the leaver) and ``by`` (the
# administrator). A receiver returns how many records it flagged (an int), which the access
# log row of the deactivation reports; an exception rolls the deactivation back.
staff_deactivated = Signal()
