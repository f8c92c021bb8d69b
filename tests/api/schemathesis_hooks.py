"""schemathesis hooks for tests/api/test_schemathesis.py (loaded by the CLI through its config).

``no_text_of_another_institution``: when ``PODIUM_FORBIDDEN_TEXT`` is set (the marker text
institution A wrote), no response may contain it; the run sends institution B's token.
"""

from __future__ import annotations

import os

import schemathesis


@schemathesis.check
def no_text_of_another_institution(ctx, response, case) -> None:
    """A response to institution B's token never carries institution A's marker text."""
    forbidden = os.environ.get("PODIUM_FORBIDDEN_TEXT")
    if forbidden and forbidden in response.text_lossy():
        raise AssertionError(f"The response contains another institution's text {forbidden!r}")
