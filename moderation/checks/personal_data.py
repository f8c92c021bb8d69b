"""Personal data: e-mail addresses, phone numbers, IBANs, dates of birth, street addresses."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

import phonenumbers
from django.utils.translation import gettext_lazy as _
from stdnum import iban as stdnum_iban

from moderation.checks.base import Check, CheckContext, Finding
from moderation.checks.text import PreparedText

# --- e-mail ---------------------------------------------------------------------------------
# A fediverse handle is "@user@instance.social": the user part is preceded by "@". An e-mail
# address never is, so a local part directly after "@" (or after a word character, dot, plus or
# hyphen) does not start an address. "user@instance.social" without the leading "@" is an
# address as far as anyone reading it can tell, and is flagged.
_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"
# "(a)" for "at" only when glued to both parts: "p.hahn(a)firma.de", not "Punkt (a) firma.de"
_AT = rf"(?:\s?@\s?|\s*{_OPEN}\s*(?:at|@)\s*{_CLOSE}\s*|\(a\)(?=\w))"
# also spaced out: "alex . morgan @ outlook . com"
_DOT = rf"(?:\.|\s*{_OPEN}\s*(?:dot|punkt|\.)\s*{_CLOSE}\s*|\s\.\s)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(
    rf"(?<![\w.@+%-])[a-z0-9](?:[a-z0-9._%+-]{{0,63}}[a-z0-9_])?(?:\s\.\s[a-z0-9_]+)*{_AT}"
    rf"{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[a-z]{{2,24}}(?![\w-])"
    # spelled out without brackets: "anna dot berg at schule dot de"
    rf"|(?<![\w.@])[a-z0-9]+(?:(?:\.|\s+dot\s+|\s+punkt\s+)[a-z0-9]+)*\s+at\s+{_LABEL}"
    r"(?:\s+(?:dot|punkt)\s+[a-z0-9-]+)*\s+(?:dot|punkt)\s+"
    r"(?:com|de|org|net|at|ch|uk|eu|info|io|edu|gov|social)(?!\w)"
)

# A role address names a desk, not a person ("info@", "sekretariat@"): shown, not a risk.
_ROLE_LOCAL_PARTS = frozenset(
    ["info", "kontakt", "contact", "office", "sekretariat", "empfang", "reception", "anmeldung",
     "termine", "appointments", "presse", "press", "media", "hello", "hallo", "service",
     "verwaltung", "schulleitung", "admissions", "enquiries", "inquiries", "bewerbung",
     "bewerbungen", "jobs", "careers", "karriere", "poststelle", "datenschutz", "privacy",
     "zentrale", "team", "support"]
)  # fmt: skip
_LOCAL_PART = re.compile(r"[a-z0-9._%+-]+")
_AT_WORD = re.compile(rf"{_OPEN}\s*at\s*{_CLOSE}|\sat\s|\(a\)\w")


class EmailCheck(Check):
    name = "personal_data.email"
    categories = ("email",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        if "@" not in text.folded and not _AT_WORD.search(text.folded):
            return  # most texts: no address can be in them
        for match in _EMAIL.finditer(text.folded):
            local = _LOCAL_PART.match(match.group())
            if local and local.group().strip(" ._-") in _ROLE_LOCAL_PARTS:
                yield self.finding(
                    text, *match.span(), _("A role address, not a person's."), severity="info"
                )
                continue
            yield self.finding(text, *match.span(), _("An e-mail address."))


# --- phone ----------------------------------------------------------------------------------
# IBAN-shaped: country letters, two check digits, groups (the IBAN check tests the checksum).
_IBAN = re.compile(r"(?<![\w])[a-z]{2}\d{2}(?:[ ]?[a-z0-9]{1,4}){3,9}(?![\w])")
_PHONE = re.compile(
    r"(?<![\w+/.,:-])(?<!\d[ /-])(?:"
    r"(?P<intl>(?:\+|00)[1-9]\d{0,2}[ /-]?(?:\(0\)[ /-]?)?\(?\d{1,5}\)?(?:[ /-]{0,3}\d{1,8}){1,5})"
    r"|(?P<national>\(0\d{1,5}\)[ /-]?\d{2,8}(?:[ -]\d{1,8}){0,4}"
    r"|0\d{1,5}(?:[ /-]|\s[/\u2013-]\s)?\d{2,8}(?:[ -]\d{1,8}){0,4})"
    r"|(?P<us>\(?[2-9]\d{2}\)?[ .-]?\d{3}[ .-]\d{4})"
    r")(?!\w|[.,]\d)"
)
_PHONE_CUE = re.compile(
    r"(?:tel|telefon\w*|fon|phone|mobil\w*|handy|cell|call|ring|anruf\w*|ruf\w*|whatsapp|sms|text"
    r"|fax|hotline|erreichbar|reach|kontakt|contact|nummer|number|durchwahl)\W{0,12}$"
)
_HOTLINE = re.compile(
    r"(?:notruf|seelsorge|hotline|helpline|sorgentelefon|kummer|childline|samaritans|poison"
    r"|krisendienst|krisentelefon|bereitschaftsdienst|notdienst)\w*\W+(?:\w+\W+){0,3}$"
)
# "089 123456-0": the German way of writing an institution's switchboard.
_SWITCHBOARD = re.compile(r"\d{3}\s?-\s?0$")
_REGIONS = {"de": ("DE", "AT", "CH", "GB"), "en": ("GB", "DE", "AT", "CH")}
# Public hotlines, toll-free and shared-cost numbers are nobody's personal data.
_SERVICE_TYPES = {
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
}


def parse_phone(candidate: str, language: str, kind: str) -> phonenumbers.PhoneNumber | None:
    """The phone number a candidate spells, or None when it is none in the regions we serve."""
    raw = candidate.replace("(0)", " ")
    if kind == "intl":
        regions: tuple[str | None, ...] = (None,)
        raw = "+" + raw[2:] if raw.startswith("00") else raw
    elif kind == "us":
        regions = ("US",)
    else:
        regions = _REGIONS.get(language, _REGIONS["de"])
    possible = None
    for region in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
        if possible is None and phonenumbers.is_possible_number(number):
            possible = number
    return possible


class PhoneCheck(Check):
    name = "personal_data.phone"
    categories = ("phone",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        folded = text.folded
        # Digits inside an IBAN-shaped number ("NL12 ABNA 0123 4567 89", an order number that
        # fails the checksum) are a reference, not a phone number.
        references = [m.span() for m in _IBAN.finditer(folded)]
        for match in _PHONE.finditer(folded):
            if any(lo <= match.start() < hi for lo, hi in references):
                continue
            kind = match.lastgroup or "national"
            candidate = match.group()
            digits = sum(c.isdigit() for c in candidate)
            if digits < 6 or digits > 15:
                continue
            number = parse_phone(candidate, context.language, kind)
            if number is None:
                continue
            valid = phonenumbers.is_valid_number(number) or kind == "us"  # "555-123-4567"
            if not valid:
                # Only a possible number (fictional ranges like 07700 900123): needs a cue
                # ("Tel.", "call") or an unmistakable phone shape.
                cue = _PHONE_CUE.search(folded, max(0, match.start() - 30), match.start())
                if not cue and not (candidate[0] in "+0(" and digits >= 10 and " " in candidate):
                    continue
            elif phonenumbers.number_type(number) in _SERVICE_TYPES:
                continue
            if _HOTLINE.search(folded, max(0, match.start() - 40), match.start()):
                continue  # "Giftnotruf 089 19240": a public helpline, nobody's own number
            if _SWITCHBOARD.search(candidate):
                yield self.finding(
                    text, *match.span(), _("A switchboard number, not a person's."), severity="info"
                )
                continue
            yield self.finding(text, *match.span(), _("A phone number."))


# --- IBAN -----------------------------------------------------------------------------------


class IbanCheck(Check):
    name = "personal_data.iban"
    categories = ("iban",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        for match in _IBAN.finditer(text.folded):
            found = valid_iban_prefix(match.group())
            if found:
                start = match.start()
                yield self.finding(text, start, start + found, _("A bank account number (IBAN)."))


def valid_iban_prefix(candidate: str) -> int:
    """The length of the longest prefix that is an IBAN with a valid checksum, else 0.

    A candidate may have run into the next word ("DE89 3704 ... 00 BIC"), so shorter prefixes
    ending at a group boundary are tried too.
    """
    ends = [i for i, c in enumerate(candidate) if c == " "] + [len(candidate)]
    for end in reversed(ends):
        compact = candidate[:end].replace(" ", "").upper()
        if 15 <= len(compact) <= 34 and stdnum_iban.is_valid(compact):
            return end
    return 0


# --- date of birth --------------------------------------------------------------------------
_MONTHS = (
    "januar", "jan", "februar", "feb", "marz", "maerz", "mar", "april", "apr", "mai", "juni",
    "jun", "juli", "jul", "august", "aug", "september", "sept", "sep", "oktober", "okt",
    "november", "nov", "dezember", "dez", "january", "february", "march", "may", "june", "july",
    "october", "oct", "december", "dec", "janner", "jaenner", "feber",
)  # fmt: skip
# Longest names first, so that "March" is not read as "Mar" + "ch".
_MONTH = "(?:" + "|".join(sorted(set(_MONTHS), key=len, reverse=True)) + r")\.?"
_DATE = (
    r"(?:\d{1,2}\.\s?\d{1,2}\.(?:\s?(?:19|20)?\d{2}(?!\d))?"
    r"|\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})(?!\d)"
    r"|\d{1,2}/\d{1,2}(?![/\d])"  # "on 9/14"
    r"|\d{4}-\d{2}-\d{2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th|\.)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?(?!\d)"
    rf"|{_MONTH}\s+\d{{4}})"
)
_BIRTH = (
    r"(?:geboren|geb\.?-?\s?datum|geburtsdat\.|geb\.|geb|born|dob|d\.o\.b\.?|date\s+of\s+birth"
    r"|birth\s*date|geburtsdatum"
    r"|geburtstag|birthday|\*)"
)
_AGE_WORD = (
    r"(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|eins|zwei|drei|vier|funf|sechs|sieben|acht|neun|zehn"
    r"|elf|zwolf|dreizehn|vierzehn|funfzehn|sechzehn|siebzehn|achtzehn)"
)
# When the birthday is: today, tomorrow, on Saturday.
_SOON = (
    r"(?:heute|today|morgen|tomorrow|ubermorgen|am\s+(?:montag|dienstag|mittwoch|donnerstag"
    r"|freitag|samstag|sonntag|wochenende)|on\s+(?:monday|tuesday|wednesday|thursday|friday"
    r"|saturday|sunday)|this\s+(?:week|weekend|monday|tuesday|wednesday|thursday|friday|saturday"
    r"|sunday)|diese\s+woche|dieses\s+wochenende)"
)
_DATE_OF_BIRTH = re.compile(
    rf"(?<!\w){_BIRTH}[\s:,\u2013\u2014-]*(?:(?:am|on|den|the|in|ist|is|was|war)\s+){{0,2}}{_DATE}"
    rf"|(?<!\w)(?:geboren|geb\.|born|dob|jahrgang)[\s:,]*(?:(?:im\s+jahr|in)\s+)?(?:19|20)\d\d(?!\d)"
    rf"|(?<!\w)(?:am|on)\s+{_DATE}\s+(?:\w+\s+){{0,2}}(?:geboren|born|zur\s+welt)"
    # a place or a time between: "born here on 21/11/2026", "geboren bei uns im Kreißsaal am"
    rf"|(?<!\w)(?:geboren|born)\s+(?:\w+\s+){{1,4}}?(?:am|on)\s+(?:the\s+)?{_DATE}"
    # a baby's arrival: "baby Leo arrived on 1 December 2026"
    rf"|(?<!\w)(?:baby|newborn|nachwuchs|sohn|tochter|son|daughter)(?!\w)[^.!?\n]{{0,30}}?"
    rf"arrived\s+(?:safely\s+)?(?:on|am)\s+(?:the\s+)?{_DATE}"
    # "b." for born, before a full date: "(b. 08/12/1986)"
    rf"|(?<![\w.])b\.\s?(?=[\d\w ./-]{{0,20}}(?:19|20)\d\d){_DATE}"
    rf"|(?<!\w)(?:turns?|turned|will\s+be|wird|werden|wurde)\s+{_AGE_WORD}\s+"
    rf"(?:(?:years?\s+old|jahre\s+alt)\s+)?(?:on|am)\s+{_DATE}"
    rf"|(?<!\w)(?:wird|werden|turns?|feiert|feierte|feiern|celebrates?|celebrated|hat|has)\s+"
    rf"(?:am|on)\s+{_DATE}\s+(?:\w+\s+){{0,2}}{_AGE_WORD}(?:\.|st|nd|rd|th)?\s*"
    r"(?:geburtstag|birthday|jahre\s+alt|years\s+old)"
    rf"|(?<!\w)\d{{1,2}}(?:\.|st|nd|rd|th)\s+(?:geburtstag|birthday)\s+(?:am|on)\s+{_DATE}"
    # the age right after the date: "Lisa wird am 12. Jänner 30!", "Sam turns on 3 May 40."
    rf"|(?<!\w)(?:wird|turns)\s+(?:am|on)\s+{_DATE}\s+{_AGE_WORD}(?=\s*(?:[!,.;\u2013-]|$))"
    rf"|(?<!\w){_DATE}\s*(?:\(|,|-|:)?\s*\d{{1,2}}(?:\.|st|nd|rd|th)\s+(?:geburtstag|birthday)"
    # A birthday given with the age tells the date of birth: "feiert heute ihren 95. Geburtstag",
    # "Happy 10th birthday", "who turns 5 today", "die heute 10 Jahre alt wird".
    rf"|(?<!\w){_SOON}\s+(?:\w+\s+){{0,2}}(?P<ordinal>\d{{1,3}})(?:\.|st|nd|rd|th)\s+"
    r"(?:geburtstag|birthday)"
    rf"|(?<![\w.,])(?P<ordinal2>\d{{1,3}})(?:\.|st|nd|rd|th)\s+(?:geburtstag|birthday)\s+"
    rf"(?:\w+\s+){{0,2}}{_SOON}(?!\w)"
    rf"|(?<!\w)(?:turns?|turned|turning|wird|werden)\s+(?:{_SOON}\s+)"
    rf"(?:(?:auch|also|schon|bereits|stolze|ganze|now|jetzt)\s+)?{_AGE_WORD}(?![\w.,:]\d|\w)"
    r"(?:\s+(?:jahre|years?)(?:\s+alt|\s+old)?)?(?!\s*(?!und\s|and\s)[a-z0-9])"  # no "20 Grad"
    rf"|(?<!\w)(?:turns?|turned|turning|wird|werden)\s+{_AGE_WORD}(?:\s+(?:jahre|years?)"
    rf"(?:\s+alt|\s+old)?)?\s+{_SOON}(?!\w)"
    rf"|(?<!\w){_SOON}\s+(?:(?:auch|also|schon|bereits|stolze|ganze)\s+)?{_AGE_WORD}\s+"
    r"(?:(?:jahre\s+alt|years\s+old)\s+)?(?:wird|werden|geworden)(?!\w)"
)
_INSTITUTION_BIRTHDAY = re.compile(
    r"schule|school|kanzlei|firm|klinik|clinic|praxis|practice|unternehmen|company|firma|verein"
    r"|jubilaum|anniversary|grundung|founded|gegrundet|kita|kindergarten|gymnasium|hospital"
    r"|krankenhaus|club|chor|choir|museum|filiale|store|stadt|town|city|gemeinde|village"
)
# An institution as the one having the birthday (whole words: "Schülerin" is no "Schule").
_INSTITUTION_TURNS = re.compile(
    r"(?<!\w)(?:schule|school|kita|kindergarten|gymnasium|kanzlei|firm|klinik|clinic|praxis"
    r"|practice|hospital|krankenhaus|unternehmen|company|firma|verein|club|office|buro|filiale"
    r"|store|shop|laden|chor|choir|stadt|town|city|team|abteilung|department|station|ward"
    r"|brand|marke|label|product|produkt|app|website|blog|podcast|newsletter|restaurant|cafe"
    r"|hotel|start-up|startup|magazin|magazine|festival)"
    r"(?:s|n|e|en|es)?(?!\w)(?:\s+\w+){0,2}\s*$"
)
# Every form above holds one of these (a cheap test before the expensive pattern).
_BIRTH_HINT = re.compile(
    r"geb|born|dob|d\.o\.b|birth|geburt|turn|wird|werden|wurde|will\s+be|\*|welt|jahre\s+alt"
    r"|arrived|b\."
    r"|years\s+old"
)
_BIRTHDAY = re.compile(r"geburtstag|birthday")
_BORN = re.compile(r"geboren|born|(?<!\w)geb(?:\.|(?!\w))|dob|d\.o\.b|geburtsdatum|date of birth")
# A birthday and a full date of an earlier year next to it: "hat heute Geburtstag (5.12.1996)".
_BIRTHDAY_THEN_DATE = re.compile(
    r"(?<!\w)(?:geburtstag|birthday)(?!\w)[^\n]{0,40}?(?<!\d)"
    r"(?:\d{1,2}\.\s?\d{1,2}\.\s?|\d{1,2}/\d{1,2}/|\d{1,2}(?:st|nd|rd|th|\.)?\s+(?:of\s+)?"
    rf"{_MONTH},?\s+|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+)(?P<year>(?:19|20)\d\d)(?!\d)"
)
_OUR_BIRTHDAY = re.compile(r"(?:geburtstag|birthday)\W+(?:to\s+|an\s+)?(?:us|uns)(?!\w)")
# A birth year more than 105 years ago: a historical figure, no living person.
_YEAR = re.compile(r"(?<!\d)1\d{3}(?!\d)")
_HISTORIC_BEFORE = datetime.date.today().year - 105


def _historic(matched: str) -> bool:
    return any(int(year) < _HISTORIC_BEFORE for year in _YEAR.findall(matched))


class DateOfBirthCheck(Check):
    name = "personal_data.date_of_birth"
    categories = ("date_of_birth",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        folded = text.folded
        if not _BIRTH_HINT.search(folded):
            return
        for match in _DATE_OF_BIRTH.finditer(folded):
            matched = match.group()
            if _historic(matched):  # a historical figure, not a person of ours
                continue
            ordinal = match.group("ordinal") or match.group("ordinal2")
            if ordinal and int(ordinal) > 115:
                continue  # "Beethovens 250. Geburtstag", a town's 800th: no living person
            if not _BORN.search(matched) and _BIRTHDAY.search(matched):
                around = folded[max(0, match.start() - 60) : match.end() + 20]
                if _INSTITUTION_BIRTHDAY.search(around):
                    continue
            if not _BORN.search(matched) and _INSTITUTION_TURNS.search(
                folded, max(0, match.start() - 30), match.start()
            ):
                continue  # "Our school turns 50 today", "Die Kita wird morgen 10 Jahre alt"
            yield self.finding(text, *match.span(), _("A date of birth."))
        last_year = datetime.date.today().year - 1
        for match in _BIRTHDAY_THEN_DATE.finditer(folded):
            if _historic(match.group()) or int(match.group("year")) > last_year:
                continue  # a historical figure; a party still to come
            around = folded[max(0, match.start() - 60) : match.end() + 60]
            if _INSTITUTION_BIRTHDAY.search(around) or _OUR_BIRTHDAY.match(folded, match.start()):
                continue  # "Happy birthday to us! ... on 1 April 2001 we founded the company"
            yield self.finding(text, *match.span(), _("A date of birth."))


# --- street address -------------------------------------------------------------------------
_HOUSE = (
    r"\s{1,3}\d{1,3}(?!\d)\s?[a-zA-Z]?(?:\s?[-/]\s?\d{1,3}[a-zA-Z]?)?(?![\w])(?![.,]\d)"
    r"(?!\s?(?:%|€|Euro|EUR|Uhr|Jahre|Stunden|Minuten|Tage|Kinder|Mal|Prozent|Personen|km|m\b|h\b"
    r"|Tag\b|Tagen|Woche|Monat|Jahr\b|Jahren|Stunde\b|Minute\b|Std\b|Min\b|Punkte|Tore|Stück"
    r"|Teilnehmer|Plätze|Platze|x\b))"
)
_POSTCODE = r"(?:,?\s{1,3}(?:D-|A-|CH-)?\d{4,5}\s+[A-Z][\w-]+)?"
_DE_SUFFIX = (
    r"(?:strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|pfad|stieg|kamp"
    r"|graben|wall|markt|zeile|twiete|promenade)"
)
_NOT_STREET = (
    r"(?:sport|spiel|park|arbeits|tabellen|start|stell|camping|lager|bau|sitz|tennis|fussball"
    r"|rasen|golf|reit|schul|pausen|bolz|ausbildungs|studien|kita|krippen|praktikums|ehren"
    r"|stamm|steh|zelt|wohn|bahn|flug|sieger|spitzen|mittel|heim|ruck|floh|wochen|super"
    r"|weihnachts|treppchen|podest|box|tages|fahr|lehr|kinder|studien)"
)
_PREP = (
    r"(?:Am|An\s+der|An\s+den|Auf\s+dem|Auf\s+der|Im|In\s+der|In\s+den|Zum|Zur|Unter\s+den"
    r"|Hinter\s+der|Hinter\s+dem|Vor\s+dem|Beim|Bei\s+der)"
)
_NOT_PLACE = (
    r"(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|Wochenende|Anfang|Ende|Tag"
    r"|Abend|Morgen|Nachmittag|Vormittag|Mittag|Jahr|Jahre|Schluss|Start|Ziel|Stand|Tisch|Januar"
    r"|Februar|Maerz|Marz|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|Schuljahr"
    r"|Halbjahr|Quartal|Monat|Zeitraum|Alter|Durchschnitt|Moment|Termin|Ergebnis|Rahmen|Bereich"
    r"|Kurs|Kapitel|Raum|Zimmer|Saal|Gruppe|Klasse|Jahrgang|Finale|Spiel|Training|Wettbewerb"
    r"|Rennen|Turnier|Level|Test|Schnitt|Vergleich|Gesamt|Einsatz|Team|Verein|Ganzen|Vorfeld)"
)
_STREET_DE = re.compile(
    rf"(?<![\w-])(?:(?:[A-Z][a-z]+(?:er|es|e)\s+)?[A-Z][\w]*(?:-[\w]+)*-?(?i:{_DE_SUFFIX})"
    rf"|[A-Z][a-z]+(?:er|es|sche|sches)\s+(?:Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer"
    rf"|Chaussee|Markt)"
    rf"|{_PREP}\s+(?!{_NOT_PLACE}\b)[A-Z][\w-]+(?:\s+(?!{_NOT_PLACE}\b)[A-Z][\w-]+)?)"
    rf"{_HOUSE}{_POSTCODE}"
)
_EN_SUFFIX = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Place|Pl|Court|Ct|Crescent"
    r"|Terrace|Gardens|Square|Sq|Boulevard|Blvd|Row|Grove|Mews|Parade|Walk|Parkway|Pkwy|Highway"
    r"|Hwy|Circle|Cir|Trail|Hill|Rise|Green|Embankment|Esplanade|Crescent|Wharf|Quay|Vale|View"
    r"|Chase|Gate|Yard|Broadway|Turnpike|Pike)"
)
_NOT_STREET_WORD = re.compile(rf"(?<![a-z]){_NOT_STREET}(?:platz|steig|markt|ring)(?:\s|$)")
# "99 Bishopsgate, London EC2M 3XD": no street word, but a UK postcode.
_STREET_UK_POSTCODE = re.compile(
    r"(?<![\w.,/-])\d{1,4}[A-Za-z]?\s+(?:[A-Z][\w']+\s+){0,3}[A-Z][\w']+,\s+"
    r"(?:[A-Z][\w']+\s+){0,2}[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}(?!\w)"
)
_STREET_EN = re.compile(
    r"(?<![\w.,/-])\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][\w']+\s+){1,3}"
    rf"{_EN_SUFFIX}(?!\w)\.?(?:\s+(?:NW|NE|SW|SE|N|S|E|W)(?!\w))?"
    r"(?:,?\s+[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}(?!\w))?"
)

# Swiss French and Italian forms: "Rue de Lausanne 12", "Chemin des Vignes 4", "Via Cantonale 8".
_STREET_ROMANCE = re.compile(
    r"(?<![\w-])(?:Rue|Avenue|Av\.|Chemin|Ch\.|Route|Rte|Boulevard|Bd|Quai|Ruelle|Impasse|Place"
    r"|Via|Viale|Piazza|Piazzetta|Corso|Vicolo|Strada|Salita)\s+"
    r"(?:(?:de\s+la|de|du|des|della|dello|del|dei|delle|degli|di|al|alla)\s+|[dl]['\u2019])?"
    r"[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,2}"
    rf"{_HOUSE}{_POSTCODE}"
)


# A public building named right before its address: "im Rathaus, Marktplatz 1", "the town hall,
# 1 High Street". Where the public meets is no one's private address.
_PUBLIC_PLACE = re.compile(
    r"(?<!\w)(?i:rathaus|stadthaus|stadthalle|festhalle|mehrzweckhalle|turnhalle|sporthalle"
    r"|burgerhaus|burgerzentrum|gemeindehaus|gemeindezentrum|gemeindesaal|pfarrheim|kulturhaus"
    r"|kulturzentrum|\w*bibliothek|\w*bucherei|\w*museum|theater|\w*gericht|landratsamt"
    r"|\w*amt|bezirksamt|burgerburo|kirche|dom|munster|\w*bahnhof|stadion|messe|\w*halle"
    r"|town\s+hall|city\s+hall|village\s+hall|guildhall|library|museum|courthouse|court"
    r"|cathedral|church|stadium|station|community\s+(?:centre|center|hall)|leisure\s+centre"
    r"|civic\s+centre|arena|theatre|theater|gallery|register\s+office)"
    r"(?:\s+[A-Z][\w-]*){0,3}\s*(?:,|:|\(|\u2013|-)\s*$"  # its name may follow: "Rathaus Mitte"
)


# The institution giving its own premises: "Unsere Kanzlei: Maximilianstraße 10", "our new
# office at 2 King Street" (not "my home office", "bei mir in der Praxis").
_OUR_PREMISES = re.compile(
    r"(?<!\w)(?:unsere?[rnms]?|our)\s+(?:neue[nrs]?\s+|new\s+|main\s+)?(?:kanzlei|praxis|klinik"
    r"|schule|buro|buros|office|offices|practice|clinic|school|firm|sitz|hauptsitz|standort"
    r"|geschaftsstelle|filiale|adresse|anschrift|address|headquarters|hq|raume|premises"
    r"|sekretariat|empfang|reception)(?!\w)(?:(?!\b(?:mir|mich|my|me|home|zuhause|privat\w*)\b)"
    r"[^.!?\n]){0,40}$"
)


class StreetAddressCheck(Check):
    name = "personal_data.street_address"
    categories = ("street_address",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        for pattern in (_STREET_DE, _STREET_EN, _STREET_UK_POSTCODE, _STREET_ROMANCE):
            for match in pattern.finditer(text.plain):
                start, end = match.span()
                if pattern is _STREET_DE and _NOT_STREET_WORD.search(match.group().lower()):
                    continue  # "Sportplatz 2", "Bahnsteig 3": places, not addresses
                if _PUBLIC_PLACE.search(text.plain, max(0, start - 60), start):
                    continue
                if _OUR_PREMISES.search(text.folded, max(0, start - 60), start):
                    yield self.finding(
                        text, start, end, _("The institution's own address."), severity="info"
                    )
                    continue
                yield self.finding(text, start, end, _("A street address."))
