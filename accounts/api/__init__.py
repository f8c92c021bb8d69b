"""The REST API's shared base under ``/api/v1/``, and the accounts part of it.

The base every app's API builds on:

- ``access``: deny-by-default institution views (``InstitutionViewSet``, ``InstitutionAPIView``)
  and ``ApiView`` for the caller's own data; every response is ``private, no-store``.
- ``authentication``: bearer tokens.
- ``errors``: the one error body (``error_body``, problem details of RFC 9457), the exception
  handler, safe echoing; ``problems``: each code's type URI and title, and the page they lead to.
- ``parsers``: JSON and multipart bodies bounded in size, depth and number of containers.
- ``pagination``: cursors, checked before they reach the database.
- ``validation``: ``validated()``, list bounds, unknown fields, the time range.
- ``schema``: what OpenAPI needs beyond the serializers (bearer scheme, error responses).

Beside them the base's write semantics: ``idempotency`` (Idempotency-Key), ``conditional``
(ETag and If-Match) and ``throttling`` (rate-limit headers).

The accounts endpoints: ``serializers`` (shapes), ``views`` (endpoints), ``audit``, ``webhooks``,
``urls`` (routes).
"""
