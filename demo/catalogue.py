"""What the demo population draws from: names and languages per background, Utrecht's wijken."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Background:
    """Names and the languages people of one background speak (besides Dutch, maybe)."""

    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]
    languages: tuple[str, ...]
    # Other languages with the chance that someone speaks it.
    extra: tuple[tuple[str, float], ...]
    # The chance that an elder (60+) speaks Dutch; younger people and volunteers almost all do.
    elder_dutch: float
    # Surname endings that take a female form (Polish -ski/-ska, Bulgarian -ov/-ova).
    female_endings: tuple[tuple[str, str], ...] = ()
    older_female: tuple[str, ...] = ()
    older_male: tuple[str, ...] = ()


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


BACKGROUNDS: dict[str, Background] = {
    "dutch": Background(
        female=_names("Sanne, Lotte, Emma, Anne, Fleur, Lisa, Eva, Iris, Femke, Marloes, Esther, "
                      "Linda, Marieke, Ingrid, Monique, Petra, Karin, Sandra, Saskia, Annemiek, "
                      "Judith, Mirjam, Renske, Noor, Julia, Sophie, Anouk, Maaike, Hanneke, Ellen"),
        male=_names("Daan, Sem, Thijs, Bas, Joost, Jeroen, Martijn, Sander, Mark, Erik, Pieter, "
                    "Ruben, Koen, Tim, Niels, Stefan, Wouter, Maarten, Rob, Peter, Michiel, "
                    "Jasper, Bart, Lars, Luuk, Ruud, Frank, Paul, Vincent, Arjan"),
        older_female=_names("Wilhelmina, Johanna, Cornelia, Geertruida, Maria, Hendrika, "
                            "Gerda, Riet, Corrie, Truus, Joke, Ans, Annie, Bep, Dini, Greet, "
                            "Marietje, Nel, Tiny, Willy, Lies, Mien, Dora, Els, Ria, Thea, Wil, "
                            "Gonny, Toos"),
        older_male=_names("Henk, Gerrit, Jan, Kees, Piet, Wim, Cor, Bert, Theo, Harry, Ton, Hans, "
                          "Klaas, Dirk, Joop, Ben, Frits, Gijs, Rinus, Arie, Hennie, Jaap, Nico, "
                          "Ad, Gerard, Leo, Fred, Sjaak, Evert, Bram"),
        surnames=_names("de Vries, Jansen, de Jong, van den Berg, Bakker, Visser, Smit, Meijer, "
                        "de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, "
                        "Dekker, Brouwer, de Wit, Dijkstra, Smits, de Graaf, van der Meer, "
                        "van der Linden, Kok, Jacobs, de Haan, Vermeulen, van den Heuvel, "
                        "van der Veen, van Dijk, Verhoeven, Schouten, Willems, Koster, Prins, "
                        "van Vliet, Kuipers, van Rijn, Post, Timmermans, Groen, Koning, Hoekstra, "
                        "van Beek, Verbeek, Maas, van Wijk, Blom, Huisman, Kramer, van Dam, "
                        "Molenaar, van Doorn, Uittenbogaard, van Vulpen, Oostveen, Bosch"),
        languages=("nl",),
        extra=(("en", 0.6), ("de", 0.25), ("fr", 0.12), ("es", 0.05)),
        elder_dutch=1.0,
    ),
    "turkish": Background(
        female=_names("Ayşe, Fatma, Emine, Hatice, Zeynep, Elif, Meryem, Hülya, Gülsüm, Sevim, "
                      "Özlem, Esra, Büşra, Derya, Nurten, Songül"),
        male=_names("Mehmet, Mustafa, Ahmet, Ali, Hüseyin, Hasan, İbrahim, Osman, Yusuf, Murat, "
                    "Emre, Kemal, Erdal, Recep, Burak, Serkan"),
        surnames=_names("Yılmaz, Kaya, Demir, Şahin, Çelik, Yıldız, Öztürk, Aydın, Arslan, "
                        "Doğan, Kılıç, Aslan, Çetin, Kara, Koç, Kurt, Özdemir, Polat, Bulut"),
        languages=("tr",), extra=(("ku", 0.08), ("en", 0.2), ("de", 0.05)), elder_dutch=0.5,
    ),
    "moroccan": Background(
        female=_names("Fatima, Khadija, Aicha, Naima, Malika, Rachida, Zohra, Samira, Hafsa, "
                      "Nadia, Loubna, Soumaya, Ikram, Yasmina, Hanane, Touria"),
        male=_names("Mohamed, Ahmed, Abdelkader, Mustapha, Driss, Hassan, Rachid, Youssef, Said, "
                    "Abdellah, Mimoun, Karim, Bilal, Ayoub, Hamid, Omar"),
        surnames=_names("El Amrani, Bouzid, El Idrissi, Benali, Aziz, El Khattabi, Ouali, "
                        "Boukhari, Ait Ouahmane, El Harchaoui, Ziani, Tahiri, Belhaj, Chaoui, "
                        "Bakkali, El Ouardi, Azzouz, Mansouri, Haddou"),
        languages=("ary",), extra=(("ber", 0.4), ("ar", 0.3), ("fr", 0.2), ("en", 0.15)),
        elder_dutch=0.45,
    ),
    "surinamese": Background(
        female=_names("Sharda, Rita, Carla, Marylin, Gitanjali, Hilda, Sylvia, Yvonne, Anjali, "
                      "Shanti, Gloria, Ingrid, Sandra, Iris"),
        male=_names("Ramon, Roy, Glenn, Ricardo, Orlando, Ravi, Sunil, Edgar, Hugo, Clyde, Anand, "
                    "Errol, Ronald, Marlon"),
        surnames=_names("Pinas, Doelwijt, Sewnarain, Ramdin, Kanhai, Wijngaarde, Refos, "
                        "Mangroelal, Nelom, Biharie, Tjon A Fong, Linger, Plet, Brunings, "
                        "Kartodikromo, Sitaldin"),
        languages=("nl",), extra=(("srn", 0.6), ("hi", 0.15), ("en", 0.4)), elder_dutch=1.0,
    ),
    "antillean": Background(
        female=_names("Mireille, Giselle, Jocelyn, Rosalinda, Maritza, Elvira, Sulaika, Shanella"),
        male=_names("Shurandy, Jurich, Edsel, Ronald, Eugene, Vurnon, Gregory, Rignald"),
        surnames=_names("Martina, Rosaria, Isenia, Maduro, Cijntje, Pieternella, Statia, "
                        "Koeiman, Winklaar, Croes, Trimon, Sambo"),
        languages=("pap",), extra=(("es", 0.35), ("en", 0.4)), elder_dutch=0.9,
    ),
    "polish": Background(
        female=_names("Agnieszka, Katarzyna, Małgorzata, Anna, Joanna, Magdalena, Ewa, Barbara, "
                      "Krystyna, Dorota"),
        male=_names("Piotr, Krzysztof, Tomasz, Paweł, Marek, Andrzej, Jan, Michał, Grzegorz, "
                    "Łukasz"),
        surnames=_names("Nowak, Kowalski, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, "
                        "Zieliński, Woźniak, Mazur, Krawczyk, Kaczmarek"),
        languages=("pl",), extra=(("en", 0.45), ("de", 0.2), ("ru", 0.1)), elder_dutch=0.4,
        female_endings=(("ski", "ska"), ("cki", "cka")),
    ),
    "syrian": Background(
        female=_names("Rasha, Lina, Hala, Nour, Rania, Maha, Amal, Huda, Salma, Dima, Reem"),
        male=_names("Mohammad, Ahmad, Khaled, Omar, Samer, Bassel, Firas, Mahmoud, Tarek, Ammar, "
                    "Yazan"),
        surnames=_names("Al-Hassan, Haddad, Khalil, Al-Ali, Hamdan, Najjar, Sabbagh, Darwish, "
                        "Al-Masri, Kurdi, Othman, Suleiman"),
        languages=("ar",), extra=(("ku", 0.15), ("en", 0.35), ("tr", 0.1)), elder_dutch=0.35,
    ),
    "eritrean": Background(
        female=_names("Selam, Helen, Senait, Mebrat, Lidia, Saba, Rahwa, Feven, Tsega"),
        male=_names("Yonas, Tesfay, Daniel, Samuel, Filmon, Merhawi, Kibrom, Habtom, Yohannes"),
        surnames=_names("Tesfamariam, Ghebremedhin, Haile, Kidane, Tekle, Woldu, Berhe, "
                        "Gebreyesus, Mehari, Asmerom"),
        languages=("ti",), extra=(("ar", 0.2), ("en", 0.4)), elder_dutch=0.4,
    ),
    "somali": Background(
        female=_names("Hodan, Faadumo, Sahra, Ifrah, Hawa, Amina, Ubah, Khadra"),
        male=_names("Abdi, Mohamed, Abdirahman, Hassan, Ali, Ahmed, Omar, Yusuf"),
        surnames=_names("Warsame, Farah, Hussein, Osman, Jama, Ali, Mohamud, Aden, Abdi"),
        languages=("so",), extra=(("ar", 0.25), ("en", 0.4)), elder_dutch=0.45,
    ),
    "afghan": Background(
        female=_names("Mariam, Fariba, Zahra, Shabnam, Nargis, Roya, Parwana"),
        male=_names("Ahmad, Farid, Mahmoud, Najib, Rahim, Jawid, Hamid"),
        surnames=_names("Ahmadi, Rahimi, Karimi, Sultani, Hakimi, Noori, Popal, Mohammadi"),
        languages=("fa",), extra=(("en", 0.3),), elder_dutch=0.45,
    ),
    "bulgarian": Background(
        female=_names("Maria, Ivanka, Elena, Desislava, Petya, Galina"),
        male=_names("Ivan, Georgi, Dimitar, Nikolay, Hristo, Stoyan"),
        surnames=_names("Ivanov, Georgiev, Dimitrov, Petrov, Nikolov, Hristov"),
        languages=("bg",), extra=(("tr", 0.3), ("en", 0.3), ("ru", 0.15)), elder_dutch=0.3,
        female_endings=(("ov", "ova"), ("ev", "eva")),
    ),
    "romanian": Background(
        female=_names("Ioana, Elena, Andreea, Mihaela, Cristina, Gabriela"),
        male=_names("Andrei, Mihai, Alexandru, Ion, Florin, Adrian"),
        surnames=_names("Popescu, Ionescu, Popa, Dumitru, Stan, Constantin, Munteanu"),
        languages=("ro",), extra=(("en", 0.5), ("fr", 0.15)), elder_dutch=0.3,
    ),
    "ukrainian": Background(
        female=_names("Olena, Tetiana, Iryna, Natalia, Oksana, Halyna, Svitlana"),
        male=_names("Oleksandr, Serhii, Andrii, Mykola, Volodymyr, Dmytro"),
        surnames=_names("Shevchenko, Kovalenko, Bondarenko, Tkachenko, Kravchenko, Melnyk, "
                        "Boyko, Oliinyk"),
        languages=("uk",), extra=(("ru", 0.6), ("en", 0.4), ("pl", 0.05)), elder_dutch=0.15,
    ),
}
VOLUNTEER_BACKGROUNDS = {
    "dutch": 66, "turkish": 5, "moroccan": 7, "surinamese": 6, "antillean": 3, "polish": 3,
    "syrian": 3, "eritrean": 2, "somali": 1, "afghan": 1, "bulgarian": 1, "romanian": 1,
    "ukrainian": 1,
}
RESIDENT_BACKGROUNDS = {
    "dutch": 52, "turkish": 11, "moroccan": 12, "surinamese": 8, "antillean": 3, "polish": 2,
    "syrian": 4, "eritrean": 2, "somali": 2, "afghan": 2, "bulgarian": 1, "romanian": 0.5,
    "ukrainian": 1.5,
}
# Wijken where most of Utrecht's migrant households live: other backgrounds weigh more there.
MIGRANT_WIJKEN = {"Overvecht": 2.5, "Zuidwest": 2.5, "Noordwest": 2.0}

# Utrecht's ten wijken by four-digit postcode. Approximate: wijk borders do not follow postcode
# borders, so each code goes to the wijk holding most of it (3542 Lage Weide and 3546 Rijnenburg
# are thinly populated edges; they weigh less when people are placed).
WIJK_POSTCODES: dict[str, tuple[str, ...]] = {
    "Binnenstad": ("3511", "3512"),
    "Noordwest": ("3513", "3551", "3552", "3553", "3554", "3555"),
    "Noordoost": ("3514", "3515", "3561", "3571", "3572", "3573"),
    "Overvecht": ("3562", "3563", "3564", "3565", "3566"),
    "Oost": ("3581", "3582", "3583", "3584", "3585"),
    "Zuid": ("3523", "3524", "3525"),
    "Zuidwest": ("3521", "3522", "3526", "3527", "3528"),
    "West": ("3531", "3532", "3533", "3534"),
    "Leidsche Rijn": ("3541", "3542", "3543", "3544", "3545"),
    "Vleuten-De Meern": ("3451", "3452", "3453", "3454", "3455", "3546"),
}
WIJK_BY_POSTCODE = {code: wijk for wijk, codes in WIJK_POSTCODES.items() for code in codes}
THIN_POSTCODES = {"3542": 0.2, "3546": 0.3, "3455": 0.3, "3584": 0.5}
# Rough centre of each wijk, used without a postcode file to name the wijk of a random point.
WIJK_CENTRES: dict[str, tuple[float, float]] = {
    "Binnenstad": (52.0907, 5.1214), "Noordwest": (52.1080, 5.0900),
    "Noordoost": (52.1040, 5.1300), "Overvecht": (52.1180, 5.1100), "Oost": (52.0850, 5.1450),
    "Zuid": (52.0680, 5.1250), "Zuidwest": (52.0740, 5.0980), "West": (52.0930, 5.0880),
    "Leidsche Rijn": (52.0950, 5.0550), "Vleuten-De Meern": (52.0900, 5.0150),
}
UTRECHT_BOUNDS = ((52.05, 52.12), (5.05, 5.16))


def is_utrecht_postcode(code: str) -> bool:
    """Utrecht city: 3511-3585 and Vleuten, De Meern, Haarzuilens (3451-3455)."""
    return code.isdigit() and len(code) == 4 and (
        3511 <= int(code) <= 3585 or 3451 <= int(code) <= 3455
    )


REFERRERS: dict[str, tuple[str, ...]] = {
    "gp": _names("Huisartsenpraktijk Kanaleneiland, Huisartsenpraktijk Overvecht, "
                 "Gezondheidscentrum Lunetten, Huisartsen Leidsche Rijn, "
                 "Huisartsenpraktijk Zuilen, Gezondheidscentrum Hoograven, "
                 "Huisartsenpraktijk Wittevrouwen, Gezondheidscentrum Vleuten"),
    "nizu": ("NIZU",),
    "partner": _names("Vluchtelingenwerk Midden-Nederland, Utrecht Omarmt, "
                      "Stichting Al Amal, Steunpunt Mantelzorg Utrecht, "
                      "Ouderenadviseur Dock, Humanitas Utrecht"),
}
REFERRER_ROLES = ("praktijkondersteuner", "wijkverpleegkundige", "buurtteammedewerker",
                  "ouderenadviseur", "maatschappelijk werker")

DECLINE_REASONS = (
    "Te ver weg voor de deelnemer", "Vrijwilliger heeft op die dagen geen tijd",
    "Deelnemer wil liever een vrouwelijke vrijwilliger", "Geen klik bij de kennismaking",
    "Deelnemer ziet er toch tegenop", "Te weinig gedeelde interesses", "Taalbarrière",
    "Deelnemer is tijdelijk opgenomen",
)
END_NOTES = {
    "moved": "Deelnemer is verhuisd naar een verpleeghuis buiten de wijk.",
    "health": "De gezondheid liet het niet langer toe.",
    "no_click": "Het klikte uiteindelijk niet.",
    "goal_reached": "Deelnemer heeft weer een eigen netwerk; doel bereikt.",
    "volunteer_stopped": "Vrijwilliger is gestopt.",
    "resident_died": "Deelnemer is overleden.",
    "other": "Het contact is verwaterd.",
}
STOP_REASONS = (
    "Verhuisd naar buiten Utrecht", "Nieuwe baan, geen tijd meer", "Gezondheid",
    "Mantelzorg voor eigen ouder", "Studie afgerond, vertrokken", "Andere vrijwilligersplek",
)
CLOSED_REASONS = (
    "Wil geen maatje meer", "Verhuisd naar een verpleeghuis", "Geen contact meer mogelijk",
    "Heeft via de buurt zelf contacten gevonden",
)
ON_HOLD_NOTES = (
    "Tijdelijk opgenomen in het ziekenhuis.", "Eerst herstel na een operatie.",
    "Wil na de zomer opnieuw kijken.", "Familie komt eerst een paar maanden logeren.",
)
HEALTH_NOTES = (
    "Slechtziend; graag duidelijk en rustig praten.", "Loopt met een rollator.",
    "Beginnende dementie; de dochter is op de hoogte.", "Slechthorend; gehoorapparaat links.",
    "Diabetes; liever geen gebak meenemen.", "Herstelt van een beroerte; spreekt langzaam.",
)
RESIDENT_NOTES = (
    "Houdt van een kop koffie en een praatje over vroeger.", "Zit veel alleen sinds het "
    "overlijden van de partner.", "Wil graag weer eens naar buiten.", "Heeft een kat; "
    "vrijwilliger mag geen allergie hebben.", "Zoekt iemand om Nederlands mee te oefenen.",
    "Kinderen wonen ver weg.",
)
CHECK_IN_COMMENTS = (
    "Gezellig koffie gedronken.", "Mooie wandeling door het park.", "Samen naar de markt.",
    "Deelnemer was moe, kort bezoek.", "Spelletje rummikub gedaan.", "Telefonisch contact.",
    "Samen gekookt, erg leuk.", "Afspraak verzet wegens ziekte.",
)

# Group activities a waiting resident can join, after the network's real initiatives (illustrative
# times and places): name, organiser, wijk, slots (day * 3 + part), interests, target groups
# (empty: everyone), cost, wheelchair accessible.
GROUP_ACTIVITIES: tuple[tuple[str, str, str, tuple[int, ...], tuple[str, ...], tuple[str, ...], str, bool], ...] = (
    ("Koks koken tegen eenzaamheid", "Koks koken tegen eenzaamheid", "Overvecht", (11,), ("koken",), (), "gratis", True),
    ("Buurt mobiel: samen op pad", "Buurt mobiel", "Zuidwest", (4, 10), ("reizen", "natuur"), ("older_person",), "€ 2,50", True),
    ("Balkon Danspaleis", "Het Balkon Danspaleis", "Noordoost", (17,), ("dansen", "muziek"), ("older_person",), "gratis", True),
    ("Sociaal Vitaal in Kleur", "Sociaal Vitaal", "Overvecht", (3, 9), ("wandelen", "koken"), ("migrant_elder",), "gratis", True),
    ("Resto van Harte: samen eten", "Resto van Harte", "Oost", (8, 14), ("koken",), (), "€ 5", True),
    ("Resto van Harte: wandelclub", "Resto van Harte", "Noordwest", (0,), ("wandelen", "natuur"), (), "gratis", False),
    ("Humanitas koffieochtend", "Humanitas Utrecht", "Binnenstad", (6,), ("spelletjes", "kaarten"), ("older_person",), "gratis", True),
    ("Handjehelpen jongerenavond", "Handjehelpen", "Zuid", (8,), ("film", "muziek"), ("young_person",), "gratis", True),
    ("Mantelzorgcafé", "Steunpunt Mantelzorg", "West", (7,), ("lezen",), ("informal_carer",), "gratis", True),
    ("Serve the City: samen klussen", "Serve the City", "Leidsche Rijn", (15,), ("techniek",), (), "gratis", False),
    ("Zangkoor De Buurtstem", "Buurthuis Oase", "Zuidwest", (1,), ("zingen", "muziek"), (), "€ 1", True),
    ("Tuinieren in de buurtmoestuin", "Moestuin Vleuten", "Vleuten-De Meern", (3, 12), ("tuinieren", "natuur"), (), "gratis", False),
    ("Schaakclub in de bibliotheek", "Bibliotheek Utrecht", "Oost", (5,), ("schaken", "spelletjes"), (), "gratis", True),
    ("Handwerkcafé", "Buurtcentrum De Leeuw", "Zuid", (4,), ("handwerken",), (), "€ 1", True),
    ("Taalcafé Nederlands oefenen", "Taal Doet Meer", "Overvecht", (2, 13), ("talen",), ("migrant_elder", "other"), "gratis", True),
)
