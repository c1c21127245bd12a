"""Every environment variable dialflow reads or sets, in one table: its name and what it does.

Code names a variable through the constants here (`from engine.environment import
DEEPGRAM_API_KEY`), never as a string literal; `markdown_table()` renders the table the
README shows, and tests/architecture/test_environment_table.py checks both (no literal
elsewhere, README in step). Secrets come from the environment only and are never logged.
Pure data; imports nothing of ours and reads no variable itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    purpose: str
    default: str = "unset"
    secret: bool = False


VARIABLES: list[Variable] = []


def _declare(name: str, purpose: str, default: str = "unset", secret: bool = False) -> str:
    VARIABLES.append(Variable(name, purpose, default, secret))
    return name


# --- provider keys and endpoints ------------------------------------------------------------
ANTHROPIC_API_KEY = _declare(
    "ANTHROPIC_API_KEY", "Claude brain (`llm.provider: anthropic`, or `auto` picks it)",
    secret=True)
ANTHROPIC_BASE_URL = _declare(
    "ANTHROPIC_BASE_URL", "Claude endpoint when `llm.base_url` is not set", "Anthropic's")
OPENAI_API_KEY = _declare(
    "OPENAI_API_KEY", "OpenAI embeddings (`auto` picks them) and `llm.provider: openai`",
    secret=True)
OPENAI_BASE_URL = _declare(
    "OPENAI_BASE_URL", "OpenAI-compatible endpoint when the flow sets no `base_url`",
    "OpenAI's")
DEEPGRAM_API_KEY = _declare(
    "DEEPGRAM_API_KEY", "Deepgram speech-to-text (`stt.provider: deepgram`, or `auto`)",
    secret=True)
ELEVENLABS_API_KEY = _declare(
    "ELEVENLABS_API_KEY", "ElevenLabs text-to-speech (`tts.provider: elevenlabs`, or `auto`)",
    secret=True)
ELEVENLABS_VOICE_ID = _declare(
    "ELEVENLABS_VOICE_ID", "ElevenLabs voice when `tts.voice` is not set", "Rachel")
DIALFLOW_ELEVENLABS_API_URL = _declare(
    "DIALFLOW_ELEVENLABS_API_URL", "ElevenLabs endpoint (a self-hosted proxy, the tests' fake)",
    "ElevenLabs'")

# --- telephony ------------------------------------------------------------------------------
TWILIO_ACCOUNT_SID = _declare(
    "TWILIO_ACCOUNT_SID", "Twilio REST calls (transfer, hang-up), with the auth token")
TWILIO_AUTH_TOKEN = _declare(
    "TWILIO_AUTH_TOKEN", "checks Twilio's webhook and stream signatures; Twilio REST calls",
    secret=True)
DIALFLOW_TWILIO_API_URL = _declare(
    "DIALFLOW_TWILIO_API_URL", "Twilio REST endpoint (the tests' fake)", "Twilio's")
DIALFLOW_INSECURE_SKIP_SIGNATURE = _declare(
    "DIALFLOW_INSECURE_SKIP_SIGNATURE", "`1` accepts unsigned Twilio requests (local development"
    " only)", "off")
DIALFLOW_PUBLIC_URL = _declare(
    "DIALFLOW_PUBLIC_URL", "the https:// address Twilio is configured with (signatures, stream"
    " URL)", "from the request")
DIALFLOW_TRUSTED_PROXIES = _declare(
    "DIALFLOW_TRUSTED_PROXIES", "proxies whose forwarded scheme and host are believed (`*`: any)",
    "127.0.0.1,::1")

# --- server limits --------------------------------------------------------------------------
DIALFLOW_MAX_CALLS = _declare(
    "DIALFLOW_MAX_CALLS", "media sockets open at once per worker", "300")
DIALFLOW_START_DEADLINE = _declare(
    "DIALFLOW_START_DEADLINE", "seconds a socket has to send a valid `start`", "10")
DIALFLOW_MAX_MESSAGE_BYTES = _declare(
    "DIALFLOW_MAX_MESSAGE_BYTES", "largest media-stream message accepted", "65536")
PROMETHEUS_MULTIPROC_DIR = _declare(
    "PROMETHEUS_MULTIPROC_DIR", "set by `serve --workers` so /metrics adds up every worker",
    "set by the server")

# --- data on disk ---------------------------------------------------------------------------
DIALFLOW_DATA = _declare(
    "DIALFLOW_DATA", "directory of call event logs, recordings and transcripts", "data")
DIALFLOW_TRANSCRIPTS = _declare(
    "DIALFLOW_TRANSCRIPTS", "directory of call transcripts", "$DIALFLOW_DATA/transcripts")
DIALFLOW_RECORDING_KEY = _declare(
    "DIALFLOW_RECORDING_KEY", "key that encrypts call recordings (`dialflow calls new-key`);"
    " unset: no audio is recorded", secret=True)
DIALFLOW_CONSOLE_TOKEN = _declare(
    "DIALFLOW_CONSOLE_TOKEN", "token that opens the call console (`/console`, `dialflow console`);"
    " unset: the console is off on serve", secret=True)
DIALFLOW_DIAL_TOKEN = _declare(
    "DIALFLOW_DIAL_TOKEN", "bearer token of `POST /calls` (other systems place outbound calls);"
    " unset: the endpoint is off", secret=True)
DIALFLOW_DIAL_FROM = _declare(
    "DIALFLOW_DIAL_FROM", "the Twilio number outbound calls come from (`dialflow dial --from`), "
    "and a warm transfer rings the human from when the call does not say which number it "
    "reached")
DIALFLOW_TTS_CACHE = _declare(
    "DIALFLOW_TTS_CACHE", "directory of the synthesised-prompt cache", "data/tts-cache")
DIALFLOW_DATABASE_URL = _declare(
    "DIALFLOW_DATABASE_URL", "SQLAlchemy URL of appointments and tickets (e.g. PostgreSQL)",
    "sqlite:///data/dialflow.db", secret=True)
DIALFLOW_CHROMA_HOST = _declare(
    "DIALFLOW_CHROMA_HOST", "Chroma server of the knowledge base", "embedded store")
DIALFLOW_CHROMA_PORT = _declare(
    "DIALFLOW_CHROMA_PORT", "port of that Chroma server", "`knowledge.port`")

# --- running ---------------------------------------------------------------------------------
DIALFLOW_RUNTIME_DIR = _declare(
    "DIALFLOW_RUNTIME_DIR", "private directory where `serve --workers N` records which worker "
    "holds which call, and the workers' sockets", "a new temp dir")
DIALFLOW_CLOCK = _declare(
    "DIALFLOW_CLOCK", "a fixed start time for every call (demos, tests)", "the real clock")
HF_HUB_OFFLINE = _declare(
    "HF_HUB_OFFLINE", "set to 1 by the offline speech stack: models are never downloaded",
    "1 (set by dialflow)")

NAMES: frozenset[str] = frozenset(v.name for v in VARIABLES)


def markdown_table() -> str:
    """The README's table of environment variables."""
    rows = ["| Variable | What it does | Default |", "|---|---|---|"]
    for var in VARIABLES:
        secret = " (secret: never logged)" if var.secret else ""
        rows.append(f"| `{var.name}` | {var.purpose}{secret} | {var.default} |")
    return "\n".join(rows) + "\n"
