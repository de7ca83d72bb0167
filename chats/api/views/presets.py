"""Generation presets: list, create, update, delete, import a SillyTavern file."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from chats.limits import PRESET_MAX_BYTES
from chats.selectors import preset_get_owned, presets_for_user
from chats.services import preset_import_file, preset_save
from tavern.api.errors import DomainError

from ..serializers import FileInput, PresetSerializer


class PresetListCreateApi(APIView):
    @extend_schema(responses=PresetSerializer(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(PresetSerializer(presets_for_user(user=request.user), many=True).data)

    @extend_schema(request=PresetSerializer, responses={201: PresetSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = PresetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preset = preset_save(owner=request.user, preset=None, data=data.validated_data)
        return Response(PresetSerializer(preset).data, status=status.HTTP_201_CREATED)


class PresetDetailApi(APIView):
    @extend_schema(request=PresetSerializer, responses=PresetSerializer)
    def patch(self, request: AuthenticatedRequest, preset_id: int) -> Response:
        preset = preset_get_owned(preset_id=preset_id, user=request.user)
        data = PresetSerializer(preset, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        preset = preset_save(owner=request.user, preset=preset, data=data.validated_data)
        return Response(PresetSerializer(preset).data)

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, preset_id: int) -> Response:
        preset_get_owned(preset_id=preset_id, user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class PresetImportApi(APIView):
    @extend_schema(request={"multipart/form-data": FileInput}, responses={201: PresetSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = FileInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > PRESET_MAX_BYTES:  # refused before it is read; the service checks too
            raise DomainError(
                f"A preset file is at most {PRESET_MAX_BYTES // (1024 * 1024)} MB.", field="file"
            )
        name = data.validated_data.get("name") or upload.name.rsplit(".", 1)[0]
        preset = preset_import_file(owner=request.user, name=name, data=upload.read())
        return Response(PresetSerializer(preset).data, status=status.HTTP_201_CREATED)
