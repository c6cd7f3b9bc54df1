"""The demo's invented names, places and notes are data files that the readers load whole."""

from __future__ import annotations

import random
import re
from datetime import date
from string import Formatter

import pytest

from demo.datafiles import DATA_DIR, csv_rows, json_data
from demo.people import Person, aliases, contacts, origins, person_name
from demo.places import sites_load


def test_every_data_file_is_read_and_lists_come_back_unchangeable():
    names = sorted(p.name for p in DATA_DIR.iterdir() if p.suffix in {".json", ".csv"})
    assert names == ["donors.csv", "notes.json", "people.json", "places.json", "sites.csv"]
    for name in ("notes", "people", "places"):
        assert json_data(name)
    assert isinstance(json_data("people")["area_codes"], tuple)
    assert set(csv_rows("sites")[0]) == {"facility_code", "court", "weight", "facility"}


def test_origins_have_names_of_both_sexes_and_weighted_languages():
    every = origins()
    assert len({o.country for o in every}) >= 15
    for origin in every:
        assert origin.male and origin.female and origin.family, origin.country
        assert all(weight > 0 for _language, weight in origin.languages)


def test_note_templates_only_use_the_placeholders_the_stories_fill_in():
    notes = json_data("notes")
    allowed = {"with_interpreter", "lang", "city", "language", "amount", "relief"}

    def placeholders(text: str) -> set[str]:
        return {field for _lit, field, _spec, _conv in Formatter().parse(text) if field}

    texts = [*notes["intake"], *notes["admin"], notes["indigenous"], *(n["text"] for n in notes["privileged"])]
    texts += [t for v in notes["story"].values() for t in (v if isinstance(v, tuple) else (v,))]
    assert all(placeholders(text) <= allowed for text in texts)
    assert sum(1 for n in notes["privileged"] if n.get("opening")) == 1  # the initial legal visit


def test_made_up_people_get_plausible_names_aliases_and_fictional_phone_numbers():
    rng = random.Random(3)
    for origin in origins():
        person = person_name(rng, origin, male=rng.random() < 0.5)
        assert isinstance(person, Person) and person.given and person.family
        assert isinstance(aliases(rng, person), str)
        for contact in contacts(rng, person, "Spanish", date(1980, 1, 1)):
            assert re.fullmatch(r"\(\d{3}\) 555-01\d\d", contact["phone"])


@pytest.mark.django_db
def test_the_detention_sites_are_found_in_the_reference_data():
    sites = sites_load()

    assert {s.facility.code for s in sites} == {row["facility_code"] for row in csv_rows("sites")}
    assert all(s.court.name == row["court"] for s, row in zip(sites, csv_rows("sites"), strict=True))
