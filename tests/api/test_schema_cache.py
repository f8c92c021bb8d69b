"""The schema is generated once per process and language (issue 11: generating it took 0.5 to
1.8 s, and anyone could ask for it without an account, as often as they liked)."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from accounts.api.schema import SchemaView


@pytest.fixture
def generations(monkeypatch):
    SchemaView._generated.clear()
    calls: list[str] = []
    original = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        from django.utils.translation import get_language

        calls.append(get_language())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    yield calls
    SchemaView._generated.clear()


def test_the_schema_is_made_once_per_language_whatever_is_asked(client, generations):
    first = client.get("/api/v1/schema/?format=json")
    again = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len(generations) == 1
    # Odd languages and versions make no new schema (the cache cannot be grown from outside).
    for query in ("lang=zz", "lang=xx-evil", "version=9", "version=abc&lang=qq"):
        assert client.get(f"/api/v1/schema/?format=json&{query}").status_code == 200
    assert len(generations) == 1
    german = client.get("/api/v1/schema/?format=json&lang=de")
    assert german.status_code == 200
    assert len(generations) == 2
    assert german.json() != first.json()  # descriptions in German
    yaml = client.get("/api/v1/schema/")  # YAML, the default rendering, from the same schema
    assert yaml.status_code == 200 and b"openapi:" in yaml.content
    assert len(generations) == 2
