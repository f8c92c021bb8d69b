"""Podium's Django project package: settings, root URLs, WSGI/ASGI and the Celery app."""

from podium.celery import app as celery_app

__all__ = ["celery_app"]
