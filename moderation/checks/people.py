"""Who a text is about: names, titles, roles, companies, and the sentences they stand in.

The risk checks pair these mentions with words from the sector lexicons. Everything works on
the prepared text (``plain`` for case, ``folded`` for words); spans are prepared-text spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from moderation.checks.lexicons import famous_names, given_names, lexicon_pattern
from moderation.checks.text import PreparedText


@dataclass(frozen=True)
class Mention:
    """A person or company the text names or singles out."""

    start: int
    end: int
    kind: str  # "titled" | "full" | "given" | "company" | "role" | "room"
    adult: bool = False
    doctor: bool = False
    ambiguous: bool = False  # a given name that is also a word ("Max", "Will"): weak alone


_TITLE = re.compile(
    r"(?<![\w.])(?P<title>Herrn?|Frau|Hr\.|Fr\.|Dr\.?|Prof\.?|Mr\.?|Mrs\.?|Ms\.?|Miss|Mx\.?|Familie"
    r"|Family|Sir|Dame|Schwester|Pfleger|Ehepaar)(?:\s+(?:Dr\.|Prof\.|med\.|rer\.|nat\.))*"
    r"\s+(?:[A-Z]\.\s+)?(?P<name>[A-Z][\w']*(?:-[A-Z][\w']*)*)(?![\w-])"
)
_ROLE_THEN_NAME = re.compile(
    r"(?<!\w)(?i:kollegin|kollege|colleague|mitarbeiterin|mitarbeiter|azubi|auszubildende[r]?"
    r"|patientin|patient|bewohnerin|bewohner|schulerin|schuler|pupil|student|mandantin|mandant"
    r"|klientin|klient|client|pflegerin|pfleger|receptionist|apprentice|trainee|intern)"
    r"\s+(?!(?:Dr|Prof|Herr|Frau|Mr|Mrs|Ms|Miss)\b)(?P<name>(?:[A-Z]\.\s?)?[A-Z][a-z][\w']*)"
    r"(?![\w.-])"
)
# A first name the names list lacks, marked by a class or a child's age in brackets: "Marlon
# (5b)", "Zeynep (Y4)", "Aurelio (8)". A timetable's "Mathe (5a)" is a subject, not a pupil.
_NAME_WITH_CLASS = re.compile(
    r"(?<![\w'-])(?P<name>[A-Z][a-z]{2,})\s?\((?:Klasse\s?|Kl\.\s?|Year\s?|Y|Grade\s?)?"
    r"(?:\d{1,2}[a-fA-F]?|\d{1,2}\s?(?:J\.|Jahre|yrs?|years?))\)"
)
_LOWERCASE_NAME_WITH_CLASS = re.compile(
    r"(?<![\w'@#-])(?P<name>[a-z]{3,})\s+(?:aus\s+der|aus|in\s+der|der|from|in)\s+"
    r"(?:klasse\s?|class\s?|year\s?|y)?\d{1,2}[a-f]?(?!\w)"
)
_SUBJECTS = frozenset(
    [
        "mathe",
        "mathematik",
        "deutsch",
        "englisch",
        "franzosisch",
        "latein",
        "spanisch",
        "sport",
        "kunst",
        "musik",
        "bio",
        "biologie",
        "chemie",
        "physik",
        "geschichte",
        "erdkunde",
        "geografie",
        "religion",
        "ethik",
        "informatik",
        "werken",
        "technik",
        "raum",
        "gruppe",
        "klasse",
        "kurs",
        "ag",
        "maths",
        "math",
        "english",
        "french",
        "german",
        "science",
        "history",
        "geography",
        "art",
        "music",
        "drama",
        "computing",
        "room",
        "group",
        "set",
        "class",
        "form",
        "lesson",
        "period",
        "unit",
        "chapter",
        "kapitel",
        "seite",
        "page",
        "teil",
        "part",
        "level",
        "stufe",
        "note",
        "grade",
    ]
)
_ROLE_NOUNS = frozenset(
    [
        "rechtsanwaltin",
        "rechtsanwalt",
        "anwaltin",
        "anwalt",
        "notarin",
        "notar",
        "doktor",
        "doktorin",
        "professor",
        "professorin",
        "kollegin",
        "kollege",
        "direktorin",
        "direktor",
        "ministerin",
        "minister",
        "pfarrerin",
        "pfarrer",
        "oberarztin",
        "oberarzt",
        "chefarztin",
        "chefarzt",
    ]
)
_CAPITALISED = re.compile(r"(?<![\w'-])[A-Z][\w']*(?:-[A-Z][\w']*)*(?![\w'-])")
NOT_SURNAME = frozenset(  # words after a given name that are no surname
    [
        "und",
        "and",
        "aus",
        "der",
        "die",
        "das",
        "dem",
        "den",
        "mit",
        "from",
        "the",
        "von",
        "in",
        "im",
        "am",
        "an",
        "on",
        "at",
        "zum",
        "zur",
        "for",
        "fur",
        "bei",
        "by",
        "klasse",
        "class",
        "year",
        "grade",
        "form",
        "jahrgang",
        "stufe",
        "gruppe",
        "group",
        "team",
        "ist",
        "hat",
        "war",
        "is",
        "has",
        "was",
        "wird",
        "montag",
        "dienstag",
        "mittwoch",
        "donnerstag",
        "freitag",
        "samstag",
        "sonntag",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "januar",
        "februar",
        "marz",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "dezember",
        "january",
        "february",
        "march",
        "may",
        "june",
        "july",
        "october",
        "december",
        "schule",
        "school",
        "gymnasium",
        "grundschule",
        "realschule",
        "kita",
        "klinik",
        "praxis",
        "kanzlei",
    ]
)
# "dass Tim Epileptiker ist": nouns of people with a condition, never a surname.
_NOT_SURNAME_ENDS = ("iker", "ikerin", "patient", "patientin")
_COMPANY = re.compile(
    r"(?:(?<![\w-])[A-Z][\w&.'-]*\s+){1,4}?"
    r"(?:GmbH(?:\s*&\s*Co\.\s*KG)?|AG|KG|OHG|GbR|UG(?:\s*\(haftungsbeschrankt\))?|e\.\s?V\."
    r"|SE|Ltd\.?|Limited|Inc\.?|LLC|LLP|plc|PLC|Corp\.?|Corporation|PartG(?:\s*mbB)?|mbH)"
    r"(?![\w])"
)
# A business named without a legal form: "Bäckerei Huber", "Stadtwerke Ahrensfelde" (trade first),
# "Harper Logistics", "Brunner Holding" (trade last).
_TRADE_FIRST = (
    r"Backerei|Bäckerei|Metzgerei|Fleischerei|Konditorei|Schreinerei|Tischlerei|Gartnerei|Gärtnerei"
    r"|Druckerei|Brauerei|Reederei|Spedition|Autohaus|Möbelhaus|Mobelhaus|Modehaus|Kaufhaus"
    r"|Stadtwerke|Gemeindewerke|Weingut|Gasthaus|Gasthof|Hotel|Restaurant|Firma|Apotheke"
    r"|Baufirma|Bauunternehmen|Ingenieurbüro|Ingenieurburo|Architekturbüro|Architekturburo"
    r"|Steuerbüro|Steuerburo|Immobilien|Sanitätshaus|Sanitatshaus|Friseursalon|Salon|Elektro"
)
_TRADE_LAST = (
    r"Holding|Holdings|Gruppe|Group|Logistik|Logistics|Fisheries|Foods|Motors|Industries|Solutions"
    r"|Systems|Technologies|Technology|Partners|Bau|Werke|Consulting|Software|Pharma|Energy"
    r"|Energie|Capital|Ventures|Media|Verlag|Bank|Versicherung|Insurance|Brewery|Bakery|Farms"
    r"|Trading|Handel|Transport|Transporte|Immobilien|Properties|Estates|Construction|Engineering"
    r"|Maschinenbau|Automotive|Airlines|Shipping|Textil|Textiles|Labs|Studios|Retail"
)
_TRADE_NAME = re.compile(
    rf"(?<![\w-])(?:(?:{_TRADE_FIRST})(?:\s+[A-Z][\w&'-]*){{1,2}}"
    rf"|(?!(?:Die|Der|Das|Den|Dem|Unsere?|Our|The|This|Your|Ihre?|Eine?|A|An)\s)[A-Z][\w&'-]*"
    rf"(?:\s+[A-Z][\w&'-]*)?\s+(?:{_TRADE_LAST}))(?![\w-])"
)
_ROOM = re.compile(
    r"(?<!\w)(?:zimmer|raum|room|bett|bed|bay|platz)\s*(?:nr\.?|no\.?)?\s*\d{1,4}[a-z]?(?!\w)"
)
_SEPARATOR = re.compile(r"(?:,|;|:|\(|\)|\bund\b|\band\b|\bmit\b|\bwith\b|&|\bsowie\b|\bor\b)")
_OF_CHILD = re.compile(r"\s+(?:of|von|vom|from)\s")
_SENTENCE_BREAK = re.compile(r"[.!?…]+[\"'”“)]*\s+|\n\s*")
_ABBREVIATION = re.compile(
    r"(?:\b(?:dr|prof|hr|fr|nr|no|st|mr|mrs|ms|mx|geb|ca|bzw|vgl|inkl|str|vs|v|med|jun|sen|bzgl"
    r"|evtl|ggf|usw|etc|z\.b|u\.a|d\.h|i\.e|e\.g|jan|feb|mar|apr|aug|sep|sept|okt|oct|nov|dez"
    r"|dec|tel|kl|zi|abt|dept|approx|mob|zzgl|gem|lt|co|ltd|inc|corp|jr|sr|rev|stv|ehem|hrsg|jg)"
    r"|\b\d{1,2}|\b[a-z])[.]$"
)


_AGE_AFTER = re.compile(r"\s?(?:,\s?\d{1,3}\s?,|\(\s?\d{1,3}\s?\))")


def sentences(text: PreparedText) -> list[tuple[int, int]]:
    """The sentences of the prepared text as spans (abbreviations and ordinals do not end one)."""
    cached = text.cache.get("sentences")
    if cached is not None:
        return cached  # type: ignore[return-value]
    folded = text.folded
    spans, start = [], 0
    for match in _SENTENCE_BREAK.finditer(folded):
        if "\n" not in match.group() and _ABBREVIATION.search(
            folded, max(0, match.start() - 8), match.start() + 1
        ):
            continue
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(folded)))
    text.cache["sentences"] = spans
    return spans


def sentence_of(text: PreparedText, position: int) -> tuple[int, int]:
    """The span of the sentence holding the position."""
    for start, end in sentences(text):
        if start <= position < end:
            return start, end
    return 0, len(text.folded)


def _is_adult(text: PreparedText, start: int, end: int) -> bool:
    """A role word for an adult right before or after the name ("Klassenlehrerin Anna Berg")."""
    adults = lexicon_pattern("", "minor_identified", "adult_words")
    if adults is None:
        return False
    window = text.folded[max(0, start - 45) : start]
    separators = list(_SEPARATOR.finditer(window))
    before = window[separators[-1].end() :] if separators else window
    children = lexicon_pattern("", "minor_identified", "child_words")
    hits = list(adults.finditer(before))
    if hits and children is not None:
        # "sixth former" holds "former": inside a child word, no adult
        inside = [c.span() for c in children.finditer(before)]
        hits = [h for h in hits if not any(lo <= h.start() < hi for lo, hi in inside)]
    adult = hits[-1] if hits else None  # the role word nearest the name
    child_after = (
        children is not None and adult is not None and children.search(before, adult.end())
    )
    if adult and not child_after and not _OF_CHILD.match(before, adult.end()):
        return True  # not "der Vater unseres Schülers Luis", "the parents of Jacob"
    if separators and separators[-1].group() == "," and text.folded[end : end + 2].startswith(","):
        # an apposition: "Unsere Klassenlehrerin der 3b, Anna Becker, hat ..."
        previous = window[
            separators[-2].end() if len(separators) > 1 else 0 : separators[-1].start()
        ]
        if adults.search(previous):
            return True
    after = text.folded[end : end + 45]
    head = re.match(
        r"\s*(?:,|\(|-|\u2013)\s*(?:(?:unsere?r?|our|the|die|der|eine?r?|a|an|neue[rn]?|new|"
        r"langjahrige[rn]?)\s+){0,2}",
        after,
    )
    return bool(head and head.group().strip() and adults.match(after, head.end()))


# Pet forms of a listed given name: "Paulchen", "Hänsle", "Annerl", "Reto" -> "Retli".
_PET_SUFFIXES = ("chen", "lein", "erl", "li", "le", "l")


def _pet_form_of(word: str, names: frozenset[str], ambiguous: frozenset[str]) -> bool:
    """Whether the word is a given name with a diminutive ending ("paulchen", "hansli")."""
    for suffix in _PET_SUFFIXES:
        stem = word.removesuffix(suffix)
        if stem != word and len(stem) >= 3 and stem in names and stem not in ambiguous:
            return True
    return False


def mentions(text: PreparedText, *, guess_names: bool = False) -> list[Mention]:
    """Every person and company the text names or singles out, in order.

    With ``guess_names`` (English text), two capitalised words inside a sentence count as a
    name even when the given name is not in the lexicon ("Okoro Adebayo").
    """
    key = f"mentions:{guess_names}"
    cached = text.cache.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    if guess_names:
        named = mentions(text)
        taken = {m.start for m in named} | {m.end + 1 for m in named if m.kind == "full"}
        found = sorted(named + _guessed_names(text, taken), key=lambda m: m.start)
        text.cache[key] = found
        return found
    names, ambiguous = given_names()
    famous = famous_names()
    plain, folded = text.plain, text.folded
    found: list[Mention] = []
    taken: set[int] = set()
    for match in _TITLE.finditer(plain):
        if folded[match.start("name") : match.end("name")] in _ROLE_NOUNS:
            continue  # "Frau Rechtsanwältin", "Herr Doktor": a role, not a name
        end = match.end()
        if match.group("name").lower() in names:  # "Frau Anna Berg": the surname belongs too
            follower = _CAPITALISED.match(plain, end + 1) if plain[end : end + 1] == " " else None
            if follower:
                end = follower.end()
        title = match.group("title")
        found.append(
            Mention(match.start(), end, "titled", adult=title not in {"Familie", "Family"},
                    doctor=title.startswith(("Dr", "Prof")))
        )  # fmt: skip
        taken.update(range(match.start("name"), end))
    for match in _CAPITALISED.finditer(plain):
        if match.start() in taken:
            continue
        word = folded[match.start() : match.end()].removesuffix("'s")  # "Amelia's"
        parts = word.split("-")
        if (
            word not in names
            and not (len(parts) > 1 and all(p in names for p in parts))
            and not _pet_form_of(word, names, ambiguous)
        ):
            continue
        end = match.end()
        kind = "given"
        follower = _CAPITALISED.match(plain, end + 1) if plain[end : end + 1] == " " else None
        surname = folded[follower.start() : follower.end()] if follower else ""
        if follower and surname not in NOT_SURNAME and not surname.endswith(_NOT_SURNAME_ENDS):
            end, kind = follower.end(), "full"
            taken.add(follower.start())
        if " ".join(folded[match.start() : end].split()) in famous:
            continue  # "Albert Einstein", "Tom Gates": known to everyone, nobody's pupil
        adult = _is_adult(text, match.start(), end)
        # "Grace, 34," or "Hope (7)": a word given an age is a name
        unsure = kind == "given" and word in ambiguous and not _AGE_AFTER.match(plain, end)
        found.append(Mention(match.start(), end, kind, adult=adult, ambiguous=unsure))
    for match in _LOWERCASE_NAME_WITH_CLASS.finditer(plain):  # "kaan aus der 2b" (typed lowercase)
        start, end = match.span("name")
        word = folded[start:end]
        if word in names and word not in ambiguous and start not in taken:
            taken.add(start)
            found.append(Mention(start, end, "given"))
    for match in _NAME_WITH_CLASS.finditer(plain):
        start, end = match.span("name")
        if start in taken or any(m.start <= start < m.end for m in found):
            continue
        if folded[start:end] in _SUBJECTS or folded[start:end] in NOT_SURNAME:
            continue
        taken.add(start)
        found.append(Mention(start, end, "given", adult=_is_adult(text, start, end)))
    for match in _ROLE_THEN_NAME.finditer(plain):  # "Kollegin Maria", "pupil Josh"
        name = match.group("name")
        if match.start("name") in taken or name.lower() in NOT_SURNAME:
            continue
        end = match.end("name")
        follower = _CAPITALISED.match(plain, end + 1) if plain[end : end + 1] == " " else None
        if follower and folded[follower.start() : follower.end()] not in NOT_SURNAME:
            end = follower.end()
        taken.add(match.start("name"))
        adult = _is_adult(text, match.start("name"), end)
        found.append(Mention(match.start("name"), end, "given", adult=adult))
    for match in _FAMILY_PLURAL.finditer(plain):  # "the Hendersons", "die Müllers"
        if folded[match.start("name") : match.end("name")].removesuffix("s") not in _NOT_NAME:
            found.append(Mention(match.start("name"), match.end("name"), "family", adult=True))
    for match in _FAMILY.finditer(plain):
        if folded[match.start() : match.end()].removeprefix("the ").split()[0] in _NOT_NAME:
            continue  # "our family law team"
        found.append(Mention(match.start(), match.end(), "family", adult=True))
    companies = [m.span() for m in _COMPANY.finditer(plain)]
    for start, end in companies:
        found.append(Mention(start, end, "company", adult=True))
    for match in _TRADE_NAME.finditer(plain):
        if not any(s < match.end() and match.start() < e for s, e in companies):
            found.append(Mention(match.start(), match.end(), "company", adult=True))
    for match in _ROOM.finditer(folded):
        found.append(Mention(match.start(), match.end(), "room", adult=False))
    found.sort(key=lambda m: m.start)
    text.cache[key] = found
    return found


_FAMILY = re.compile(
    r"(?<![\w-])(?:the\s+)?[A-Z][\w'-]+\s+(?:family|children|kids|twins|household|couple)"
    r"(?:[']s?)?(?!\w)"
)
_FAMILY_PLURAL = re.compile(r"(?<!\w)(?:the|die|den|der)\s+(?P<name>[A-Z][a-z]{2,}s)(?![\w'-])")
_PAIR = re.compile(
    r"(?<=[a-z,;:\u2013-]\s)[A-Z][a-z']+(?:-[A-Z][a-z]+)?\s[A-Z][a-z']+(?:-[A-Z][a-z]+)?(?![\w-])"
)
_NOT_NAME = frozenset(
    [
        "the",
        "a",
        "an",
        "our",
        "your",
        "their",
        "his",
        "her",
        "its",
        "this",
        "that",
        "these",
        "those",
        "in",
        "on",
        "at",
        "for",
        "from",
        "with",
        "by",
        "of",
        "to",
        "and",
        "or",
        "but",
        "new",
        "old",
        "north",
        "south",
        "east",
        "west",
        "great",
        "high",
        "royal",
        "national",
        "british",
        "english",
        "german",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "year",
        "reception",
        "class",
        "grade",
        "form",
        "nhs",
        "school",
        "college",
        "university",
        "hospital",
        "trust",
        "clinic",
        "ward",
        "court",
        "council",
        "street",
        "road",
        "lane",
        "centre",
        "center",
        "museum",
        "park",
        "church",
        "house",
        "hall",
        "day",
        "week",
        "month",
        "christmas",
        "easter",
        "science",
        "art",
        "music",
        "sports",
        "team",
        "office",
        "group",
        "company",
        "ltd",
        "plc",
        "limited",
        "association",
        "society",
        "foundation",
        "department",
        "unit",
        "centre",
        "services",
        "service",
        "bank",
        "city",
        "county",
        "town",
        "club",
        "fund",
        "project",
        "award",
        "cup",
        "league",
        "university's",
        "school's",
    ]
)


def _guessed_names(text: PreparedText, taken: set[int]) -> list[Mention]:
    found = []
    for match in _PAIR.finditer(text.plain):
        words = text.folded[match.start() : match.end()].split()
        if match.start() in taken or any(w in _NOT_NAME for w in words):
            continue
        found.append(Mention(match.start(), match.end(), "guessed"))
    return found


_OUR_ROLE = re.compile(
    r"(?<!\w)(?:our|unser(?:e[rnms]?)?)\s+(?:[\w-]+\s+){0,2}?(?:lead|head|manager|director|officer"
    r"|assistant|coordinator|administrator|receptionist|colleague|engineer|developer|designer"
    r"|accountant|driver|leiter(?:in)?|kolleg(?:e|in)|mitarbeiter(?:in)?|chef(?:in)?|assistent(?:in)?"
    r"|referent(?:in)?|koordinator(?:in)?|sachbearbeiter(?:in)?|fahrer(?:in)?|buchhalter(?:in)?)"
    r"(?!\w)"
)


def role_mentions(text: PreparedText, sector: str) -> list[Mention]:
    """Singled-out people without a name: "unsere Patientin", "our marketing lead"."""
    pattern = lexicon_pattern(sector, "health_data", "subjects")
    found = [Mention(m.start(), m.end(), "role") for m in _OUR_ROLE.finditer(text.folded)]
    if pattern is not None:
        found += [Mention(m.start(), m.end(), "role") for m in pattern.finditer(text.folded)]
    return found
