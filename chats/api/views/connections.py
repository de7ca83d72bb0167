"""Model connections: list, create, update, delete, test."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from chats.reply_inputs import connection_config
from chats.selectors import connection_get_owned, connection_get_usable, connections_for_user
from chats.services import connection_record_test, connection_save
from tavern.ai.chat import connection_test

from ..serializers import (
    ConnectionInput,
    ConnectionOutput,
    ConnectionTestOutput,
    SharedConnectionOutput,
    connection_output,
)


class ConnectionListCreateApi(APIView):
    @extend_schema(
        responses=PolymorphicProxySerializer(
            component_name="ConnectionListItem",
            serializers=[ConnectionOutput, SharedConnectionOutput],
            resource_type_field_name=None,
            many=True,
        )
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        connections = connections_for_user(user=request.user)
        return Response([connection_output(c, viewer_id=request.user.pk) for c in connections])

    @extend_schema(request=ConnectionInput, responses={201: ConnectionOutput})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = ConnectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        api_key = values.pop("api_key", None)
        connection = connection_save(owner=request.user, connection=None, data=values, api_key=api_key or "")
        return Response(ConnectionOutput(connection).data, status=status.HTTP_201_CREATED)


class ConnectionDetailApi(APIView):
    @extend_schema(request=ConnectionInput, responses=ConnectionOutput)
    def patch(self, request: AuthenticatedRequest, connection_id: int) -> Response:
        connection = connection_get_owned(connection_id=connection_id, user=request.user)
        data = ConnectionInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        api_key = values.pop("api_key", None)
        connection = connection_save(owner=request.user, connection=connection, data=values, api_key=api_key)
        return Response(ConnectionOutput(connection).data)

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, connection_id: int) -> Response:
        connection_get_owned(connection_id=connection_id, user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionTestApi(APIView):
    @extend_schema(request=None, responses=ConnectionTestOutput)
    def post(self, request: AuthenticatedRequest, connection_id: int) -> Response:
        connection = connection_get_usable(connection_id=connection_id, user=request.user)
        result = async_to_sync(connection_test)(connection_config(connection))
        if connection.owner_id != request.user.pk:
            # A shared connection's failure names its address or its server's words: not
            # for users. They learn whether it answers; staff see the details.
            message = (
                f"{connection.name} answered."
                if result.ok
                else f"{connection.name} is not answering right now."
            )
            return Response(
                {"ok": result.ok, "latency_ms": result.latency_ms, "message": message, "models": []}
            )
        connection_record_test(connection=connection, ok=result.ok, message=result.message)
        return Response(
            {
                "ok": result.ok,
                "latency_ms": result.latency_ms,
                "message": result.message,
                "models": result.models,
            }
        )
