# GenreWeb image: one image for the web server, the Celery worker and the migrate job
# (docker-compose.yml picks the command). The model bundle in models/saved_models is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GENREWEB_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/media

# ffmpeg/ffprobe decode the formats libsndfile cannot (m4a, opus in some containers, ...).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Requirements first: code changes then reuse the (large, torch) dependency layer.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
# Settings need a secret key to import; this one exists only for this build step, and the
# throwaway var dir keeps a generated key out of the image.
RUN SECRET_KEY=build-only GENREWEB_VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/build-var

# Run as an unprivileged user; only var/ and media/ are writable (var/tmp and media are volumes
# shared by web and workers; a new volume takes these owners).
RUN useradd --create-home --uid 10001 genreweb \
    && mkdir -p /app/var/tmp /app/var/metrics /app/media \
    && chown -R genreweb:genreweb /app/var /app/media
USER genreweb

EXPOSE 8000
CMD ["gunicorn", "genreweb.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", \
     "--worker-class", "gthread", "--threads", "4", "--timeout", "120", "--access-logfile", "-"]
