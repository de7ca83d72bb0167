"""Usage: generations, tokens and cost per day."""

from __future__ import annotations

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from chats.selectors import usage_for_user


class UsageApi(APIView):
    @extend_schema(responses=dict)
    def get(self, request: AuthenticatedRequest) -> Response:
        days = (
            usage_for_user(user=request.user)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(
                generations=Count("id"),
                tokens_in=Sum("tokens_in"),
                tokens_out=Sum("tokens_out"),
                cost_micro_usd=Sum("cost_micro_usd"),
            )
            .order_by("-day")[:31]
        )
        return Response({"days": list(days)})
