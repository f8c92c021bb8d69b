"""The accounts part of the REST API under ``/api/v1/``.

``serializers`` holds the input and output shapes, ``views`` the endpoints, ``schema`` what
OpenAPI needs beyond them (the bearer scheme, the error body). The base every app's API shares
lives beside this package: ``api_access`` (deny-by-default institution views), ``api_auth``
(bearer tokens), ``api_errors`` (one error shape) and ``api_pagination`` (cursors).
"""
