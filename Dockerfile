FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The runtime path is ONNX Runtime; torch is only needed for `siteaudit model train/eval/export`.
# Point PIP_EXTRA_INDEX_URL at a CPU wheel index at build time to keep the image small.
ARG PIP_EXTRA_INDEX_URL=""
RUN pip install --no-cache-dir torch==2.14.1 torchvision==0.29.1
COPY pyproject.toml README.md LICENSE LICENSE.md ./
COPY ingest ingest
COPY detect detect
COPY audit_api audit_api
COPY web web
COPY models models
RUN pip install --no-cache-dir -e .
ENV SITEAUDIT_MODELS_DIR=/app/models SITEAUDIT_WEB_DIR=/app/web
EXPOSE 8000
