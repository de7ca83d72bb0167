"""A user's lorebooks (world info) and their entries; SillyTavern world files in and out."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from characters.cards import world_to_sillytavern
from characters.cards.json_bytes import dump_json_bytes
from characters.imports import lorebook_import_start
from characters.records import lorebook_value
from characters.selectors import lorebook_entry_get_owned, lorebook_get_owned, lorebooks_owned
from characters.services import (
    CharacterError,
    lorebook_create,
    lorebook_delete,
    lorebook_entry_delete,
    lorebook_entry_save,
    lorebook_update,
)
from tavern.jobs.api import JobOutput, job_accepted
from tavern.models import BackgroundJob

from ..responses import domain_error, file_download, page_response, paginated
from ..serializers import (
    LorebookCreateInput,
    LorebookEntryInput,
    LorebookEntryOutput,
    LorebookImportInput,
    LorebookInput,
    LorebookOutput,
)


class LorebookListCreateApi(APIView):
    @extend_schema(operation_id="lorebooks_list", responses=paginated(LorebookOutput))
    def get(self, request: AuthenticatedRequest) -> Response:
        return page_response(request, self, lorebooks_owned(user=request.user), LorebookOutput)

    @extend_schema(
        operation_id="lorebooks_create", request=LorebookCreateInput, responses={201: LorebookOutput}
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = LorebookCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        book = lorebook_create(
            owner=request.user,
            value=data.lorebook_value(),
            is_global=data.validated_data.get("is_global", False),
        )
        return Response(LorebookOutput(book).data, status=status.HTTP_201_CREATED)


class LorebookDetailApi(APIView):
    @extend_schema(operation_id="lorebooks_retrieve", responses=LorebookOutput)
    def get(self, request: Request, lorebook_id: int) -> Response:
        book = lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
        return Response(LorebookOutput(book).data)

    @extend_schema(operation_id="lorebooks_update", request=LorebookInput, responses=LorebookOutput)
    def patch(self, request: Request, lorebook_id: int) -> Response:
        book = lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
        data = LorebookInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        book = lorebook_update(book=book, data=data.validated_data)
        return Response(LorebookOutput(book).data)

    @extend_schema(operation_id="lorebooks_destroy", responses={204: None})
    def delete(self, request: Request, lorebook_id: int) -> Response:
        book = lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
        lorebook_delete(book=book)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LorebookImportApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=LorebookImportInput,
        responses={201: LorebookOutput, 202: JobOutput},
        description="A SillyTavern world-info JSON file becomes a lorebook of the caller: at once "
        "(201), or, for a big file (over IMPORT_SYNC_MAX_BYTES or IMPORT_SYNC_MAX_LOREBOOK_ENTRIES "
        "entries), as a background job (202 with the job; poll its `url`). Limits are checked "
        "first either way: a refusal is a 400 naming `file`.",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = LorebookImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        content = upload.read()  # no larger than CARD_MAX_BYTES: the input checked its size
        try:
            started = lorebook_import_start(
                owner=request.user,
                data=content,
                name=data.validated_data.get("name", ""),
                input_name=upload.name or "",
            )
        except CharacterError as error:
            raise domain_error(error, field="file") from error
        if isinstance(started, BackgroundJob):
            return job_accepted(started)
        return Response(LorebookOutput(started).data, status=status.HTTP_201_CREATED)


class LorebookExportApi(APIView):
    @extend_schema(
        responses={(200, "application/json"): OpenApiTypes.OBJECT},
        description="Downloads the book as a SillyTavern world-info file.",
    )
    def get(self, request: Request, lorebook_id: int) -> HttpResponse:
        book = lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
        world = world_to_sillytavern(lorebook_value(book))
        return file_download(
            dump_json_bytes(world, indent=2),
            filename=f"{slugify(book.name) or 'lorebook'}.json",
            content_type="application/json",
        )


class LorebookEntryListCreateApi(APIView):
    @extend_schema(operation_id="lorebooks_entries_list", responses=paginated(LorebookEntryOutput))
    def get(self, request: Request, lorebook_id: int) -> Response:
        book = lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
        # The book is the caller's (checked above); its entries in book order.
        entries = book.entries.order_by("sort_index", "id")
        return page_response(request, self, entries, LorebookEntryOutput)

    @extend_schema(
        operation_id="lorebooks_entries_create",
        request=LorebookEntryInput,
        responses={201: LorebookEntryOutput},
    )
    def post(self, request: Request, lorebook_id: int) -> Response:
        book = lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
        data = LorebookEntryInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = lorebook_entry_save(book=book, entry=None, data=data.validated_data)
        return Response(LorebookEntryOutput(entry).data, status=status.HTTP_201_CREATED)


class LorebookEntryDetailApi(APIView):
    @extend_schema(operation_id="lorebooks_entries_retrieve", responses=LorebookEntryOutput)
    def get(self, request: Request, lorebook_id: int, entry_id: int) -> Response:
        book = lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
        entry = lorebook_entry_get_owned(lorebook=book, entry_id=entry_id)
        return Response(LorebookEntryOutput(entry).data)

    @extend_schema(
        operation_id="lorebooks_entries_update", request=LorebookEntryInput, responses=LorebookEntryOutput
    )
    def patch(self, request: Request, lorebook_id: int, entry_id: int) -> Response:
        book = lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
        entry = lorebook_entry_get_owned(lorebook=book, entry_id=entry_id)
        data = LorebookEntryInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        entry = lorebook_entry_save(book=book, entry=entry, data=data.validated_data)
        return Response(LorebookEntryOutput(entry).data)

    @extend_schema(operation_id="lorebooks_entries_destroy", responses={204: None})
    def delete(self, request: Request, lorebook_id: int, entry_id: int) -> Response:
        book = lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
        entry = lorebook_entry_get_owned(lorebook=book, entry_id=entry_id)
        lorebook_entry_delete(entry=entry)
        return Response(status=status.HTTP_204_NO_CONTENT)
