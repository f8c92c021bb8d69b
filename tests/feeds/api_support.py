"""What the posts API tests share: clients acting as a member, posts in each state, images, and
a snapshot of everything feeds stores (to prove that a refused request changed nothing)."""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.permissions import ROLE_SCOPES
from accounts.tenancy import tenant_context
from feeds import services
from feeds.models import Attachment, Media, Post, Revision
from feeds.services import PostContent

BODY = "Hello parents! Sports day is on Friday."


def posts_url(institution, *parts) -> str:
    tail = "".join(f"{part}/" for part in parts)
    return f"/api/v1/institutions/{institution.slug}/posts/{tail}"


def media_url(institution, *parts) -> str:
    tail = "".join(f"{part}/" for part in parts)
    return f"/api/v1/institutions/{institution.slug}/media/{tail}"


def client_for(member=None, scopes=None) -> APIClient:
    """A client sending a bearer token of the member (every scope their role allows by default);
    anonymous without a member."""
    client = APIClient()
    if member is not None:
        scopes = sorted(scopes or ROLE_SCOPES[member.role])
        _token, secret = account_services.create_token(member, name="tests", scopes=scopes)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def write(author, body: str = BODY, **kwargs) -> Post:
    return services.create_post(author, PostContent(body=body, language="en"), **kwargs)


def submitted(author) -> Post:
    return services.submit_post(write(author), author)


def published(author, reviewer) -> Post:
    return services.approve_post(submitted(author), by=reviewer)


def with_correction(author, reviewer) -> Post:
    """A published post whose correction is still a draft."""
    post = published(author, reviewer)
    return services.edit_post(post, author, PostContent(body="Moved to Monday.", language="en"))


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 30), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, fmt, **save)
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "image/png") -> dict:
    """A multipart body carrying the file in the field ``file``."""
    return {"file": SimpleUploadedFile(name, data, content_type=content_type)}


def stored(*institutions) -> dict:
    """Every row feeds keeps for the institutions, and every file under MEDIA_ROOT."""
    rows = {}
    for institution in institutions:
        with tenant_context(institution.id):
            rows[institution.slug] = {
                model.__name__: list(model.objects.order_by("id").values())
                for model in (Post, Revision, Attachment, Media)
            }
    media_root = Path(settings.MEDIA_ROOT)
    files = sorted(str(p) for p in media_root.rglob("*") if p.is_file())
    return {"rows": rows, "files": files}
