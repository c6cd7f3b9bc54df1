"""Finance's page of payout differences: Stripe payouts larger than what the ledger's Stripe clearing
held when they arrived, and the form that resolves each once its cause is booked.

The payout itself is booked in full when it arrives (``funds.services.bookkeeping.book_stripe_payout``);
the difference waits in the funds' suspense accounts until finance resolves it here.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import AuthenticatedHttpRequest, role_required
from funds.models import PayoutDiscrepancy
from funds.permissions import FINANCE_ROLES
from funds.services.bookkeeping import payout_discrepancy_resolve
from kernel.client_ip import client_ip
from kernel.once import ONCE_FIELD, AlreadySubmitted, OnceForm, already_submitted_redirect, submission

RESOLVE_FORM = "funds.payout-discrepancy-resolve"  # its one-time keys (``kernel.once``)


class DiscrepancyResolveForm(OnceForm):
    note = forms.CharField(
        label=gettext_lazy("What explained the difference"),
        max_length=300,
        help_text=gettext_lazy("For example the donation whose Stripe event came after the payout."),
    )


@role_required(*FINANCE_ROLES)
@require_GET
def discrepancy_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open payout differences, oldest first, each with its own resolve form (and one-time key)."""
    return _page(request)


def _page(
    request: AuthenticatedHttpRequest, *, sent: DiscrepancyResolveForm | None = None, pk: int = 0, status: int = 200
) -> HttpResponse:
    # Each row's form carries its own one-time key (``auto_id=False``: the template names the ids).
    open_ones = PayoutDiscrepancy.objects.filter(resolved_at__isnull=True).select_related("payout").order_by("found_at")
    rows = [(d, sent if sent is not None and d.pk == pk else DiscrepancyResolveForm(auto_id=False)) for d in open_ones]
    return render(request, "funds/discrepancies.html", {"rows": rows, "zone": settings.TIME_ZONE}, status=status)


@role_required(*FINANCE_ROLES)
@require_POST
def discrepancy_resolve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Resolve one payout difference with finance's note. The same form sent twice resolves it once and
    shows the first result; a difference resolved already (another form, another person) is refused
    with a message."""
    discrepancy = PayoutDiscrepancy.objects.filter(pk=pk).select_related("payout").first()
    if discrepancy is None:
        raise Http404
    listing = reverse("funds:payout-discrepancies")
    form = DiscrepancyResolveForm(request.POST, auto_id=False)
    try:
        if not form.is_valid():
            raise ValidationError([message for errors in form.errors.values() for message in errors])
        with submission(key=form.cleaned_data[ONCE_FIELD], form=RESOLVE_FORM, user=request.user) as sent:
            payout_discrepancy_resolve(
                discrepancy=discrepancy, by=request.user, note=form.cleaned_data["note"], ip_address=client_ip(request)
            )
            sent.result_url = listing
    except AlreadySubmitted as done:
        return already_submitted_redirect(request, done, fallback=listing)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _page(request, sent=form, pk=pk, status=422)
    messages.success(
        request,
        _("The difference on payout %(payout)s is resolved.") % {"payout": discrepancy.payout.stripe_payout_id},
    )
    return redirect(listing)


urlpatterns = [
    path("finance/payouts/differences/", discrepancy_list, name="payout-discrepancies"),
    path("finance/payouts/differences/<int:pk>/resolve/", discrepancy_resolve, name="payout-discrepancy-resolve"),
]
