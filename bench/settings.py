"""Podium's settings (production when PODIUM_ENV=production) with the benchmark's URLconf.

The one difference from what production runs: ``bench.urls`` adds the trivial reference view.
"""

from podium.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
