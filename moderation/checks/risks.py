"""Risks the sector lexicons describe: a minor identified, health data of an identifiable person,
a client's matter, and non-public financial information.

Each pairs lexicon words with who the sentence is about (``people.mentions``): a diagnosis alone
is general information, a diagnosis next to "Herr Maier" is health data.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from functools import lru_cache

from django.utils.translation import gettext_lazy as _

from moderation.checks.base import Check, CheckContext, Finding
from moderation.checks.lexicons import fold, lexicon_pattern, vocabulary
from moderation.checks.people import (
    NOT_SURNAME,
    Mention,
    mentions,
    role_mentions,
    sentence_of,
    sentences,
)
from moderation.checks.text import PreparedText


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@lru_cache(maxsize=64)
def _words(sector: str, category: str, key: str) -> frozenset[str]:
    return frozenset(fold(t) for t in vocabulary(sector, category, key))


# --- minor identified ---------------------------------------------------------------------------
_CLASS = re.compile(
    r"(?<!\w)(?:klasse|kl\.|class|form|year|grade|jahrgang|jahrgangsstufe|stufe|jg\.?|y)\s?"
    r"\d{1,2}\s?[a-f]?(?!\w)"
    r"|(?<![\w.,/€$£-])\d{1,2}(?:[a-f]|(?<=[\s(]\d)[a-z]|(?<=[\s(]\d\d)[a-z])(?![\w])"
    r"(?<![\s(]\d[ghklmstx])(?<![\s(]\d\d[ghklmstx])"
    r"|(?<!\w)(?!(?:our|the|a|this|that|her|his|their|my|your|whole|entire|same|each|every"
    r"|year|reception|next|last|first|one|new|art|music|dance|yoga|fitness|cooking|master)\s)"
    r"[a-z]+\s+class(?!\w)"
    r"|(?<!\w)\d{1,2}\.\s?(?:klasse|schulstufe|jahrgangsstufe|stufe|schuljahr)\w*"
    # Swiss and Austrian school years: "2. Sek", "5. Primar", "3. Real", "4. HAK", "2. Gymi"
    r"|(?<!\w)\d{1,2}\.\s?(?:sek|sekundar\w*|primar\w*|real|bez|hak|htl|ahs|gymi)(?!\w)"
    r"|(?<!\w)(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth"
    r"|ninth|tenth|eleventh|twelfth)[\s-]+grade(?!\w)"
    r"|(?<!\w)(?:erste|zweite|dritte|vierte|funfte|sechste|siebte|achte|neunte|zehnte)[nr]?\s+klasse"
    r"|(?<!\w)(?:nursery|kindergarten|kita|vorschule|hort|ogs|sixth\s+form)(?!\w)"
    r"|(?<!\w)in\s+reception(?!\w)|(?<!\w)reception\s+(?:class|pupil|child|children|year)"
    r"|(?<!\w)\w+gruppe(?!\w)"  # the Kita's "Sonnengruppe"
    r"|(?<!\w)(?!(?:welt|ober|mittel|unter|extra|premium|luxus|kompakt|gewichts|spitzen|erste"
    r"|zweite|business|economy)klasse)\w+klasse(?!\w)"  # "Mauseklasse", "Altersklasse"
)
_AGE = re.compile(
    r"\(\s?(?P<a>\d{1,2})\s?(?:j\.?|jahre|yrs?|years?)?\s?\)"
    r"|(?<!\w)(?P<b>\d{1,2})[- ]?(?:jahrige\w*|jahriger|jahrig|jahre\s+alt|j\.\s)"
    r"|(?<!\w)(?:aged?|alter|im\s+alter\s+von)\s+(?P<c>\d{1,2})(?!\d)"
    r"|(?<!\w)mit\s+(?:nur\s+|gerade\s+|erst\s+)?(?P<i>\d{1,2})\s+jahren(?!\w)"
    r"|(?<!\w)at\s+(?:the\s+age\s+of|age)\s+(?:just\s+|only\s+)?(?P<j>\d{1,2})(?!\w)"
    r"|(?<!\w)(?P<d>\d{1,2})[- ](?:years?[- ]old|yo)(?!\w)"
    r"|[,(]\s*(?P<e>\d{1,2})\s*(?:jahre|years|yrs)(?!\w)"
    r"|(?<!\w)(?:she'?ll|he'?ll|will|wird)\s+(?:be|turn)?\s*(?P<f>\d{1,2})(?![\d:.,]\d|\w)"
    r"|(?<!\w)(?:acht|neun|zehn|elf|zwolf|sieben|sechs|funf|vier|drei)jahrig\w*"
    r"|(?<!\w)(?:eight|nine|ten|eleven|twelve|seven|six|five|four|three)[- ]year[- ]old"
    r"|(?<!\w)(?:zwei|drei|vier|funf|sechs|sieben|acht|neun|zehn|elf|zwolf|dreizehn|vierzehn"
    r"|funfzehn|sechzehn|siebzehn)\s+jahre\s+alt"
    r"|(?<!\w)(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen)\s+years?\s+old"
    # a youth age group: "Spieler (U11)", "our U13 squad" (single digits only with a team word,
    # "U6" alone is an underground line)
    r"|(?<![\w./-])u[\s-]?(?P<g>1[0-7])(?!\w)"
    r"|(?<![\w./-])u[\s-]?(?P<h>[6-9])[\s-]*(?:team|mannschaft|junior\w*|jugend|squad|side"
    r"|kicker\w*|spieler\w*)(?!\w)"
)
# A birth year that makes the person a minor.
_CHILD_BORN_AFTER = datetime.date.today().year - 18
_BIRTH_YEAR = re.compile(
    r"(?:geb\.?|geboren|born|dob|jahrgang|\*)[^\n]{0,25}?(?<!\d)(?P<year>(?:19|20)\d\d)(?!\d)"
)
_THANKS = re.compile(r"(?<!\w)(?:danke|dank|thanks|thank)(?!\w)")
_BARE_AGE = re.compile(r"\s*[,(]\s*(\d{1,2})\s*(?:[,)]|\s+(?:from|aus|in|der|of|von)\s)")
_ACHIEVEMENT = re.compile(
    r"(?<!\w)(?:gewinnt|gewann|gewonnen|sieger\w*|siegt\w*|gewinner\w*|won|wins|winner\w*"
    r"|gluckwunsch\w*|congratulation\w*|stolz|proud|platz\s+\d|first\s+place|erster?\s+platz"
    r"|preistrager\w*|champion\w*|medaille\w*|medal\w*|award\w*|auszeichnung\w*|urkunde)(?!\w)"
)


# A teacher's relation to a class: "Anna Weber übernimmt die 3c", "Mrs Green and her Year 4".
_LEADS = re.compile(
    r"(?:ubernimmt|ubernehmen|unterrichtet|unterrichten|leitet|betreut|begleitet|begleiten"
    r"|teaches|taught|teaching|takes|took|leads|led|runs|will\s+take|is\s+taking|coached|coaches"
    r"|ihre[rnms]?|seine[rnms]?|her|his|their|'s)\W+(?:\w+\W+){0,2}$"
)


_LEADS_BEFORE = re.compile(
    r"(?:ubernimmt|unterrichtet|leitet|betreut|begleitet|teaches|takes|leads|runs)\W+$"
)


def _leads_class(folded: str, mention: Mention, class_start: int) -> bool:
    """Whether the class is the person's to teach (then the person is no pupil)."""
    if class_start < mention.end:
        return False
    between = folded[mention.end : class_start]
    if folded[mention.start : mention.end].endswith("'s"):
        # "Tom Baker's Year 5 class", but not "Jack Wilson's PE kit (Year 7)"
        return not between.strip()
    before = folded[max(0, mention.start - 25) : mention.start]
    return len(between) < 60 and bool(_LEADS.search(between) or _LEADS_BEFORE.search(before))


_WORK_OF = re.compile(
    r"(?:projekt\w*|lesung|buch|bucher|buchern|roman|romane|geschichte|gedicht|werk|werke|film"
    r"|book|books|novel|novels|poem|poems|story|stories|reading|biografie|biography|thema|topic"
    r"|author|autorin|autor|writer|schriftstellerin|schriftsteller)\W+(?:\w+\W+){0,2}$"
)
_INSTITUTION_AFTER = re.compile(
    r"[\s-]+(?:haus|zentrum|schule|gymnasium|museum|preis|stiftung|house|centre|center|school"
    r"|museum|award|prize|foundation|trust|institut|institute|strasse|street|platz|square)(?!\w)"
)


class MinorIdentifiedCheck(Check):
    name = "risk.minor_identified"
    categories = ("minor_identified",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        folded = text.folded
        children = lexicon_pattern(context.sector, "minor_identified", "child_words")
        for mention in mentions(text):
            if mention.kind not in {"given", "full"} or mention.adult:
                continue
            if _WORK_OF.search(folded, max(0, mention.start - 40), mention.start) or (
                _INSTITUTION_AFTER.match(folded, mention.end)
            ):
                continue  # "Bücher von Cornelia Funke", "das Anne Frank Zentrum": no pupil
            s_start, s_end = sentence_of(text, mention.start)
            short = s_end - s_start < 60 and not _THANKS.search(folded, s_start, s_end)
            previous = sentence_of(text, s_start - 1)[0] if s_start and short else s_start
            # A short sentence continues the one before: "Die Jahrgänge 2013/14 gewinnen!
            # Torschützen: Luca Meyer und Ben Wolf."
            lo, hi = max(previous, mention.start - 90), min(s_end, mention.end + 150)
            classes = list(_CLASS.finditer(folded, lo, hi))
            if any(_leads_class(folded, mention, m.start()) for m in classes):
                continue  # a teacher and their class
            markers: list[tuple[int, int]] = [m.span() for m in classes]
            for match in _BIRTH_YEAR.finditer(folded, lo, hi):
                if int(match.group("year")) > _CHILD_BORN_AFTER:
                    markers.append(match.span())
            for match in _AGE.finditer(folded, lo, hi):
                age = next((g for g in match.groups() if g), None)
                if age is None or int(age) < 18:
                    markers.append(match.span())
            if children is not None:
                markers += [m.span() for m in children.finditer(folded, lo, hi)]
            age = _BARE_AGE.match(folded, mention.end)
            if age and int(age.group(1)) < 18:  # "Ava Thompson, 9, whose drawing ..."
                markers.append(age.span())
            if (
                not markers
                and mention.kind == "full"
                and context.sector == "school"
                and _ACHIEVEMENT.search(folded, lo, s_end)
            ):
                markers.append((mention.start, mention.end))
            if not markers:
                continue
            start = min(mention.start, *(span[0] for span in markers))
            end = max(mention.end, *(span[1] for span in markers))
            yield self.finding(text, start, end, _("A child is identified by name."))


# --- health data --------------------------------------------------------------------------------
_FOLLOWING = re.compile(r"[\s-]+(\w+(?:\s+\w+)?)")
_PROPER_NOUN = re.compile(r"[A-Z]\w*(?:\s+[A-Z]\w*)*\s+[A-Z][a-z]")
_POSSESSIVE = re.compile(r"(?<!\w)(?:his|her|their|seine[mnrs]?|ihre[mnrs]?)\s+(?:\w+\s+)?$")
_BATTLES = re.compile(
    r"(?<!\w)(?:kampft|kampfte|kampfen|fights|fought|fighting|battles|battled|battling)\s+"
    r"(?:\w+\s+){0,2}(?:gegen|against|with)\s+$"
)
_ON_WARD = re.compile(
    r"(?<!\w)(?:on|in|auf|im|to|zur|from|von)\s+(?:the\s+|our\s+|der\s+|unserer\s+|die\s+"
    r"|unsere\s+)?$"
)
_PATIENT_WORD = re.compile(r"(?<!\w)(?:patient|patientin|bewohner|bewohnerin|resident)(?!\w)")
_PRONOUN = re.compile(r"(?<!\w)(?:er|sie|ihm|ihr\w*|sein\w*|he|she|him|his|her|hers)(?!\w)")


class HealthDataCheck(Check):
    name = "risk.health_data"
    categories = ("health_data",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        sector = context.sector
        conditions = lexicon_pattern(sector, "health_data", "conditions")
        if conditions is None:
            return
        folded = text.folded
        heads = _words(sector, "health_data", "topic_heads")
        exact = _words(sector, "health_data", "conditions")  # never a mere topic
        markers = lexicon_pattern(sector, "health_data", "topic_markers")
        guess = context.language == "en"
        people = [
            m for m in mentions(text, guess_names=guess) if not m.ambiguous and m.kind != "company"
        ]
        people += role_mentions(text, sector)
        for match in conditions.finditer(folded):
            span = match.span()
            if context.language == "en" and _PROPER_NOUN.match(text.plain, span[0]):
                continue  # "Operation Clean Desk", "Stroke Association": a name

            if any(_overlaps(span, (m.start, m.end)) and m.kind != "room" for m in people):
                continue  # "Dr. Krebs": a surname, not a diagnosis
            if (
                self._is_topic(folded, match, heads, exact)
                and not _POSSESSIVE.search(folded, max(0, span[0] - 25), span[0])
                and not self._patient_on_ward(text, span)
            ):
                continue  # but "his cardiac rehab programme" is his
            owned = bool(_POSSESSIVE.search(folded, max(0, span[0] - 25), span[0]))
            subject = self._subject(text, span, people, markers, owned=owned)
            if subject is None:
                continue
            start, end = min(subject.start, span[0]), max(subject.end, span[1])
            yield self.finding(text, start, end, _("Health data of an identifiable person."))

    @staticmethod
    def _patient_on_ward(text: PreparedText, span: tuple[int, int]) -> bool:
        """ "our patient on the stroke unit", "Patientin auf der Krebsstation": where a patient
        lies tells the condition."""
        folded = text.folded
        if not _ON_WARD.search(folded, max(0, span[0] - 25), span[0]):
            return False
        s_start, s_end = sentence_of(text, span[0])
        return bool(_PATIENT_WORD.search(folded, s_start, s_end))

    @staticmethod
    def _is_topic(
        folded: str, match: re.Match, heads: frozenset[str], exact: frozenset[str]
    ) -> bool:
        """ "Krebsvorsorge", "cancer research", "flu vaccination": a topic, not a condition."""
        word = match.group()
        end = match.end()
        if " " not in word and word not in exact and word.endswith(tuple(heads)):
            # the whole compound: a match ends at a word end, so look at its head
            for head in heads:
                if len(word) > len(head) + 2 and word.endswith(head):
                    return True
        following = _FOLLOWING.match(folded, end, end + 30)
        if following:
            first = following.group(1).split()[0]
            if first in heads or following.group(1) in heads:
                return True
        return False

    @staticmethod
    def _subject(
        text: PreparedText,
        span: tuple[int, int],
        people: list[Mention],
        markers: re.Pattern | None,
        *,
        owned: bool = False,
    ) -> Mention | None:
        """The identifiable person the condition is said of, in its sentence or the one before."""
        folded = text.folded
        s_start, s_end = sentence_of(text, span[0])
        candidates = [m for m in people if s_start <= m.start < s_end]
        if not candidates and _PRONOUN.search(folded, s_start, s_end):
            previous = [s for s in sentences(text) if s[1] <= s_start]
            if previous:
                p_start, p_end = previous[-1]
                candidates = [m for m in people if p_start <= m.start < p_end and m.kind != "room"]
        best: tuple[int, Mention] | None = None
        for mention in candidates:
            lo, hi = (mention.end, span[0]) if mention.end <= span[0] else (span[1], mention.start)
            if hi - lo > 160:
                continue
            if (
                markers is not None
                and lo < hi
                # "nach seiner Knie-TEP läuft Herr Gruber": his, not a topic
                and not (owned and span[1] <= mention.start)
                and not _BATTLES.search(folded, lo, hi)  # "kämpft gegen Brustkrebs"
                and markers.search(folded, lo, hi)
            ):
                continue  # "Dr. Weber spricht über Diabetes": a topic of the person
            if (
                mention.doctor
                and markers is not None
                and mention.start >= span[1]
                and (
                    markers.search(folded, s_start, span[0])
                    or markers.search(folded, mention.end, min(s_end, mention.end + 25))
                )
            ):
                continue  # "Vortrag: Diabetes im Alter - Dr. Weber erklärt": the doctor's topic
            distance = abs(mention.start - span[0]) + (1000 if mention.kind == "room" else 0)
            if best is None or distance < best[0]:
                best = (distance, mention)
        return best[1] if best else None
        return best


# --- client matter ------------------------------------------------------------------------------
_CLIENT_WORD = re.compile(r"mandant|klient|client")
_AFTER_CLIENT = re.compile(
    r"[\s,:]*(?:(?:die|der|den|dem|the|our|unsere?[nmr]?|herrn?|frau|mr|mrs|ms|dr|a|an"
    r"|named|called)\.?\s+){0,3}"
)
_BEFORE_CLIENT = re.compile(
    r"[\s,(]*(?:(?:unsere?[nmr]?|our|the|die|der|ist|is|was|war|als|as)\s+){0,3}"
)


def _names_client(folded: str, client: re.Match, party: Mention) -> bool:
    """Whether the client word and the name stand together: "our client Acme Ltd",
    "Mandantin Frau Koch", "Frau Koch, unsere Mandantin"."""
    if party.start >= client.end():
        return _AFTER_CLIENT.fullmatch(folded, client.end(), party.start) is not None
    return party.end <= client.start() and (
        _BEFORE_CLIENT.fullmatch(folded, party.end, client.start()) is not None
    )


_CLIENT_NOUNS = frozenset(("mandant", "mandantin", "klient", "klientin", "client"))
_NAME_AFTER = re.compile(r"\s+([A-Z][\w'-]+)(?!\w)")
_NOT_NAME_AFTER = frozenset(
    [
        "und",
        "and",
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "mit",
        "with",
        "in",
        "im",
        "am",
        "an",
        "auf",
        "for",
        "fur",
        "von",
        "vom",
        "zu",
        "zum",
        "zur",
        "bei",
        "the",
        "gmbh",
        "ag",
        "ltd",
        "inc",
        "llc",
    ]
)
# Our own people: "Rechtsanwältin Dr. Weber", "partner Tom Hill" are no clients.
_OUR_LAWYER = re.compile(
    r"(?:rechtsanwalt|rechtsanwaltin|anwalt|anwaltin|notar|notarin|kollege|kollegin|partner"
    r"|partnerin|fachanwalt|fachanwaltin|referendar|referendarin|solicitor|barrister|lawyer"
    r"|attorney|associate|counsel|colleague|trainee|paralegal|ra|rain)[,:]?\s+"
    r"(?:(?:dr|prof|herr|frau|mr|mrs|ms)\.?\s+){0,2}$"
)
_LEGAL_TOPIC = re.compile(
    r"(?<!\w)(?:uber|about|zum thema|thema|spricht|sprach|talk|talks|webinar|vortrag|seminar"
    r"|erklart|explains|explained|berat zu|berat bei|advises on|advice on|guide|leitfaden|tipps"
    r"|tips|informiert|informs|workshop|fortbildung|training)(?!\w)"
)
# "our litigation team", "Insolvenzrecht": the firm's practice, not a client's matter.
_PRACTICE_AREA = re.compile(
    r"[\s-]*(?:team|teams|department|group|practice|praxis|abteilung|bereich|law|lawyer|lawyers"
    r"|recht|rechts|anwalt|anwaltin|anwalte|partner|specialist|expert|experte|expertin)(?!\w)"
)
_VERSUS = re.compile(r"\s(?:gegen|against|v\.|vs\.?|\./\.)\s")
# A matter named after its party: "im Fall Wagner", "the Okafor case", "Schulz ./. Krause AG".
_CASE_NAMED = re.compile(
    r"(?<!\w)(?:Fall|Causa|Akte|Rechtssache|Sache|Mandat|Verfahren|In\s+re|in\s+re)\s+"
    r"(?P<name>[A-Z][\w'-]+)(?![\w-])"
    r"|(?<!\w)(?:the|The)\s+(?P<name2>[A-Z][\w'-]+)\s+(?:case|matter|file|litigation|dispute)"
    r"(?!\w)"
)
_CASE_CAPTION = re.compile(
    r"(?<![\w-])(?P<a>[A-Z][\w'-]+)\s+(?:v\.?|vs\.?|\./\.)\s+(?:(?:die|der|the)\s+)?"
    r"(?P<b>[A-Z][\w'-]+)(?![\w-])"
)
_OURS = re.compile(r"(?<!\w)(?:wir|uns|unser\w*|we|our|us)(?!\w)")
_NOT_PARTY = frozenset(
    (*_NOT_NAME_AFTER, *NOT_SURNAME, "court", "supreme", "high", "landmark", "famous", "test")
)


class ClientMatterCheck(Check):
    name = "risk.client_matter"
    categories = ("client_matter",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        folded = text.folded
        clients = lexicon_pattern(context.sector, "client_matter", "client_words")
        matters = lexicon_pattern(context.sector, "client_matter", "matters")
        if clients is None or matters is None:
            return
        parties = [
            m
            for m in mentions(text, guess_names=context.language == "en")
            if m.kind in {"titled", "full", "company", "family", "guessed"}
            or (m.kind == "given" and not m.ambiguous)
        ]
        client_hits = list(clients.finditer(folded))
        for hit in client_hits:  # "Mandantin Schulz", "client Okafor": the name after the word
            if hit.group() not in _CLIENT_NOUNS:
                continue
            name = _NAME_AFTER.match(text.plain, hit.end())
            if name and folded[name.start(1) : name.end(1)] not in _NOT_NAME_AFTER:
                parties.append(Mention(name.start(1), name.end(1), "named_client", adult=True))
        if context.sector == "law_firm":
            parties += self._case_parties(text)
        parties = [
            p for p in parties if not _OUR_LAWYER.search(folded, max(0, p.start - 40), p.start)
        ]
        parties.sort(key=lambda m: m.start)
        if not parties or (context.sector != "law_firm" and not client_hits):
            return
        spans = sentences(text)
        for index, (s_start, s_end) in enumerate(spans):
            here = [m for m in parties if s_start <= m.start < s_end]
            if not here:
                continue
            window_end = spans[index + 1][1] if index + 1 < len(spans) else s_end
            client = clients.search(folded, s_start, s_end)
            matter = next(
                (
                    m
                    for m in matters.finditer(folded, s_start, window_end)
                    if not any(_overlaps(m.span(), (p.start, p.end)) for p in parties)
                    and not _PRACTICE_AREA.match(folded, m.end())
                ),
                None,
            )
            versus = _VERSUS.search(folded, s_start, s_end)
            named_client = (
                client is not None
                and _CLIENT_WORD.search(client.group())
                and any(_names_client(folded, client, p) for p in here)
            )
            law_firm = context.sector == "law_firm"
            if client and (matter or named_client):
                anchor = client.span()
            elif law_firm and matter and not self._topic(folded, here, matter):
                if versus and len(here) >= 2:
                    anchor = versus.span()
                elif any(p.kind in {"titled", "company", "family", "case"} for p in here):
                    anchor = matter.span()
                else:
                    continue
            else:
                continue
            party = min(here, key=lambda p: abs(p.start - anchor[0]))
            points = [anchor, (party.start, party.end)]
            if matter is not None and matter.start() < s_end:
                points.append(matter.span())
            start, end = min(p[0] for p in points), max(p[1] for p in points)
            yield self.finding(text, start, end, _("A named client's matter."))

    @staticmethod
    def _case_parties(text: PreparedText) -> list[Mention]:
        """Parties a matter is named after ("Fall Wagner", "Schulz ./. Krause AG")."""
        found = []
        for match in _CASE_NAMED.finditer(text.plain):
            group = "name" if match.group("name") else "name2"
            if text.folded[match.start(group) : match.end(group)] not in _NOT_PARTY:
                found.append(Mention(match.start(group), match.end(group), "case", adult=True))
        for match in _CASE_CAPTION.finditer(text.plain):
            s_start, s_end = sentence_of(text, match.start())
            if not _OURS.search(text.folded, s_start, s_end):
                continue  # "the ruling in Henderson v Kay": a published case, not ours
            for group in ("a", "b"):
                if text.folded[match.start(group) : match.end(group)] not in _NOT_PARTY:
                    found.append(Mention(match.start(group), match.end(group), "case", adult=True))
        return found

    @staticmethod
    def _topic(folded: str, parties: list[Mention], matter: re.Match) -> bool:
        """ "Dr. Weber spricht über Scheidung": the matter is a topic, not a client's case."""
        for party in parties:
            lo, hi = sorted((party.end, matter.start()))
            if _LEGAL_TOPIC.search(folded, lo, max(lo, hi)):
                return True
        return False


# --- insider financial ---------------------------------------------------------------------------
_AMOUNT = re.compile(
    r"(?:[€$£]\s?\d[\d.,]*|\d[\d.,]*\s?(?:%|prozent|percent|per\s+cent|€|eur|euro|usd|gbp|mio"
    r"|mrd|millionen|million|millions|milliarden|billion|bn|m)(?!\w))"
)


# An announcement still to come: "Ad-hoc folgt", "announcement next week", "Kommunikation folgt
# am Montag". Strong when a figure or a decision stands next to it, else a weak cue that a
# published calendar ("Q3-Zahlen veröffentlichen wir am 12. November") outweighs.
_DAYS = (
    r"(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|monday|tuesday|wednesday"
    r"|thursday|friday|saturday|sunday)"
)
_PENDING_ANNOUNCEMENT = re.compile(
    r"(?<!\w)(?:announcement|announcing|announce|press\s+release|publication|release|statement"
    r"|comms|communications?|memo|all-hands|town\s+hall|rundmail|rundschreiben"
    r"|ad[-\s]?hoc\w*|meldung|mitteilung|pressemitteilung|pressemeldung|bekanntgabe|kommunikation"
    r"|veroffentlichung|offizielle?|official(?:ly)?|news)\s+(?:\w+\s+){0,2}?"
    rf"(?:(?:go|goes|going|geht|gehen)\s+(?:out\s+|raus\s+)?)?"
    rf"(?:folgt|folgen|kommt|tomorrow|morgen|ubermorgen|next\s+week|nachste\s+woche"
    rf"|kommende\s+woche|tonight|heute\s+abend|later\s+today|(?:on|am|this|next|diesen)\s+{_DAYS}"
    rf"|{_DAYS}|after\s+the\s+market|nach\s+borsenschluss|in\s+(?:two|zwei)\s+(?:weeks|wochen)"
    r"|erst\s+(?:danach|dann|nach\w*|im|am|ab|in)|only\s+(?:after|then|once|on|in))"
    r"(?!\w)"
    rf"|(?<!\w)(?:wird|werden|will\s+be|is\s+being|are\s+being)\s+(?:\w+\s+)?"
    rf"(?:tomorrow|morgen|ubermorgen|next\s+week|nachste\s+woche|(?:on|am)\s+{_DAYS}|{_DAYS})"
    r"\s+(?:\w+\s+)?(?:unterschrieben|unterzeichnet|signed|announced|verkundet|bekanntgegeben"
    r"|veroffentlicht|published|gemeldet|closed|abgeschlossen)(?!\w)"
    # before a release still to come: "before Thursday's release", "vor der Meldung am Montag"
    rf"|(?<!\w)(?:before|ahead\s+of)\s+(?:the\s+|our\s+)?(?:{_DAYS}|tomorrow|next\s+week)'?s?\s+"
    r"(?:\w+\s+)?(?:release|announcement|results|earnings|call|publication|statement|update)"
    r"(?!\w)"
    rf"|(?<!\w)(?:tomorrow|morgen|next\s+week|nachste\s+woche|(?:on|am)\s+{_DAYS})\s+"
    r"(?:\w+\s+){0,2}?(?:we\s+announce|we'll\s+announce|announce|geben\s+wir\s+bekannt"
    r"|verkunden\s+wir|verkunden|kommunizieren\s+wir|goes\s+out|geht\s+raus)(?!\w)"
)
_NOT_FINANCIAL_RESULTS = re.compile(
    r"\s+(?:of|for|from|in|der|des|vom|von|zum|zur|beim|im)\s+(?:the\s+|our\s+|unsere[mnrs]?\s+)?"
    r"(?:[\w-]+\s+)?(?:contest|competition|\w*wettbewerb\w*|survey|umfrage|vote|wahl|tombola"
    r"|raffle|quiz|race|\w*lauf\w*|turnier|tournament|game|spiel\w*|match|election|poll|award"
    r"|\w*preis\w*|challenge|bake-off|exams?|prufung\w*|test|study|studie|trial)(?!\w)"
)
_DECIDED = re.compile(
    r"(?<!\w)(?:beschlossen|beschliesst|entschieden|genehmigt|unterschrieben|unterzeichnet"
    r"|abgeschlossen|einig|decided|approved|agreed|signed|priced|closes|closed|finali[sz]ed"
    r"|erhoht|gesenkt|raised|cut)(?!\w)"
)
_FIGURES = re.compile(r"zahlen|ergebnis|numbers|figures|results|deal|growth|wachstum|rekord|record")


# "quarterly town hall", "Q3 newsletter", "Quartals-Meeting": a gathering, not figures
_GATHERING_AFTER = re.compile(
    r"[\s-]+(?:town\s+hall|all-hands|all\s+hands|meeting|newsletter|team\s+event|social|party"
    r"|drinks|event|awards?|bulletin|catch-up|get-together|lunch|breakfast|offsite|bbq|quiz"
    r"|treffen|meeting|fruhstuck|grillen|feier|stammtisch)(?!\w)"
)
# "Gewinn*" is profit, but "Gewinner", "Gewinnspiel" and "Gewinnchance" are a contest's.
_CONTEST_WORD = re.compile(r"gewinner|gewinnspiel|gewinnchance|gewinnzahl|gewinnlos|gewinnerin")


def _financial_term(terms: re.Pattern | None, folded: str, lo: int, hi: int) -> re.Match | None:
    """The first strong financial term in the span, not a contest's winner or its results."""
    if terms is None:
        return None
    for match in terms.finditer(folded, lo, hi):
        if (
            _CONTEST_WORD.match(match.group())
            or _NOT_FINANCIAL_RESULTS.match(folded, match.end())
            or _GATHERING_AFTER.match(folded, match.end())
        ):
            continue
        return match
    return None


class InsiderFinancialCheck(Check):
    name = "risk.insider_financial"
    categories = ("insider_financial",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        sector = context.sector
        folded = text.folded
        strong_cues = lexicon_pattern(sector, "insider_financial", "strong_cues")
        weak_cues = lexicon_pattern(sector, "insider_financial", "weak_cues")
        strong_terms = lexicon_pattern(sector, "insider_financial", "strong_terms")
        weak_terms = lexicon_pattern(sector, "insider_financial", "weak_terms")
        calendar = lexicon_pattern(sector, "insider_financial", "calendar_markers")
        cues = [(m, True) for m in strong_cues.finditer(folded)] if strong_cues else []
        cues += [(m, False) for m in weak_cues.finditer(folded)] if weak_cues else []
        for match in _PENDING_ANNOUNCEMENT.finditer(folded):
            s_start, s_end = sentence_of(text, match.start())
            settled = _AMOUNT.search(folded, s_start, s_end) or _DECIDED.search(
                folded, s_start, s_end
            )
            cues.append((match, bool(settled)))
        if not cues:
            return
        spans = sentences(text)
        reported: list[tuple[int, int]] = []
        for cue, strong in sorted(cues, key=lambda c: c[0].start()):
            index = next(i for i, s in enumerate(spans) if s[0] <= cue.start() < s[1])
            s_start, s_end = spans[index]
            lo = spans[index - 1][0] if index > 0 else s_start
            hi = spans[index + 1][1] if index + 1 < len(spans) else s_end
            if not strong and calendar and calendar.search(folded, s_start, s_end):
                continue  # "vorläufige Zahlen veröffentlichen wir am 5. März": the calendar
            term = _financial_term(strong_terms, folded, s_start, s_end)
            term = term or _financial_term(strong_terms, folded, lo, hi)
            if term is None and weak_terms is not None:
                # "Zahlen", "results", "million": financial only next to an amount, or in a
                # company's post after a clear cue ("unter uns: die Zahlen sind super")
                weak = weak_terms.search(folded, lo, hi)
                if weak and _NOT_FINANCIAL_RESULTS.match(folded, weak.end()):
                    weak = None  # "results of the photo contest will be announced on Friday"
                if weak and (
                    _AMOUNT.search(folded, lo, hi)
                    or (strong and sector == "company" and _FIGURES.match(weak.group()))
                ):
                    term = weak
            if term is None:
                continue
            start, end = min(cue.start(), term.start()), max(cue.end(), term.end())
            for amount in _AMOUNT.finditer(folded, s_start, s_end):
                # the figure itself is what leaks: "Zahlen noch nicht raus, aber EBIT bei 9 Mio."
                start, end = min(start, amount.start()), max(end, amount.end())
            if any(_overlaps((start, end), r) for r in reported):
                continue
            reported.append((start, end))
            yield self.finding(text, start, end, _("Financial information that is not public."))
