# ruff: noqa: RUF001 (the corpus is made of confusable characters on purpose)
"""Writes corpus.jsonl: the texts every counter is compared on with the Node oracle.

Deterministic (fixed seed), so the file only changes when this script does. Run it with
``.venv/bin/python tests/crossposting/text_corpus/generate.py``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

FRAGMENTS = {
    "german": [
        "Heute lädt die Schule zum Tag der offenen Tür ein.",
        "Größe, Straße, Übermaß: äöüß ÄÖÜ ẞ",
        "„Zitat“ mit ‚deutschen‘ Anführungszeichen",
        "Termine am 12.03.2026 um 14:30 Uhr (Aula, 2. OG)",
        "z.B. und d.h. sind keine Links, u.a. auch nicht",
        "Die Klasse 7b gewinnt den Vorlesewettbewerb!",
        "Anmeldung bis Freitag – Plätze sind begrenzt…",
        "Wir gratulieren Frau Müller zur Pensionierung 🎉",
        "Elternabend: 18 Uhr, Raum B‑104",
        "Öffnungszeiten der Bibliothek ändern sich ab März.",
    ],
    "english": [
        "Join us for the science fair!",
        "Read more on our website.",
        "Congratulations to the robotics team, who won the regional final.",
        "The library is closed on Monday; sorry for the inconvenience.",
        "Q&A with the principal at 5pm <live> *today*",
        "Don't forget: forms are due by Friday!!!",
        "Photos © 2026 Northside School™",
        "Price: €15 / £13 / $16, cash only",
        "Tabs\tand\tnew\nlines\r\nmatter",
        "Under_scores, pipes | braces {x} [y] and ~tildes~",
    ],
    "emoji": [
        "👨‍👩‍👧‍👦",
        "👩🏽‍💻",
        "👍🏿",
        "👍🏻👍🏼👍🏽👍🏾",
        "🇩🇪",
        "🇬🇧🇺🇦",
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
        "1️⃣",
        "#️⃣",
        "*️⃣",
        "1⃣",
        "❤️",
        "❤",
        "☺",
        "☺️",
        "♥",
        "🫶🏼",
        "🧑‍🤝‍🧑",
        "🏳️‍🌈",
        "🏳️‍⚧️",
        "😀",
        "🐱",
        "👁️‍🗨️",
        "🙋‍♀️",
        "⚽",
        "✌️",
        "✌🏻",
        "🦩",
        "🥲",
        "🫠",
        "🪿",
        "🇦",
        "🎉🎉🎉",
        "😷👾😡🔥💩",
        "H🐱☺👨‍👩‍👧‍👦",
        "🙋🏽👨‍🎤",
        "👩‍❤️‍💋‍👨",
        "🧔🏻‍♂️",
        "⌚",
        "↔️",
        "▶️",
        "🅰️",
        "〰️",
        "‼️",
    ],
    "combining": [
        "e\u0301te\u0301",
        "Cafe\u0301",
        "a\u0308o\u0308u\u0308",
        "Z̵̡̢̛a̴̜l̷̙g̸̰o̶͎",
        "क्षि",
        "नमस्ते",
        "ﷺ",
        "กำลัง",
        "ñ vs n\u0303",
        "Å vs A\u030a vs \u212b",
        "\u1100\u1161\u11a8",
        "g\u0308\u0301\u0323",
    ],
    "cjk": [
        "東京都の学校",
        "中文测试文本",
        "日本語のテキスト",
        "한국어 텍스트",
        "ｈａｌｆ　ｗｉｄｔｈ",
        "你好，世界！",
        "カタカナ・ひらがな",
        "漢字テスト。",
        "𠮷野家",
        "〜〜",
    ],
    "rtl": [
        "مرحبا بالعالم",
        "שלום עולם",
        "العربية #وسم",
        "\u200fשלום\u200e hello",
        "١٢٣ أرقام",
        "مدرسة https://example.com/ar",
        "עברית @alice.bsky.social",
    ],
    "url": [
        "https://example.com",
        "http://example.org/path?q=1&r=2#frag",
        "https://de.wikipedia.org/wiki/Straße_(Begriffsklärung)",
        "example.com",
        "www.example.com",
        "sub.domain.co.uk/path/to/page",
        "https://example.com/path).",
        "(see https://example.com/x)",
        "https://example.com/a,b",
        "HTTPS://EXAMPLE.COM/UP",
        "Example.COM",
        "example.COM",
        "foo.test",
        "localhost:8000",
        "http://127.0.0.1:8000/",
        "https://bücher.de/",
        "bücher.de",
        "xn--bcher-kva.de",
        "example.invalidtld",
        "t.co/abc",
        "a.b",
        "https://x.com/@user",
        "mailto:someone@example.com",
        "someone@example.com",
        "https://example.com/#anchor",
        "…example.com…",
        "https://example.com.",
        "https://example.com!",
        "https://example.com?",
        "https://example.com:",
        "https://example.com;",
        "https://example.com/foo_(bar)",
        "https://example.com/(x",
        "schule.example.de/aktuelles.",
        "ftp://example.com/file",
        "https://ex-ample.io/x?y=%20z",
        "https://example.com/a…b",
        "www.schule-nord.de/termine?",
        "http://example",
        "https://example.com/" + "p" * 40,
        "google.com/search?q=hello+world",
        "example.org,example.net",
        "http://a.de",
        "x.y.z.museum",
        "news.ycombinator.com/item?id=1",
        "https://example.com/😀",
        "example.com/ä",
        "Visit:example.com",
    ],
    "mention": [
        "@alice.bsky.social",
        "@alice",
        "@user@mastodon.social",
        "@Anna_Schmidt",
        "(@bob.example.com)",
        "@bob.test",
        "@-invalid",
        "@a.b",
        "email@example.com",
        "@@double",
        "@user.",
        "@user.bsky.social!",
        "@lehrer@bildung.social",
        "@x_user",
        "@Ünicode",
        "@mixed.Case.COM",
        "@host.de:",
        "@under_score.com",
        "@a@b@c",
        "@handle.invalidtld",
        "@1234.com",
        "(@friend)",
        "@user@sub.instance.example",
        "@alice.bsky.socialé",
    ],
    "tag": [
        "#Schule",
        "#tag!",
        "#123",
        "#123abc",
        "#tag.with.dots",
        "＃fullwidth",
        "#München",
        "#日本",
        "#" + "a" * 70,
        "#" + "b" * 64,
        "#tag#tag",
        "#tag…",
        "#😀",
        "#_under",
        "#tag\u200bzero",
        "#Tag-der-offenen-Tür",
        "#a",
        "#!",
        "#2026",
        "# space",
        "#tag,",
        "#tag)",
        "(#paren)",
        "#c++",
        "#🇩🇪",
        "#тег",
        "#وسم",
    ],
    "cashtag": [
        "$AAPL",
        "$TSLA.",
        "$tsla",
        "$ABCDEF",
        "$A1",
        "$1A",
        "($GOOG)",
        "$BRK.B",
        "$€",
        "$X!",
        "$AbC'",
        "$MSFT\u2019s",
    ],
    "punctuation": [
        "!?",
        "...",
        "—",
        "…",
        "«Guillemets»",
        "\u00a0",
        "\u2028",
        "\u200b",
        "\u00ad",
        "\u3000",
        "\u2009thin\u2009space",
        "\u202fnarrow",
        "\ufeffbom",
        "\ufffe",
        "\uffff",
        "\u0085nel",
        "\u180emongolian",
        "\x1cfs",
        "'",
        '"',
        ")",
        "(",
        ":",
        ",",
    ],
}
SEPARATORS = [" ", " ", " ", "\n", "\n\n", ", ", " – ", ""]


def random_texts(rng: random.Random, count: int) -> list[str]:
    """Texts of 1 to 14 fragments from every kind, joined by assorted separators."""
    kinds = list(FRAGMENTS)
    texts = []
    for _ in range(count):
        pieces = [rng.choice(FRAGMENTS[rng.choice(kinds)]) for _ in range(rng.randint(1, 14))]
        text = pieces[0]
        for piece in pieces[1:]:
            text += rng.choice(SEPARATORS) + piece
        texts.append(text)
    return texts


NOISE = [
    *"abcXYZ019 .,;:!?()[]{}@#$%&/\\-_~*<>'\"\n\r\t＃＠",
    "\u00a0",
    "\u2028",
    "\u200d",
    "\ufe0f",
    "\u20e3",
    "\u0301",
    "\u3000",
    "é",
    "ß",
    "中",
    "😀",
    "🏽",
    "🇩",
    "🇪",
    "\u200b",
    "\u00ad",
    "\u2060",
    "\ufeff",
    "\u0085",
    "\x1c",
    "ſ",
    "\u212a",
    "İ",
    "٣",
    "٫",
    "…",
    "‼",
    "©",
]
PIECES = [
    "http://",
    "https://",
    "www.",
    ".com",
    ".de",
    ".test",
    "@a.bsky.social",
    "$AB",
    "#x",
    "xn--",
    "/path",
    "?q=",
]


def noise_texts(rng: random.Random, count: int) -> list[str]:
    """Fragments and character soup glued without separators: the adjacency cases."""
    fragments = [fragment for kind in FRAGMENTS.values() for fragment in kind] + PIECES
    texts = []
    for _ in range(count):
        text = ""
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.5:
                text += rng.choice(fragments)
            else:
                text += "".join(rng.choice(NOISE) for _ in range(rng.randint(1, 6)))
        texts.append(text)
    return texts


def long_texts(rng: random.Random, count: int) -> list[str]:
    """Long texts (hundreds to a few thousand characters) built from prose fragments."""
    prose = FRAGMENTS["german"] + FRAGMENTS["english"] + FRAGMENTS["url"] + FRAGMENTS["emoji"]
    texts = []
    for _ in range(count):
        target = rng.choice([280, 300, 500, 1000, 3000, 3500])
        text = ""
        while len(text) < target:
            text += rng.choice(prose) + rng.choice(SEPARATORS[:5])
        texts.append(text)
    return texts


def edge_texts() -> list[str]:
    """Texts whose length sits just below, at and just above each network's limit."""
    texts = []
    for n in (279, 280, 281):
        texts += [
            "a" * n,
            "a" * (n - 2) + "中",
            "中" * (n // 2) + "a" * (n % 2),
            "a" * (n - 2) + "😀",
            "a" * (n - 2) + "👨‍👩‍👧‍👦",
            "a" * (n - 2) + "…",
            "a" * (n - 24) + " https://example.com/some/long/path/that/is/long",
            "a" * (n - 24) + " example.com/kurz",
            "ä" * n,
            "a" * (n - 1) + "e\u0301",
            "😀" * (n // 2) + "a" * (n % 2),
            "x " * (n // 2) + "y" * (n % 2),
        ]
    for n in (299, 300, 301):
        texts += [
            "b" * n,
            "👨‍👩‍👧‍👦" * n,
            "e\u0301" * n,
            "🇩🇪" * n,
            "ö" * (n - 1) + "!",
            "Wort " * (n // 5) + "x" * (n % 5),
            "b" * (n - 30) + " https://example.com/abcdefghij",
            "中" * n,
        ]
    zalgo = "a" + "\u0301" * 9  # one grapheme, 19 bytes
    for n in (2999, 3000, 3001):
        texts += [
            "ä" * (n // 2) + "a" * (n % 2),
            zalgo * (n // 19) + "b" * (n % 19),
            "€" * (n // 3) + "c" * (n % 3),
            "x" * n,
        ]
    for n in (499, 500, 501):
        texts += [
            "m" * n,
            "m" * (n - 23) + "https://example.com/" + "q" * 30,
            "m" * (n - 6) + " @user@very.long.instance.example",
            "😀" * (n // 4) + "m" * (n % 4),
            "m" * (n - 8) + "👍🏽",
            " ".join(["https://example.com/x"] * 6) + "m" * (n - 200),
        ]
    for n in (2999, 3000, 3001):
        texts += [
            "l" * n,
            "(" * (n // 2) + "l" * (n % 2),
            "l" * (n - 1) + "😀",
        ]
    return texts


def fixed_texts() -> list[str]:
    """Hand-written cases for the rules the reference spells out."""
    return [
        "",
        " ",
        "Hi http://test.co",
        "http://test.co",
        "H🐱☺👨‍👩‍👧‍👦",
        "😷👾😡🔥💩",
        "🙋🏽👨‍🎤",
        "1⃣",
        "中" * 160,
        "randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com",
        "✨ example mentioning @atproto.com to share the URL 👨‍❤️‍👨 https://en.wikipedia.org/wiki/CBOR.",
        "Besucht uns: https://schule.example.de/aktuelles/tag-der-offenen-tuer?x=1&y=2!",
        "Mehr unter schule.example.de. Danke!",
        "Klammer (https://example.com/a_(b)) und (example.org/c)",
        "@alice.bsky.social und @bob.test, #Schule #2026 $AAPL",
        "line one\nhttps://example.com\n#tag\n@alice.bsky.social",
        "Ende.https://example.com",
        "#tag\n#tag2\r\n#tag3",
        "text#nottag and text@nomention.com",
        "$AAPL$TSLA $GOOG\n$MSFT",
        "Heute 🇩🇪🇫🇷🇮🇹 #EU @eu.europa.eu https://europa.eu",
        "Ünïcödé @ünï.de #ünï",
        "CAPS HTTP://EXAMPLE.COM and Http://Example.com/Path",
        "dots... example.com... #tag... @a.bsky.social...",
        "\u200b#zero @alice.bsky.social\u200b",
        "NFD: Cafe\u0301 and NFC: Café",
        "A\u030a\u212b",
        "emoji in url https://example.com/👍 and after 👍",
        "x.com/elonmusk and bsky.app/profile/alice.bsky.social",
        "%😀.co.uk",
        "#a🇪-©google.com/search?q=hello+worldX",
        "-٫٣bücher.de",
        "ſhttps://example.com",
        "١٢٣ أرقامexample.com/ä",
        "עולםbücher.de",
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿www.schule-nord.de/termine?",
        "Kelvin \u212ahttps://example.com",
        "İstanbul.com.tr ıx.de",
        "\u2060example.com and \u200eexample.org",
        "Emoji ahead: \ufe0f alone, \u20e3 alone",
    ]


def main() -> None:
    rng = random.Random(15)
    texts = (
        fixed_texts()
        + edge_texts()
        + random_texts(rng, 420)
        + long_texts(rng, 40)
        + noise_texts(rng, 200)
    )
    out = Path(__file__).with_name("corpus.jsonl")
    with out.open("w", encoding="utf-8") as handle:
        for number, text in enumerate(texts, start=1):
            handle.write(
                json.dumps({"id": f"t{number:04d}", "text": text}, ensure_ascii=False) + "\n"
            )
    print(f"{len(texts)} texts written to {out}")


if __name__ == "__main__":
    main()
