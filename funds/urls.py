"""Funds URLs. Each views module lists its own patterns; they are joined here under ``funds:``."""

from funds.views import bonds, disbursements, discrepancies, donate, donor, finance, webhook, webhooks

app_name = "funds"

urlpatterns = [
    *donate.urlpatterns,
    *webhook.urlpatterns,
    *webhooks.urlpatterns,
    *donor.urlpatterns,
    *finance.urlpatterns,
    *discrepancies.urlpatterns,
    *bonds.urlpatterns,
    *disbursements.urlpatterns,
]
