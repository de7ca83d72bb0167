from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView

from accounts.requests import AuthenticatedRequest
from accounts.selectors import api_key_get_for_user, api_key_list
from accounts.services import api_key_create, api_key_revoke, user_profile_update
from tavern.api.errors import DomainError
from tavern.api.pagination import PagePagination, paginated
from tavern.api.throttling import SignInThrottle

from .serializers import (
    ApiKeyCreatedOutput,
    ApiKeyCreateInput,
    ApiKeyOutput,
    LogoutInput,
    MeOutput,
    MeUpdateInput,
    TokenObtainInput,
)


class TokenObtainApi(TokenObtainPairView):
    serializer_class = TokenObtainInput
    throttle_classes = [SignInThrottle]


class LogoutApi(APIView):
    """Blacklists the refresh token, so it can no longer mint access tokens."""

    permission_classes = [AllowAny]

    @extend_schema(request=LogoutInput, responses={204: None})
    def post(self, request: Request) -> Response:
        data = LogoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            RefreshToken(data.validated_data["refresh"]).blacklist()
        except TokenError as error:
            raise DomainError(str(error), code="token_not_valid", field="refresh") from error
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(responses=MeOutput)
    def get(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)

    @extend_schema(request=MeUpdateInput, responses=MeOutput)
    def patch(self, request: AuthenticatedRequest) -> Response:
        data = MeUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = user_profile_update(user=request.user, data=data.validated_data)
        return Response(MeOutput(user).data)


class ApiKeyListCreateApi(APIView):
    @extend_schema(operation_id="api_keys_list", responses=paginated(ApiKeyOutput))
    def get(self, request: AuthenticatedRequest) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(api_key_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(ApiKeyOutput(page, many=True).data)

    @extend_schema(request=ApiKeyCreateInput, responses={201: ApiKeyCreatedOutput})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = ApiKeyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = api_key_create(user=request.user, name=data.validated_data["name"])
        body = {**ApiKeyOutput(issued.key).data, "key": issued.raw_key}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, key_id: int) -> Response:
        key = api_key_get_for_user(key_id=key_id, user=request.user)
        api_key_revoke(key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)
