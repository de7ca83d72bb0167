"""How the characters API answers: pages, file downloads and the domain errors of its services."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request

from characters.cards import CardError
from characters.services import CharacterError
from tavern.api.errors import DomainError
from tavern.api.pagination import page_response as page_response
from tavern.api.pagination import paginated as paginated


def file_download(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


class FormatParameterNegotiation(DefaultContentNegotiation):
    """For views whose `?format=` names a file format: the answer is always JSON (errors)
    or a file, so DRF must not read `format` as the renderer to use."""

    def select_renderer(self, request: Request, renderers: list[Any], format_suffix: str | None = None):  # type: ignore[no-untyped-def]
        renderer = renderers[0]
        return renderer, renderer.media_type


def domain_error(error: CharacterError | CardError, *, field: str | None = None) -> DomainError:
    """A service's refusal as the API's one error shape; `field` names the input when the
    error does not (a card codec error is always about the uploaded file)."""
    if isinstance(error, CharacterError):
        return DomainError(error.message, field=error.field or field)
    return DomainError(str(error), field=field)
