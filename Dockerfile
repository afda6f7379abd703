# One image for the six services, the mail sink, the PMO receiver and the `gecc` tool; the
# command picks which one runs.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.9
# Pango (with HarfBuzz) for WeasyPrint: the survey's posters draw Thai text to PDF.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY shared ./shared
COPY services ./services
COPY gecc ./gecc
COPY standards ./standards
RUN uv sync --frozen --no-dev
ENV PATH=/opt/venv/bin:$PATH
# /data/mail, /data/pmo, /data/exports: the mail sink's, the PMO receiver's and the export
# service's volumes (docker-compose.yml), writable by the gecc user.
RUN useradd --system --uid 10001 gecc && mkdir -p /data/mail /data/pmo /data/exports \
    && chown gecc /data/mail /data/pmo /data/exports
USER gecc
EXPOSE 8080
CMD ["python", "-m", "services.intake"]
