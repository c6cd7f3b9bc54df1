"""What the seeded people, places and cases are made of: names as they are typed at intake."""

from __future__ import annotations

from collections.abc import Sequence


def _words(text: str) -> list[str]:
    return text.split()


# A long tail of names, the common ones far more common (Zipf weights below).
GIVEN = _words(
    "José María Juan Ana Luis Rosa Carlos Lucía Pedro Elena Mohamed Fatima Jorge Guadalupe Miguel Ángel "
    "Francisco Javier Marta Alejandro Daniela Andrés Sofía Diego Valentina Ricardo Camila Fernando Isabel "
    "Wilmer Yesenia Kevin Brayan Jefferson Yoselin Dayana Mamadou Aissatou Ousmane Ibrahima Jean Pierre "
    "Marie Claude Wadson Roseline Olena Oleksandr Dmytro Iryna Sergei Natalia Arjun Priya Harpreet Gurpreet "
    "Wei Li Ming Xiu Ahmed Omar Yusuf Aisha Khadija Hassan Amadou Kwame Abena Esperanza Milagros Lourdes "
    "Santiago Mateo Emiliano Ximena Dulce Nayeli Edgar Osmar Henry Nelson Marvin Glenda Heidy Maynor"
)
FAMILY = _words(
    "Hernández López García Martínez Pérez Ramírez Cruz Flores Díaz Reyes Morales Gómez Sánchez Torres "
    "Rivera Gutiérrez Castillo Mejía Romero Vásquez Ortiz Chávez Ruiz Aguilar Mendoza Herrera Medina Castro "
    "Guzmán Rojas Vargas Fuentes Orellana Alvarado Portillo Escobar Argueta Zelaya Lemus Pineda Ayala "
    "Jean-Baptiste Pierre-Louis Joseph Charles Louis Étienne Diallo Barry Sow Bah Camara Traoré Koné "
    "Shevchenko Kovalenko Bondarenko Tkachenko Ivanov Petrova Singh Kaur Patel Sharma Wang Chen Zhang Liu "
    "Huang Nguyen Tran Haddad Khalil Mansour Abdi Mohamud Osei Mensah Quispe Mamani Choque Condori Tzul Xol "
    "Caal Chub Pop Coc Ixcoy Tum"
)
PARTICLE_FAMILY = ("De la Cruz", "Del Cid", "De León", "De Jesús", "Van der Berg")
COUNTRIES = (
    "Guatemala",
    "Honduras",
    "Mexico",
    "El Salvador",
    "Venezuela",
    "Haiti",
    "Nicaragua",
    "Ecuador",
    "Colombia",
    "Cuba",
    "Ukraine",
    "India",
    "China",
    "Mauritania",
    "Senegal",
    "Guinea",
    "Brazil",
    "Peru",
    "Dominican Republic",
    "Ghana",
)
LANGUAGES = (
    "Spanish",
    "Spanish",
    "Spanish",
    "K'iche'",
    "Q'eqchi'",
    "Mam",
    "Haitian Creole",
    "French",
    "Ukrainian",
    "Russian",
    "Punjabi",
    "Mandarin",
    "Arabic",
    "Wolof",
    "Pulaar",
    "Portuguese",
)
PLACES = (
    "Home Depot parking lot",
    "traffic stop on I-95",
    "courthouse steps",
    "workplace raid",
    "bus station",
    "check-in at the field office",
    "apartment complex",
    "port of entry",
    "county jail transfer",
)
NOTES = (
    "Caller is the sister; speaks Spanish only. Detained on the way to work.",
    "Has two U.S.-citizen children; asthma medication needed.",
    "Prior removal order mentioned by the family; check EOIR.",
    "Fear of return; brother was killed in 2022.",
    "Transferred twice in a week; the family lost track.",
)
RELATIONSHIPS = ("sister", "brother", "mother", "father", "spouse", "partner", "cousin", "friend", "employer")

HELD = ("ice", "ice", "ice", "ice", "ice", "ice", "cbp", "orr", "criminal_detainer")
RELEASE = ("bond", "bond", "recognizance", "humanitarian_parole", "order_of_supervision", "conditional_parole")
CLOSE = ("relief_granted", "terminated", "released_referred", "other_counsel", "removed", "lost_contact", "declined")
PROCEEDING = ("removal", "removal", "removal", "expedited", "credible_fear", "reinstatement", "withholding_only")
AUTHORITY = ("unknown", "236a", "236a", "236c", "235b", "241")
HEARING_KINDS = ("master", "master", "master", "individual", "bond", "credible_fear")


def zipf(items: Sequence[str], s: float = 1.0, offset: int = 3) -> list[float]:
    return [1 / (n + offset) ** s for n in range(len(items))]


GIVEN_W, FAMILY_W = zipf(GIVEN), zipf(FAMILY)
