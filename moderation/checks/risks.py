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

import re
from django.utils.translation import gettext_lazy as _

from moderation.checks.base import Check, CheckContext, Finding
from moderation.checks.lexicons import compile_terms, vocabulary
from moderation.checks.people import Mention, mentions, role_mentions, sentence_of, sentences
from moderation.checks.text import PreparedText


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@lru_cache(maxsize=64)
def _words(terms: tuple[str, ...]) -> frozenset[str]:
    return frozenset(" ".join(t.lower().split()) for t in terms)


# --- minor identified ---------------------------------------------------------------------------
_CLASS = re.compile(
    r"(?<!\w)(?:klasse|kl\.|class|form|year|grade|jahrgang|jahrgangsstufe|stufe|jg\.?|y)\s?"
    r"\d{1,2}\s?[a-f]?(?!\w)"
    r"|(?<![\w.,/€$£-])\d{1,2}[a-f](?![\w])"
    r"|(?<!\w)\d{1,2}\.\s?klasse\w*"
    r"|(?<!\w)(?:erste|zweite|dritte|vierte|funfte|sechste|siebte|achte|neunte|zehnte)[nr]?\s+klasse"
    r"|(?<!\w)(?:reception|nursery|kindergarten|kita|vorschule|hort|ogs|sixth\s+form)(?!\w)"
)
_AGE = re.compile(
    r"\(\s?(?P<a>\d{1,2})\s?(?:j\.?|jahre|yrs?|years?)?\s?\)"
    r"|(?<!\w)(?P<b>\d{1,2})[- ]?(?:jahrige\w*|jahriger|jahrig|jahre\s+alt|j\.\s)"
    r"|(?<!\w)(?:aged?|alter|im\s+alter\s+von)\s+(?P<c>\d{1,2})(?!\d)"
    r"|(?<!\w)(?P<d>\d{1,2})[- ](?:years?[- ]old|yo)(?!\w)"
    r"|(?<!\w)(?:acht|neun|zehn|elf|zwolf|sieben|sechs|funf|vier|drei)jahrig\w*"
    r"|(?<!\w)(?:eight|nine|ten|eleven|twelve|seven|six|five|four|three)[- ]year[- ]old"
)
# A birth year that makes the person a minor.
_CHILD_BORN_AFTER = datetime.date.today().year - 18
_BIRTH_YEAR = re.compile(
    r"(?:geb\.?|geboren|born|dob|jahrgang|\*)[^\n]{0,25}?(?<!\d)(?P<year>(?:19|20)\d\d)(?!\d)"
)
_ACHIEVEMENT = re.compile(
    r"(?<!\w)(?:gewinnt|gewann|gewonnen|sieger\w*|siegt\w*|gewinner\w*|won|wins|winner\w*"
    r"|gluckwunsch\w*|congratulation\w*|stolz|proud|platz\s+\d|first\s+place|erster?\s+platz"
    r"|preistrager\w*|champion\w*|medaille\w*|medal\w*|award\w*|auszeichnung\w*|urkunde)(?!\w)"
)


class MinorIdentifiedCheck(Check):
    name = "risk.minor_identified"
    categories = ("minor_identified",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        folded = text.folded
        children = compile_terms(vocabulary(context.sector, "minor_identified", "child_words"))
        for mention in mentions(text):
            if mention.kind not in {"given", "full"} or mention.adult:
                continue
            s_start, s_end = sentence_of(text, mention.start)
            lo, hi = max(s_start, mention.start - 90), min(s_end, mention.end + 150)
            markers: list[tuple[int, int]] = [m.span() for m in _CLASS.finditer(folded, lo, hi)]
            for match in _BIRTH_YEAR.finditer(folded, lo, hi):
                if int(match.group("year")) > _CHILD_BORN_AFTER:
                    markers.append(match.span())
            for match in _AGE.finditer(folded, lo, hi):
                age = next((g for g in match.groups() if g), None)
                if age is None or int(age) < 18:
                    markers.append(match.span())
            if children is not None:
                markers += [m.span() for m in children.finditer(folded, lo, hi)]
            if (
                not markers
                and mention.kind == "full"
                and context.sector == "school"
                and _ACHIEVEMENT.search(folded, s_start, s_end)
            ):
                markers.append((mention.start, mention.end))
            if not markers:
                continue
            start = min(mention.start, *(span[0] for span in markers))
            end = max(mention.end, *(span[1] for span in markers))
            yield self.finding(text, start, end, _("A child is identified by name."))


# --- health data --------------------------------------------------------------------------------
_PRONOUN = re.compile(r"(?<!\w)(?:er|sie|ihm|ihr\w*|sein\w*|he|she|him|his|her|hers)(?!\w)")
_WORD_AROUND = re.compile(r"\w[\w-]*$")


class HealthDataCheck(Check):
    name = "risk.health_data"
    categories = ("health_data",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        sector = context.sector
        conditions = compile_terms(vocabulary(sector, "health_data", "conditions"))
        if conditions is None:
            return
        folded = text.folded
        heads = _words(vocabulary(sector, "health_data", "topic_heads"))
        markers = compile_terms(vocabulary(sector, "health_data", "topic_markers"))
        guess = context.language == "en"
        people = [
            m for m in mentions(text, guess_names=guess) if not m.ambiguous and m.kind != "company"
        ]
        people += role_mentions(text, sector)
        for match in conditions.finditer(folded):
            span = match.span()
            if any(_overlaps(span, (m.start, m.end)) and m.kind != "room" for m in people):
                continue  # "Dr. Krebs": a surname, not a diagnosis
            if self._is_topic(folded, match, heads):
                continue
            subject = self._subject(text, span, people, markers)
            if subject is None:
                continue
            start, end = min(subject.start, span[0]), max(subject.end, span[1])
            yield self.finding(text, start, end, _("Health data of an identifiable person."))

    @staticmethod
    def _is_topic(folded: str, match: re.Match, heads: frozenset[str]) -> bool:
        """"Krebsvorsorge", "cancer research", "flu vaccination": a topic, not a condition."""
        word = match.group()
        end = match.end()
        if " " not in word and word.endswith(tuple(heads)):
            # the whole compound: a match ends at a word end, so look at its head
            for head in heads:
                if len(word) > len(head) + 2 and word.endswith(head):
                    return True
        following = re.match(r"[\s-]+(\w+(?:\s+\w+)?)", folded[end : end + 30])
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
            if markers is not None and lo < hi and markers.search(folded, lo, hi):
                continue  # "Dr. Weber spricht über Diabetes": a topic of the person
            distance = abs(mention.start - span[0]) + (1000 if mention.kind == "room" else 0)
            if best is None or distance < best[0]:
                best = (distance, mention)
        return best[1] if best else None
        return best


# --- client matter ------------------------------------------------------------------------------
_VERSUS = re.compile(r"\s(?:gegen|against|v\.|vs\.?|\./\.)\s")


class ClientMatterCheck(Check):
    name = "risk.client_matter"
    categories = ("client_matter",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        folded = text.folded
        clients = compile_terms(vocabulary(context.sector, "client_matter", "client_words"))
        matters = compile_terms(vocabulary(context.sector, "client_matter", "matters"))
        if clients is None or matters is None:
            return
        parties = [
            m
            for m in mentions(text, guess_names=context.language == "en")
            if m.kind in {"titled", "full", "company", "family", "guessed"}
            or (m.kind == "given" and not m.ambiguous)
        ]
        if not parties or (context.sector != "law_firm" and not clients.search(folded)):
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
                ),
                None,
            )
            versus = _VERSUS.search(folded, s_start, s_end)
            named_client = client and any(
                abs(p.start - client.end()) < 40 or abs(client.start() - p.end) < 40 for p in here
            )
            law_firm = context.sector == "law_firm"
            if client and (matter or named_client):
                anchor = client.span()
            elif law_firm and versus and len(here) >= 2 and matter:
                anchor = versus.span()
            elif law_firm and matter and any(p.kind in {"titled", "company", "family"} for p in here):
                anchor = matter.span()
            else:
                continue
            party = min(here, key=lambda p: abs(p.start - anchor[0]))
            points = [anchor, (party.start, party.end)]
            if matter is not None and matter.start() < s_end:
                points.append(matter.span())
            start, end = min(p[0] for p in points), max(p[1] for p in points)
            yield self.finding(text, start, end, _("A named client's matter."))


# --- insider financial ---------------------------------------------------------------------------
_AMOUNT = re.compile(
    r"(?:[€$£]\s?\d[\d.,]*|\d[\d.,]*\s?(?:%|prozent|percent|per\s+cent|€|eur|euro|usd|gbp|mio"
    r"|mrd|millionen|million|millions|milliarden|billion|bn|m)(?!\w))"
)


class InsiderFinancialCheck(Check):
    name = "risk.insider_financial"
    categories = ("insider_financial",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        sector = context.sector
        folded = text.folded
        strong_cues = compile_terms(vocabulary(sector, "insider_financial", "strong_cues"))
        weak_cues = compile_terms(vocabulary(sector, "insider_financial", "weak_cues"))
        strong_terms = compile_terms(vocabulary(sector, "insider_financial", "strong_terms"))
        weak_terms = compile_terms(vocabulary(sector, "insider_financial", "weak_terms"))
        calendar = compile_terms(vocabulary(sector, "insider_financial", "calendar_markers"))
        cues = [(m, True) for m in strong_cues.finditer(folded)] if strong_cues else []
        cues += [(m, False) for m in weak_cues.finditer(folded)] if weak_cues else []
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
            term = strong_terms.search(folded, s_start, s_end) if strong_terms else None
            term = term or (strong_terms.search(folded, lo, hi) if strong_terms else None)
            if term is None and weak_terms is not None:
                weak = weak_terms.search(folded, lo, hi)
                if weak and (sector == "company" or _AMOUNT.search(folded, lo, hi)):
                    term = weak
            if term is None:
                continue
            start, end = min(cue.start(), term.start()), max(cue.end(), term.end())
            if any(_overlaps((start, end), r) for r in reported):
                continue
            reported.append((start, end))
            yield self.finding(text, start, end, _("Financial information that is not public."))
