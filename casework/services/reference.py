"""Reference data: which detention facilities are still offered for new records."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from casework.models import DetentionFacility


@transaction.atomic
def facilities_set_in_use(*, codes: Iterable[str], in_use: bool) -> int:
    """Mark the facilities with these ICE codes as in use or no longer used; returns how many changed.

    A facility no longer used stays on the records that name it but is not offered for new ones.
    Raises ``ValidationError`` naming any code that is not a known facility (nothing is changed).
    Side effects: none beyond the rows (reference data, not personal data).
    """
    wanted = {code.strip().upper() for code in codes if code.strip()}
    known = set(DetentionFacility.objects.filter(code__in=wanted).values_list("code", flat=True))
    if unknown := sorted(wanted - known):
        raise ValidationError(_("No facility has the code %(codes)s.") % {"codes": ", ".join(unknown)})
    return DetentionFacility.objects.filter(code__in=wanted).exclude(in_use=in_use).update(in_use=in_use)
