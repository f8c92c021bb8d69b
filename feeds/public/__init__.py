"""The anonymous public read path: pages, feeds and sitemaps anyone reads, in one package.

- ``views``: the public pages, feeds, sitemap and post images (every view a ``public_view``).
- ``queries``: the reads they run (plain rows, compiled once per shape) and the composer's.
- ``syndication``: Atom, RSS and JSON Feed documents, sitemaps, feed ids, and the addresses.
- ``jinja``: the Jinja2 environment the pages render with (templates in ``feeds/jinja2/``).

What every app's requests need below feeds stays in accounts, which imports no other app:
``accounts.publicread`` (``public_view``, cache headers, the server cache),
``accounts.middleware`` (the per-process institution cache, ``PublicEntries``) and
``accounts.tenancy.public_read_context`` (reads without a tenant transaction).
"""
