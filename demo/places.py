"""Where the demo's people are held and heard, from ``data/sites.csv`` and ``data/places.json``.

Facilities and courts are the real reference data loaded by the migrations; the demo only picks
among them, weighted like the large detention centres' share of detained dockets.
"""

from __future__ import annotations

from dataclasses import dataclass

from casework.models import DetentionFacility, ImmigrationCourt
from demo.datafiles import csv_rows, json_data


@dataclass(frozen=True)
class Site:
    facility: DetentionFacility
    court: ImmigrationCourt
    weight: int


def places_data() -> dict:
    """Detention places (border, interior and how), sponsors' cities, fallback states."""
    return json_data("places")


def sites_load() -> list[Site]:
    """The weighted detention sites of ``sites.csv`` that exist in the database, each with its court.

    Falls back to facilities in the big detention states if the reference data changed, and raises
    ``LookupError`` if there are no courts or facilities at all (the migrations load them).
    """
    courts = list(ImmigrationCourt.objects.order_by("name"))
    if not courts:
        raise LookupError("No immigration courts: run the migrations (they load the reference data) first.")
    by_name = {c.name: c for c in courts}

    def court_for(facility: DetentionFacility) -> ImmigrationCourt:
        same_state = [c for c in courts if c.state == facility.state]
        same_city = [c for c in same_state if c.city == facility.city]
        return (same_city or same_state or courts)[0]

    wanted = [(row["facility_code"], row["court"], int(row["weight"])) for row in csv_rows("sites")]
    facilities = {f.code: f for f in DetentionFacility.objects.filter(code__in=[code for code, _c, _w in wanted])}
    sites = [
        Site(facilities[code], by_name.get(court) or court_for(facilities[code]), weight)
        for code, court, weight in wanted
        if code in facilities
    ]
    if len(sites) < 5:  # the fixture changed: take what there is in the big detention states
        states = places_data()["fallback_states"]
        fallback = DetentionFacility.objects.filter(state__in=states).order_by("code")[:20]
        sites += [Site(f, court_for(f), 1) for f in fallback if f.code not in {s.facility.code for s in sites}]
    if not sites:
        sites = [Site(f, court_for(f), 1) for f in DetentionFacility.objects.order_by("code")[:20]]
    if not sites:
        raise LookupError("No detention facilities: run the migrations (they load the reference data) first.")
    return sites
