"""Table tests of each automated check: what it finds, what it leaves alone, and its spans."""

from __future__ import annotations

import unicodedata

import pytest

from moderation.checks import CHECKS, CheckContext, run_checks, sector_for_kind, starting_terms
from moderation.checks.lexicons import SECTORS, load_lexicon

DE = CheckContext(language="de", sector="school")
EN = CheckContext(language="en", sector="school")


def categories(text: str, context: CheckContext = DE) -> list[str]:
    return [f.category for f in run_checks(text, context)]


def found(text: str, category: str, context: CheckContext = DE) -> list[str]:
    return [f.matched for f in run_checks(text, context) if f.category == category]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Schreiben Sie an anna.berg@schule-am-see.de.", "anna.berg@schule-am-see.de"),
        ("Mail: anna.berg [at] schule [dot] de", "anna.berg [at] schule [dot] de"),
        ("Kontakt: info(at)praxis-mueller.de", "info(at)praxis-mueller.de"),
        ("Kontakt: info (at) praxis (punkt) de", "info (at) praxis (punkt) de"),
        ("write to jo{at}example{dot}org today", "jo{at}example{dot}org"),
        ("Full width: tom\uff20example.com", "tom\uff20example.com"),
        ("spelled out: tom dot baker at gmail dot com", "tom dot baker at gmail dot com"),
    ],
)
def test_email_check_finds_plain_and_obfuscated_addresses(text, expected):
    assert found(text, "email") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "Folgt uns: @schule@bildung.social",
        "Mastodon: @stmarys@schools.social, Pixelfed @fotos@pixelfed.de",
        "Treffen wir uns at noon at the gate?",
        "Die Adresse steht auf https://example.org/@team",
    ],
)
def test_email_check_leaves_fediverse_handles_and_prose_alone(text):
    assert found(text, "email") == []


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("Tel. +49 30 1234567", DE),
        ("Rufen Sie 030/1234567 an.", DE),
        ("Handy 0171 1234567", DE),
        ("Zürich: +41 44 123 45 67", DE),
        ("Wien: +43 1 234 5678", DE),
        ("London: 020 7946 0958", EN),
        ("London: +44 20 7946 0958", EN),
        ("New York: (212) 555-0123", EN),
        ("New York: 212-555-0123", EN),
        ("New York: +1 212 555 0123", EN),
        ("Mobile 07700 900123", EN),
        ("Tel. +49 (0)89 12345-0", DE),
        ("Zürich: 044 123 45 67", DE),
    ],
)
def test_phone_check_finds_numbers_in_each_notation(text, context):
    assert len(found(text, "phone", context)) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Notruf 110, Feuerwehr 112, Bereitschaftsdienst 116 117.",
        "In an emergency call 999 or 911; NHS 111.",
        "Im Jahr 2024 und 2025 feiern wir.",
        "Am 12.03.2024 um 14:30 Uhr.",
        "Preis: 1.299,00 € oder 12,50 €.",
        "Bestellnummer 4711 0815 22 und Auftrag 12345678.",
        "PLZ 12345 Berlin, 80331 München",
        "Telefonseelsorge 0800 111 0 111 (kostenlos).",
        "Die Schuljahre 2023-2024 und 2024/2025.",
    ],
)
def test_phone_check_leaves_emergency_numbers_years_prices_and_order_numbers_alone(text):
    assert found(text, "phone") == []
    assert found(text, "phone", EN) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IBAN DE89 3704 0044 0532 0130 00 bitte.", "DE89 3704 0044 0532 0130 00"),
        ("IBAN DE89370400440532013000.", "DE89370400440532013000"),
        ("IBAN GB29 NWBK 6016 1331 9268 19 BIC NWBKGB2L", "GB29 NWBK 6016 1331 9268 19"),
        ("CH93 0076 2011 6238 5295 7", "CH93 0076 2011 6238 5295 7"),
        ("AT61 1904 3002 3457 3201", "AT61 1904 3002 3457 3201"),
    ],
)
def test_iban_check_finds_ibans_with_a_valid_checksum(text, expected):
    assert found(text, "iban") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "IBAN DE89 3704 0044 0532 0130 01 (Tippfehler).",
        "Bestellnummer DE12 3456 7890 1234 5678 90",
        "Ref GB82 WEST 1234 5698 7654 39",
        "Artikel AB12CD34EF56GH78",
    ],
)
def test_iban_check_leaves_iban_shaped_numbers_failing_the_checksum_alone(text):
    assert found(text, "iban") == []


@pytest.mark.parametrize(
    "text",
    [
        "Lena ist am 3. Mai 2015 geboren.",
        "geboren am 3. Mai 2015",
        "born 03/05/2015",
        "DOB: 12.03.2012",
        "geb. 12.03.2012",
        "Date of birth: 4 June 2014",
        "Tom turns 8 on 12 May!",
        "Harry turns six on 3 April.",
        "Sie feiert am 4. Juni ihren 9. Geburtstag.",
        "Er wird am 12. Mai 8 Jahre alt.",
    ],
)
def test_date_of_birth_check_finds_dates_tied_to_a_birth(text):
    assert len(found(text, "date_of_birth")) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Unsere Schule feiert am 12. Mai ihren 50. Geburtstag.",
        "Goethe wurde am 28. August 1749 geboren.",
        "Der Elternabend ist am 3. Mai 2025.",
        "Our report will be published on 12 November.",
    ],
)
def test_date_of_birth_check_leaves_other_dates_alone(text):
    assert found(text, "date_of_birth") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wir sind in der Hauptstraße 12.", "Hauptstraße 12"),
        ("Hauptstr. 12a", "Hauptstr. 12a"),
        ("Treffpunkt Am Markt 3.", "Am Markt 3"),
        ("Lindenweg 5, 12345 Berlin", "Lindenweg 5, 12345 Berlin"),
        ("Theodor-Heuss-Allee 112", "Theodor-Heuss-Allee 112"),
        ("Berliner Straße 4", "Berliner Straße 4"),
        ("221B Baker Street", "221B Baker Street"),
        ("Number 10 Downing St is famous", "10 Downing St"),
        ("Find us at 42 Victoria Road, Cambridge", "42 Victoria Road"),
    ],
)
def test_street_address_check_finds_german_and_english_addresses(text, expected):
    assert found(text, "street_address") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "Die Spiele sind auf Sportplatz 2.",
        "Am Montag 3 Stunden Mathe.",
        "Im Jahr 2015 begann alles.",
        "Wir belegten Platz 3.",
        "Year 5 Road Safety Week",
    ],
)
def test_street_address_check_leaves_places_and_times_alone(text):
    assert found(text, "street_address") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anmeldung: bit.ly/3xYzAb", "bit.ly/3xYzAb"),
        ("see https://t.co/abc123.", "https://t.co/abc123"),
        ("Formular: tinyurl.com/foo-bar", "tinyurl.com/foo-bar"),
        ("Cyrillic: b\u0456t.ly/abc", "b\u0456t.ly/abc"),
        ("Greek: g\u03bf\u03bf.gl/maps", "g\u03bf\u03bf.gl/maps"),
        (
            "full width: \uff42\uff49\uff54\uff0e\uff4c\uff59/abc",
            "\uff42\uff49\uff54\uff0e\uff4c\uff59/abc",
        ),
        ("https://rebrand.ly/x and http://is.gd/y", "https://rebrand.ly/x"),
    ],
)
def test_url_shortener_check_finds_shorteners_also_with_look_alike_letters(text, expected):
    assert found(text, "url_shortener")[0] == expected


@pytest.mark.parametrize(
    "text",
    ["Wir nutzen kein bit.ly mehr.", "Besuchen Sie https://www.schule.de/anmeldung", "a.t.co"],
)
def test_url_shortener_check_leaves_ordinary_links_alone(text):
    assert found(text, "url_shortener") == []


def test_link_domain_check_flags_denied_and_unlisted_domains():
    context = CheckContext(
        language="de",
        sector="school",
        allowed_domains=("schule.de",),
        denied_domains=("spam.example",),
    )
    text = "Siehe www.schule.de/a, https://eltern.schule.de, https://x.spam.example/y, foo.com."
    assert found(text, "link_domain", context) == ["https://x.spam.example/y", "foo.com"]


def test_blocked_and_flagged_terms_match_accent_and_case_insensitively_with_wildcards():
    context = CheckContext(
        language="de", sector="school", blocked_terms=("Schulverweis*",), flagged_terms=("Nöte",)
    )
    findings = run_checks("Der SCHULVERWEISANTRAG und die Note; NOTE und Nöte.", context)
    assert [(f.category, f.severity, f.matched) for f in findings] == [
        ("blocked_term", "block", "SCHULVERWEISANTRAG"),
        ("flagged_term", "warning", "Note"),
        ("flagged_term", "warning", "NOTE"),
        ("flagged_term", "warning", "Nöte"),
    ]


def test_form_checks_report_missing_alt_text_and_too_long_networks():
    context = CheckContext(
        language="en",
        sector="company",
        images_without_alt=2,
        network_lengths=(("bluesky", 320, 300), ("mastodon", 320, 500)),
    )
    findings = run_checks("Hello", context)
    assert [(f.category, f.start, f.end) for f in findings] == [
        ("missing_alt_text", 0, 0),
        ("too_long", 0, 5),
    ]
    assert "bluesky" in str(findings[1].explanation)


def test_own_contacts_are_info_not_risks():
    context = CheckContext(
        language="de",
        sector="school",
        own_contacts=("+49 30 1234567", "info@schule.de", "DE89 3704 0044 0532 0130 00"),
    )
    text = "Tel. 030 1234567, info@schule.de, DE89370400440532013000, privat 0171 1234567"
    severities = [(f.category, f.severity) for f in run_checks(text, context)]
    assert severities == [
        ("phone", "info"),
        ("email", "info"),
        ("iban", "info"),
        ("phone", "warning"),
    ]


@pytest.mark.parametrize(
    ("text", "sector", "language", "category"),
    [
        ("Lena aus der 3b hat den Vorlesewettbewerb gewonnen.", "school", "de", "minor_identified"),
        ("Our Year 5 pupil Tom Baker won the chess cup.", "school", "en", "minor_identified"),
        ("Max (8) from class 2a sang beautifully.", "school", "en", "minor_identified"),
        ("Herr Maier ist an Krebs erkrankt.", "clinic", "de", "health_data"),
        ("Our patient Mrs. Jones (room 12) is recovering from her heart attack.", "clinic", "en",
         "health_data"),
        ("Our client Müller GmbH's lawsuit against Acme Ltd goes to trial.", "law_firm", "en",
         "client_matter"),
        ("Mandant Herr Schulte, Scheidung: Termin verlegt.", "law_firm", "de", "client_matter"),
        ("Übernahme von Beta AG (noch nicht öffentlich).", "company", "de", "insider_financial"),
        ("Vorläufige Zahlen: Umsatz +12 %.", "company", "de", "insider_financial"),
        ("Don't tell anyone, but revenue is up 20% before the announcement on Friday.", "company",
         "en", "insider_financial"),
    ],
)  # fmt: skip
def test_risk_checks_find_people_and_matters(text, sector, language, category):
    context = CheckContext(language=language, sector=sector)
    assert category in categories(text, context)


@pytest.mark.parametrize(
    ("text", "sector", "language"),
    [
        ("Frau Schulz und die 4a waren im Zoo.", "school", "de"),
        ("Die Klassen 3a und 3b singen im Chor.", "school", "de"),
        ("Dr. Krebs hält einen Vortrag über Krebsvorsorge.", "clinic", "de"),
        ("Unsere Klinik in Bad Kissingen und Herzberg sucht Pflegekräfte.", "clinic", "de"),
        ("Flu vaccination days next week.", "clinic", "en"),
        ("A case in point: clear contracts help.", "law_firm", "en"),
        ("In jedem Fall gilt: Fristen beachten.", "law_firm", "de"),
        ("Our Q3 report will be published on 12 November.", "company", "en"),
        ("Wie veröffentlicht, stieg der Umsatz um 7 %.", "company", "de"),
    ],
)
def test_risk_checks_leave_traps_alone(text, sector, language):
    context = CheckContext(language=language, sector=sector)
    assert categories(text, context) == []


def test_spans_point_into_nfd_text_with_soft_hyphens_and_ligatures():
    text = unicodedata.normalize(
        "NFD", "Frau Müller hat Brust\u00adkrebs. Pro\ufb01l: b\u0456t.ly/x, Düsseldorfer Straße 4"
    )
    findings = run_checks(text, CheckContext(language="de", sector="clinic"))
    by_category = {f.category: f for f in findings}
    for finding in findings:
        assert text[finding.start : finding.end] == finding.matched
    assert by_category["health_data"].matched == unicodedata.normalize(
        "NFD", "Frau Müller hat Brust\u00adkrebs"
    )
    assert by_category["url_shortener"].matched == "b\u0456t.ly/x"
    assert by_category["street_address"].matched == unicodedata.normalize(
        "NFD", "Düsseldorfer Straße 4"
    )


def test_no_break_spaces_and_full_width_digits_are_read_as_spaces_and_digits():
    text = "Tel.\u00a0\uff10\uff13\uff10\u00a0\uff11\uff12\uff13\uff14\uff15\uff16\uff17"
    (finding,) = run_checks(text, DE)
    assert (finding.category, finding.start, finding.end) == ("phone", 5, len(text))


def test_every_check_has_a_name_and_categories():
    names = [check.name for check in CHECKS]
    assert len(names) == len(set(names))
    assert all(check.categories for check in CHECKS)


def test_every_sector_has_lexicons_in_both_languages_with_starting_terms():
    for sector in SECTORS:
        for language in ("de", "en"):
            assert load_lexicon(sector, language)["blocked_terms"]
            blocked, flagged = starting_terms(sector, language)
            assert blocked and flagged


@pytest.mark.parametrize(
    ("kind", "sector"),
    [("university", "school"), ("public_office", "company"), ("other", "company"),
     ("law_firm", "law_firm"), ("clinic", "clinic")],
)  # fmt: skip
def test_institution_kinds_map_to_sectors(kind, sector):
    assert sector_for_kind(kind) == sector


def test_explanations_follow_the_active_language():
    from django.utils import translation

    (finding,) = run_checks("anna.berg@schule.de", DE)
    with translation.override("en"):
        assert str(finding.explanation) == "An e-mail address."


@pytest.mark.parametrize(
    "host",
    ["bit.ly", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly",
     "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "s.id"],
)  # fmt: skip
def test_url_shortener_check_knows_the_common_shorteners(host):
    assert found(f"Link: https://{host}/Ab3 und {host}/xyz", "url_shortener") == [
        f"https://{host}/Ab3",
        f"{host}/xyz",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "t\u0456nyurl.com/x",  # Cyrillic i
        "g\u043e\u043e.gl/x",  # Cyrillic o
        "\u0441utt.ly/x",  # Cyrillic es
        "\u03bfw.ly/x",  # Greek omicron
        "b\u0131t.ly/x",  # dotless i
    ],
)
def test_url_shortener_check_sees_through_look_alike_letters(text):
    assert found(text, "url_shortener") == [text]


@pytest.mark.parametrize(
    ("text", "sector", "language"),
    [
        # Swiss and Austrian school years name the class: "2. Sek", "4. HAK"
        ("Gratulation an Timo aus der 1. Sek zum Kantonsrekord im Weitsprung!", "school", "de"),
        ("Sara aus der 4. HAK vertritt uns beim Redewettbewerb.", "school", "de"),
        # a pet form of a listed given name: "Paulchen", "Hansli"
        ("Unser Hansli aus der 2a hat den Malwettbewerb gewonnen.", "school", "de"),
        ("Heute hat Mariechen (Kl. 1b) zum ersten Mal vorgelesen.", "school", "de"),
    ],
)
def test_minor_check_reads_swiss_austrian_school_years_and_pet_names(text, sector, language):
    context = CheckContext(language=language, sector=sector)
    assert "minor_identified" in categories(text, context)


@pytest.mark.parametrize(
    "text",
    [
        "Die 1. Sek besucht morgen das Verkehrshaus.",
        "Unser Maskottchen Bärli begrüßt die neuen Erstklässler.",
    ],
)
def test_minor_check_leaves_school_years_without_a_child_alone(text):
    assert "minor_identified" not in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Little Noah was born at home on 3 March 2026.",
        "Lina, geboren in Linz am 4.7.2019, kommt nach den Ferien zu uns.",
    ],
)
def test_date_of_birth_check_reads_a_place_between_born_and_the_date(text):
    assert found(text, "date_of_birth")


def test_date_of_birth_check_leaves_born_and_a_later_unrelated_date_alone():
    text = "Our founder was born in a small village; today, on 4 May, we open our tenth store."
    assert found(text, "date_of_birth") == []


def test_insider_flag_covers_the_unreleased_figure_of_its_sentence():
    context = CheckContext(language="de", sector="company")
    text = "Die Jahreszahlen sind noch nicht raus, aber der Auftragseingang liegt bei 31 Mio. Euro."
    flags = [f for f in run_checks(text, context) if f.category == "insider_financial"]
    assert len(flags) == 1
    assert "31 Mio" in flags[0].matched


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Das Siegtor schoss Mats, unser jüngster Spieler (U12).", "de"),
        ("Well done to Evie from our U9 squad for her first goal!", "en"),
        ("Our star of the week is Noor M. for always helping others!", "en"),
    ],
)
def test_minor_check_reads_youth_age_groups_and_pupil_of_the_week(text, language):
    context = CheckContext(language=language, sector="school")
    assert "minor_identified" in categories(text, context)


def test_minor_check_leaves_an_underground_line_alone():
    assert "minor_identified" not in categories("Frau Berger fährt mit der U6 zur Schule.")


def test_date_of_birth_check_reads_a_birthday_next_to_a_date_of_an_earlier_year():
    text = "Alles Gute, Jana! Geburtstag hat sie heute, zur Erinnerung: 7.12.1991 😊"
    assert found(text, "date_of_birth")


@pytest.mark.parametrize(
    "text",
    [
        "Geburtstagsfeier des Fördervereins am 12.12.2099 in der Aula.",
        "Happy birthday to us! On 3 May 1999 we opened our first shop.",
    ],
)
def test_date_of_birth_check_leaves_parties_to_come_and_our_own_birthday_alone(text):
    assert found(text, "date_of_birth") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Apéro chez moi: Chemin des Vignes 4, 1009 Pully", "Chemin des Vignes 4, 1009 Pully"),
        ("Grigliata da me, Via Cantonale 8a a Lugano", "Via Cantonale 8a"),
    ],
)
def test_street_address_check_reads_swiss_french_and_italian_streets(text, expected):
    assert found(text, "street_address") == [expected]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Fragen an unser Sekretariat: sekretariat@realschule-ost.de", "email"),
        ("Write to admissions [at] hillside-academy [dot] org", "email"),
        ("Zentrale: 0711 98765-0", "phone"),
        ("Unsere Praxis: Goethestraße 14, 70173 Stuttgart", "street_address"),
        ("Our new office is at 12 King Street, Leeds.", "street_address"),
    ],
)
def test_role_addresses_switchboards_and_our_premises_are_shown_as_info(text, category):
    context = CheckContext(language="de" if "Unsere" in text or "Zentrale" in text else "en",
                           sector="company")  # fmt: skip
    flags = [f for f in run_checks(text, context) if f.category == category]
    assert [f.severity for f in flags] == ["info"]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Schreib mir: lena.info@gmx.de", "email"),
        ("Privat: mail@lena-berger.de", "email"),
        ("Ruf mich an: 0711 98765-20", "phone"),
        ("Grillen bei mir, unser Team trifft sich in der Goethestraße 14.", "street_address"),
        ("Our team meets at my home office, 12 King Street.", "street_address"),
    ],
)
def test_personal_contacts_next_to_role_words_stay_warnings(text, category):
    flags = [f for f in run_checks(text, DE) if f.category == category]
    assert [f.severity for f in flags] == ["warning"]


def test_a_sixth_former_is_a_pupil_not_a_former_one():
    text = "Thanks to sixth-former Ruby Walsh, who ran the school's climate week."
    assert "minor_identified" in categories(text, EN)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("H1 margin hit 11%, results out on the 28th \u2013 keep quiet till then!", "en"),
        ("Psst, nicht weitersagen: Wir gehen nächstes Jahr an die Börse.", "de"),
    ],
)
def test_insider_check_reads_more_ways_of_keeping_news_back(text, language):
    context = CheckContext(language=language, sector="company")
    assert "insider_financial" in categories(text, context)


@pytest.mark.parametrize(
    "text",
    [
        "Congratulations Tom \u2013 baby Ada arrived safely on 2 December 2026!",
        "Quiz champion: Sam (b. 14/02/1985) from accounts.",
    ],
)
def test_date_of_birth_check_reads_a_baby_arriving_and_b_for_born(text):
    assert found(text, "date_of_birth", EN)


def test_date_of_birth_check_leaves_a_parcel_arriving_and_a_first_school_day_alone():
    assert found("The new laptops arrived on 2 December 2026.", "date_of_birth", EN) == []
    assert found("Mein Sohn ist am 3.5.2019 eingeschult worden.", "date_of_birth") == []


def test_health_check_leaves_a_doctors_talk_named_after_its_topic_alone():
    context = CheckContext(language="de", sector="clinic")
    text = "Infoabend: Rheuma im Alltag \u2013 Dr. Lindqvist erklärt neue Therapien."
    assert "health_data" not in categories(text, context)
    ill = "Nach der Rheuma-Diagnose ist Dr. Lindqvist jetzt in Teilzeit."
    assert "health_data" in categories(ill, context)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ansprechpartner: j.berger(a)berger-bau.de", "j.berger(a)berger-bau.de"),
        ("write to sam . lee @ example . org", "sam . lee @ example . org"),
    ],
)
def test_email_check_reads_a_for_at_and_spaced_dots(text, expected):
    assert found(text, "email") == [expected]


def test_email_check_leaves_a_listed_a_alone():
    assert found("Siehe Punkt (a) und beispiel.de für Details.", "email") == []


def test_phone_check_reads_an_en_dash_after_the_area_code():
    assert found("Privat: 0711 \u2013 23 45 67", "phone") == ["0711 \u2013 23 45 67"]


def test_insider_check_leaves_a_contests_winner_alone_and_reads_a_purchase_price():
    company = CheckContext(language="de", sector="company")
    text = "Die Gewinnerin der Tombola wird am Freitag bekanntgegeben."
    assert "insider_financial" not in categories(text, company)
    english = CheckContext(language="en", sector="company")
    text = "Strictly confidential: we plan to buy Harlow Foods for $25m."
    assert "insider_financial" in categories(text, english)


def test_health_check_reads_a_patient_on_a_ward_and_a_name_given_an_age():
    clinic = CheckContext(language="en", sector="clinic")
    text = "Mr. Osei, our patient on the cancer ward, celebrated his birthday with the nurses."
    assert "health_data" in categories(text, clinic)
    text = "Meet Hope, 41, who beat leukaemia and now runs marathons for us."
    assert "health_data" in categories(text, clinic)
    assert "health_data" not in categories("Our cancer ward has new armchairs.", clinic)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Ben from bed 9 is finally off the ventilator!", "en"),
        ("Nach ihrer Hüft-TEP läuft Frau Hollmann schon wieder ohne Stock.", "de"),
        ("Unser Kollege Jens kämpft seit Mai gegen Darmkrebs, wir denken an dich!", "de"),
    ],
)
def test_health_check_reads_ventilators_own_operations_and_battles(text, language):
    context = CheckContext(language=language, sector="clinic")
    assert "health_data" in categories(text, context)


def test_health_check_still_leaves_a_midwife_and_their_clients_alone():
    context = CheckContext(language="en", sector="clinic")
    text = "Our midwife Lucy Hart supports pregnant women throughout their pregnancy."
    assert "health_data" not in categories(text, context)


def test_client_check_reads_expropriation_and_alpine_given_names():
    context = CheckContext(language="de", sector="law_firm")
    text = "Für unsere Mandantin Vreni Aebi haben wir die Enteignung ihrer Alp verhindert."
    assert "client_matter" in categories(text, context)


def test_insider_check_reads_a_release_still_to_come_on_a_weekday():
    context = CheckContext(language="en", sector="company")
    text = "Heads-up before Tuesday's release: H2 sales are up 12%."
    assert "insider_financial" in categories(text, context)


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("Resi wird am 3. Feber 40 - Kuchen im Pausenraum!", DE),
        ("Omar celebrates his 30th birthday on 7/22, drinks after work!", EN),
    ],
)
def test_date_of_birth_check_reads_austrian_months_us_dates_and_an_age_after_the_date(
    text, context
):
    assert found(text, "date_of_birth", context)


def test_date_of_birth_check_leaves_a_brand_turning_an_age_alone():
    text = "Our app turns 5 on 2 March - thanks to every user!"
    assert found(text, "date_of_birth", EN) == []


def test_minor_check_reads_an_age_given_with_mit_or_at_the_age_of():
    text = "Mit 12 Jahren schon Landesmeister im Schach: Bravo, Jannik Roth!"
    assert "minor_identified" in categories(text)
    text = "At the age of 9, Ruby Cole is our youngest chess champion."
    assert "minor_identified" in categories(text, EN)
    assert "minor_identified" not in categories("Anna Schulz kam mit 3 Kollegen zum Fest.")


def test_insider_check_reads_for_your_eyes_only_and_leaves_a_quarterly_meeting_alone():
    company = CheckContext(language="en", sector="company")
    text = "For your eyes only: the dividend rises to 95p."
    assert "insider_financial" in categories(text, company)
    text = "Quarterly all-hands tomorrow at 9am in the canteen."
    assert "insider_financial" not in categories(text, company)


def test_date_of_birth_check_leaves_a_birth_more_than_105_years_ago_alone():
    assert found("Edith Piaf was born on 19 December 1915 in Paris.", "date_of_birth", EN) == []
