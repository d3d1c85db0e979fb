# One image for every application process; docker-compose.yml picks the module to run.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone (with empty packages), so that a code change
# does not reinstall them; then the code itself without touching the dependencies.
COPY pyproject.toml ./
RUN mkdir -p services shared \
    && touch services/__init__.py shared/__init__.py \
    && pip install . \
    && pip uninstall -y automation-pipeline \
    && rm -rf services shared build *.egg-info
COPY services ./services
COPY shared ./shared
RUN pip install --no-deps . && rm -rf build *.egg-info

RUN useradd --system --uid 10001 --home-dir /app app
USER app

EXPOSE 8000
CMD ["python", "-m", "services.api"]
