"""The anonymous public read path: pages, feeds and sitemaps anyone reads, in one package.

- ``views``: the public pages, feeds, sitemap and post images (every view a ``public_view``),
  and how rows become what the templates place.
- ``queries``: the reads they run (plain rows, SQL compiled once per shape).
- ``syndication``: Atom, RSS and JSON Feed documents, sitemaps and feed ids.
- ``addresses``: every address of a public page, feed or file (routes filled in as templates);
  absolute ones through ``accounts.addresses``.
- ``dates``: dates as pages show them (Django's ``date`` filter, written once per value).
- ``text``: what pages and feeds derive from a post's text (plain text, hashtags).
- ``jinja``: the Jinja2 environment the pages render with (templates in ``feeds/jinja2/``).

Each hand-written shortcut carries, in a comment beside it, what it is worth to a page
(``bench.public_shortcuts``); ``tests/feeds/test_public_shortcuts.py`` holds each equal to the
library call it replaces.

What every request needs below feeds stays in accounts, which imports no other app:
``accounts.publicread`` (``public_view``, cache headers, the server cache),
``accounts.middleware`` (the per-process institution cache, ``PublicEntries``) and
``accounts.tenancy.public_read_context`` (reads without a tenant transaction).
"""
