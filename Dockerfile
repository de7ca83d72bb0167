# Tavern's application image: one image for the web processes, the workers, beat and the
# migrate step (compose.yaml). Not built or run in this repository's tests (README,
# "Production topology"). requirements.txt is the one pinned list, so the image carries the
# local embedding model (torch) and the test tools too: big, but the same code that is tested.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=tavern.settings.production \
    TAVERN_VAR_DIR=/app/var

WORKDIR /app
RUN groupadd --system tavern && useradd --system --gid tavern --home-dir /app tavern

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are part of the image (whitenoise serves them). The settings need a secret,
# hosts, field keys and a database and Redis address to load; these placeholders are never
# used at run time, and nothing connects to them during collectstatic.
RUN SECRET_KEY=collectstatic-only-not-a-secret \
    ALLOWED_HOSTS=localhost \
    FIELD_ENCRYPTION_KEYS=Y29sbGVjdHN0YXRpYy1vbmx5LXBsYWNlaG9sZGVyISE= \
    DATABASE_URL=postgres://collectstatic@localhost/none \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var \
 && chown -R tavern:tavern /app/var

USER tavern
EXPOSE 8000
CMD ["python", "-m", "tavern.http_server", "-b", "0.0.0.0", "-p", "8000", "tavern.asgi:application"]
