"""Invented people: names built from the lists in ``data/people.json``, their aliases and relatives.

Names are assembled at random from common given and family names of each country, so they
describe no one. Each origin says how its family names are built (``style``): two surnames
(hispanic), mother's then father's (brazil), Singh or Kaur (sikh), family name first (chinese),
Ould or Mint and the father's name (ould), gendered endings (slavic), or one family name (single).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache

from demo.chance import weighted
from demo.datafiles import json_data


@dataclass(frozen=True)
class Origin:
    country: str
    weight: int
    style: str  # hispanic, brazil, single, sikh, chinese, ould, slavic
    male: tuple[str, ...]
    female: tuple[str, ...]
    family: tuple[str, ...]
    languages: tuple[tuple[str, int], ...]


@dataclass
class Person:
    origin: Origin
    male: bool
    given: str
    family: str
    paternal: str = ""
    maternal: str = ""


def people_data() -> dict:
    return json_data("people")


@cache
def origins() -> tuple[Origin, ...]:
    """Where the demo's people come from, each with the names and languages found there."""
    data = people_data()
    made = []
    for entry in data["origins"]:
        given = data["given_names"][entry["given_names"]] if "given_names" in entry else entry
        made.append(
            Origin(
                country=entry["country"],
                weight=entry["weight"],
                style=entry["style"],
                male=given["male"],
                female=given["female"],
                family=entry["family"],
                languages=entry["languages"],
            )
        )
    return tuple(made)


def relationships() -> tuple[tuple[str, int], ...]:
    return people_data()["relationships"]


def area_codes() -> tuple[str, ...]:
    return people_data()["area_codes"]


def indigenous_languages() -> frozenset[str]:
    return frozenset(people_data()["indigenous_languages"])


def strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def person_name(rng: random.Random, origin: Origin, male: bool) -> Person:
    """A made-up person from ``origin``, named the way people there are named."""
    given = rng.choice(origin.male if male else origin.female)
    style = origin.style
    if style == "hispanic":
        if " " not in given and rng.random() < 0.3:
            second = people_data()["second_given_names"]["male" if male else "female"]
            given = f"{given} {rng.choice(second)}"
        paternal = rng.choice(origin.family)
        maternal = rng.choice([f for f in origin.family if f != paternal])
        r = rng.random()
        if r < 0.75:
            family = f"{paternal} {maternal}"
        elif r < 0.9:
            family = f"{paternal}-{maternal}"
        else:
            family, maternal = paternal, ""
        return Person(origin, male, given, family, paternal, maternal)
    if style == "brazil":
        paternal = rng.choice(origin.family)
        maternal = rng.choice([f for f in origin.family if f != paternal])
        link = rng.choice(("", "", "da ", "dos ", "de "))
        return Person(origin, male, given, f"{maternal} {link}{paternal}".replace("  ", " "), paternal, maternal)
    if style == "sikh":
        return Person(origin, male, given, "Singh" if male else "Kaur", rng.choice(origin.family))
    if style == "ould":
        father = rng.choice(origin.family)
        return Person(origin, male, given, f"{'Ould' if male else 'Mint'} {father}", father)
    if style == "slavic":
        family = rng.choice(origin.family)
        if not male and family.endswith(("ov", "ev", "in")):
            family += "a"
        return Person(origin, male, given, family, family)
    family = rng.choice(origin.family)
    return Person(origin, male, given, family, family)


def aliases(rng: random.Random, p: Person) -> str:
    """Other names the person is known by or was recorded under: none for most people."""
    if rng.random() > 0.3:
        return ""
    nicknames, transliterations = people_data()["nicknames"], people_data()["transliterations"]
    candidates = []
    if p.origin.style == "hispanic":
        first = p.given.split(" ")[0]
        candidates.append(strip_accents(f"{p.given} {p.paternal}"))
        if p.maternal:
            candidates.append(f"{first} {p.maternal}")  # the maternal surname taken for the last name
        nickname = nicknames.get(p.given) or nicknames.get(first)
        if nickname:
            candidates.append(f"{nickname} {p.paternal}")
        if p.paternal.endswith("z"):
            candidates.append(strip_accents(f"{p.given} {p.paternal[:-1]}s"))
    elif p.origin.style == "sikh":
        candidates.append(f"{p.given} {p.family} {p.paternal}")
        candidates.append(f"{p.given} {p.paternal}")
    elif p.origin.style == "chinese":
        candidates.append(f"{p.family} {p.given}")
    elif p.origin.style == "ould":
        candidates.append(f"{p.given} {p.family.replace('Ould ', 'O. ').replace('Mint ', 'M. ')}")
    elif p.origin.style == "brazil":
        candidates.append(f"{p.given} {p.paternal}")
    translit = " ".join(transliterations.get(w, w) for w in f"{p.given} {p.family}".split(" "))
    if translit != f"{p.given} {p.family}":
        candidates.append(translit)
    if not candidates:
        return ""
    picked = rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2))))
    return ", ".join(dict.fromkeys(picked))


def relative(rng: random.Random, p: Person, relationship: str) -> str:
    """A made-up relative's name that fits the person's family: siblings share surnames, and so on."""
    o = p.origin
    female = {"mother": True, "sister": True, "aunt": True, "father": False, "brother": False, "uncle": False}
    if relationship in female:
        male = not female[relationship]
    elif relationship == "spouse":
        male = not p.male
    else:
        male = rng.random() < 0.5
    other = person_name(rng, o, male)
    if o.style == "hispanic":
        if relationship in ("sister", "brother"):
            family = p.family
        elif relationship in ("father", "uncle", "adult child"):
            family = f"{p.paternal} {other.maternal}".strip() if other.maternal else p.paternal
        elif relationship in ("mother", "aunt") and p.maternal:
            second = other.paternal if other.paternal != p.maternal else other.maternal or rng.choice(o.family)
            family = f"{p.maternal} {second}"
        else:
            family = other.family
        return f"{other.given} {family}"
    if o.style == "sikh":
        return f"{other.given} {'Singh' if male else 'Kaur'}"
    if o.style == "ould":
        if relationship in ("sister", "brother"):
            return f"{other.given} {'Ould' if male else 'Mint'} {p.paternal}"
        return f"{other.given} {other.family}"
    shares = relationship in ("sister", "brother", "father", "adult child", "uncle")
    family = p.family if shares else other.family
    if o.style == "slavic":
        family = family.removesuffix("a") if male and family.endswith(("ova", "eva", "ina")) else family
        if not male and family.endswith(("ov", "ev", "in")):
            family += "a"
    if o.style == "chinese":
        return f"{family} {other.given}"
    return f"{other.given} {family}"


def contacts(rng: random.Random, person: Person, languages: str, dob: date) -> list[dict]:
    """Zero to two family contacts (invented names, fictional 555-01xx numbers) for the intake form."""
    r = rng.random()
    how_many = 0 if r < 0.25 else 1 if r < 0.75 else 2
    choices = [(k, w) for k, w in relationships() if k != "adult child" or dob.year <= 1985]
    made, used = [], set()
    for _ in range(how_many):
        relationship = weighted(rng, choices)
        if relationship in used:
            continue
        used.add(relationship)
        label = relationship
        if relationship == "spouse":
            label = "husband" if not person.male else "wife"
        elif relationship == "adult child":
            label = "daughter" if rng.random() < 0.5 else "son"
        language = languages.split(",")[0].strip()
        if relationship in ("adult child", "cousin", "friend") and rng.random() < 0.4:
            language = "English"
        made.append(
            {
                "name": relative(rng, person, relationship),
                "relationship": label,
                "phone": f"({rng.choice(area_codes())}) 555-01{rng.randint(0, 99):02d}",
                "preferred_language": language,
            }
        )
    return made
