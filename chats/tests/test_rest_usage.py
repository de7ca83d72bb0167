"""The usage page's numbers: generations and tokens summed per day, mine only."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from chats.models import UsageRecord
from chats.services import GenerationRecord, usage_record

pytestmark = pytest.mark.django_db


def test_usage_sums_generations_and_tokens_per_day(user, user_client, other_user):
    for tokens_in, tokens_out, cost in ((100, 20, 5), (300, 40, 7)):
        usage_record(
            user=user,
            chat=None,
            generation=GenerationRecord(
                model="m", tokens_in=tokens_in, tokens_out=tokens_out, cost_micro_usd=cost
            ),
        )
    usage_record(
        user=other_user, chat=None, generation=GenerationRecord(model="m", tokens_in=999, tokens_out=999)
    )
    yesterday = timezone.now() - dt.timedelta(days=1)
    old = UsageRecord.objects.create(user=user, model="m", tokens_in=1, tokens_out=2)
    UsageRecord.objects.filter(pk=old.pk).update(created_at=yesterday)

    response = user_client.get(reverse("api:usage"))

    assert response.status_code == 200
    assert response.json() == {
        "days": [
            {
                "day": timezone.localdate().isoformat(),
                "generations": 2,
                "tokens_in": 400,
                "tokens_out": 60,
                "cost_micro_usd": 12,
            },
            {
                "day": timezone.localdate(yesterday).isoformat(),
                "generations": 1,
                "tokens_in": 1,
                "tokens_out": 2,
                "cost_micro_usd": 0,
            },
        ]
    }


def test_a_generation_without_tokens_is_not_recorded(user):
    usage_record(user=user, chat=None, generation=GenerationRecord(model="m"))

    assert UsageRecord.objects.count() == 0
