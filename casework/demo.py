"""Fictional demo casework for a local run: ``seed_casework()``, called by ``manage.py seed_demo``.

Every person, phone number, A-number and note here is invented. Names are assembled at random from
lists of common given and family names of each country, so they describe no one; the phone numbers
are in the 555-0100 to 555-0199 range reserved for fiction; A-numbers are random. Judges are left
blank rather than invented, because a made-up name at a real court could be taken for a real judge.

Cases are made through ``casework.services`` only, exactly as staff make them, so case numbers,
blind indexes, custody periods, guardian permissions, computed deadlines, timeline events and access
events are all what the app itself would write. The services stamp everything "now"; afterwards the
timestamps (registration, assignments, timeline, notes, hearings and deadlines as created) are moved
back to when each step is supposed to have happened, so the triage queue has varied waiting times
and every case tells a coherent story. Access events are left as they are: they truthfully record
that the seeding happened now.

The data are deterministic for a given ``seed`` and day. Running it again does nothing.
"""

from __future__ import annotations

import heapq
import random
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import models, transaction
from django.db.models import Count
from django.db.models.signals import pre_save
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from casework import services
from casework.deadlines import Rule, compute_deadline, is_business_day
from casework.models import (
    Assignment,
    AssignmentRole,
    Case,
    CaseEvent,
    CaseStatus,
    CloseReason,
    CustodyStatus,
    Deadline,
    DeadlineStatus,
    Detainee,
    DetentionFacility,
    Hearing,
    HearingKind,
    HearingMedium,
    HearingOutcome,
    ImmigrationCourt,
    Note,
    ProceedingType,
    ReliefKind,
    ReliefStatus,
)

INTAKE_EMAIL = "intake@demo.amparo.test"
ATTORNEY_EMAIL = "attorney@demo.amparo.test"
ATTORNEY2_EMAIL = "attorney2@demo.amparo.test"
SUPERVISOR_EMAIL = "supervisor@demo.amparo.test"
DEMO_DOMAIN = "@demo.amparo.test"

# Shares of the cases, out of 200.
TRIAGE_SHARE, CLOSED_SHARE = 25, 25
# Lead attorneys of active cases, by weight; OTHERS is shared by any further demo attorneys
# (and, if there are none, folded into the three in proportion).
LEAD_WEIGHTS = {"attorney": 70, "attorney2": 50, "supervisor": 10}
OTHERS_WEIGHT = 20
# Each demo attorney gets at least this many hearings in the next two weeks.
NEAR_HEARINGS_PER_ATTORNEY = 6


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split("|"))


# --- People -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Origin:
    country: str
    weight: int
    style: str  # how family names are built: hispanic, brazil, single, sikh, chinese, ould, slavic
    male: tuple[str, ...]
    female: tuple[str, ...]
    family: tuple[str, ...]
    languages: tuple[tuple[str, int], ...]


_GT_MALE = _split(
    "José Luis|Juan|Pedro|Marvin|Edwin|Byron|Selvin|Elmer|Wilmer|Mynor|Erick|Baltazar|Mateo|Diego|Santos|"
    "Francisco|Domingo|Lorenzo|Cristóbal|Gaspar|Nicolás|Hermelindo|Juan Carlos|Oswaldo|Efraín|Andrés|Lucas"
)
_GT_FEMALE = _split(
    "María|Rosa|Juana|Ana Lucía|Magdalena|Catarina|Sandra|Marta|Yesenia|Dulce María|Ingrid|Glendy|Petrona|"
    "Micaela|Candelaria|Floridalma|Vilma|Aura Marina|Olga Marina|Manuela|Imelda|Isabel"
)
_HN_MALE = _split(
    "Carlos Roberto|Kevin|Elvin|Nelson|Jonathan|Josué|Denis|Wilmer|Marlon|Darwin|Franklin|Brayan|José Antonio|"
    "Luis Fernando|Melvin|Héber|Osman|Elías"
)
_HN_FEMALE = _split(
    "Karla|Dania|Lesly|Sindy|Ana Gabriela|Wendy|Iris|Keila|Yessenia|Nohemí|Maryuri|Gloria Esperanza|Reina|"
    "Suyapa|Lourdes|Jessica"
)
_MX_MALE = _split(
    "Juan Manuel|Francisco Javier|José de Jesús|Miguel Ángel|Luis Alberto|Ramón|Rigoberto|Alejandro|Efraín|"
    "Jesús|Eduardo|Saúl|Arturo|Isidro|Héctor|Guillermo|Gerardo|Ignacio"
)
_MX_FEMALE = _split(
    "María Guadalupe|Verónica|Araceli|Leticia|Rocío|Adriana|Mariela|Itzel|Brenda|Lorena|Alma Delia|Yolanda|"
    "Maribel|Nayeli|Juana|Cecilia"
)

ORIGINS: tuple[_Origin, ...] = (
    _Origin(
        "Guatemala",
        9,
        "hispanic",
        _GT_MALE,
        _GT_FEMALE,
        _split(
            "Pérez|López|García|Ramírez|Mejía|Velásquez|Ordóñez|Cifuentes|Maldonado|Morales|Carrillo|Juárez|"
            "Vásquez|Hernández|Barrios|Monterroso|Girón|Estrada|Recinos|Son"
        ),
        (("Spanish", 1),),
    ),
    _Origin(
        "Guatemala",
        9,
        "hispanic",
        _GT_MALE,
        _GT_FEMALE,
        _split(
            "Tzul|Xicará|Ajú|Batz|Chocoj|Quiej|Tzoc|Ixcoy|Tum|Calel|Yoc|Tiney|Cux|Us|Sic|Chanchavac|Pérez|"
            "López|García|Tambriz|Ventura"
        ),
        (("K'iche', Spanish", 6), ("K'iche'", 4)),
    ),
    _Origin(
        "Guatemala",
        7,
        "hispanic",
        _GT_MALE,
        _GT_FEMALE,
        _split(
            "Bámaca|Sales|Ortiz|Ramos|Pérez|Jiménez|Escobar|Mejía|Maldonado|Cifuentes|Domingo|Gómez|Matías|"
            "Ramírez|Aguilar|Fuentes|Tomás|Velásquez"
        ),
        (("Mam", 6), ("Mam, Spanish", 4)),
    ),
    _Origin(
        "Guatemala",
        5,
        "hispanic",
        _GT_MALE,
        _GT_FEMALE,
        _split("Pascual|Francisco|Andrés|Gaspar|Mateo|Domingo|Diego|Juan|Pedro|Tomás|Lucas|Sebastián|Antonio|Manuel"),
        (("Q'anjob'al, Spanish", 6), ("Q'anjob'al", 4)),
    ),
    _Origin(
        "Guatemala",
        3,
        "hispanic",
        _GT_MALE,
        _GT_FEMALE,
        _split("Caal|Coc|Pop|Chub|Choc|Cuz|Tut|Xol|Maquín|Bol|Ical|Tiul|Chen"),
        (("Q'eqchi'", 6), ("Q'eqchi', Spanish", 4)),
    ),
    _Origin(
        "Honduras",
        22,
        "hispanic",
        _HN_MALE,
        _HN_FEMALE,
        _split(
            "Martínez|Mejía|Rodríguez|Flores|Cárcamo|Banegas|Maradiaga|Ordóñez|Aguilar|Paz|Canales|Euceda|Murillo|"
            "Matute|Bonilla|Orellana|Chinchilla|Padilla|Turcios|Amaya|Portillo|Reyes|Villatoro|Sauceda|Zúniga"
        ),
        (("Spanish", 1),),
    ),
    _Origin(
        "Honduras",
        3,
        "hispanic",
        _HN_MALE,
        _HN_FEMALE,
        _split("Álvarez|Martínez|Suazo|Bernárdez|Güity|Lambert|Arzú|Castillo|Colón|Sambulá|Norales"),
        (("Garifuna, Spanish", 1),),
    ),
    _Origin(
        "Mexico",
        20,
        "hispanic",
        _MX_MALE,
        _MX_FEMALE,
        _split(
            "Hernández|García|Martínez|López|González|Sánchez|Ramírez|Cruz|Morales|Reyes|Ortiz|Gutiérrez|Mendoza|"
            "Ruiz|Aguilar|Vargas|Castañeda|Zavala|Ibarra|Valdez|Rosales|Salgado|Cervantes|Ávila|Villanueva|"
            "de la Cruz|Espinoza|Arellano|Pacheco|Solís"
        ),
        (("Spanish", 1),),
    ),
    _Origin(
        "Mexico",
        3,
        "hispanic",
        _MX_MALE,
        _MX_FEMALE,
        _split("Bautista|Santiago|López|Hernández|Sánchez|Cruz|Ramírez|Martínez|Jiménez|Velasco|Ortiz|Feria"),
        (("Mixteco, Spanish", 6), ("Mixteco", 2)),
    ),
    _Origin(
        "El Salvador",
        16,
        "hispanic",
        _split(
            "José Roberto|Marvin Alexander|Carlos Alberto|Wilfredo|Mauricio|Nelson Antonio|Rafael|Salvador|Edgardo|"
            "Jaime|René|Kevin Alexander|William|Ever|Douglas|Melvin"
        ),
        _split(
            "Ana Cecilia|Blanca Estela|Claudia Marisol|Rosa Elvira|Evelyn|Katherine|Jennifer|Marta Alicia|Sonia|"
            "Patricia|Reina Isabel|Yanira|Glenda|Roxana"
        ),
        _split(
            "Hernández|Rivas|Portillo|Chicas|Alvarado|Argueta|Ayala|Orellana|Quintanilla|Guevara|Menjívar|Rodas|"
            "Melgar|Escobar|Fuentes|Cañas|Ventura|Molina|Rosales|Lemus|Aparicio|Henríquez|Sorto|Amaya|Rivera"
        ),
        (("Spanish", 1),),
    ),
    _Origin(
        "Venezuela",
        16,
        "hispanic",
        _split(
            "Luis Alejandro|Jesús Rafael|José Gregorio|Carlos Eduardo|Yorman|Jhonny|Deiby|Alexander|Ángel David|"
            "Ricardo|Wilmer|Jefferson|Oswaldo|Daniel|Yonaiker"
        ),
        _split(
            "Yuleisy|Mariángel|Daniela|Yusmary|Génesis|Andreína|Carolina|María Gabriela|Yelitza|Dayana|Luisana|Nathaly"
        ),
        _split(
            "Rodríguez|González|Pérez|Hernández|Rojas|Mendoza|Briceño|Colmenares|Quintero|Palencia|Bermúdez|"
            "Salazar|Guerrero|Camacho|Villalobos|Contreras|Zambrano|Useche|Barrios|Montilla|Marcano|Rondón|"
            "Linares|Figueroa|Mora"
        ),
        (("Spanish", 1),),
    ),
    _Origin(
        "Colombia",
        12,
        "hispanic",
        _split(
            "Andrés Felipe|Juan David|Jhon Jairo|Carlos Andrés|Luis Fernando|Óscar Iván|Duván|Yeison|"
            "Cristian Camilo|Hernán|Edwin|Wilson"
        ),
        _split(
            "Luz Dary|Paola Andrea|Diana Marcela|Yuliana|Leidy Johana|Sandra Milena|Natalia|Ángela María|Marisol|Yaneth"
        ),
        _split(
            "Restrepo|Ospina|Cardona|Giraldo|Valencia|Castaño|Muñoz|Ramírez|Londoño|Quintero|Gómez|Arango|"
            "Betancur|Zapata|Mosquera|Rentería|Palacios|Córdoba|Montoya|Agudelo|Henao|Alzate"
        ),
        (("Spanish", 1),),
    ),
    _Origin(
        "Ecuador",
        7,
        "hispanic",
        _split(
            "Segundo|Luis Alfonso|Wilson|Byron|Édison|Fausto|Manuel Jesús|Ángel Rodrigo|Kléber|Darío|Patricio|"
            "Jorge Washington"
        ),
        _split("María Dolores|Rosa Elena|Mayra|Gladys|Jessenia|Lourdes|Narcisa|Tania|Blanca Rosa|Verónica"),
        _split(
            "Mendieta|Cabrera|Jaramillo|Vélez|Zambrano|Loja|Cajamarca|Zhunio|Ochoa|Peralta|Sarmiento|Alvarado|"
            "Bermeo|Durán|Ordóñez|Pesántez"
        ),
        (("Spanish", 1),),
    ),
    _Origin(
        "Ecuador",
        3,
        "hispanic",
        _split("Segundo|Luis Alfonso|Manuel Jesús|José Manuel|Ángel|Fausto|Rafael"),
        _split("María Dolores|Rosa Elena|Mercedes|Narcisa|Blanca Rosa|Transito"),
        _split("Quishpe|Guamán|Chimbo|Tenesaca|Pichisaca|Guallpa|Morocho|Sinchi|Quizhpi|Naula|Llivisaca|Yupa|Tacuri"),
        (("Kichwa, Spanish", 1),),
    ),
    _Origin(
        "Nicaragua",
        8,
        "hispanic",
        _split("Francisco José|Álvaro|Norlan|Yader|Marvin|Ervin|Léster|Julio César|Denis|Erick|Bayardo|Harold|Ariel"),
        _split("Scarleth|Yahoska|Ana Julia|Martha Lorena|Karina|Jessenia|Aleyda|Maritza|Heydi|Tamara"),
        _split(
            "Obando|Gutiérrez|Mairena|Zeledón|Lacayo|Sandoval|Cuadra|Urbina|Rugama|Blandón|Téllez|Espinoza|"
            "Hurtado|Centeno|Jarquín|Palacios|Mendoza|Rivas"
        ),
        (("Spanish", 1),),
    ),
    _Origin(
        "Cuba",
        10,
        "hispanic",
        _split("Yoandri|Yosvany|Yunior|Dairon|Osmany|Reinier|Yordanis|Alexis|Lázaro|Adrián|Yasmany|Michel|Orlando"),
        _split("Yanelis|Yaquelín|Dayamí|Leidys|Arianna|Yudith|Maité|Yusleidy|Odalys|Mailén"),
        _split(
            "Pérez|Rodríguez|Díaz|Fernández|Hernández|Valdés|Cabrera|Rivero|Cepero|Acosta|Llanes|Ramos|Pupo|"
            "Ferrer|Leyva|Torres|Suárez|Milián|Quesada|Alonso|Arencibia|Betancourt|Borrego"
        ),
        (("Spanish", 1),),
    ),
    _Origin(
        "Haiti",
        10,
        "single",
        _split(
            "Jean-Robert|Wilner|Mackenson|Frantz|Wesner|Dieuveut|Jonas|Ricardo|Peterson|Widner|Évens|Lesly|Jean-Marc|"
            "Wilfrid|Jacky"
        ),
        _split(
            "Guerline|Nadège|Rosemène|Fabienne|Mirlande|Darline|Wideline|Nathalie|Marie-Carmelle|Islande|Roseline|"
            "Judith"
        ),
        _split(
            "Jean-Baptiste|Pierre|Joseph|Louis|Charles|Désir|Saint-Fleur|Dorvil|Exantus|Métellus|Augustin|"
            "Dorélien|Célestin|Jean-Louis|Fleurimond|Bazile|Prophète|Noël|Casimir|Philogène|Vilsaint"
        ),
        (
            ("Haitian Creole", 6),
            ("Haitian Creole, French", 3),
            ("Haitian Creole, Spanish", 2),
            ("Haitian Creole, Portuguese", 1),
        ),
    ),
    _Origin(
        "Brazil",
        4,
        "brazil",
        _split("João Paulo|Thiago|Wellington|Marcos Vinícius|Rafael|Leandro|Gilberto|Adriano|Douglas|Wesley"),
        _split("Ana Paula|Fernanda|Luciana|Tatiane|Patrícia|Juliana|Aline|Rosângela"),
        _split(
            "Silva|Souza|Oliveira|Santos|Ferreira|Alves|Pereira|Lima|Gomes|Ribeiro|Carvalho|Rocha|Almeida|"
            "Nascimento|Barbosa"
        ),
        (("Portuguese", 1),),
    ),
    _Origin(
        "India",
        6,
        "sikh",
        _split(
            "Gurpreet|Harpreet|Jaspreet|Manpreet|Sukhwinder|Jagdeep|Amandeep|Lovepreet|Navdeep|Sandeep|Rajinder|"
            "Kuldeep|Gurjant|Harjot|Arshdeep"
        ),
        _split("Harpreet|Manjit|Simranjit|Kamaljeet|Navneet|Rajwinder|Amanpreet|Gurleen"),
        _split("Sandhu|Gill|Dhillon|Sidhu|Brar|Grewal|Mann|Virk|Bajwa|Cheema|Randhawa|Sekhon"),
        (("Punjabi", 5), ("Punjabi, Hindi", 5)),
    ),
    _Origin(
        "India",
        3,
        "single",
        _split("Hirenkumar|Jignesh|Ketan|Bhavesh|Nikunj|Paresh|Mehul|Chirag|Vipul|Dharmesh"),
        _split("Hetal|Krupa|Dhara|Bhavna|Nisha|Komal|Pooja|Riddhi"),
        _split("Patel|Chaudhary|Prajapati|Desai|Thakor|Parmar|Rabari|Solanki"),
        (("Gujarati, Hindi", 6), ("Gujarati", 3)),
    ),
    _Origin(
        "China",
        5,
        "chinese",
        _split("Wei|Jian|Hao|Ming|Lei|Xiaoming|Jianhua|Zhiqiang|Jun|Yong|Bin"),
        _split("Mei|Xiuying|Lina|Hui|Yan|Xiaoli|Fang|Jing"),
        _split("Chen|Lin|Zheng|Huang|Liu|Wang|Zhang|Wu|Li|Yang|Xu|Guo"),
        (("Mandarin", 5), ("Fuzhounese, Mandarin", 4), ("Cantonese, Mandarin", 1)),
    ),
    _Origin(
        "Mauritania",
        3,
        "ould",
        _split(
            "Mohamed Lemine|Sidi Mohamed|Ahmedou|Cheikh|Mohamed Vall|Abdallahi|Brahim|El Hacen|Yahya|Mohamed Salem|"
            "Sidati|Ethmane"
        ),
        _split("Mariem|Fatimetou|Aminetou|Khadijetou|Mekfoula|Vatma|Zeinabou|Lalla"),
        _split("Sidi|Ahmed|Mohamed|Cheikh|Brahim|Abdallahi|Ely|Salem|Beyah|Mahmoud|Ahmedou|Sidina|Mbareck"),
        (("Hassaniya Arabic", 6), ("Hassaniya Arabic, French", 4)),
    ),
    _Origin(
        "Mauritania",
        3,
        "single",
        _split("Amadou|Oumar|Mamadou|Samba|Abdoulaye|Demba|Alassane|Hamady|Souleymane|Ousmane"),
        _split("Aïssata|Coumba|Fatimata|Mariam|Kadiata|Dieynaba|Hawa"),
        _split("Ba|Sow|Diallo|Sy|Kane|Ly|Wane|Dia|Camara|Tall|Niang|Soumaré|Bathily|Diagana"),
        (("Pulaar, Hassaniya Arabic", 4), ("Pulaar, French", 4), ("Soninke, French", 2), ("Wolof, French", 1)),
    ),
    _Origin(
        "Senegal",
        4,
        "single",
        _split("Mamadou|Ousmane|Cheikh|Modou|Ibrahima|Abdou|Pape|Babacar|Moustapha|Serigne|Lamine"),
        _split("Fatou|Aminata|Awa|Ndèye|Mariama|Khady|Astou|Coumba"),
        _split("Diop|Ndiaye|Fall|Sarr|Mbaye|Gueye|Faye|Seck|Thiam|Sow|Cissé|Sy|Niang|Kane|Dieng|Touré"),
        (("Wolof, French", 6), ("Wolof", 2), ("Pulaar, Wolof", 2)),
    ),
    _Origin(
        "Afghanistan",
        4,
        "single",
        _split(
            "Mohammad Nasir|Hamidullah|Abdul Rahman|Sayed Jawad|Mirwais|Farid|Zabihullah|Khalid|Rahmatullah|"
            "Ali Reza|Habibullah|Sohrab|Mohammad Qasim"
        ),
        _split("Zahra|Fatima|Marzia|Sima|Parwana|Nargis|Freshta|Mahbooba|Shabnam"),
        _split(
            "Rahimi|Noori|Sultani|Karimi|Hakimi|Popal|Safi|Amiri|Sadat|Mohammadi|Hussaini|Jalali|Sharifi|Azizi|"
            "Habibi|Naseri|Kohistani|Samadi"
        ),
        (("Dari", 4), ("Pashto", 3), ("Dari, Pashto", 2), ("Hazaragi, Dari", 1)),
    ),
    _Origin(
        "Russia",
        4,
        "slavic",
        _split("Dmitry|Aleksandr|Sergei|Maksim|Artyom|Nikolai|Ilya|Kirill|Pavel|Ruslan|Timur|Magomed"),
        _split("Olga|Ekaterina|Anastasia|Irina|Yulia|Svetlana|Darya"),
        _split(
            "Ivanov|Smirnov|Kuznetsov|Popov|Sokolov|Volkov|Fedorov|Morozov|Nikitin|Zaitsev|Orlov|Belov|Gusev|"
            "Magomedov|Abdulaev|Gadzhiev"
        ),
        (("Russian", 8), ("Russian, English", 2)),
    ),
    _Origin(
        "Ukraine",
        2,
        "single",
        _split("Oleksandr|Mykola|Andrii|Vasyl|Serhii|Yurii|Bohdan|Dmytro|Ivan"),
        _split("Yulia|Oksana|Iryna|Nataliia|Olena|Halyna|Tetiana"),
        _split(
            "Kovalenko|Bondarenko|Tkachenko|Kravchenko|Oliinyk|Shevchuk|Melnyk|Boiko|Lysenko|Marchenko|Savchuk|"
            "Hnatiuk|Moroz|Pavlenko|Rudenko"
        ),
        (("Ukrainian, Russian", 5), ("Ukrainian", 3), ("Russian", 2)),
    ),
    _Origin(
        "Cameroon",
        4,
        "single",
        _split("Emmanuel|Divine|Clovis|Fru|Ndze|Akwo|Boniface|Godlove|Elvis|Collins|Prosper|Cletus|Valentine|Terence"),
        _split("Blessing|Ernestine|Gladys|Precious|Mirabel|Bih|Lum|Delphine|Ngum"),
        _split("Nfor|Tabi|Ngwa|Fon|Akwa|Che|Nkeng|Mbah|Tanyi|Ayuk|Tabot|Nji|Achu|Ebai|Ndi|Fomba|Awah|Tasi|Ngu"),
        (("English, Cameroonian Pidgin", 5), ("Cameroonian Pidgin, English", 2), ("French", 2)),
    ),
)

# A second given name for compound Spanish names (José Luis, María del Carmen).
_SECOND_MALE = _split("Antonio|Alberto|Luis|Manuel|Javier|Alexander|Enrique|Armando|Ángel")
_SECOND_FEMALE = _split("Isabel|Elena|Guadalupe|del Carmen|de los Ángeles|Fernanda|Alejandra|Beatriz")
_NICKNAMES = {
    "José": "Chepe",
    "Francisco": "Paco",
    "Guillermo": "Memo",
    "Jesús": "Chuy",
    "Ignacio": "Nacho",
    "Eduardo": "Lalo",
    "Alejandro": "Alex",
    "Rosa": "Rosita",
    "María Guadalupe": "Lupe",
    "Santos": "Chito",
    "Wilfredo": "Willy",
}
_TRANSLITERATIONS = {
    "Mohamed": "Mohammed",
    "Mohammad": "Muhammad",
    "Ahmedou": "Ahmadou",
    "Cheikh": "Sheikh",
    "Mariem": "Maryam",
    "Fatimetou": "Fatimata",
    "Aleksandr": "Alexander",
    "Dmitry": "Dmitri",
    "Sergei": "Sergey",
    "Artyom": "Artem",
    "Yulia": "Julia",
    "Oleksandr": "Alexander",
    "Andrii": "Andriy",
    "Serhii": "Sergiy",
    "Iryna": "Irina",
    "Mykola": "Nikolai",
    "Yurii": "Yuri",
    "Nataliia": "Natalia",
    "Tetiana": "Tatiana",
    "Mamadou": "Mamadu",
    "Oumar": "Umar",
    "Ousmane": "Usman",
    "Ndèye": "Ndeye",
    "Aïssata": "Aissata",
    "Jean-Robert": "Jean Robert",
    "Jean-Marc": "Jean Marc",
    "Zabihullah": "Zabiullah",
    "Habibullah": "Habibulla",
    "Hamidullah": "Hamidulla",
    "Sayed": "Sayyid",
    "Xiaoming": "Xiao Ming",
    "Xiuying": "Xiu Ying",
    "Hirenkumar": "Hiren",
}

# Area codes of places where detained people's families often live; 555-01xx is reserved for fiction.
_AREA_CODES = _split(
    "713|832|281|214|210|956|915|602|520|504|225|404|770|213|323|818|619|305|786|718|347|212|202|301|703|"
    "312|773|704|919|615|617|973|908|732|206|801|405|402|317|614"
)
_RELATIONSHIPS = (
    ("spouse", 26),
    ("partner", 6),
    ("mother", 14),
    ("father", 5),
    ("sister", 15),
    ("brother", 14),
    ("cousin", 10),
    ("aunt", 3),
    ("uncle", 3),
    ("adult child", 4),
    ("friend", 5),
)
_BORDER_PLACES = _split(
    "near Eagle Pass, TX|near El Paso, TX|near Yuma, AZ|near San Luis, AZ|near Del Rio, TX|near McAllen, TX|"
    "near Brownsville, TX|near Lukeville, AZ|near Jacumba, CA|Otay Mesa port of entry, CA|"
    "Laredo port of entry, TX|Hidalgo port of entry, TX"
)
_INTERIOR_PLACES = _split(
    "Houston, TX|Dallas, TX|Atlanta, GA|Charlotte, NC|Nashville, TN|Phoenix, AZ|Los Angeles, CA|New Orleans, LA|"
    "Chicago, IL|Newark, NJ|Denver, CO|Raleigh, NC|Birmingham, AL|Oklahoma City, OK|Omaha, NE|Salt Lake City, UT"
)
_INTERIOR_CIRCUMSTANCES = _split(
    "traffic stop|check-in at the ICE field office|arrested at home|arrested at work|after a local arrest|"
    "outside the county courthouse"
)
_INDIGENOUS = frozenset({"K'iche'", "Mam", "Q'anjob'al", "Q'eqchi'", "Mixteco", "Garifuna", "Kichwa"})


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


@dataclass
class _Person:
    origin: _Origin
    male: bool
    given: str
    family: str
    paternal: str = ""
    maternal: str = ""


def _person_name(rng: random.Random, origin: _Origin, male: bool) -> _Person:
    given = rng.choice(origin.male if male else origin.female)
    style = origin.style
    if style == "hispanic":
        if " " not in given and rng.random() < 0.3:
            given = f"{given} {rng.choice(_SECOND_MALE if male else _SECOND_FEMALE)}"
        paternal = rng.choice(origin.family)
        maternal = rng.choice([f for f in origin.family if f != paternal])
        r = rng.random()
        if r < 0.75:
            family = f"{paternal} {maternal}"
        elif r < 0.9:
            family = f"{paternal}-{maternal}"
        else:
            family, maternal = paternal, ""
        return _Person(origin, male, given, family, paternal, maternal)
    if style == "brazil":
        paternal = rng.choice(origin.family)
        maternal = rng.choice([f for f in origin.family if f != paternal])
        link = rng.choice(("", "", "da ", "dos ", "de "))
        return _Person(origin, male, given, f"{maternal} {link}{paternal}".replace("  ", " "), paternal, maternal)
    if style == "sikh":
        return _Person(origin, male, given, "Singh" if male else "Kaur", rng.choice(origin.family))
    if style == "ould":
        father = rng.choice(origin.family)
        return _Person(origin, male, given, f"{'Ould' if male else 'Mint'} {father}", father)
    if style == "slavic":
        family = rng.choice(origin.family)
        if not male and family.endswith(("ov", "ev", "in")):
            family += "a"
        return _Person(origin, male, given, family, family)
    family = rng.choice(origin.family)
    return _Person(origin, male, given, family, family)


def _aliases(rng: random.Random, p: _Person) -> str:
    """Other names the person is known by or was recorded under: none for most people."""
    if rng.random() > 0.3:
        return ""
    candidates = []
    if p.origin.style == "hispanic":
        first = p.given.split(" ")[0]
        candidates.append(_strip_accents(f"{p.given} {p.paternal}"))
        if p.maternal:
            candidates.append(f"{first} {p.maternal}")  # the maternal surname taken for the last name
        nickname = _NICKNAMES.get(p.given) or _NICKNAMES.get(first)
        if nickname:
            candidates.append(f"{nickname} {p.paternal}")
        if p.paternal.endswith("z"):
            candidates.append(_strip_accents(f"{p.given} {p.paternal[:-1]}s"))
    elif p.origin.style == "sikh":
        candidates.append(f"{p.given} {p.family} {p.paternal}")
        candidates.append(f"{p.given} {p.paternal}")
    elif p.origin.style == "chinese":
        candidates.append(f"{p.family} {p.given}")
    elif p.origin.style == "ould":
        candidates.append(f"{p.given} {p.family.replace('Ould ', 'O. ').replace('Mint ', 'M. ')}")
    elif p.origin.style == "brazil":
        candidates.append(f"{p.given} {p.paternal}")
    translit = " ".join(_TRANSLITERATIONS.get(w, w) for w in f"{p.given} {p.family}".split(" "))
    if translit != f"{p.given} {p.family}":
        candidates.append(translit)
    if not candidates:
        return ""
    picked = rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2))))
    return ", ".join(dict.fromkeys(picked))


def _relative(rng: random.Random, p: _Person, relationship: str) -> str:
    """A made-up relative's name that fits the person's family: siblings share surnames, and so on."""
    o = p.origin
    female = {"mother": True, "sister": True, "aunt": True, "father": False, "brother": False, "uncle": False}
    if relationship in female:
        male = not female[relationship]
    elif relationship == "spouse":
        male = not p.male
    else:
        male = rng.random() < 0.5
    other = _person_name(rng, o, male)
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


# --- Reference data: where people are held and heard --------------------------------------

# Large detention centres and the immigration court that hears their detained docket, by weight.
_SITES = (
    ("MTGPCTX", "Conroe Immigration Court", 8),  # Montgomery ICE Processing Center
    ("JCRLYTX", "Conroe Immigration Court", 3),  # Joe Corley Processing Center
    ("STCDFTX", "Pearsall Immigration Court", 7),  # South Texas ICE Processing Center
    ("PRLDCTX", "Dallas Immigration Court", 4),  # Prairieland Detention Center
    ("EPC", "El Paso SPC Immigration Court", 5),  # El Paso Service Processing Center
    ("LRDICDF", "Laredo Immigration Court", 3),
    ("KRNRCTX", "San Antonio Immigration Court", 3),
    ("HOUICDF", "Houston Immigration Court", 3),
    ("EAZ", "Eloy Immigration Court", 7),
    ("LPLCCAZ", "Eloy Immigration Court", 4),
    ("FLO", "Florence Immigration Court", 4),
    ("JENADLA", "LaSalle Immigration Court", 6),  # Central Louisiana ICE Processing Center
    ("BASILLA", "Oakdale Immigration Court", 4),
    ("PINEPLA", "Oakdale Immigration Court", 3),
    ("STWRTGA", "Stewart Immigration Court", 7),
    ("FIPCDGA", "Stewart Immigration Court", 3),  # Folkston ICE Processing Center
    ("ADLNTCA", "Adelanto Immigration Court", 6),
    ("CCASDCA", "Otay Mesa Immigration Court", 5),
    ("CACFMES", "San Francisco Immigration Court", 2),  # Mesa Verde
)
_FALLBACK_STATES = ("TX", "AZ", "LA", "GA", "CA")


@dataclass(frozen=True)
class _Site:
    facility: DetentionFacility
    court: ImmigrationCourt
    weight: int


def _load_sites() -> list[_Site]:
    courts = list(ImmigrationCourt.objects.order_by("name"))
    if not courts:
        raise LookupError("No immigration courts: run the migrations (they load the reference data) first.")
    by_name = {c.name: c for c in courts}

    def court_for(facility: DetentionFacility) -> ImmigrationCourt:
        same_state = [c for c in courts if c.state == facility.state]
        same_city = [c for c in same_state if c.city == facility.city]
        return (same_city or same_state or courts)[0]

    facilities = {f.code: f for f in DetentionFacility.objects.filter(code__in=[code for code, _c, _w in _SITES])}
    sites = [
        _Site(facilities[code], by_name.get(court) or court_for(facilities[code]), weight)
        for code, court, weight in _SITES
        if code in facilities
    ]
    if len(sites) < 5:  # the fixture changed: take what there is in the big detention states
        fallback = DetentionFacility.objects.filter(state__in=_FALLBACK_STATES).order_by("code")[:20]
        sites += [_Site(f, court_for(f), 1) for f in fallback if f.code not in {s.facility.code for s in sites}]
    if not sites:
        sites = [_Site(f, court_for(f), 1) for f in DetentionFacility.objects.order_by("code")[:20]]
    if not sites:
        raise LookupError("No detention facilities: run the migrations (they load the reference data) first.")
    return sites


# --- Words for notes ------------------------------------------------------------------------

_INTAKE_NOTES = (
    "Sister called the hotline: no lawyer yet, and the family does not know the next court date.",
    "Referred by the legal orientation program at the facility.",
    "Caller was unsure of the A-number; will call back with the paperwork from the check-in.",
    "Cousin called; the family can help with a sponsor address if bond is possible.",
    "Client called collect from the facility; the call dropped twice. Spoke with a relative afterwards.",
    "Asked for asylum at the border; still waiting for a credible fear interview.",
    "Lived in the US for many years before the arrest; partner and children are here.",
)
_FLAG_NOTES = {
    "medical": "Family reports diabetes; client says no insulin since the transfer.",
    "imminent": "Caller says the deportation officer told the client removal is planned within days.",
    "children": "Two US-citizen children in school; the other parent works nights.",
}
_PRIVILEGED_NOTES = (
    "Initial legal visit {with_interpreter}. Client describes threats after refusing to pay "
    "extortion to a local gang; reported once to the police, no response. Particular social group needs research.",
    "Client fled years of domestic violence; the former partner has ties to the local police. Need a declaration "
    "and any medical records from home.",
    "Client was targeted for opposition political activity (attended protests, detained twice). Ask the family "
    "for the party membership card and photos.",
    "Client's brother was killed last year; the family received written threats afterwards. Ask the family for "
    "the death certificate and copies of the threats.",
    "Discussed the risks of an appeal against voluntary departure. Client wants to keep fighting; revisit after "
    "the individual hearing.",
    "Prepared client for testimony (two hours, {with_interpreter}). Timeline consistent with the credible fear "
    "notes except the date of the second attack; address it on direct.",
    "CAT: client was beaten in custody after a previous return; scars visible. Request a forensic medical evaluation.",
    "Reviewed the credible fear interview notes: the officer never asked about the second incident. Raise it at "
    "the review.",
    "Criminal history: one DUI years ago, nothing since. Should not bar bond; gather rehabilitation evidence.",
    "Client is LGBTQ+ and was attacked for it at home; afraid of disclosure in the facility. Discussed safety "
    "and housing placement.",
    "Client is the sole caregiver of two US-citizen children. Hardship evidence: school letters, medical "
    "records, tax returns.",
    "One-year bar is a problem: argue changed circumstances; withholding and CAT in the alternative.",
)
_INDIGENOUS_NOTE = (
    "Client's first language is {lang}; Spanish is not enough for testimony. Ask the court for a {lang} "
    "interpreter, not a Spanish one."
)
_ADMIN_NOTES = (
    "Called the facility to schedule a legal visit; next available slot is Thursday morning.",
    "Sponsor (cousin) confirmed an address in {city}; collecting the lease and a letter of support.",
    "Sent the G-28 to the deportation officer and filed the EOIR-28 with the court.",
    "Requested the client's A-file through FOIA; expect several months.",
    "Family sent the birth certificate and national ID by phone photo; need certified translations.",
    "Client reports not receiving prescribed medication for four days. Wrote to facility medical; follow up Monday.",
    "Client's phone account at the facility is out of funds; family will add credit so the client can call us.",
    "Left a voicemail for the deportation officer about a stay request.",
)
_BOND_PACKET_NOTE = "Bond packet filed: sponsor letter, proof of address, community support letters."
_TRANSFER_NOTE = "ICE transferred the client without notice; found through the online detainee locator."
_SPONSOR_CITIES = _split("Houston|Dallas|Atlanta|Charlotte|Nashville|Phoenix|Los Angeles|New Orleans|Chicago|Newark")

_CONTINUED_NOTES = _split(
    "Reset for attorney preparation.|Interpreter unavailable; reset.|Pleadings taken; reset for the individual "
    "hearing.|DHS did not have the file; reset.|Video link failed; reset."
)
_MANUAL_DEADLINES = {
    "asylum": (
        "Gather country conditions evidence",
        "Client declaration, final draft (with interpreter)",
        "File witness list and exhibits",
        "Forensic psychological evaluation",
        "Pre-hearing brief",
        "Certified translations of identity documents",
        "Request FOIA records (OBIM and CBP)",
    ),
    "bond": (
        "Submit bond packet: sponsor letter, proof of address",
        "Collect community support letters",
    ),
    "fear": (
        "Prepare client for the fear review",
        "Request the credible fear interview notes",
    ),
    "other": (
        "Hardship evidence: school and medical records",
        "Certified translations of identity documents",
        "Request FOIA records (OBIM and CBP)",
        "Request medical records from the facility",
    ),
}


# --- Seeding ------------------------------------------------------------------------------

# The creation timestamp of each model the services create rows of (see ``_Seeder.stamping``).
_STAMPED: dict[type[models.Model], str] = {
    Case: "registered_at",
    Detainee: "created_at",
    CaseEvent: "at",
    Note: "created_at",
    Assignment: "started_at",
    Hearing: "created_at",
    Deadline: "created_at",
}


@dataclass(frozen=True)
class _DemoUsers:
    intake: User
    attorney: User
    attorney2: User
    supervisor: User
    others: tuple[User, ...]

    @classmethod
    def load(cls) -> _DemoUsers:
        emails = (INTAKE_EMAIL, ATTORNEY_EMAIL, ATTORNEY2_EMAIL, SUPERVISOR_EMAIL)
        found = {u.email: u for u in User.objects.filter(email__in=emails)}
        missing = [e for e in emails if e not in found]
        if missing:
            raise LookupError(f"Demo accounts missing ({', '.join(missing)}): run manage.py seed_demo.")
        others = (
            User.objects.filter(email__endswith=DEMO_DOMAIN, is_active=True, groups__name=Role.ATTORNEY)
            .exclude(email__in=emails)
            .order_by("email")
        )
        return cls(
            found[INTAKE_EMAIL], found[ATTORNEY_EMAIL], found[ATTORNEY2_EMAIL], found[SUPERVISOR_EMAIL], tuple(others)
        )

    @property
    def registrars(self) -> list[User]:
        return [self.intake, self.supervisor]

    @property
    def lawyers(self) -> list[User]:
        return [self.attorney, self.attorney2, self.supervisor, *self.others]


def _apportion(total: int, weights: list[tuple[object, float]]) -> list[object]:
    """``total`` items dealt out in proportion to ``weights`` (largest remainder), in a fixed order."""
    whole = sum(w for _item, w in weights)
    shares = [(item, total * w / whole) for item, w in weights]
    counts = {i: int(share) for i, (_item, share) in enumerate(shares)}
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i][1] - counts[i]), i))
    for i in by_remainder[: total - sum(counts.values())]:
        counts[i] += 1
    return [shares[i][0] for i in range(len(shares)) for _ in range(counts[i])]


@dataclass
class _Plan:
    kind: str  # triage, reassign, active, closed
    lead: User | None
    close_reason: str = ""
    person: _Person | None = None
    data: dict = field(default_factory=dict)
    site: _Site | None = None
    registered_by: User | None = None
    registered_at: datetime | None = None
    arrival: date | None = None
    border: bool = False


class _Seeder:
    def __init__(self, users: _DemoUsers, rng: random.Random, count: int) -> None:
        self.users = users
        self.rng = rng
        self.count = count
        self.now = timezone.now().replace(microsecond=0)
        self.today = timezone.localdate(self.now)
        self.tz = timezone.get_default_timezone()
        self.sites = _load_sites()
        self.a_numbers: set[str] = set()
        self.near_hearings: dict[int, int] = defaultdict(int)
        self.backdates: dict[type[models.Model], dict[int, dict]] = defaultdict(lambda: defaultdict(dict))
        self.moment: datetime | None = None

    # Times
    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return self.clamp(datetime.combine(day, time(hour, minute), tzinfo=self.tz))

    def clamp(self, moment: datetime) -> datetime:
        return min(moment, self.now - timedelta(minutes=5))

    def _night(self, moment: datetime) -> tuple[datetime, datetime] | None:
        """The 19:00 that began the night ``moment`` falls in, and the 08:00 that ends it; None by day."""
        local = moment.astimezone(self.tz)
        if 8 <= local.hour < 19:
            return None
        day = local.date() if local.hour >= 19 else local.date() - timedelta(days=1)
        return (
            datetime.combine(day, time(19), tzinfo=self.tz),
            datetime.combine(day + timedelta(days=1), time(8), tzinfo=self.tz),
        )

    def office_hours(self, moment: datetime) -> datetime:
        """A night-time moment squeezed into 08:00-09:00 the next morning. Order-preserving, never earlier."""
        night = self._night(moment)
        return moment if night is None else night[1] + (moment - night[0]) / 13

    def office_hours_before(self, moment: datetime) -> datetime:
        """A night-time moment squeezed into 18:00-19:00 the evening before. Order-preserving, never later."""
        night = self._night(moment)
        return moment if night is None else night[0] - timedelta(hours=1) + (moment - night[0]) / 13

    def between(self, start: datetime, end: datetime) -> datetime:
        start, end = self.clamp(start), self.clamp(end)
        if end <= start:
            return start
        return start + (end - start) * self.rng.random()  # one draw whatever the span: stays deterministic

    def business_days(self, first: date, last: date) -> list[date]:
        days, day = [], first
        while day <= last:
            if is_business_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def backdate(self, obj: models.Model, **fields) -> None:
        """Set ``fields`` of a row the services updated "now" to past moments, at the end (in bulk)."""
        self.backdates[type(obj)][obj.pk].update(fields)

    def _stamp(self, sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs) -> None:
        if self.moment is not None and instance._state.adding and not raw:
            setattr(instance, _STAMPED[sender], self.moment)

    @contextmanager
    def stamping(self):
        """While seeding, rows the services create get the moment of the current step instead of "now"."""
        for model in _STAMPED:
            pre_save.connect(self._stamp, sender=model, weak=False, dispatch_uid=f"casework.demo.{model.__name__}")
        try:
            yield
        finally:
            for model in _STAMPED:
                pre_save.disconnect(sender=model, dispatch_uid=f"casework.demo.{model.__name__}")

    # Plan
    def run(self) -> None:
        plans = [self.plan(kind, lead, reason) for kind, lead, reason in self.kinds()]
        plans.sort(key=lambda p: p.registered_at)
        with self.stamping():
            for plan in plans:
                _Story(self, plan).build()
        self.apply_backdates()

    def kinds(self) -> list[tuple[str, User | None, str]]:
        u, rng = self.users, self.rng
        n_triage = round(self.count * TRIAGE_SHARE / 200)
        n_closed = round(self.count * CLOSED_SHARE / 200)
        n_active = self.count - n_triage - n_closed
        weights = [(u.attorney, LEAD_WEIGHTS["attorney"]), (u.attorney2, LEAD_WEIGHTS["attorney2"])]
        weights.append((u.supervisor, LEAD_WEIGHTS["supervisor"]))
        weights += [(other, OTHERS_WEIGHT / len(u.others)) for other in u.others]
        kinds = [("active", lead, "") for lead in _apportion(n_active, weights)]
        n_reassign = min(2, n_triage // 4)
        kinds += [("reassign", u.supervisor, "")] * n_reassign
        kinds += [("triage", None, "")] * (n_triage - n_reassign)
        reasons = _apportion(
            n_closed,
            [
                (CloseReason.RELIEF_GRANTED, 6),
                (CloseReason.RELEASED_REFERRED, 4),
                (CloseReason.TERMINATED, 3),
                (CloseReason.REMOVED, 3),
                (CloseReason.OTHER_COUNSEL, 3),
                (CloseReason.DECLINED, 3),
                (CloseReason.LOST_CONTACT, 2),
                (CloseReason.DUPLICATE, 1),
            ],
        )
        for reason in reasons:
            lead = None
            if reason not in (CloseReason.DECLINED, CloseReason.DUPLICATE):
                lead = _weighted(rng, weights)
            kinds.append(("closed", lead, reason))
        return kinds

    def plan(self, kind: str, lead: User | None, reason: str) -> _Plan:
        rng, today = self.rng, self.today
        plan = _Plan(kind, lead, reason)
        origin = _weighted(rng, [(o, o.weight) for o in ORIGINS])
        person = _person_name(rng, origin, male=rng.random() < 0.82)
        plan.person = person
        plan.site = _weighted(rng, [(s, s.weight) for s in self.sites])
        plan.registered_by = self.users.intake if rng.random() < 0.7 else self.users.supervisor
        if kind == "triage":
            r = rng.random()
            if r < 0.4:
                wait = timedelta(minutes=rng.randint(20, 24 * 60))
            elif r < 0.75:
                wait = timedelta(hours=rng.randint(24, 96))
            else:
                wait = timedelta(hours=rng.randint(96, 288))
            plan.registered_at = self.office_hours_before(self.now - wait)
            detained_on = timezone.localdate(plan.registered_at) - timedelta(days=rng.randint(0, 6))
        else:
            if kind == "reassign":
                detained_on = today - timedelta(days=rng.randint(25, 50))
            elif kind == "closed":
                detained_on = today - timedelta(days=rng.randint(75, 120))
            else:
                detained_on = today - timedelta(days=rng.randint(3, 120))
            lag = rng.randint(0, min(5, (today - detained_on).days - 2))
            plan.registered_at = self.at(detained_on + timedelta(days=lag), rng.randint(8, 17), rng.randint(0, 59))

        plan.border = rng.random() < 0.45
        if plan.border:
            plan.arrival = detained_on - timedelta(days=rng.randint(0, 2))
            where = rng.choice(_BORDER_PLACES)
        else:
            if rng.random() < 0.5:
                plan.arrival = detained_on - timedelta(days=rng.randint(60, 360))
            else:
                plan.arrival = date(rng.randint(2005, 2022), rng.randint(1, 12), rng.randint(1, 28))
            where = f"{rng.choice(_INTERIOR_PLACES)} ({rng.choice(_INTERIOR_CIRCUMSTANCES)})"

        languages = _weighted(rng, origin.languages)
        needs_interpreter = not languages.startswith("English")
        if needs_interpreter and "English" not in languages and rng.random() < 0.07:
            languages, needs_interpreter = f"{languages}, English", False
        adult_on = date(detained_on.year - 18, detained_on.month, min(detained_on.day, 28))
        latest_birth = min(date(2007, 12, 31), adult_on - timedelta(days=1))
        birth_year = min(round(rng.triangular(1960, latest_birth.year, 1993)), latest_birth.year)
        dob = date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
        dob = min(dob, latest_birth)

        flags = {"medical": False, "imminent": False, "children": False}
        if rng.random() < 0.15:
            for flag in rng.sample(list(flags), rng.choice((1, 1, 1, 2))):
                flags[flag] = True
        notes = ""
        raised = [f for f, on in flags.items() if on]
        if raised:
            notes = _FLAG_NOTES[raised[0]]
        elif rng.random() < 0.5:
            notes = rng.choice(_INTAKE_NOTES)

        plan.data = {
            "given_names": person.given,
            "family_names": person.family,
            "other_names": _aliases(rng, person),
            "a_number": self.a_number() if rng.random() < 0.8 else None,
            "date_of_birth": dob,
            "country_of_birth": origin.country,
            "citizenship": origin.country,
            "languages": languages,
            "needs_interpreter": needs_interpreter,
            "detained_on": detained_on,
            "detained_where": where,
            "flag_medical": flags["medical"],
            "flag_minor_children": flags["children"],
            "flag_imminent_removal": flags["imminent"],
            "notes": notes,
            "contacts": self.contacts(person, languages, dob),
        }
        return plan

    def a_number(self) -> str:
        while True:
            number = "2" + "".join(str(self.rng.randint(0, 9)) for _ in range(8))
            if number not in self.a_numbers:
                self.a_numbers.add(number)
                return number

    def contacts(self, person: _Person, languages: str, dob: date) -> list[dict]:
        rng = self.rng
        r = rng.random()
        how_many = 0 if r < 0.25 else 1 if r < 0.75 else 2
        relationships = [(k, w) for k, w in _RELATIONSHIPS if k != "adult child" or dob.year <= 1985]
        contacts, used = [], set()
        for _ in range(how_many):
            relationship = _weighted(rng, relationships)
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
            contacts.append(
                {
                    "name": _relative(rng, person, relationship),
                    "relationship": label,
                    "phone": f"({rng.choice(_AREA_CODES)}) 555-01{rng.randint(0, 99):02d}",
                    "preferred_language": language,
                }
            )
        return contacts

    def other_site(self, site: _Site) -> _Site:
        others = [s for s in self.sites if s.facility.pk != site.facility.pk]
        if not others:
            return site
        elsewhere = [s for s in others if s.facility.state != site.facility.state]
        pool = elsewhere if elsewhere and self.rng.random() < 0.5 else others
        return _weighted(self.rng, [(s, s.weight) for s in pool])

    def apply_backdates(self) -> None:
        for model, rows in self.backdates.items():
            groups: dict[tuple[str, ...], list[models.Model]] = defaultdict(list)
            for pk, values in rows.items():
                groups[tuple(sorted(values))].append(model(pk=pk, **values))
            for fields, objs in groups.items():
                model.objects.bulk_update(objs, list(fields), batch_size=200)


class _Story:
    """One case, told through the services step by step; each step's timestamps are moved to its moment."""

    def __init__(self, seeder: _Seeder, plan: _Plan) -> None:
        self.s = seeder
        self.rng = seeder.rng
        self.plan = plan
        self.u = seeder.users
        self.case: Case | None = None
        self.queue: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self.seq = 0
        self.lead = plan.lead
        self.court: ImmigrationCourt | None = None
        self.active: dict[int, Assignment] = {}
        self.interpreter = ""
        self.last_outcome: datetime | None = None  # when the outcome of the last hearing held was recorded
        if plan.data["needs_interpreter"]:
            self.interpreter = plan.data["languages"].split(",")[0].strip()

    # Mechanics
    def later(self, moment: datetime, step: Callable[[datetime], None]) -> None:
        heapq.heappush(self.queue, (self.s.clamp(self.s.office_hours(moment)), self.seq, step))
        self.seq += 1

    def run_queue(self) -> None:
        while self.queue:
            moment, _seq, step = heapq.heappop(self.queue)
            self.step(moment, step)

    def step(self, moment: datetime, step: Callable[[datetime], None]):
        self.s.moment = moment  # what the rows this step creates are stamped with (see _Seeder.stamping)
        try:
            return step(moment)
        finally:
            self.s.moment = None

    # Steps
    def assign(self, attorney: User, role: AssignmentRole) -> Callable[[datetime], None]:
        def step(moment: datetime) -> None:
            assignment = services.case_assign(case=self.case, attorney=attorney, role=role, by=self.u.supervisor)
            if role == AssignmentRole.LEAD:
                for pk, previous in list(self.active.items()):
                    if previous.role == AssignmentRole.LEAD:
                        self.s.backdate(previous, ended_at=moment)
                        del self.active[pk]
            self.active[attorney.pk] = assignment
            if "first_assigned_at" not in self.s.backdates[Case][self.case.pk]:
                self.s.backdate(self.case, first_assigned_at=moment)

        return step

    def details(self, **changes) -> Callable[[datetime], None]:
        def step(moment: datetime) -> None:
            services.case_update_details(case=self.case, by=self.lead, **changes)
            if "court" in changes:
                self.case.court = changes["court"]

        return step

    def custody(self, status: CustodyStatus, facility: DetentionFacility | None, day: date):
        def step(moment: datetime) -> None:
            services.custody_record_change(
                case=self.case, status=status, facility=facility, started_on=day, by=self.lead
            )

        return step

    def note(self, body: str, privileged: bool, author: User | None = None):
        def step(moment: datetime) -> None:
            services.note_add(case=self.case, body=body, privileged=privileged, by=author or self.lead)

        return step

    def relief(
        self, kind: ReliefKind, status: ReliefStatus, filed_on: date | None = None, decided_on: date | None = None
    ):
        def step(moment: datetime) -> None:
            services.relief_save(
                case=self.case, kind=kind, status=status, filed_on=filed_on, decided_on=decided_on, by=self.lead
            )

        return step

    def deadline_status(self, deadline: Deadline, status: DeadlineStatus):
        def step(moment: datetime) -> None:
            services.deadline_set_status(deadline=deadline, status=status, by=self.lead)
            self.s.backdate(deadline, completed_at=moment)

        return step

    def manual_deadline(self, title: str, due: date, created: datetime) -> None:
        def step(moment: datetime) -> None:
            deadline = services.deadline_add_manual(case=self.case, title=title, due_on=due, by=self.lead)
            today = self.s.today
            if due < today and self.rng.random() < 0.93:
                done = self.s.at(due - timedelta(days=self.rng.randint(0, 3)), 15)
                self.later(max(done, moment + timedelta(hours=1)), self.deadline_status(deadline, DeadlineStatus.DONE))
            elif due >= today and self.rng.random() < 0.15:
                self.later(self.s.between(moment, self.s.now), self.deadline_status(deadline, DeadlineStatus.DONE))

        self.later(created, step)

    def rule_deadline(self, rule: Rule, source: date, created: datetime, done_at: datetime | None = None) -> None:
        def step(moment: datetime) -> None:
            deadline = services.deadline_add_from_rule(case=self.case, rule=rule, source_date=source, by=self.lead)
            if done_at is not None:
                self.later(max(done_at, moment), self.deadline_status(deadline, DeadlineStatus.DONE))

        self.later(created, step)

    def hearing(
        self,
        kind: HearingKind,
        day: date,
        scheduled: datetime,
        outcome: HearingOutcome | None = None,
        note: str = "",
        after: Callable[[Deadline | None, datetime], None] | None = None,
    ) -> datetime:
        """Schedule a hearing on ``day`` (and record its outcome if it is past); returns its start."""
        court = self.court
        slot = self.rng.choice(
            (
                "08:00",
                "08:30",
                "09:00",
                "09:00",
                "09:30",
                "10:00",
                "10:30",
                "11:00",
                "13:00",
                "13:00",
                "13:30",
                "14:00",
                "14:30",
                "15:00",
            )
        )
        hour, minute = map(int, slot.split(":"))
        starts_at = datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(court.timezone))
        medium = _weighted(
            self.rng, [(HearingMedium.IN_PERSON, 55), (HearingMedium.VIDEO, 40), (HearingMedium.PHONE, 5)]
        )
        holder: dict[str, Hearing] = {}

        def schedule(moment: datetime) -> None:
            hearing = services.hearing_schedule(
                case=self.case,
                kind=kind,
                starts_at=starts_at,
                court=court,
                medium=medium,
                interpreter_language=self.interpreter,
                by=self.lead,
            )
            self.case.court_id = self.case.court_id or court.pk
            holder["hearing"] = hearing

        def decide(moment: datetime) -> None:
            deadline = services.hearing_update(
                hearing=holder["hearing"], by=self.lead, outcome=outcome, outcome_note=note
            )
            if after is not None:
                after(deadline, moment)

        self.later(min(scheduled, starts_at - timedelta(hours=20)), schedule)
        if outcome is not None:
            self.last_outcome = starts_at + timedelta(hours=self.rng.randint(2, 5))
            self.later(self.last_outcome, decide)
        return starts_at

    def close(self, reason: CloseReason, note: str) -> Callable[[datetime], None]:
        def step(moment: datetime) -> None:
            services.case_close(case=self.case, reason=reason, note=note, by=self.lead or self.u.supervisor)
            self.s.backdate(self.case, closed_at=moment)

        return step

    # Stories
    def build(self) -> None:
        plan = self.plan
        data = {**plan.data, "facility": plan.site.facility}
        self.case = self.step(
            plan.registered_at,
            lambda _moment: services.case_register(data=services.IntakeData(**data), by=plan.registered_by),
        )
        getattr(self, f"story_{plan.kind}")()
        self.run_queue()

    def story_triage(self) -> None:
        pass  # waiting in the queue is the whole story

    def story_reassign(self) -> None:
        """Assigned, then handed back: a conflict of interest surfaced. Back in triage, flagged."""
        assigned = self.plan.registered_at + timedelta(hours=self.rng.randint(4, 60))
        self.later(assigned, self.assign(self.lead, AssignmentRole.LEAD))
        ended = self.s.between(assigned + timedelta(days=3), self.s.now - timedelta(days=1))
        self.later(
            ended - timedelta(minutes=10),
            self.note("Conflict check: the office represented a co-respondent. Return to triage.", True),
        )

        def end(moment: datetime) -> None:
            assignment = self.active.pop(self.lead.pk)
            services.assignment_end(assignment=assignment, by=self.u.supervisor)
            self.s.backdate(assignment, ended_at=moment)

        self.later(ended, end)

    def start_work(self, lead_changes: bool = True) -> tuple[datetime, date]:
        """Assignment, custody transfer and case details; returns when work began and the first free day."""
        rng, s, plan = self.rng, self.s, self.plan
        assigned = s.clamp(plan.registered_at + timedelta(hours=rng.randint(2, 72)))
        assigned = max(assigned, plan.registered_at + timedelta(minutes=30))
        lead = self.lead
        if lead_changes and lead != self.u.supervisor and rng.random() < 0.06:
            self.later(assigned, self.assign(self.u.supervisor, AssignmentRole.LEAD))
            assigned = s.between(assigned + timedelta(days=1), assigned + timedelta(days=3))
        self.later(assigned, self.assign(lead, AssignmentRole.LEAD))

        site, free_from = plan.site, timezone.localdate(assigned) + timedelta(days=2)
        self.work_from = assigned + timedelta(minutes=rng.randint(20, 240))
        self.court_from = self.work_from  # the court is known once the person is where they will stay
        registered_on = timezone.localdate(plan.registered_at)
        last_move = min(registered_on + timedelta(days=14), s.today - timedelta(days=1))
        if last_move > registered_on and rng.random() < 0.3:  # moved after intake registered the first place
            site = s.other_site(site)
            moved = registered_on + timedelta(days=rng.randint(1, (last_move - registered_on).days))
            self.later(s.at(moved, 18), self.custody(CustodyStatus.DETAINED, site.facility, moved))
            self.later(s.at(moved + timedelta(days=1), 11), self.note(_TRANSFER_NOTE, False))
            free_from = max(free_from, moved + timedelta(days=2))
            self.court_from = max(self.work_from, s.at(moved + timedelta(days=1), 12))
        self.court = site.court
        return assigned, free_from

    def past_days(self, n: int, first: date, last: date | None = None) -> list[date]:
        """``n`` business days in order between ``first`` and ``last`` (yesterday), or fewer if there is no room."""
        days = self.s.business_days(first, last or self.s.today - timedelta(days=1))
        if len(days) < 3 * n:
            n = len(days) // 3
        if n <= 0:
            return []
        size = len(days) // n
        return [self.rng.choice(days[i * size : (i + 1) * size]) for i in range(n)]

    def future_day(self, near: bool) -> date:
        today = self.s.today
        if near or self.rng.random() < 0.3:
            days = self.s.business_days(today + timedelta(days=1), today + timedelta(days=13))
        else:
            days = self.s.business_days(today + timedelta(days=14), today + timedelta(days=60))
        return self.rng.choice(days)

    def scheduled_before(self, day: date) -> datetime:
        """When a hearing on ``day`` was put on the calendar: a few days to weeks before, once the court was
        known and (for a reset) at the previous hearing."""
        s = self.s
        earliest = self.court_from + timedelta(minutes=5)
        if self.last_outcome is not None:  # set at that hearing
            earliest = max(earliest, s.office_hours(self.last_outcome) + timedelta(minutes=10))
        moment = s.at(day - timedelta(days=self.rng.randint(5, 25)), self.rng.randint(9, 17))
        if moment >= s.now - timedelta(hours=1):  # a future hearing: put on the calendar some time so far
            moment = s.between(earliest, s.now - timedelta(hours=1))
        return max(moment, earliest)

    def story_active(self) -> None:
        rng, s, plan = self.rng, self.s, self.plan
        assigned, free_from = self.start_work()
        proceeding = _weighted(
            rng,
            [
                (ProceedingType.REMOVAL, 62),
                (ProceedingType.WITHHOLDING_ONLY, 6),
                (ProceedingType.CREDIBLE_FEAR, 8 if plan.border else 1),
                (ProceedingType.EXPEDITED, 4 if plan.border else 0),
                (ProceedingType.REASONABLE_FEAR, 4),
                (ProceedingType.BOND, 10),
            ],
        )
        changes = {"court": self.court, "proceeding_type": proceeding, "last_arrival_on": plan.arrival}
        self.later(self.court_from, self.details(**changes))

        near = False
        if self.lead in (self.u.attorney, self.u.attorney2):
            near = s.near_hearings[self.lead.pk] < NEAR_HEARINGS_PER_ATTORNEY
        if proceeding in (ProceedingType.CREDIBLE_FEAR, ProceedingType.EXPEDITED, ProceedingType.REASONABLE_FEAR):
            future = self.fear_track(proceeding, free_from, near)
        elif proceeding == ProceedingType.BOND:
            future = self.bond_track(free_from, near)
        else:
            future = self.removal_track(proceeding, free_from, near)
        if future is not None and future - s.now < timedelta(days=14):
            s.near_hearings[self.lead.pk] += 1

        self.co_counsel(assigned)
        self.notes(until=s.now)

    def removal_track(self, proceeding: ProceedingType, free_from: date, near: bool) -> datetime | None:
        rng, s, plan = self.rng, self.s, self.plan
        withholding_only = proceeding == ProceedingType.WITHHOLDING_ONLY
        asylum_track = withholding_only or rng.random() < 0.75
        story = _weighted(
            rng,
            [
                ("first_master", 25),
                ("master_individual", 30),
                ("bond_master", 20),
                ("master_bond_individual", 15),
                ("appeal", 10),
            ],
        )
        if withholding_only and story.startswith("bond"):
            story = "master_individual"
        if story == "appeal" and (near or not asylum_track):
            story = "master_individual"
        wanted = {"first_master": 0, "master_individual": 1, "bond_master": 1, "master_bond_individual": 2, "appeal": 2}
        past = self.past_days(wanted[story], free_from)
        if len(past) < wanted[story]:
            story = "first_master" if not past else "master_individual"
            past = past[:1] if past else []

        master_day = None
        future_kind = HearingKind.MASTER
        for i, day in enumerate(past):
            if story == "bond_master" or (story == "master_bond_individual" and i == 1):
                self.bond_hearing(day)
            elif story == "appeal" and i == 1:
                self.denied_at_merits(day, withholding_only)
            else:
                master_day = day
                self.hearing(
                    HearingKind.MASTER,
                    day,
                    self.scheduled_before(day),
                    HearingOutcome.CONTINUED,
                    rng.choice(_CONTINUED_NOTES),
                )
                future_kind = HearingKind.INDIVIDUAL
        future = None
        if story != "appeal":
            day = self.future_day(near)
            future = self.hearing(future_kind, day, self.scheduled_before(day))

        kinds = (
            [ReliefKind.WITHHOLDING, ReliefKind.CAT]
            if withholding_only
            else [ReliefKind.ASYLUM, ReliefKind.WITHHOLDING, ReliefKind.CAT]
        )
        if asylum_track and story != "appeal":
            if future_kind == HearingKind.INDIVIDUAL and master_day is not None:
                filed = master_day
                for kind in kinds:
                    self.later(s.at(filed, 17), self.relief(kind, ReliefStatus.FILED, filed_on=filed))
            else:
                status = ReliefStatus.PREPARING if rng.random() < 0.6 else ReliefStatus.CONSIDERING
                filed = None
                for kind in kinds[:2]:  # CAT gets added when the application is filed
                    self.later(self.work_from + timedelta(hours=2), self.relief(kind, status))
            if (
                not withholding_only
                and plan.arrival
                and compute_deadline(Rule.ASYLUM_ONE_YEAR, plan.arrival).due >= timezone.localdate(self.work_from)
            ):
                done = s.at(filed, 17) + timedelta(minutes=5) if filed else None
                self.rule_deadline(Rule.ASYLUM_ONE_YEAR, plan.arrival, self.work_from + timedelta(hours=1), done)
            self.manual_deadlines("asylum", future)
        elif not asylum_track:
            kind = _weighted(
                rng,
                [
                    (ReliefKind.CANCELLATION_NON_LPR, 40),
                    (ReliefKind.CANCELLATION_LPR, 15),
                    (ReliefKind.U_VISA, 15),
                    (ReliefKind.VOLUNTARY_DEPARTURE, 15),
                    (ReliefKind.PROSECUTORIAL_DISCRETION, 15),
                ],
            )
            status = _weighted(
                rng, [(ReliefStatus.CONSIDERING, 3), (ReliefStatus.PREPARING, 4), (ReliefStatus.FILED, 3)]
            )
            filed = master_day if status == ReliefStatus.FILED and master_day else None
            if status == ReliefStatus.FILED and filed is None:
                status = ReliefStatus.PREPARING
            self.later(self.work_from + timedelta(hours=3), self.relief(kind, status, filed_on=filed))
            self.manual_deadlines("other", future)
        return future

    def bond_hearing(self, day: date) -> None:
        """A past bond hearing: granted (and, days later, released on bond) or denied (and maybe appealed)."""
        rng, s = self.rng, self.s
        granted = rng.random() < 0.55
        amount = rng.randrange(1500, 25001, 500)
        note = (
            f"Bond set at ${amount:,}."
            if granted
            else rng.choice(("IJ found a flight risk; no bond.", "Denied: danger finding based on an old arrest."))
        )
        outcome = HearingOutcome.BOND_GRANTED if granted else HearingOutcome.BOND_DENIED
        filed = max(day - timedelta(days=rng.randint(3, 10)), timezone.localdate(self.work_from))
        self.later(s.at(filed, 16), self.note(_BOND_PACKET_NOTE, False))

        def after(deadline: Deadline | None, moment: datetime) -> None:
            status = ReliefStatus.GRANTED if granted else ReliefStatus.DENIED
            self.later(
                moment + timedelta(minutes=30), self.relief(ReliefKind.BOND, status, filed_on=filed, decided_on=day)
            )
            if granted:
                released = day + timedelta(days=rng.randint(1, 4))
                if released <= s.today:
                    self.later(s.at(released, 17), self.custody(CustodyStatus.BOND, None, released))
                if deadline is not None:
                    self.later(moment + timedelta(hours=1), self.deadline_status(deadline, DeadlineStatus.WAIVED))
            elif deadline is not None:
                self.settle_appeal(deadline, day, appeal_share=0.6)

        self.hearing(HearingKind.BOND, day, self.scheduled_before(day), outcome, note, after)

    def settle_appeal(
        self,
        deadline: Deadline,
        decided: date,
        appeal_share: float,
        relief: tuple[ReliefKind, ...] = (),
        relief_filed: date | None = None,
    ) -> None:
        """An appealable decision: appealed (deadline done), not appealed (waived), or still thinking (open)."""
        rng, s = self.rng, self.s
        elapsed = (s.today - decided).days
        if elapsed > 14 and rng.random() < appeal_share:
            filed = decided + timedelta(days=rng.randint(10, min(28, elapsed)))
            self.later(s.at(filed, 16), self.deadline_status(deadline, DeadlineStatus.DONE))
            for kind in relief:
                self.later(
                    s.at(filed, 16, 5),
                    self.relief(kind, ReliefStatus.APPEALED, filed_on=relief_filed, decided_on=decided),
                )
            self.later(
                s.at(filed, 16, 10),
                self.note("Notice of appeal (EOIR-26) filed with the BIA; brief schedule to follow.", False),
            )
        elif elapsed > 25:
            self.later(
                s.at(decided + timedelta(days=rng.randint(2, 6)), 12),
                self.deadline_status(deadline, DeadlineStatus.WAIVED),
            )

    def denied_at_merits(self, day: date, withholding_only: bool) -> None:
        rng = self.rng
        kinds = (
            [ReliefKind.WITHHOLDING, ReliefKind.CAT]
            if withholding_only
            else [ReliefKind.ASYLUM, ReliefKind.WITHHOLDING, ReliefKind.CAT]
        )
        filed = max(day - timedelta(days=rng.randint(20, 40)), timezone.localdate(self.work_from))
        for kind in kinds:
            self.later(self.s.at(filed, 17), self.relief(kind, ReliefStatus.FILED, filed_on=filed))

        def after(deadline: Deadline | None, moment: datetime) -> None:
            for kind in kinds:
                self.later(
                    moment + timedelta(minutes=20),
                    self.relief(kind, ReliefStatus.DENIED, filed_on=filed, decided_on=day),
                )
            if deadline is not None:
                self.settle_appeal(deadline, day, appeal_share=0.95, relief=tuple(kinds), relief_filed=filed)

        note = rng.choice(
            ("IJ found the harm did not rise to persecution.", "Adverse credibility finding; removal ordered.")
        )
        self.hearing(HearingKind.INDIVIDUAL, day, self.scheduled_before(day), HearingOutcome.RELIEF_DENIED, note, after)
        self.later(
            self.s.at(day, 18), self.note("Client wants to appeal. Order the transcript and start the brief.", True)
        )

    def fear_track(self, proceeding: ProceedingType, free_from: date, near: bool) -> datetime:
        rng, s = self.rng, self.s
        review = (
            HearingKind.REASONABLE_FEAR if proceeding == ProceedingType.REASONABLE_FEAR else HearingKind.CREDIBLE_FEAR
        )
        past = self.past_days(1, free_from) if rng.random() < 0.5 else []
        self.later(
            self.work_from + timedelta(hours=2),
            self.relief(
                ReliefKind.ASYLUM if review == HearingKind.CREDIBLE_FEAR else ReliefKind.WITHHOLDING,
                ReliefStatus.CONSIDERING,
            ),
        )
        self.manual_deadlines("fear", None)
        if past:
            day = past[0]
            next_type = (
                ProceedingType.REMOVAL if review == HearingKind.CREDIBLE_FEAR else ProceedingType.WITHHOLDING_ONLY
            )
            paroled = review == HearingKind.CREDIBLE_FEAR and rng.random() < 0.35

            def after(deadline: Deadline | None, moment: datetime) -> None:
                self.later(moment + timedelta(hours=1), self.details(proceeding_type=next_type))
                if paroled and day + timedelta(days=3) <= s.today:
                    released = day + timedelta(days=rng.randint(1, 3))
                    self.later(s.at(released, 15), self.custody(CustodyStatus.PAROLE, None, released))

            self.hearing(
                review,
                day,
                self.scheduled_before(day),
                HearingOutcome.FEAR_FOUND,
                "Negative determination vacated.",
                after,
            )
            day = self.future_day(near)
            return self.hearing(
                HearingKind.MASTER if next_type == ProceedingType.REMOVAL else HearingKind.INDIVIDUAL,
                day,
                self.scheduled_before(day),
            )
        day = self.future_day(near or rng.random() < 0.5)  # fear reviews come fast
        return self.hearing(review, day, self.scheduled_before(day))

    def bond_track(self, free_from: date, near: bool) -> datetime:
        rng = self.rng
        past = self.past_days(1, free_from) if rng.random() < 0.4 else []
        for day in past:
            self.bond_hearing(day)
        if not past:
            self.later(self.work_from + timedelta(hours=2), self.relief(ReliefKind.BOND, ReliefStatus.PREPARING))
        self.manual_deadlines("bond", None)
        day = self.future_day(near)
        return self.hearing(HearingKind.MASTER if past else HearingKind.BOND, day, self.scheduled_before(day))

    def manual_deadlines(self, pool: str, hearing_at: datetime | None) -> None:
        rng = self.rng
        titles = rng.sample(_MANUAL_DEADLINES[pool], min(len(_MANUAL_DEADLINES[pool]), rng.randint(1, 2)))
        start = timezone.localdate(self.work_from)
        for title in titles:
            due = start + timedelta(days=rng.randint(5, 45))
            if hearing_at is not None:
                due = min(due, timezone.localdate(hearing_at) - timedelta(days=rng.randint(2, 10)))
            due = max(due, start + timedelta(days=1))
            self.manual_deadline(title, due, self.work_from + timedelta(hours=rng.randint(1, 48)))

    def co_counsel(self, assigned: datetime) -> None:
        rng, u = self.rng, self.u
        r = rng.random()
        if r < 0.12:
            role = AssignmentRole.CO_COUNSEL
        elif r < 0.18:
            role = AssignmentRole.BOND_ONLY
        else:
            return
        if self.lead == u.supervisor:
            helper = rng.choice([u.attorney, u.attorney2])
        elif role == AssignmentRole.CO_COUNSEL and rng.random() < 0.75:
            helper = u.supervisor
        else:
            helper = rng.choice([a for a in u.lawyers if a != self.lead and a != u.supervisor] or [u.supervisor])
        self.later(
            self.s.between(assigned + timedelta(hours=1), assigned + timedelta(days=10)), self.assign(helper, role)
        )

    def notes(self, until: datetime) -> None:
        rng, s = self.rng, self.s
        how_many = rng.choice((1, 2, 2, 3))
        first = self.work_from + timedelta(hours=rng.randint(2, 30))
        with_interpreter = f"with a {self.interpreter} interpreter by phone" if self.interpreter else "in English"
        bodies = []
        if self.interpreter in _INDIGENOUS:
            bodies.append((_INDIGENOUS_NOTE.format(lang=self.interpreter), True))
        for body in rng.sample(_PRIVILEGED_NOTES, 2):
            bodies.append((body.format(with_interpreter=with_interpreter), True))
        for body in rng.sample(_ADMIN_NOTES, 2):
            bodies.append((body.format(city=rng.choice(_SPONSOR_CITIES)), False))
        rng.shuffle(bodies)
        bodies.sort(key=lambda b: not b[0].startswith(("Initial legal visit", "Client's first language")))
        for i, (body, privileged) in enumerate(bodies[:how_many]):
            moment = first if i == 0 else s.between(first, until - timedelta(hours=1))
            self.later(moment, self.note(body, privileged))

    def story_closed(self) -> None:
        rng, s, reason = self.rng, self.s, self.plan.close_reason
        if self.lead is None:  # closed straight from triage
            waited = self.plan.registered_at + timedelta(hours=rng.randint(6, 96))
            note = {
                CloseReason.DECLINED: "Outside our service area after the transfer; referred to a local legal "
                "services provider.",
                CloseReason.DUPLICATE: "Duplicate registration after a second hotline call; merged into the "
                "earlier case.",
            }[reason]
            self.later(waited, self.close(reason, note))
            return
        _assigned, free_from = self.start_work(lead_changes=False)
        proceeding = ProceedingType.CREDIBLE_FEAR if reason == CloseReason.LOST_CONTACT else ProceedingType.REMOVAL
        changes = {"court": self.court, "proceeding_type": proceeding, "last_arrival_on": self.plan.arrival}
        self.later(self.court_from, self.details(**changes))
        # Everything happened at least a month ago, so that removals and releases are in the past too.
        days = self.past_days(2, free_from, last=s.today - timedelta(days=30))
        if len(days) < 2:
            days = self.past_days(2, free_from) or [s.today - timedelta(days=2)]
            days = [days[0], days[-1]]
        first, second = days
        end = second  # the day of the last event before closing
        if reason == CloseReason.RELIEF_GRANTED:
            note = "Pleadings taken; reset for the individual hearing."
            self.hearing(HearingKind.MASTER, first, self.scheduled_before(first), HearingOutcome.CONTINUED, note)
            for kind in (ReliefKind.ASYLUM, ReliefKind.WITHHOLDING, ReliefKind.CAT):
                self.later(s.at(first, 17), self.relief(kind, ReliefStatus.FILED, filed_on=first))
            granted = rng.choice((ReliefKind.ASYLUM, ReliefKind.ASYLUM, ReliefKind.WITHHOLDING))
            end = second + timedelta(days=1)

            def after(deadline: Deadline | None, moment: datetime) -> None:
                decided = self.relief(granted, ReliefStatus.GRANTED, filed_on=first, decided_on=second)
                self.later(moment + timedelta(minutes=10), decided)
                if deadline is not None:
                    self.later(moment + timedelta(days=2), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.later(s.at(end, 17), self.custody(CustodyStatus.RECOGNIZANCE, None, end))

            label = ReliefKind(granted).label
            self.hearing(
                HearingKind.INDIVIDUAL,
                second,
                self.scheduled_before(second),
                HearingOutcome.RELIEF_GRANTED,
                f"{label} granted.",
                after,
            )
            closed_note = f"{label} granted; DHS waived appeal. Client released."
        elif reason == CloseReason.TERMINATED:
            end = second + timedelta(days=1)

            def after(deadline: Deadline | None, moment: datetime) -> None:
                if deadline is not None:
                    self.later(moment + timedelta(days=1), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.later(s.at(end, 17), self.custody(CustodyStatus.RECOGNIZANCE, None, end))

            note = "DHS could not prove alienage; terminated without prejudice."
            self.hearing(
                HearingKind.MASTER, second, self.scheduled_before(second), HearingOutcome.TERMINATED, note, after
            )
            closed_note = "Proceedings terminated without prejudice; client released."
        elif reason == CloseReason.RELEASED_REFERRED:
            end = second + timedelta(days=rng.randint(1, 3))

            def after(deadline: Deadline | None, moment: datetime) -> None:
                decided = self.relief(ReliefKind.BOND, ReliefStatus.GRANTED, filed_on=first, decided_on=second)
                self.later(moment + timedelta(minutes=30), decided)
                if deadline is not None:
                    self.later(moment + timedelta(hours=2), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.later(s.at(end, 17), self.custody(CustodyStatus.BOND, None, end))

            note = f"Bond set at ${rng.randrange(2000, 15001, 500):,}."
            self.later(s.at(first, 16), self.note(_BOND_PACKET_NOTE, False))
            self.hearing(
                HearingKind.BOND, second, self.scheduled_before(second), HearingOutcome.BOND_GRANTED, note, after
            )
            closed_note = "Released on bond; referred to non-detained pro bono counsel near the sponsor's address."
        elif reason == CloseReason.REMOVED:
            note = rng.choice(_CONTINUED_NOTES)
            self.hearing(HearingKind.MASTER, first, self.scheduled_before(first), HearingOutcome.CONTINUED, note)
            outcome = rng.choice((HearingOutcome.REMOVAL_ORDERED, HearingOutcome.RELIEF_DENIED))
            end = second + timedelta(days=rng.randint(10, 25))

            def after(deadline: Deadline | None, moment: datetime) -> None:
                if deadline is not None:
                    self.later(moment + timedelta(days=3), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.later(s.at(end, 12), self.custody(CustodyStatus.REMOVED, None, end))

            self.hearing(
                HearingKind.INDIVIDUAL, second, self.scheduled_before(second), outcome, "Removal ordered.", after
            )
            note = "Client does not want to appeal and asked to be returned soon. Explained the consequences."
            self.later(s.at(second + timedelta(days=2), 11), self.note(note, True))
            closed_note = "Client declined appeal and was removed."
        elif reason == CloseReason.LOST_CONTACT:
            released = first + timedelta(days=2)

            def after(deadline: Deadline | None, moment: datetime) -> None:
                self.later(s.at(released, 15), self.custody(CustodyStatus.PAROLE, None, released))

            note = "Negative determination vacated."
            self.hearing(
                HearingKind.CREDIBLE_FEAR, first, self.scheduled_before(first), HearingOutcome.FEAR_FOUND, note, after
            )
            self.later(s.at(second, 10), self.note("Third call to the release address unanswered; letter sent.", False))
            closed_note = "Paroled; no response to calls or letters for over a month."
        else:  # CloseReason.OTHER_COUNSEL
            note = "Reset for attorney preparation."
            self.hearing(HearingKind.MASTER, first, self.scheduled_before(first), HearingOutcome.CONTINUED, note)
            closed_note = "Family retained private counsel; file transferred with the client's consent."
        closing = s.at(end + timedelta(days=rng.randint(1, 5)), 16)
        if closing >= s.now - timedelta(hours=1):
            closing = s.between(s.at(end, 18), s.now - timedelta(hours=1))
        self.notes(until=closing)
        self.later(closing, self.close(reason, closed_note))


def _summary(users: _DemoUsers, *, created: bool) -> dict:
    cases = Case.objects.filter(registered_by__in=users.registrars)
    by_status = dict(cases.order_by().values_list("status").annotate(n=Count("id")))
    leads = dict(
        Assignment.objects.filter(
            case__in=cases, case__status=CaseStatus.ACTIVE, role=AssignmentRole.LEAD, ended_at__isnull=True
        )
        .order_by()
        .values_list("attorney__email")
        .annotate(n=Count("id"))
    )
    return {
        "created": created,
        "cases": sum(by_status.values()),
        "triage": by_status.get(CaseStatus.TRIAGE, 0),
        "active": by_status.get(CaseStatus.ACTIVE, 0),
        "closed": by_status.get(CaseStatus.CLOSED, 0),
        "hearings": Hearing.objects.filter(case__in=cases).count(),
        "deadlines": Deadline.objects.filter(case__in=cases).count(),
        "notes": Note.objects.filter(case__in=cases).count(),
        "by_attorney": {u.email: leads.get(u.email, 0) for u in users.lawyers},
    }


def summary_line(summary: dict) -> str:
    leads = ", ".join(f"{email.split('@')[0]} {n}" for email, n in summary["by_attorney"].items())
    verb = "created" if summary["created"] else "already there, nothing created"
    return (
        f"Demo casework {verb}: {summary['cases']} cases ({summary['triage']} in triage, {summary['active']} active, "
        f"{summary['closed']} closed), {summary['hearings']} hearings, {summary['deadlines']} deadlines, "
        f"{summary['notes']} notes; active cases led by {leads}."
    )


def seed_casework(*, stdout=None, count: int = 200, seed: int = 2026) -> dict:
    """Create ``count`` fictional cases through the services, unless demo cases already exist.

    Needs the demo accounts of ``seed_demo``. Deterministic for a given ``seed`` on a given day
    (dates are relative to today). All or nothing: one transaction. Returns a summary (counts of
    cases by status, hearings, deadlines, notes, and active cases by lead attorney) and writes it
    as one line to ``stdout`` if given. Does not check DEBUG: ``seed_demo`` does.
    """
    users = _DemoUsers.load()
    if Case.objects.filter(registered_by__in=users.registrars).exists():
        summary = _summary(users, created=False)
    else:
        with transaction.atomic():
            _Seeder(users, random.Random(seed), count).run()
        summary = _summary(users, created=True)
    if stdout is not None:
        stdout.write(summary_line(summary))
    return summary
