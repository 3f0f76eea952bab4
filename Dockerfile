FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md LICENSE LICENSE.md ./
COPY ingest ingest
COPY detect detect
COPY audit_api audit_api
COPY web web
COPY models models
# The runtime only (API + workers, inference on ONNX Runtime): no torch, no Ultralytics. Training,
# evaluation and export need `pip install '.[train]'` (not in this image). Editable, so the shipped
# models/ and web/ beside the packages are found.
RUN pip install --no-cache-dir -e .
ENV SITEAUDIT_MODELS_DIR=/app/models SITEAUDIT_WEB_DIR=/app/web
# 8000: the API (siteaudit serve); 8100: a worker's endpoint: WHIP, live view, /metrics (SITEAUDIT_WORKER_HTTP_PORT)
EXPOSE 8000 8100
