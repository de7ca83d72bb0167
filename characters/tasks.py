from celery import shared_task

from .services import character_embedding_refresh


# Idempotent jobs: taken back by the broker when the worker running them dies.
@shared_task(
    name="characters.character_embed",
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
)
def character_embed(character_id: int) -> bool:
    """Embed a character for search by meaning; a no-op when its content has not changed."""
    return character_embedding_refresh(character_id=character_id)


@shared_task(name="characters.embed_stale", acks_late=True, reject_on_worker_lost=True)
def characters_embed_stale(limit: int = 500) -> int:
    """Beat job: embed characters whose content changed but whose embedding job was lost
    (e.g. the broker was down when they were saved)."""
    from django.db.models import F

    from .models import Character

    stale = list(
        Character.objects.filter(deleted_at__isnull=True)
        .exclude(embedding_hash=F("content_hash"))
        .values_list("pk", flat=True)[:limit]
    )
    for character_id in stale:
        character_embed.delay(character_id)
    return len(stale)
