"""Character cards as files: import a PNG, JSON or CHARX; export one."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from characters.cards import CardError, export_charx, export_json, export_png
from characters.imports import character_import_start
from characters.models import Character
from characters.records import card_value
from characters.selectors import character_get_visible, character_tag_names
from characters.services import CharacterError
from tavern.jobs.api import JobOutput, job_accepted
from tavern.models import BackgroundJob

from ..responses import FormatParameterNegotiation, domain_error, file_download
from ..serializers import CharacterDetailOutput, FileUploadInput
from .characters import character_detail_response


class CharacterImportApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=FileUploadInput,
        responses={201: CharacterDetailOutput, 202: JobOutput},
        description="A SillyTavern card (PNG, JSON or CHARX, told apart by content) becomes a "
        "private character of the caller: at once (201), or, when its lorebook has more than "
        "IMPORT_SYNC_MAX_LOREBOOK_ENTRIES entries, as a background job (202 with the job; poll "
        "its `url`). Limits are checked first either way: a refusal is a 400 naming `file`.",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = FileUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        content = upload.read()  # no larger than CARD_MAX_BYTES: the input checked its size
        try:
            started = character_import_start(owner=request.user, data=content, filename=upload.name)
        except (CharacterError, CardError) as error:
            raise domain_error(error, field="file") from error
        if isinstance(started, BackgroundJob):
            return job_accepted(started)
        return character_detail_response(request, started.pk, status_code=status.HTTP_201_CREATED)


def _avatar_bytes(character: Character) -> bytes | None:
    if not character.avatar:
        return None
    with character.avatar.open("rb") as image:
        return image.read()


class CharacterExportApi(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FormatParameterNegotiation

    class QuerySerializer(serializers.Serializer):
        format = serializers.ChoiceField(choices=["png", "json", "charx"], default="png")
        spec = serializers.ChoiceField(
            choices=["v2", "v3"], default="v3", help_text="The JSON card's spec (PNG carries both)."
        )

    @extend_schema(
        parameters=[QuerySerializer],
        responses={
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "application/zip"): OpenApiTypes.BINARY,
        },
        description="Downloads the card as a file SillyTavern and other front ends read.",
    )
    def get(self, request: Request, character_id: int) -> HttpResponse:
        character = character_get_visible(character_id=character_id, user=request.user)
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        card = card_value(character, tags=character_tag_names(character))
        file_format, spec = query.validated_data["format"], query.validated_data["spec"]
        if file_format == "json":
            return file_download(
                export_json(card, spec), filename=f"{character.slug}.json", content_type="application/json"
            )
        if file_format == "charx":
            return file_download(
                export_charx(card, {}, _avatar_bytes(character)),
                filename=f"{character.slug}.charx",
                content_type="application/zip",
            )
        return file_download(
            export_png(card, _avatar_bytes(character)),
            filename=f"{character.slug}.png",
            content_type="image/png",
        )
