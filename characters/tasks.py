from celery import shared_task

from .services import character_embedding_refresh


@shared_task(
    name="characters.character_embed", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5
)
def character_embed(character_id: int) -> bool:
    """Embed a character for search by meaning; a no-op when its content has not changed."""
    return character_embedding_refresh(character_id=character_id)
