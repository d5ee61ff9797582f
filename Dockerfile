# SI-Desmigratif: one image for the web server (gunicorn), the Celery worker and beat, and the
# one-shot migrations (compose.yaml). docs/deploy.md explains it.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LANG=C.UTF-8 \
    # Matplotlib and fontconfig keep caches; /app is read-only to the application's user.
    MPLCONFIGDIR=/tmp/matplotlib \
    XDG_CACHE_HOME=/tmp/cache \
    MEDIA_ROOT=/data/media \
    STATIC_ROOT=/app/staticfiles

# WeasyPrint (PDF reports) needs Pango and HarfBuzz, and the fonts the PDF templates name
# (Liberation Sans, DejaVu Sans); gettext compiles the Indonesian translations below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-liberation fonts-dejavu-core \
        gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# The dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .

# Translations and static files are built into the image. collectstatic needs settings that
# load without DEBUG: a throwaway key, never used to sign anything.
RUN python manage.py compilemessages -v 0 \
    && DEBUG=false SECRET_KEY=collectstatic-only-not-a-secret ALLOWED_HOSTS=build \
       python manage.py collectstatic --no-input -v 0

# Never run as root. The report files live in /data/media, a volume shared with the workers.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home desmigratif \
    && mkdir -p /data/media \
    && chown desmigratif:desmigratif /data/media
USER desmigratif

EXPOSE 8000
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
